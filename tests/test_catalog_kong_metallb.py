"""Catalog entries for Kong (new) and MetalLB (metrics fixed), and the example that uses Kong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infrawright.build.kustomize import Kustomize
from infrawright.catalog import builtin_catalog
from infrawright.catalog.schema import CatalogEntry
from infrawright.cli.app import run
from infrawright.model.loader import load_repo
from infrawright.plan.matching import match_catalog
from infrawright.validate.engine import validate

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "examples" / "local-kube"
KONG_DIR = EXAMPLE / "namespaces" / "kong"
SHARED_CRDS = Path(__file__).resolve().parents[2] / "shared" / "crds"
CRD_DIRS = [SHARED_CRDS] if SHARED_CRDS.is_dir() else []
KONG_REPOSITORY = "https://charts.konghq.com"


def entry(name: str) -> CatalogEntry:
    found = builtin_catalog().get(name)
    assert found is not None, f"{name} is not in the catalog"
    return found


def kinds(found: CatalogEntry, group: str) -> set[str]:
    return {k for g in found.provides if g.group == group for k in g.kinds}


def test_kong_chart_source_and_namespace() -> None:
    kong = entry("kong")
    assert kong.chart is not None
    assert kong.chart.name == "kong"
    assert kong.chart.repository == KONG_REPOSITORY
    assert kong.chart.version.split(".")[0] in {"2", "3"}
    assert kong.namespace == "kong"
    assert kong.category == "ingress"


def test_kong_installs_the_configuration_group() -> None:
    kong = entry("kong")
    assert {g.group for g in kong.provides} == {"configuration.konghq.com"}
    assert kinds(kong, "configuration.konghq.com") >= {
        "KongPlugin",
        "KongClusterPlugin",
        "KongConsumer",
        "KongConsumerGroup",
        "KongIngress",
        "TCPIngress",
        "UDPIngress",
        "KongUpstreamPolicy",
    }
    assert builtin_catalog().providers_of("configuration.konghq.com") == [kong]


def test_kong_webhook_reaches_the_controller_port() -> None:
    kong = entry("kong")
    assert [(w.service_port, w.container_port) for w in kong.webhooks] == [(443, 8080)]
    assert kong.webhooks[0].name.endswith("-validation-webhook")


def test_kong_metrics_and_chart_servicemonitor_switch() -> None:
    kong = entry("kong")
    assert kong.metrics is not None
    assert kong.metrics.port == 8100 and kong.metrics.path == "/metrics"
    assert kong.metrics.servicemonitor_values == ("serviceMonitor.enabled",)
    assert kong.metrics.selector["enable-metrics"] == "true"
    assert kong.metrics.port_name is None  # status is a container port, not a Service port
    assert {"kong_http_requests_total", "kong_upstream_target_health"} <= set(
        kong.metrics.metric_names
    )
    assert {a.name for a in kong.metrics.alerts} >= {"KongHigh5xxRate"}
    assert all(a.source in kong.sources for a in kong.metrics.alerts)


def test_kong_pss_level() -> None:
    kong = entry("kong")
    assert kong.pss.level == "restricted"
    assert "seccomp" in kong.pss.reason


def test_kong_is_found_by_chart_and_repository() -> None:
    catalog = builtin_catalog()
    kong = entry("kong")
    assert catalog.for_chart("kong", KONG_REPOSITORY) == kong
    assert catalog.for_chart("kong", KONG_REPOSITORY + "/") == kong
    assert catalog.for_chart("kong") == kong


@pytest.mark.parametrize(
    "request_text",
    ["install kong", "we need the kong ingress controller", "deploy Kong Gateway"],
)
def test_kong_aliases_match_requests(request_text: str) -> None:
    found = match_catalog(builtin_catalog(), request_text)
    assert found is not None and found.name == "kong"


def test_the_example_kong_release_resolves_to_the_entry() -> None:
    repo_doc = yaml.safe_load((KONG_DIR / "helm-repository.yaml").read_text(encoding="utf-8"))
    release = yaml.safe_load((KONG_DIR / "helm-release.yaml").read_text(encoding="utf-8"))
    chart = release["spec"]["chart"]["spec"]["chart"]
    assert builtin_catalog().for_chart(chart, repo_doc["spec"]["url"]) == entry("kong")
    assert release["spec"]["values"]["serviceMonitor"]["enabled"] is False
    admission = release["spec"]["values"]["ingressController"]["admissionWebhook"]
    assert admission["port"] == entry("kong").webhooks[0].container_port


def test_example_validates_through_the_cli() -> None:
    argv = ["validate", "--repo", str(EXAMPLE)]
    for folder in CRD_DIRS:
        argv += ["--crd-dir", str(folder)]
    assert run(argv) == 0


def test_example_kong_passes_iw008_and_iw005(kustomize: Kustomize) -> None:
    result = validate(load_repo(EXAMPLE), crd_dirs=CRD_DIRS, tool=kustomize)
    assert [f for f in result.findings if f.rule in {"IW005", "IW008"}] == []


def test_iw008_uses_the_kong_webhook_port(example_copy: Path, kustomize: Kustomize) -> None:
    policy = example_copy / "namespaces/kong/cilium-network-policies/allow-k8s-api.yaml"
    text = policy.read_text(encoding="utf-8")
    assert text.count('port: "8080"') == 1
    policy.write_text(text.replace('port: "8080"', 'port: "8081"'), encoding="utf-8")
    result = validate(load_repo(example_copy), crd_dirs=CRD_DIRS, tool=kustomize)
    iw008 = [f for f in result.findings if f.rule == "IW008"]
    assert len(iw008) == 1 and "8080" in iw008[0].message


def test_iw005_uses_the_kong_servicemonitor_switch(
    example_copy: Path, kustomize: Kustomize
) -> None:
    release = example_copy / "namespaces/kong/helm-release.yaml"
    text = release.read_text(encoding="utf-8")
    release.write_text(text.replace("enabled: false", "enabled: true", 1), encoding="utf-8")
    assert "serviceMonitor:\n      enabled: true" in release.read_text(encoding="utf-8")
    result = validate(load_repo(example_copy), crd_dirs=CRD_DIRS, tool=kustomize)
    iw005 = [f for f in result.findings if f.rule == "IW005"]
    assert len(iw005) == 1 and "serviceMonitor.enabled" in iw005[0].message


def test_metallb_selector_does_not_need_the_chart_servicemonitor() -> None:
    metallb = entry("metallb")
    assert metallb.metrics is not None
    # The <fullname>-*-monitor-service Services only exist with the chart's ServiceMonitor on.
    assert not any("monitor-service" in v for v in metallb.metrics.selector.values())
    assert metallb.metrics.selector == {"app.kubernetes.io/name": "metallb"}
    assert metallb.metrics.port == "metricshttps"
    assert set(metallb.metrics.servicemonitor_values) == {
        "prometheus.serviceMonitor.enabled",
        "prometheus.podMonitor.enabled",
    }
    notes = " ".join(metallb.review)
    assert "PodMonitor" in notes and "metricshttps" in notes and "https" in notes


def test_metallb_bgp_alert_covers_the_frr_k8s_backend() -> None:
    metallb = entry("metallb")
    assert metallb.metrics is not None
    alert = next(a for a in metallb.metrics.alerts if a.name == "MetalLBBGPSessionDown")
    assert "metallb_bgp_session_up" in alert.expr and "frrk8s_bgp_session_up" in alert.expr
    assert "frrk8s_bgp_session_up" in metallb.metrics.metric_names
