"""implement-infra request families 2, 3, 5 and 6 on copies of the example and fixtures.

Phrasing tables map several wordings to the same Plan; end-to-end tests run the real
pipeline (kustomize builds, every rule) and check the bytes written.
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path

import msgspec
import pytest
import yaml

from conftest import EXAMPLE, FIXTURES, SHARED, copy_repo
from infrawright.cli.app import run
from infrawright.errors import ExitCode
from infrawright.model.loader import load_repo
from infrawright.plan.facts import RepoFacts
from infrawright.plan.rules import NotUnderstoodError, plan_request

CRDS = ["--crd-dir", str(SHARED / "crds")] if (SHARED / "crds").is_dir() else []
CLUSTER_FILE = "clusters/local-kube/infrastructure.yaml"


@functools.cache
def example_facts() -> tuple[RepoFacts, object]:
    model = load_repo(EXAMPLE)
    return RepoFacts.from_model(model), model.catalog


def plan_for(text: str) -> list[dict[str, object]]:
    facts, catalog = example_facts()
    plan = plan_request(text, catalog, facts=facts)  # type: ignore[arg-type]
    return [{k: v for k, v in msgspec.to_builtins(op).items() if k != "review"} for op in plan.ops]


PHRASINGS: list[tuple[str, dict[str, object]]] = [
    # family 2: network policy
    (
        "Add CiliumNetworkPolicy for new-service namespace",
        {"op": "add-network-policy", "component": "new-service", "name": "default"},
    ),
    (
        "create a network policy for the payments namespace",
        {"op": "add-network-policy", "component": "payments", "name": "default"},
    ),
    (
        "allow monitoring to scrape cloudnative-pg",
        {
            "op": "add-network-policy",
            "component": "cloudnative-pg",
            "name": "allow-monitoring-scrape",
            "allow_from_namespaces": ("monitoring",),
            "ports": (8080,),
        },
    ),
    # family 3: ordering fixes
    ("Fix bootstrap ordering for monitoring dependencies", {"op": "fix-ordering"}),
    (
        "make sure every kustomization that uses CRDs depends on the component that installs them",
        {"op": "fix-ordering"},
    ),
    ("repair the dependsOn of cert-manager-config", {"op": "fix-ordering"}),
    # family 5: monitoring for an existing component
    ("add monitoring for cloudnative-pg", {"op": "add-monitoring", "component": "cloudnative-pg"}),
    ("monitor cilium please", {"op": "add-monitoring", "component": "cilium"}),
    (
        "alert when cert-manager certificates expire within 7 days",
        {
            "op": "add-monitoring",
            "component": "cert-manager",
            "alerts": ({"name": "CertManagerCertificateExpiringSoon", "params": {"days": 7}},),
        },
    ),
    (
        "page me if a TLS certificate expires in less than 3 days",
        {
            "op": "add-monitoring",
            "component": "cert-manager",
            "alerts": ({"name": "CertManagerCertificateExpiringSoon", "params": {"days": 3}},),
        },
    ),
    # family 6: versions, values, removal
    (
        "upgrade cert-manager to v1.20.1",
        {"op": "set-chart-version", "component": "cert-manager", "version": "v1.20.1"},
    ),
    (
        "bump the cilium chart to 1.19.4",
        {"op": "set-chart-version", "component": "cilium", "version": "1.19.4"},
    ),
    (
        "update cert-manager to 1.20.1",
        {"op": "set-chart-version", "component": "cert-manager", "version": "v1.20.1"},
    ),
    (
        "set Prometheus retention to 15d",
        {
            "op": "set-values",
            "component": "monitoring",
            "values": {"prometheus.prometheusSpec.retention": "15d"},
        },
    ),
    (
        "change the prometheus retention to 30d",
        {
            "op": "set-values",
            "component": "monitoring",
            "values": {"prometheus.prometheusSpec.retention": "30d"},
        },
    ),
    (
        "set monitoring prometheus.prometheusSpec.replicas to 2",
        {
            "op": "set-values",
            "component": "monitoring",
            "values": {"prometheus.prometheusSpec.replicas": 2},
        },
    ),
    ("remove kong", {"op": "remove-component", "component": "kong"}),
    ("uninstall the kong ingress controller", {"op": "remove-component", "component": "kong"}),
    ("decommission metallb", {"op": "remove-component", "component": "metallb"}),
]


@pytest.mark.parametrize(("text", "want"), PHRASINGS)
def test_phrasings(text: str, want: dict[str, object]) -> None:
    [op] = plan_for(text)
    assert {k: op.get(k) for k in want} == want


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("upgrade flux-operator to 1.0.0", "no existing component"),
        ("add monitoring for metallb", "metallb is not installed"),
        ("allow monitoring to scrape nothing-here", "nothing-here is not a component"),
    ],
)
def test_existing_component_requests_name_what_is_missing(text: str, words: str) -> None:
    with pytest.raises(NotUnderstoodError) as err:
        plan_for(text)
    assert words in err.value.message


# --- end to end -------------------------------------------------------------------------


def implement(repo: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = run(["implement", "--repo", str(repo), "--json", *CRDS, text])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, (json.loads(out) if out.strip() else {"stderr": err})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(EXAMPLE, tmp_path / "repo")


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and ".infrawright" not in p.parts
    }


def test_version_bump_changes_exactly_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(repo)
    code, report = implement(repo, capsys, "upgrade cert-manager to v1.20.1")
    assert code == ExitCode.OK, report
    assert report["status"] == "applied"
    assert report["files"]["modified"] == ["namespaces/cert-manager/helm-release.yaml"]
    after = snapshot(repo)
    changed = [p for p in after if after[p] != before.get(p)]
    assert changed == ["namespaces/cert-manager/helm-release.yaml"]
    old = before[changed[0]].decode().splitlines()
    new = after[changed[0]].decode().splitlines()
    delta = [ln for ln in difflib.ndiff(old, new) if ln[:1] in "+-"]
    assert delta == ['-       version: "v1.19.x"', '+       version: "v1.20.x"']
    assert report["recreate"]["required"] is False
    # Same request again: the pin already admits it.
    code, again = implement(repo, capsys, "upgrade cert-manager to v1.20.1")
    assert (code, again["status"]) == (ExitCode.OK, "no-op")


def test_values_change_edits_the_existing_key(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = repo / "namespaces/monitoring/helm-release.yaml"
    before = path.read_text()
    code, report = implement(repo, capsys, "set Prometheus retention to 15d")
    assert code == ExitCode.OK, report
    after = path.read_text()
    assert after == before.replace("retention: 7d", "retention: 15d")
    code, again = implement(repo, capsys, "set Prometheus retention to 15d")
    assert again["status"] == "no-op"


def test_removal_deletes_folders_kustomizations_and_depends_on(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = implement(repo, capsys, "remove kong")
    assert code == ExitCode.OK, report
    assert not (repo / "namespaces/kong").exists()
    assert not (repo / "namespaces/kong-monitoring").exists()
    docs = [d for d in yaml.safe_load_all((repo / CLUSTER_FILE).read_text()) if d]
    names = {d["metadata"]["name"] for d in docs}
    assert not names & {"kong", "kong-monitoring"}
    for doc in docs:
        assert all(dep["name"] != "kong" for dep in doc["spec"].get("dependsOn") or [])
    notes = [r["note"] for r in report["review"]]
    assert any("prune: false" in n for n in notes)
    code, again = implement(repo, capsys, "remove kong")
    assert (code, again["status"]) == (ExitCode.OK, "no-op")


def test_removal_is_refused_while_crds_are_used(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(repo)
    code = run(["implement", "--repo", str(repo), *CRDS, "remove cert-manager"])
    _out, err = capsys.readouterr()
    assert code == ExitCode.FINDINGS
    assert "cert-manager-config uses ClusterIssuer" in err
    assert snapshot(repo) == before


def test_alert_threshold_rewrites_the_existing_rule(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = implement(
        repo, capsys, "alert when cert-manager certificates expire within 7 days"
    )
    assert code == ExitCode.OK, report
    rules = yaml.safe_load(
        (repo / "namespaces/cert-manager-monitoring/prometheus-rules.yaml").read_text()
    )
    [rule] = [
        r
        for r in rules["spec"]["groups"][0]["rules"]
        if r["alert"] == "CertManagerCertificateExpiringSoon"
    ]
    assert "certmanager_certificate_expiration_timestamp_seconds" in rule["expr"]
    assert "7 * 86400" in rule["expr"]
    assert report["review"]


def test_monitoring_for_component_without_monitoring_folder(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = implement(repo, capsys, "install external-dns")
    assert code == ExitCode.OK, report
    code, report = implement(repo, capsys, "alert when external-dns has registry errors")
    assert code == ExitCode.OK, report
    text = (repo / "namespaces/external-dns-monitoring/prometheus-rules.yaml").read_text()
    assert "ExternalDNSRegistryErrors" in text
    assert "external_dns_registry_errors_total" in text
    listed = yaml.safe_load(
        (repo / "namespaces/external-dns-monitoring/kustomization.yaml").read_text()
    )
    assert "prometheus-rules.yaml" in listed["resources"]


def test_network_policy_for_a_new_namespace(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = implement(repo, capsys, "Add CiliumNetworkPolicy for new-service namespace")
    assert code == ExitCode.OK, report
    policy = yaml.safe_load(
        (repo / "namespaces/new-service/cilium-network-policies/default.yaml").read_text()
    )
    assert policy["kind"] == "CiliumNetworkPolicy"
    assert policy["metadata"]["namespace"] == "new-service"
    docs = [d for d in yaml.safe_load_all((repo / CLUSTER_FILE).read_text()) if d]
    [ks] = [d for d in docs if d["metadata"]["name"] == "new-service"]
    assert {"name": "cilium"} in ks["spec"]["dependsOn"]
    assert report["recreate"]["required"] is False


def test_scrape_policy_in_existing_component(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = implement(repo, capsys, "allow monitoring to scrape cloudnative-pg")
    assert code == ExitCode.OK, report
    folder = repo / "namespaces/cloudnative-pg/cilium-network-policies"
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    assert "allow-monitoring-scrape.yaml" in listed
    policy = yaml.safe_load((folder / "allow-monitoring-scrape.yaml").read_text())
    [rule] = policy["spec"]["ingress"]
    assert rule["toPorts"] == [{"ports": [{"port": "8080", "protocol": "TCP"}]}]


@pytest.mark.parametrize(
    ("fixture", "rule", "recreate"),
    [
        ("iw003-missing-crd-dependency", "IW003", True),
        ("iw004-monitoring-in-component", "IW004", True),
        ("iw005-chart-servicemonitor-on", "IW005", False),
    ],
)
def test_ordering_fix_removes_the_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fixture: str, rule: str, recreate: bool
) -> None:
    repo = copy_repo(FIXTURES / fixture, tmp_path / "repo")
    code, report = implement(repo, capsys, "fix bootstrap ordering")
    assert code == ExitCode.OK, report
    assert report["status"] == "applied"
    assert [f["rule"] for f in report["validation"]["fixed"]] == [rule]
    assert report["validation"]["findings"] == []
    assert report["recreate"]["required"] is recreate
    assert run(["validate", "--repo", str(repo), *CRDS]) == ExitCode.OK
    capsys.readouterr()
    code, again = implement(repo, capsys, "fix bootstrap ordering")
    assert again["status"] == "no-op"


def test_oci_chart_follows_the_ocirepository_convention(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where OCI charts come through OCIRepository + chartRef, a new OCI chart does too."""
    folder = repo / "namespaces/cert-manager"
    (folder / "helm-repository.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\n"
        "kind: OCIRepository\n"
        "metadata:\n  name: cert-manager\n  namespace: flux-system\n"
        "spec:\n  interval: 1h\n  url: oci://quay.io/jetstack/charts/cert-manager\n"
        "  layerSelector:\n"
        '    mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip"\n'
        "    operation: copy\n"
        '  ref:\n    semver: "v1.19.x"\n'
    )
    release = folder / "helm-release.yaml"
    text = release.read_text()
    chart_block = text[text.index("  chart:\n") : text.index("  install:\n")]
    release.write_text(
        text.replace(
            chart_block,
            "  chartRef:\n    kind: OCIRepository\n    name: cert-manager\n"
            "    namespace: flux-system\n",
        )
    )
    code, report = implement(repo, capsys, "install trust-manager")
    assert code == ExitCode.OK, report
    # The file is named the way this repository names its chart sources.
    source = yaml.safe_load((repo / "namespaces/trust-manager/helm-repository.yaml").read_text())
    assert source["kind"] == "OCIRepository"
    assert source["spec"]["url"] == "oci://quay.io/jetstack/charts/trust-manager"
    assert source["spec"]["ref"]["semver"].endswith(".x")
    new_release = yaml.safe_load((repo / "namespaces/trust-manager/helm-release.yaml").read_text())
    assert new_release["spec"]["chartRef"]["kind"] == "OCIRepository"
    assert "chart" not in new_release["spec"]


