"""A new component's monitoring follows its catalog facts: a ServiceMonitor where the chart
renders a metrics Service (kept rendered by `service_values` while the chart's own monitor
is off), a PodMonitor where it renders only pods, nothing where the chart monitors itself;
each selecting the labels and the named port the catalog records for what the chart
renders."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest
import yaml

from conftest import EXAMPLE
from infrawright.catalog import CatalogEntry, builtin_catalog
from infrawright.catalog.schema import Metrics
from infrawright.model.conventions import infer
from infrawright.model.flux import dotted_get
from infrawright.model.loader import load_repo
from infrawright.plan.model import Plan
from infrawright.plan.rules import helm_op
from infrawright.render.changeset import Changeset
from infrawright.render.draft import Draft
from infrawright.render.ops import render_plan
from infrawright.repo.config import load_config
from infrawright.validate.engine import ValidationResult, validate

#: The entries the issue on catalog facts names; every entry with metrics is tested.
NAMED = (
    "cilium",
    "cloudnative-pg",
    "external-secrets",
    "strimzi-kafka-operator",
    "rabbitmq-cluster-operator",
    "valkey",
)
WITH_METRICS = sorted(
    e.name for e in builtin_catalog().entries.values() if e.chart is not None and e.metrics
)


_VALIDATED: dict[bytes, ValidationResult] = {}


def example(entry: CatalogEntry | None = None) -> ValidationResult:
    """The example validated, with ``entry`` in its catalog (as a config entry would be)."""
    key = msgspec.json.encode(entry)
    if key not in _VALIDATED:
        config = load_config(EXAMPLE)
        if entry is not None:
            config = dataclasses.replace(config, catalog=(entry,))
        _VALIDATED[key] = validate(load_repo(EXAMPLE, config=config))
    return _VALIDATED[key]


def render_new(entry: CatalogEntry) -> tuple[str, Changeset]:
    """``entry`` rendered as a new component of the example (under another name when the
    example already runs it): the component's name and the change."""
    before = example(None if builtin_catalog().get(entry.name) == entry else entry)
    op = helm_op(entry)
    model = before.analysis.model
    if op.component in model.components or op.component in model.by_label:
        op = msgspec.structs.replace(op, component=f"{op.component}-new")
    plan = Plan(request=f"install {entry.name}", ops=(op,))
    changes = render_plan(Draft(before.analysis, infer(model)), plan).changes
    return op.component, changes


def objects(changes: Changeset, folder: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path, data in changes.files.items():
        if data is not None and path.startswith(f"{folder}/") and path.endswith(".yaml"):
            out.extend(d for d in yaml.safe_load_all(data) if isinstance(d, dict))
    return out


def release_values(changes: Changeset, component: str) -> dict[str, Any]:
    releases = [
        d for d in objects(changes, f"namespaces/{component}") if d.get("kind") == "HelmRelease"
    ]
    assert len(releases) == 1, releases
    values: dict[str, Any] = releases[0]["spec"].get("values") or {}
    return values


def check_monitoring(entry: CatalogEntry) -> None:
    metrics = entry.metrics
    assert metrics is not None
    component, changes = render_new(entry)
    monitors = [
        d
        for d in objects(changes, f"namespaces/{component}-monitoring")
        if d.get("kind") in ("ServiceMonitor", "PodMonitor")
    ]
    values = release_values(changes, component)
    if metrics.chart_monitors == "keep":
        assert monitors == []
        assert all(dotted_get(values, p) is not False for p in metrics.servicemonitor_values)
        return
    if not metrics.selector:  # nothing known to select: no monitor that scrapes nothing
        assert monitors == []
        assert any("records no labels" in m for m in changes.messages)
        return
    assert [m["kind"] for m in monitors] == [expected_kind(metrics)]
    spec = monitors[0]["spec"]
    assert spec["selector"] == {"matchLabels": dict(metrics.selector)}
    assert spec["namespaceSelector"] == {"matchNames": [entry.namespace]}
    endpoints = spec["podMetricsEndpoints" if metrics.scrape == "pods" else "endpoints"]
    assert len(endpoints) == 1
    if metrics.port_name:
        assert endpoints[0]["port"] == metrics.port_name
    assert endpoints[0]["path"] == metrics.path
    for path in metrics.servicemonitor_values:
        assert dotted_get(values, path) is False, path
    for path, value in metrics.service_values.items():
        assert dotted_get(values, path) == value, path


def expected_kind(metrics: Metrics) -> str:
    return "PodMonitor" if metrics.scrape == "pods" else "ServiceMonitor"


@pytest.mark.parametrize("name", WITH_METRICS)
def test_a_new_component_is_monitored_as_its_catalog_entry_says(name: str) -> None:
    entry = builtin_catalog().get(name)
    assert entry is not None
    check_monitoring(entry)


def test_the_named_entries_have_metrics() -> None:
    assert set(NAMED) <= set(WITH_METRICS)


def test_pods_only_charts_get_a_pod_monitor() -> None:
    entry = builtin_catalog().get("cloudnative-pg")
    assert entry is not None and entry.metrics is not None
    pods = msgspec.structs.replace(
        entry,
        metrics=msgspec.structs.replace(
            entry.metrics, scrape="pods", selector={"app.kubernetes.io/name": "cloudnative-pg"}
        ),
    )
    check_monitoring(pods)
    _component, changes = render_new(pods)
    monitor = next(p for p in changes.files if p.endswith("-monitoring/podmonitor.yaml"))
    assert "REVIEW" in (changes.files[monitor] or b"").decode()


def test_a_kept_metrics_service_and_a_chart_that_monitors_itself() -> None:
    entry = builtin_catalog().get("external-secrets")
    assert entry is not None and entry.metrics is not None
    kept_service = msgspec.structs.replace(
        entry,
        metrics=msgspec.structs.replace(
            entry.metrics, service_values={"metrics.service.enabled": True}
        ),
    )
    check_monitoring(kept_service)
    itself = msgspec.structs.replace(
        entry, metrics=msgspec.structs.replace(entry.metrics, chart_monitors="keep")
    )
    check_monitoring(itself)
    _component, changes = render_new(itself)
    assert any("monitors itself" in m for m in changes.messages)
