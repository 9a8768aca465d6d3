"""IW003: a Kustomization that uses a custom kind depends on the one installing it.

Default severity: error.

Why: on a fresh cluster Flux applies Kustomizations as soon as their dependencies are
Ready. If a ClusterIssuer is applied before cert-manager has installed its CRDs, the
apply fails and the bootstrap stalls or retries at random. Only a direct ``dependsOn``
on the provider makes the order certain.

Bad::

    metadata: {name: cert-manager-config}
    spec:
      path: ./namespaces/cert-manager-config   # contains a ClusterIssuer
      dependsOn: []

Good::

    metadata: {name: cert-manager-config}
    spec:
      path: ./namespaces/cert-manager-config
      dependsOn:
        - name: cert-manager
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW003", "CRD consumers depend on their provider", Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    by_name = {ks.name: ks for ks in ctx.model.kustomizations}
    for consumer, uses in sorted(ctx.index.uses.items()):
        ks = by_name.get(consumer)
        if ks is None:
            continue
        direct = {d.name for d in ks.depends_on}
        reported: set[str] = set()
        for use in uses:
            if direct & set(use.providers) or use.group in reported:
                continue
            reported.add(use.group)
            wanted = use.providers[0]
            others = f" (or one of: {', '.join(use.providers)})" if len(use.providers) > 1 else ""
            line = ctx.line_of(ks.doc, ["spec", "dependsOn"]) or ks.doc.line
            yield RULE.at(
                ks.doc,
                f"{consumer} applies {use.kind} ({use.group}, from {use.obj.file}) "
                f"but does not depend on {wanted}{others}, which installs that CRD",
                f"add `- name: {wanted}` to spec.dependsOn of {consumer}",
                line=line,
            )
