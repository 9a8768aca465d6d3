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

from infrawright.model.flux import KUSTOMIZE_GROUP
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW003", "CRD consumers depend on their provider", Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    model = ctx.model
    for consumer, uses in sorted(ctx.index.uses.items()):
        ks = model.by_label.get(consumer)
        if ks is None:
            continue
        direct = {model.label_of(d) for d in ks.depends_on}
        children: set[str] | None = None  # worked out when a use is not depended on
        reported: set[str] = set()
        for use in uses:
            if direct & set(use.providers) or use.group in reported:
                continue
            reported.add(use.group)
            line = ctx.line_of(ks.doc, ["spec", "dependsOn"]) or ks.doc.line
            wanted = use.providers[0]
            if children is None:
                children = _children(ctx, consumer)
            if set(use.providers) <= children:
                # A parent cannot wait for a Kustomization it applies itself.
                yield RULE.at(
                    use.obj,
                    f"{consumer} applies {use.kind} ({use.group}, from {use.obj.file}) and also "
                    f"the Kustomization {wanted} that installs that CRD, so it cannot wait for it",
                    f"move {use.obj.file} into a Kustomization of its own that depends on {wanted}",
                    concerns=(consumer, *use.providers),
                )
                continue
            others = f" (or one of: {', '.join(use.providers)})" if len(use.providers) > 1 else ""
            yield RULE.at(
                ks.doc,
                f"{consumer} applies {use.kind} ({use.group}, from {use.obj.file}) "
                f"but does not depend on {wanted}{others}, which installs that CRD",
                f"add `- name: {wanted}` to spec.dependsOn of {consumer}",
                line=line,
                concerns=(consumer, *use.providers),
                fix="depends-on",
            )


def _children(ctx: Context, label: str) -> set[str]:
    """Labels of the Flux Kustomizations that ``label``'s build applies."""
    build = ctx.builds.get(label)
    if build is None:
        return set()
    parent_ns = build.kustomization.namespace
    return {
        ctx.model.labels[key]
        for obj in build.objects
        if obj.kind == "Kustomization" and obj.group == KUSTOMIZE_GROUP
        for key in [(obj.namespace or parent_ns, obj.name)]
        if key in ctx.model.labels
    }
