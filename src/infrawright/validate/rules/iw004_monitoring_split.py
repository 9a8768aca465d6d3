"""IW004: monitoring objects live only in ``<component>-monitoring`` Kustomizations.

Default severity: error. Covers ServiceMonitor, PodMonitor, PrometheusRule, Probe and
ScrapeConfig. The ``<c>-monitoring`` Kustomization must depend on the monitoring stack
(whatever installs the prometheus-operator CRDs) and on ``<c>`` when that exists.

Why: these kinds only exist once the monitoring stack is up. Inside a component's own
Kustomization they tie the component's bootstrap to the monitoring stack, or fail it.

Bad::

    # namespaces/redis/kustomization.yaml
    resources: [helm-release.yaml, servicemonitor.yaml]

Good::

    # namespaces/redis-monitoring/kustomization.yaml
    resources: [servicemonitor.yaml]
    # clusters/<cluster>/infrastructure.yaml
    metadata: {name: redis-monitoring}
    spec:
      dependsOn: [{name: monitoring}, {name: redis}]
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.validate.context import MONITORING_GROUP, Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW004", "monitoring objects split into <c>-monitoring", Severity.ERROR, house=True)
KINDS = frozenset({"ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "ScrapeConfig"})
SUFFIX = "-monitoring"


def check(ctx: Context) -> Iterator[Finding]:
    stacks = ctx.monitoring_stacks()
    names = {ks.name for ks in ctx.model.kustomizations}
    for build in ctx.builds.values():
        ks = build.kustomization
        monitors = [o for o in build.objects if o.group == MONITORING_GROUP and o.kind in KINDS]
        if not monitors:
            continue
        if not ks.name.endswith(SUFFIX):
            for obj in monitors:
                parent = ks.name
                yield RULE.at(
                    obj,
                    f"{obj.kind} {obj.name} is applied by {ks.name}; monitoring objects "
                    f"belong in a separate {parent}{SUFFIX} Kustomization",
                    f"move it to {ctx.model.config.components_dir}/{parent}{SUFFIX}/ with a "
                    "Flux Kustomization that "
                    f"depends on {stacks[0] if stacks else 'the monitoring stack'} and {parent}",
                    concerns=(ctx.model.label(ks), *stacks),
                    fix="move-monitors",
                )
            continue
        deps = {ctx.model.label_of(d) for d in ks.depends_on} | {d.name for d in ks.depends_on}
        parent = ks.name[: -len(SUFFIX)]
        missing_stack = bool(stacks) and not deps & set(stacks)
        missing_parent = parent in names and parent not in deps
        if not (missing_stack or missing_parent):
            continue
        line = ctx.line_of(ks.doc, ["spec", "dependsOn"]) or ks.doc.line
        if missing_stack:
            yield RULE.at(
                ks.doc,
                f"{ks.name} applies monitoring objects but does not depend on the "
                f"monitoring stack ({', '.join(stacks)})",
                f"add `- name: {stacks[0]}` to spec.dependsOn of {ks.name}",
                line=line,
                concerns=(ctx.model.label(ks), *stacks),
                fix="depends-on",
            )
        if missing_parent:
            yield RULE.at(
                ks.doc,
                f"{ks.name} does not depend on {parent}, whose namespace and endpoints it watches",
                f"add `- name: {parent}` to spec.dependsOn of {ks.name}",
                line=line,
                concerns=(ctx.model.label(ks), parent, *stacks),
                fix="depends-on",
            )
