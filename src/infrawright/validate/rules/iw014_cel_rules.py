"""IW014: objects pass the validation rules (CEL) of their CRD.

Default severity: error. The rules are the ``x-kubernetes-validations`` of the CRD
schemas IW013 uses (CRDs in the repository, ``--crd-dir``, the config's ``crd_dirs``),
evaluated on each object as the API server would on create: ``self`` is the value at the
rule's level, with the schema's defaults filled in. The finding names the field (the
rule's level, or its ``fieldPath``) and the rule's message.

Not evaluated, and so never a finding: transition rules (``oldSelf``), rules that use a
Kubernetes extension function the CEL library does not have (``quantity``, ``url``,
``isSorted``, ...), and rules whose evaluation fails on the object. How many of each is
in the JSON report (``summary.cel``) and the text report.

Why: the API server refuses an object that breaks one of these rules, and the whole
Flux Kustomization that applies it fails, on the cluster instead of in review.

Bad::

    kind: HelmRelease
    spec:
      chart:
        spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}
      chartRef: {kind: OCIRepository, name: podinfo}   # "either chart or chartRef"

Good::

    spec:
      chartRef: {kind: OCIRepository, name: podinfo}
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.validate.cel import dotted
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW014", "objects pass their CRD's CEL validation rules", Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    per_object, _total = ctx.cel
    for obj, violations in per_object:
        for violation in violations:
            where = dotted(violation.path)
            present = [dotted(p) for p in violation.present]
            also = f" (set here: {', '.join(present)})" if present else ""
            keys = list(violation.present[-1] if violation.present else violation.path)
            yield RULE.at(
                obj,
                f"{obj.kind} {obj.name}: {where}: {violation.message}{also}",
                f"change {where} so that the {obj.kind} CRD's rule `{violation.rule}` holds",
                line=ctx.line_of(obj, keys) if keys else None,
            )
