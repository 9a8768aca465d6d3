"""IW011: sourceRef targets exist.

Default severity: error. A Flux Kustomization's ``sourceRef`` and a HelmRelease's chart
``sourceRef`` (or ``chartRef``) must name a source object defined in the repository.
Kustomizations whose source is not this repository are not built, so only their own
reference is checked. A Flux Operator ``FluxInstance`` provides the ``flux-system``
GitRepository.

Why: a missing source leaves the object waiting with "source not found" forever.

Bad::

    chart:
      spec:
        sourceRef: {kind: HelmRepository, name: jetstak, namespace: flux-system}

Good::

    chart:
      spec:
        sourceRef: {kind: HelmRepository, name: jetstack, namespace: flux-system}
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from infrawright.model.flux import BOOTSTRAP_SOURCE, SOURCE_GROUP
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW011", "sourceRef targets exist", Severity.ERROR)
SOURCE_KINDS = frozenset(
    {"GitRepository", "OCIRepository", "HelmRepository", "Bucket", "HelmChart", "ExternalArtifact"}
)


def check(ctx: Context) -> Iterator[Finding]:
    model = ctx.model
    # The bootstrap source is the repository itself, whoever created it (flux bootstrap,
    # a FluxInstance, the flux-instance chart).
    known: set[tuple[str, str, str]] = {
        (BOOTSTRAP_SOURCE.kind, BOOTSTRAP_SOURCE.namespace, BOOTSTRAP_SOURCE.name)
    }
    for doc in model.objects():
        if doc.kind in SOURCE_KINDS and doc.group in (SOURCE_GROUP, ""):
            known.add((doc.kind, doc.namespace or "flux-system", doc.name))
        if doc.kind == "ArtifactGenerator":
            for artifact in doc.spec.get("artifacts") or []:
                if isinstance(artifact, dict) and artifact.get("name"):
                    namespace = doc.namespace or "flux-system"
                    known.add(("ExternalArtifact", namespace, str(artifact["name"])))
    for _ks, obj in ctx.of_kind(*SOURCE_KINDS):
        known.add((obj.kind, obj.namespace or "", obj.name))

    def same_kind(kind: str) -> list[str]:
        return sorted({n for k, _, n in known if k == kind})

    def missing(kind: str, namespace: str, name: str) -> bool:
        return (kind, namespace, name) not in known

    for ks in model.kustomizations:
        src = ks.source
        if src is None or src.kind not in SOURCE_KINDS or not missing(*_key(src)):
            continue
        close = difflib.get_close_matches(src.name, same_kind(src.kind), n=1)
        yield RULE.at(
            ks.doc,
            f"Kustomization {ks.name} uses source {src}, which is not defined in the repository",
            f"did you mean {close[0]!r}?" if close else f"define {src.kind} {src.name}",
            line=ctx.line_of(ks.doc, ["spec", "sourceRef"]),
        )
    for _ks, release in ctx.helm_releases():
        src = release.source
        if src is None or not missing(*_key(src)):
            continue
        close = difflib.get_close_matches(src.name, same_kind(src.kind), n=1)
        yield RULE.at(
            release.doc,
            f"HelmRelease {release.name} uses chart source {src}, which is not defined "
            "in the repository",
            f"did you mean {close[0]!r}?" if close else f"define {src.kind} {src.name}",
            line=ctx.line_of(release.doc, ["spec", "chart", "spec", "sourceRef"]),
        )


def _key(ref: object) -> tuple[str, str, str]:
    kind = getattr(ref, "kind", "")
    return (kind, getattr(ref, "namespace", ""), getattr(ref, "name", ""))
