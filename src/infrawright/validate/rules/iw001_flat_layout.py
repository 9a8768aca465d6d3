"""IW001: components use the flat layout, never ``base/`` or ``overlays/``.

Default severity: error. A flat-layout rule: ``flat_layout = false`` in the config
switches it off for repositories in other layouts.

Why: in the flat layout each component lives once in ``namespaces/<component>/`` and
per-cluster differences are Flux Kustomization ``patches`` in the cluster file. A second
mechanism (kustomize overlays) splits the truth about a component across folders.

Bad::

    namespaces/redis/base/kustomization.yaml
    namespaces/redis/overlays/local-kube/kustomization.yaml

Good::

    namespaces/redis/kustomization.yaml
    # differences per cluster: spec.patches in clusters/<cluster>/infrastructure.yaml
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.repo.listing import DIR, LINK, join
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule(
    "IW001",
    "flat layout: no base/ or overlays/",
    Severity.ERROR,
    flat_layout=True,
    house=True,
    needs_builds=False,
)
BANNED = ("base", "overlays")


def check(ctx: Context) -> Iterator[Finding]:
    model = ctx.model
    top = model.config.components_dir.strip("/") or "."
    parent, _sep, name = top.rpartition("/")
    if top != "." and not model.listings.names(parent or ".").get(name, 0) & DIR:
        return  # no components folder
    banned: list[str] = []
    todo = [top]
    while todo:  # symlinked folders are not entered, nor reported
        here = todo.pop()
        for name, flags in model.listings.get(here):
            if flags & DIR and not flags & LINK:
                rel = join(here, name)
                todo.append(rel)
                if name in BANNED:
                    banned.append(rel)
    for rel in sorted(banned):
        name = rel.rsplit("/", 1)[-1]
        yield RULE.at(
            None,
            f"{rel}/ uses a kustomize {name} folder; components are flat",
            "move the manifests into the component folder and express cluster "
            "differences as spec.patches on the Flux Kustomization",
            file=rel,
        )
