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

import os
from collections.abc import Iterator
from pathlib import Path

from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW001", "flat layout: no base/ or overlays/", Severity.ERROR, flat_layout=True)
BANNED = ("base", "overlays")


def check(ctx: Context) -> Iterator[Finding]:
    top = ctx.model.root / ctx.model.config.components_dir
    if not top.is_dir():
        return
    banned: list[str] = []
    for dirpath, dirnames, _files in os.walk(top):  # symlinked folders are not entered
        banned += [os.path.join(dirpath, d) for d in dirnames if d in BANNED]
    for folder in sorted(banned):
        if os.path.islink(folder):
            continue
        rel = ctx.model.rel(Path(folder))
        name = os.path.basename(folder)
        yield RULE.at(
            None,
            f"{rel}/ uses a kustomize {name} folder; components are flat",
            "move the manifests into the component folder and express cluster "
            "differences as spec.patches on the Flux Kustomization",
            file=rel,
        )
