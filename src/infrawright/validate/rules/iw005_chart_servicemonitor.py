"""IW005: a HelmRelease does not switch on its chart's own ServiceMonitor.

Default severity: error. The value paths come from the chart catalog (for example
``prometheus.servicemonitor.enabled`` for cert-manager); for charts not in the catalog
the common ``serviceMonitor.enabled`` and ``metrics.serviceMonitor.enabled`` are checked.

Why: a chart-made ServiceMonitor needs the monitoring CRDs when the chart installs, so
the component cannot bootstrap before the monitoring stack. Write the ServiceMonitor in
``<c>-monitoring`` instead.

Bad::

    values:
      prometheus:
        servicemonitor:
          enabled: true

Good::

    values:
      prometheus:
        servicemonitor:
          enabled: false   # lives in cert-manager-monitoring
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.model.flux import dotted_get
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW005", "chart ServiceMonitors switched off", Severity.ERROR, house=True)
GENERIC = ("serviceMonitor.enabled", "metrics.serviceMonitor.enabled")


def check(ctx: Context) -> Iterator[Finding]:
    urls = ctx.helm_repository_urls()
    stacks = ctx.monitoring_stacks()
    for ks, release in ctx.helm_releases():
        url = urls.get(release.source.name) if release.source else None
        entry = ctx.model.catalog.for_chart(release.chart, url)
        if entry and entry.metrics and entry.metrics.chart_monitors == "keep":
            continue  # the chart monitors itself as it intends (its catalog entry says so)
        known = entry.metrics.servicemonitor_values if entry and entry.metrics else ()
        paths = known or GENERIC
        for path in paths:
            if dotted_get(release.values, path) is True:
                keys = ["spec", "values", *path.split(".")]
                yield RULE.at(
                    release.doc,
                    f"HelmRelease {release.name} switches on the {release.chart} chart's "
                    f"ServiceMonitor ({path}: true)",
                    f"set {path}: false and write the ServiceMonitor in "
                    f"{ctx.model.config.components_dir}/<component>-monitoring/",
                    line=ctx.line_of(release.doc, keys),
                    concerns=(ctx.model.label(ks), *stacks),
                    # Without catalog facts nothing can replace the chart's monitor.
                    fix="chart-monitor-off" if path in known else "",
                )
