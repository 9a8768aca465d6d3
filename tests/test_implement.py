"""implement-infra: planner phrasing tables and end-to-end changes on real repo copies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, copy_repo, shared_path
from infrawright.catalog import builtin_catalog
from infrawright.change.implement import implement
from infrawright.cli.app import run
from infrawright.errors import ExitCode
from infrawright.model.loader import load_repo
from infrawright.plan.model import AddHelmComponent, ChartRef, Plan
from infrawright.plan.rules import NotUnderstoodError, plan_request

PHRASINGS = [
    ("install cert-manager", "add-helm-component", "cert-manager"),
    ("please set up Cert Manager for TLS", "add-helm-component", "cert-manager"),
    ("deploy valkey as a cache", "add-helm-component", "valkey"),
    ("we need metallb", "add-helm-component", "metallb"),
    ("add the external-dns chart", "add-helm-component", "external-dns"),
    ("Install trust-manager", "add-helm-component", "trust-manager"),
    ("Add new component team-a with Flux Kustomization", "add-plain-component", "team-a"),
    ("create a namespace called payments", "add-plain-component", "payments"),
]


@pytest.mark.parametrize(("request_text", "op", "component"), PHRASINGS)
def test_phrasings_map_to_plans(request_text: str, op: str, component: str) -> None:
    plan = plan_request(request_text, builtin_catalog())
    assert [(o.op, o.component) for o in plan.ops] == [(op, component)]


def test_redis_caching_plans_the_operator_and_a_redis() -> None:
    plan = plan_request("Create HelmRelease for Redis caching", builtin_catalog())
    assert [(o.op, o.component) for o in plan.ops] == [
        ("add-helm-component", "redis-operator"),
        ("add-instance", "redis"),
    ]


def test_unknown_request_says_what_was_understood() -> None:
    with pytest.raises(NotUnderstoodError) as err:
        plan_request("make it faster please", builtin_catalog())
    assert "no chart from the catalog" in err.value.message
    assert err.value.hint and "Create HelmRelease for Redis caching" in err.value.hint


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    from conftest import EXAMPLE

    return copy_repo(EXAMPLE, tmp_path / "repo")


def test_new_webhook_component_end_to_end(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster_file = repo / "clusters/local-kube/infrastructure.yaml"
    before = cluster_file.read_bytes()
    code, out, err = cli(
        capsys, "implement", "--repo", str(repo), "--json", "install trust-manager"
    )
    assert code == ExitCode.OK, err
    assert "[infrastructure-implementor] Implementing trust-manager..." in err
    report = json.loads(out)
    assert report["status"] == "applied"
    created = set(report["files"]["created"])
    assert {
        "namespaces/trust-manager/helm-release.yaml",
        "namespaces/trust-manager/helm-repository.yaml",
        "namespaces/trust-manager/kustomization.yaml",
        "namespaces/trust-manager/cilium-network-policies/allow-k8s-api.yaml",
    } <= created
    # The catalog puts trust-manager in cert-manager's namespace, which exists already.
    assert "namespaces/trust-manager/namespace.yaml" not in created
    assert report["files"]["modified"] == ["clusters/local-kube/infrastructure.yaml"]
    assert report["validation"]["passed"] is True
    assert report["recreate"]["required"] is False
    assert report["layers"]["trust-manager"] == 2
    assert all(r["line"] for r in report["review"])
    # Untouched documents stay byte-identical: the change only appends.
    after = cluster_file.read_bytes()
    assert after.startswith(before)
    docs = [d for d in yaml.safe_load_all(after[len(before) :]) if d]
    ks = {d["metadata"]["name"]: d for d in docs}
    assert [d["name"] for d in ks["trust-manager"]["spec"]["dependsOn"]] == [
        "cilium",
        "cert-manager",
    ]
    policy = yaml.safe_load(
        (repo / "namespaces/trust-manager/cilium-network-policies/allow-k8s-api.yaml").read_text()
    )
    entry = builtin_catalog().get("trust-manager")
    assert entry is not None
    ports = {p["port"] for p in policy["spec"]["ingress"][0]["toPorts"][0]["ports"]}
    assert ports == {str(w.container_port) for w in entry.webhooks}
    assert cli(capsys, "validate", "--repo", str(repo))[0] == ExitCode.OK
    # Running the same request again changes nothing.
    code, out, _ = cli(capsys, "implement", "--repo", str(repo), "--json", "install trust-manager")
    assert code == ExitCode.OK and json.loads(out)["status"] == "no-op"
    assert cluster_file.read_bytes() == after


def test_monitoring_is_split_and_chart_servicemonitor_off(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "implement", "--repo", str(repo), "--json", "we need kyverno")
    assert code == ExitCode.OK, err
    created = json.loads(out)["files"]["created"]
    assert "namespaces/kyverno-monitoring/servicemonitor.yaml" in created
    release = yaml.safe_load((repo / "namespaces/kyverno/helm-release.yaml").read_text())
    entry = builtin_catalog().get("kyverno")
    assert entry is not None and entry.metrics is not None
    for dotted in entry.metrics.servicemonitor_values:
        node = release["spec"]["values"]
        for part in dotted.split("."):
            node = node[part]
        assert node is False
    text = (repo / "clusters/local-kube/infrastructure.yaml").read_text()
    tail = [d for d in yaml.safe_load_all(text) if d][-1]
    assert tail["metadata"]["name"] == "kyverno-monitoring"
    assert {d["name"] for d in tail["spec"]["dependsOn"]} >= {"monitoring", "kyverno"}
    assert tail["spec"]["wait"] is False and tail["spec"]["timeout"] == "5m"


def test_dry_run_writes_nothing_and_shows_a_diff(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    code, out, _ = cli(
        capsys, "implement", "--repo", str(repo), "--dry-run", "--json", "we need metallb"
    )
    assert code == ExitCode.OK
    report = json.loads(out)
    assert report["status"] == "dry-run"
    assert "+++ b/namespaces/metallb/helm-release.yaml" in report["diff"]
    now = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert now == snapshot


def test_plain_component(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        capsys, "implement", "--repo", str(repo), "Add new component team-a with Flux Kustomization"
    )
    assert code == ExitCode.OK, err
    assert "Cluster Recreate Required?" in out and "- NO" in out
    ns = yaml.safe_load((repo / "namespaces/team-a/namespace.yaml").read_text())
    assert ns["metadata"]["labels"] == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }


def test_unknown_chart_needs_version_and_works_with_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = "https://charts.example.com/foo"
    code, _, err = cli(capsys, "implement", "--repo", str(repo), "--chart", chart, "install foo")
    assert code == ExitCode.USAGE and "--chart needs --version" in err
    code, out, err = cli(
        capsys,
        "implement",
        "--repo",
        str(repo),
        "--json",
        "--chart",
        chart,
        "--version",
        "1.2.3",
        "install foo",
    )
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert "namespaces/foo/helm-release.yaml" in report["files"]["created"]
    assert any("not in the catalog" in r["note"] for r in report["review"])


def test_request_not_understood_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "implement", "--repo", str(repo), "make it faster")
    assert code == ExitCode.USAGE and out == ""
    assert "request not understood" in err and "try one of" in err


def test_request_file_and_control_characters(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "request.txt"
    request.write_bytes(b"we need\x07 metallb\x00\n" + b" " * 200_000)
    code, out, err = cli(
        capsys, "implement", "--repo", str(repo), "--request-file", str(request), "--json"
    )
    assert code == ExitCode.OK, err
    assert json.loads(out)["request"] == "we need metallb"


def test_version_pin_follows_the_repository(tmp_path: Path) -> None:
    repo = copy_repo(FIXTURES / "clean", tmp_path / "r")
    plan = plan_request("we need metallb", builtin_catalog())
    entry = builtin_catalog().get("metallb")
    assert entry is not None and entry.chart is not None
    exact = entry.chart.version
    outcome = implement(load_repo(repo), plan, dry_run=True)
    assert outcome.status == "dry-run", outcome.new_findings
    release = outcome.changes.files["namespaces/metallb/helm-release.yaml"]
    assert release is not None
    pinned = re.search(r'version: "?([^"\n]+)', release.decode())
    assert pinned is not None
    # The clean fixture pins exact versions, the example repo pins minor ranges.
    assert pinned.group(1) == exact
    example = copy_repo(Path(__file__).parents[1] / "examples/local-kube", tmp_path / "e")
    outcome = implement(load_repo(example), plan, dry_run=True)
    release = outcome.changes.files["namespaces/metallb/helm-release.yaml"]
    assert release is not None and re.search(r'version: "\d+\.\d+\.x"', release.decode())


def test_a_change_that_fails_validation_writes_nothing(tmp_path: Path) -> None:
    crds = shared_path("crds")
    repo = copy_repo(FIXTURES / "clean", tmp_path / "r")
    before = (repo / "clusters/test/infrastructure.yaml").read_bytes()
    plan = Plan(
        request="install broken",
        ops=(
            AddHelmComponent(
                component="broken",
                namespace="broken",
                chart=ChartRef(
                    name="broken", repository="ftp://example.com/charts", version="1.0.0"
                ),
            ),
        ),
    )
    outcome = implement(load_repo(repo), plan, crd_dirs=[crds])
    assert outcome.status == "failed"
    assert {f.rule for f in outcome.new_findings} == {"IW013"}
    assert not (repo / "namespaces/broken").exists()
    assert (repo / "clusters/test/infrastructure.yaml").read_bytes() == before


def test_a_no_op_report_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import EXAMPLE

    root = copy_repo(EXAMPLE, tmp_path / "repo")
    code, out, _err = cli(capsys, "implement", "--repo", str(root), "install prometheus")
    assert code == ExitCode.OK
    assert "## Nothing to do" in out
    assert "- kube-prometheus-stack already runs here as component monitoring" in out
