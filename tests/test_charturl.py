"""A chart named by its address in the request: --chart and --version in words."""

from __future__ import annotations

import pytest

from infrawright.catalog import builtin_catalog
from infrawright.plan.charturl import chart_in_text
from infrawright.plan.facts import Component, RepoFacts
from infrawright.plan.matching import NotUnderstoodError
from infrawright.plan.model import AddHelmComponent
from infrawright.plan.rules import plan_request

FACTS = RepoFacts(clusters=("production", "staging"))


@pytest.mark.parametrize(
    ("text", "repository", "chart", "version", "name"),
    [
        (
            "add the app 'orders' from the chart at oci://ghcr.io/example/charts/orders, "
            "tracking 2.x",
            "oci://ghcr.io/example/charts",
            "orders",
            "2.x",
            "orders",
        ),
        (
            "install https://charts.example.com/shop version 1.4.2",
            "https://charts.example.com",
            "shop",
            "1.4.2",
            "shop",
        ),
        (
            "Add the service called Billing from oci://r.example/c/billing-chart at v3.1.0",
            "oci://r.example/c",
            "billing-chart",
            "v3.1.0",
            "billing",
        ),
    ],
)
def test_the_chart_is_read_from_the_request(
    text: str, repository: str, chart: str, version: str, name: str
) -> None:
    found = chart_in_text(text)
    assert found is not None
    assert (found.repository, found.chart, found.version, found.name) == (
        repository,
        chart,
        version,
        name,
    )


def test_no_url_is_no_chart() -> None:
    assert chart_in_text("install cert-manager") is None


def test_a_chart_without_a_version_is_refused() -> None:
    with pytest.raises(NotUnderstoodError) as err:
        chart_in_text("add the app orders from oci://ghcr.io/example/charts/orders")
    assert "without a version" in err.value.message


def test_replicas_per_cluster_become_values_of_each_cluster() -> None:
    plan = plan_request(
        "add the app 'orders' from the chart at oci://ghcr.io/example/charts/orders, "
        "tracking 2.x, on the staging and production clusters, 2 replicas in staging and "
        "4 in production",
        builtin_catalog(),
        facts=FACTS,
    )
    [op] = plan.ops
    assert isinstance(op, AddHelmComponent)
    assert (op.component, op.namespace, op.chart.version) == ("orders", "orders", "2.x")
    assert op.cluster_values == {"staging": {"replicaCount": 2}, "production": {"replicaCount": 4}}
    assert set(plan.clusters) == {"staging", "production"}
    assert any("replicaCount per cluster" in r for r in op.review)


def test_replicas_for_an_existing_component_are_refused() -> None:
    kong = Component("kong", namespace="kong", catalog="kong", chart="kong", version="2.52.x")
    facts = RepoFacts(clusters=("staging",), components={"kong": kong})
    with pytest.raises(NotUnderstoodError) as err:
        plan_request(
            "upgrade kong to 2.53.0 with 2 replicas in staging", builtin_catalog(), facts=facts
        )
    assert "replicas per cluster apply to a new chart only" in err.value.message
