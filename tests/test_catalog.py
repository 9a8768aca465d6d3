"""The chart catalog: complete enough, well-formed, internally consistent."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from infrawright.catalog import Catalog, builtin_catalog
from infrawright.catalog.schema import CatalogEntry

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
REQUIRED = {
    "cilium",
    "cert-manager",
    "trust-manager",
    "kube-prometheus-stack",
    "prometheus-operator-crds",
    "external-secrets",
    "sealed-secrets",
    "metallb",
    "cloudnative-pg",
    "kyverno",
    "gatekeeper",
    "longhorn",
    "envoy-gateway",
    "gateway-api-crds",
    "velero",
    "linkerd-crds",
    "linkerd-control-plane",
}
ENTRIES = sorted(builtin_catalog().entries.values(), key=lambda e: e.name)


def test_catalog_covers_the_named_charts_and_fifty_in_all() -> None:
    catalog = builtin_catalog()
    assert set(catalog.entries) >= REQUIRED
    assert len(catalog) >= 50


def test_catalog_spans_the_categories() -> None:
    categories = {e.category for e in ENTRIES}
    wanted = {"databases", "caches", "observability", "security", "policy", "ingress", "storage"}
    assert wanted <= categories
    assert {"secrets", "backup"} <= categories


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entry_is_well_formed(entry: CatalogEntry) -> None:
    assert DNS_LABEL.match(entry.name)
    assert DNS_LABEL.match(entry.namespace)
    assert entry.sources and all(s.startswith("https://") for s in entry.sources)
    if entry.chart:
        assert entry.chart.repository.startswith(("https://", "oci://"))
        assert not entry.chart.repository.endswith("/" + entry.chart.name) or (
            entry.chart.repository.startswith("https://")
        )
        assert entry.chart.version and not entry.chart.version.startswith(("^", "~", ">"))
    for hook in entry.webhooks:
        assert 0 < hook.service_port < 65536 and 0 < hook.container_port < 65536
    for required in entry.requires:
        assert required in builtin_catalog().entries, f"{entry.name} requires unknown {required}"
    assert entry.pss.reason.strip()


def test_known_facts() -> None:
    catalog = builtin_catalog()
    cert_manager = catalog.get("cert-manager")
    assert cert_manager is not None
    assert {g.group for g in cert_manager.provides} >= {"cert-manager.io"}
    assert [(w.service_port, w.container_port) for w in cert_manager.webhooks] == [(443, 10250)]
    assert cert_manager.metrics is not None
    assert "prometheus.servicemonitor.enabled" in cert_manager.metrics.servicemonitor_values
    cilium = catalog.get("cilium")
    assert cilium is not None and cilium.pss.level == "privileged"
    assert cilium.namespace == "kube-system"
    trust = catalog.get("trust-manager")
    assert trust is not None and "cert-manager" in trust.requires
    kps = catalog.get("kube-prometheus-stack")
    assert kps is not None
    assert "monitoring.coreos.com" in {g.group for g in kps.provides}


def test_chart_lookup_uses_the_repository_for_generic_names() -> None:
    catalog = builtin_catalog()
    entry = catalog.for_chart("cert-manager", "https://charts.jetstack.io")
    assert entry is not None and entry.name == "cert-manager"
    minio = catalog.get("minio-operator")
    if minio is not None and minio.chart is not None and minio.chart.name == "operator":
        assert catalog.for_chart("operator", "https://example.com/charts") is None
        assert catalog.for_chart("operator", minio.chart.repository) == minio


def test_config_entries_override_builtin() -> None:
    base = builtin_catalog()
    cilium = base.get("cilium")
    assert cilium is not None
    changed = msgspec.structs.replace(cilium, namespace="cilium")
    merged: Catalog = base.merged([changed])
    assert merged.get("cilium") == changed
    assert base.get("cilium") == cilium


def test_the_catalog_read_from_the_cache_equals_the_parsed_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    builtin_catalog.cache_clear()
    try:
        parsed = builtin_catalog()
        assert list((tmp_path / "cache" / "catalog").iterdir()), "the parsed data was kept"
        builtin_catalog.cache_clear()
        cached = builtin_catalog()
        assert cached is not parsed
        assert cached.entries == parsed.entries
    finally:
        builtin_catalog.cache_clear()


def test_an_oci_repository_url_that_names_the_chart_finds_its_entry() -> None:
    catalog = builtin_catalog()
    # what an OCIRepository points at (the chart's own address) and the registry alone
    for url in ("oci://docker.io/envoyproxy/gateway-helm", "oci://docker.io/envoyproxy"):
        found = catalog.for_chart("gateway-helm", url)
        assert found is not None and found.name == "envoy-gateway", url
    assert catalog.for_chart("gateway-helm", "oci://example.com/other/gateway-helm") is None


def test_an_oci_mirror_that_keeps_the_chart_path_finds_its_entry() -> None:
    catalog = builtin_catalog()
    # home-ops: OCIRepositories named after the app, pulling from mirrors
    cases = {
        ("envoy-gateway", "oci://mirror.gcr.io/envoyproxy/gateway-helm"): "envoy-gateway",
        (
            "external-dns",
            "oci://ocharted.turbo.ac/kubernetes-sigs.github.io/external-dns/external-dns",
        ): "external-dns",
        ("cert-manager", "oci://quay.io/jetstack/charts/cert-manager"): "cert-manager",
    }
    for (chart, url), name in cases.items():
        found = catalog.for_chart(chart, url)
        assert found is not None and found.name == name, url
    # a registry that only shares the chart's name is not the chart's: no guess
    assert catalog.for_chart("gateway-helm", "oci://ghcr.io/someone/gateway-helm") is None