def test_pin_means_that_very_version(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """kong's release admits 2.52.x: "upgrade to 2.52.3" is already true, "pin to 2.52.3"
    writes 2.52.3 exactly."""
    release = repo / "namespaces/kong/helm-release.yaml"
    assert 'version: "2.52.x"' in release.read_text()
    code, report = implement(repo, capsys, "upgrade kong to 2.52.3")
    assert code == ExitCode.OK, report
    assert report["status"] == "no-op"
    assert 'version: "2.52.x"' in release.read_text()
    code, report = implement(repo, capsys, "Pin kong to chart version 2.52.3")
    assert code == ExitCode.OK, report
    assert report["status"] == "applied", report
    assert 'version: "2.52.3"' in release.read_text()


def test_a_chart_running_under_a_role_name_is_changed_not_installed_again(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kube-prometheus-stack runs here as the component monitoring: "Set Prometheus
    retention" edits it there, and asking for it again installs no second copy."""
    before = snapshot(repo)
    code, report = implement(repo, capsys, "Set Prometheus retention to 15d")
    assert code == ExitCode.OK, report
    assert report["status"] == "applied", report
    changed = {p for p, data in snapshot(repo).items() if before.get(p) != data}
    assert changed == {"namespaces/monitoring/helm-release.yaml"}
    assert "retention: 15d" in (repo / "namespaces/monitoring/helm-release.yaml").read_text()
    code, report = implement(repo, capsys, "install kube-prometheus-stack")
    assert code == ExitCode.OK, report
    assert report["status"] == "no-op", report
    assert not (repo / "namespaces/kube-prometheus-stack").exists()
