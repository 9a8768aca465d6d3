"""Monitoring objects: the ServiceMonitor or PodMonitor a chart's catalog facts call
for, PrometheusRules, and the ``<component>-monitoring`` component that holds them."""

from __future__ import annotations

from typing import Any

from infrawright.catalog import CatalogEntry
from infrawright.catalog.schema import Metrics
from infrawright.render.draft import MONITORING_GROUP, SUFFIX, Draft
from infrawright.render.shapes import flux_kustomization, kustomization_file


def monitor_kind(metrics: Metrics) -> str:
    """The monitor infrawright writes for a chart: a PodMonitor where the chart renders
    only pods to scrape, else a ServiceMonitor."""
    return "PodMonitor" if metrics.scrape == "pods" else "ServiceMonitor"


def unknown_selector(entry: CatalogEntry) -> str:
    """Why no monitor is written for a chart whose catalog entry has no selector."""
    assert entry.metrics is not None
    what = "pods" if entry.metrics.scrape == "pods" else "metrics Service"
    return (
        f"the catalog entry for {entry.name} records no labels of its {what}; no "
        f"{monitor_kind(entry.metrics)} written (one that selects nothing scrapes nothing)"
    )


def monitoring_labels(draft: Draft, kind: str) -> dict[str, str]:
    """Labels every existing object of ``kind`` carries (e.g. ``release: ...`` that a
    Prometheus selects rules by); empty when the repository has none."""
    labels = [
        dict(d.metadata.get("labels") or {})
        for d in draft.model.objects()
        if d.kind == kind and d.group == MONITORING_GROUP
    ]
    if not labels:
        return {}
    common = {k: v for k, v in labels[0].items() if all(x.get(k) == v for x in labels)}
    return {str(k): str(v) for k, v in common.items()}


def write_monitor(
    draft: Draft, folder: str, component: str, namespace: str, entry: CatalogEntry
) -> str:
    """Write the ServiceMonitor or PodMonitor of ``entry`` into ``folder``, with a REVIEW
    note on where its selector came from; its file name."""
    metrics = entry.metrics
    assert metrics is not None
    kind = monitor_kind(metrics)
    endpoint: dict[str, Any] = {}
    if metrics.port_name:
        endpoint["port"] = metrics.port_name
    elif kind == "PodMonitor" and isinstance(metrics.port, int):
        endpoint["portNumber"] = metrics.port
    else:
        endpoint["port" if kind == "PodMonitor" else "targetPort"] = metrics.port
    endpoint["path"] = metrics.path
    if kind == "PodMonitor":
        name = draft.file_name(kind, "podmonitor.yaml", component)
        labels = monitoring_labels(draft, kind) or monitoring_labels(draft, "ServiceMonitor")
        target = "the chart's pods and their metrics port"
    else:
        name = draft.file_name(kind, "servicemonitor.yaml", component)
        labels = monitoring_labels(draft, kind)
        target = "the chart's metrics Service"
    doc = _monitor(kind, component, namespace, labels, dict(metrics.selector), endpoint)
    note = f"selector and port from the catalog entry for {entry.name}; check them against {target}"
    path = f"{folder}/{name}"
    draft.write(path, doc, header=draft.review_header(path, [note]))
    return name


def prometheus_rule(
    draft: Draft, component: str, namespace: str, rules: list[dict[str, Any]]
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": component, "namespace": namespace}
    labels = monitoring_labels(draft, "PrometheusRule")
    if labels:
        meta["labels"] = labels
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": meta,
        "spec": {"groups": [{"name": component, "rules": rules}]},
    }


def monitoring_component(
    draft: Draft,
    component: str,
    namespace: str,
    entry: CatalogEntry | None,
    *,
    service_monitor: bool,
    rules: list[dict[str, Any]] | None = None,
    notes: tuple[str, ...] = (),
) -> None:
    """A new ``<component>-monitoring`` folder and its Flux Kustomization."""
    stacks = draft.providers(MONITORING_GROUP)
    name = f"{component}{SUFFIX}"
    folder = f"{draft.comp_dir}/{name}"
    files: list[str] = []
    kind = "ServiceMonitor"
    if (
        service_monitor
        and entry is not None
        and entry.metrics is not None
        and entry.metrics.chart_monitors == "off"
        and entry.metrics.selector
    ):
        kind = monitor_kind(entry.metrics)
        files.append(write_monitor(draft, folder, component, namespace, entry))
    if rules:
        rule_file = draft.file_name("PrometheusRule", "prometheus-rules.yaml", component)
        draft.write(f"{folder}/{rule_file}", prometheus_rule(draft, component, namespace, rules))
        files.append(rule_file)
    kustomization_file(draft, f"{folder}/kustomization.yaml", files)
    deps = [(stacks[0], f"{kind} CRD"), (component, "namespace and endpoints")]
    cni = draft.cni()
    if cni and draft.conv.depend_on_cni.value and cni not in (stacks[0], component):
        deps.append((cni, "after the CNI, as every component here"))
    flux_kustomization(
        draft,
        name,
        deps,
        (f"monitoring objects of {component} live here, apart from it", *notes),
        monitoring=True,
    )


def _monitor(
    kind: str,
    component: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    endpoint: dict[str, Any],
) -> dict[str, Any]:
    """A ServiceMonitor or PodMonitor selecting ``selector`` in ``namespace``."""
    meta: dict[str, Any] = {"name": component, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    endpoints = "podMetricsEndpoints" if kind == "PodMonitor" else "endpoints"
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": kind,
        "metadata": meta,
        "spec": {
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [namespace]},
            endpoints: [endpoint],
        },
    }
