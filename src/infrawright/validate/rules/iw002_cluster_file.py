"""IW002: every infrastructure Flux Kustomization lives in the cluster file.

Default severity: error. A flat-layout rule. The bootstrap's own ``flux-system``
Kustomization in ``flux-system/gotk-sync.yaml`` is exempt.

Why: the cluster file (``clusters/<cluster>/infrastructure.yaml``) is the one place that
shows the whole bootstrap order; a Kustomization defined elsewhere hides a dependency.

Bad::

    # namespaces/redis/flux-kustomization.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: redis, namespace: flux-system}

Good::

    # clusters/local-kube/infrastructure.yaml
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: redis, namespace: flux-system}
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule(
    "IW002",
    "Flux Kustomizations live in the cluster file",
    Severity.ERROR,
    flat_layout=True,
    house=True,
    needs_builds=False,
)


def check(ctx: Context) -> Iterator[Finding]:
    model = ctx.model
    expected = model.cluster_file or f"clusters/<cluster>/{model.config.cluster_file}"
    for ks in model.kustomizations:
        if model.is_bootstrap(ks) or ks.doc.file == model.cluster_file:
            continue
        yield RULE.at(
            ks.doc,
            f"Flux Kustomization {ks.name} is defined outside the cluster file {expected}",
            f"move this document into {expected}",
        )
