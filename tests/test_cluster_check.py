"""cluster_check: read-only questions to the cluster, answered in the repository's terms.

Stand-in ``kubectl`` and ``ssh`` programs (first on PATH) record every call; the stand-in
ssh hands its command string to ``sh -c`` the way a remote login shell would, so quoting
mistakes would show up as commands that really run.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE
from infrawright.errors import ExitCode, InfrawrightError, RefusedError, ToolMissingError
from infrawright.integrations import cluster_check
from infrawright.integrations.cluster_check import (
    KUSTOMIZATIONS,
    ClusterReport,
    allowed,
    check_cluster,
    default_runner,
    dependency_graph,
    remote_command,
    render_text,
    run_readonly,
    ssh_argv,
)
from infrawright.model.graph import Graph
from infrawright.model.loader import load_repo
from infrawright.model.repo import RepoModel
from infrawright.validate.engine import analyze

BASE = ["kubectl", "get", KUSTOMIZATIONS, "-A", "-o", "json"]

KUBECTL = """\
import json, os, sys
with open(os.environ["IW_FAKE_LOG"], "a") as fh:
    fh.write(json.dumps({"prog": "kubectl", "argv": sys.argv[1:]}) + "\\n")
with open(os.environ["IW_FAKE_OUTPUT"]) as fh:
    sys.stdout.write(fh.read())
sys.stderr.write(os.environ.get("IW_FAKE_STDERR", ""))
sys.exit(int(os.environ.get("IW_FAKE_RC", "0")))
"""

SSH = """\
import json, os, subprocess, sys
with open(os.environ["IW_FAKE_LOG"], "a") as fh:
    fh.write(json.dumps({"prog": "ssh", "argv": sys.argv[1:]}) + "\\n")
# The remote side: a login shell runs the one command string.
sys.exit(subprocess.run(["sh", "-c", sys.argv[-1]]).returncode)
"""


def item(
    name: str,
    ready: str | None = "True",
    reason: str = "ReconciliationSucceeded",
    message: str = "Applied revision: main@sha1:abc",
    namespace: str = "flux-system",
    depends_on: tuple[str, ...] = (),
) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if ready is not None:
        status["conditions"] = [
            {"type": "Reconciling", "status": "False", "reason": "x", "message": "y"},
            {"type": "Ready", "status": ready, "reason": reason, "message": message},
        ]
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"dependsOn": [{"name": d} for d in depends_on]},
        "status": status,
    }


HEALTH = "health check failed after 5m0s: timeout waiting for: [Deployment/kong/kong-kong]"
INSTALL = "Helm install failed for release monitoring/kube-prometheus-stack: context deadline"


def dep(name: str) -> str:
    return f"dependency 'flux-system/{name}' is not ready"


def canned() -> dict[str, Any]:
    """monitoring fails, and so does kong; what depends on them is blocked; postgres is
    still progressing; cert-manager-config is missing; legacy-redis is not in the repo.
    Listed in neither graph nor alphabetical order: the report must follow the graph."""
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            item("postgres", "Unknown", "Progressing", "Reconciliation in progress"),
            item("kong-monitoring", "False", "DependencyNotReady", dep("kong")),
            item("legacy-redis", depends_on=("cilium",)),
            item("cloudnative-pg-monitoring", "False", "DependencyNotReady", dep("monitoring")),
            item("kong", "False", "HealthCheckFailed", HEALTH),
            item("cilium-monitoring", "False", "DependencyNotReady", dep("monitoring")),
            item("monitoring", "False", "InstallFailed", INSTALL),
            item("cert-manager-monitoring", None),  # no conditions yet
            *(item(n) for n in ("cloudnative-pg", "cert-manager", "cilium", "flux-system")),
        ],
    }


#: In bootstrap order: layer 1, then layer 2, by name within a layer.
EXPECTED = [
    "kong",
    "monitoring",
    "cert-manager-monitoring",
    "cilium-monitoring",
    "cloudnative-pg-monitoring",
    "kong-monitoring",
    "postgres",
]


@pytest.fixture(scope="module")
def repo() -> tuple[RepoModel, Graph]:
    model = load_repo(EXAMPLE)
    return model, analyze(model).graph


class Fakes:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.dir = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.log = tmp_path / "calls.jsonl"
        self.output = tmp_path / "output.json"
        for name, body in (("kubectl", KUBECTL), ("ssh", SSH)):
            path = self.bin / name
            path.write_text(f"#!{sys.executable}\n{body}")
            path.chmod(0o755)
        self.answer(canned())
        monkeypatch.setenv("PATH", f"{self.bin}:/usr/bin:/bin")
        monkeypatch.setenv("IW_FAKE_LOG", str(self.log))
        monkeypatch.setenv("IW_FAKE_OUTPUT", str(self.output))

    def answer(self, data: object) -> None:
        self.output.write_text(json.dumps(data) if not isinstance(data, str) else data)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    return Fakes(tmp_path, monkeypatch)


def test_report_follows_the_graph(fakes: Fakes, repo: tuple[RepoModel, Graph]) -> None:
    model, graph = repo
    report = check_cluster(model, graph)

    assert [n.name for n in report.not_ready] == EXPECTED
    assert [graph.layers[n.name] for n in report.not_ready] == [1, 1, 2, 2, 2, 2, 2]
    by_name = {n.name: n for n in report.not_ready}
    kong = by_name["kong"]
    assert (kong.state, kong.blocked_by, kong.reason, kong.message) == (
        "failing",
        (),
        "HealthCheckFailed",
        HEALTH,
    )
    assert by_name["monitoring"].state == "failing"
    assert by_name["kong-monitoring"].blocked_by == ("kong", "monitoring")
    for name in ("cert-manager-monitoring", "cilium-monitoring", "cloudnative-pg-monitoring"):
        assert (by_name[name].state, by_name[name].blocked_by) == ("blocked", ("monitoring",))
    assert by_name["cert-manager-monitoring"].status == ""
    postgres = by_name["postgres"]
    assert (postgres.state, postgres.status, postgres.reason) == (
        "failing",
        "Unknown",
        "Progressing",
    )
    assert report.missing_from_cluster == ("cert-manager-config",)
    assert report.not_in_repo == ("flux-system/legacy-redis",)
    assert report.ready == (
        "cilium",
        "flux-system",
        "cert-manager",
        "cloudnative-pg",
        "flux-system/legacy-redis",
    )
    assert not report.ok
    assert report.exit_code() is ExitCode.FINDINGS
    assert report.target == "local"

    calls = fakes.calls()
    assert calls == [{"prog": "kubectl", "argv": BASE[1:]}]
    assert all(allowed([c["prog"], *c["argv"]]) for c in calls)

    text = render_text(report)
    listed = [line.split()[2] for line in text.splitlines() if line.startswith("  layer ")]
    assert listed == EXPECTED
    assert "kong-monitoring blocked by kong, monitoring" in " ".join(text.split())
    assert f"failing: HealthCheckFailed: {HEALTH}" in text
    assert "failing: Progressing: Reconciliation in progress" in text
    assert "cert-manager-config (layer 2)" in text
    assert "flux-system/legacy-redis" in text
    assert "Start with: kong, monitoring, postgres" in text

    data = report.to_json()
    assert json.loads(json.dumps(data)) == data
    assert [n["name"] for n in data["not_ready"]] == EXPECTED
    assert data["not_ready"][5]["blocked_by"] == ["kong", "monitoring"]
    assert data["not_ready"][5]["state"] == "blocked"
    assert data["missing_from_cluster"] == ["cert-manager-config"]
    assert data["ok"] is False


def test_all_ready(fakes: Fakes, repo: tuple[RepoModel, Graph]) -> None:
    model, graph = repo
    fakes.answer({"items": [item(label) for label in model.by_label]})
    report = check_cluster(model, graph)
    assert report.ok and report.exit_code() is ExitCode.OK
    assert report.not_ready == () and report.missing_from_cluster == ()
    assert "every Kustomization of the repository is in the cluster and Ready" in render_text(
        report
    )


def test_blocked_by_a_dependency_missing_from_the_cluster(repo: tuple[RepoModel, Graph]) -> None:
    model, graph = repo
    seen: list[list[str]] = []
    items = [i for i in canned()["items"] if i["metadata"]["name"] != "cloudnative-pg"]
    items = [i for i in items if i["metadata"]["name"] != "postgres"]
    items.append(item("postgres", "False", "DependencyNotReady", "dependency not found"))

    def runner(argv: list[str]) -> tuple[int, str, str]:
        seen.append(argv)
        return 0, json.dumps({"items": items}), ""

    report = check_cluster(model, graph, runner=runner, kubeconfig=Path("/k/config"))
    assert seen == [[*BASE, "--kubeconfig", "/k/config"]]
    postgres = next(n for n in report.not_ready if n.name == "postgres")
    assert postgres.blocked_by == ("cloudnative-pg",)
    assert report.missing_from_cluster == ("cloudnative-pg", "cert-manager-config")
    assert "blocked by cloudnative-pg (missing)" in render_text(report)


def test_dependency_graph_has_the_analysis_layers(repo: tuple[RepoModel, Graph]) -> None:
    model, graph = repo
    assert dependency_graph(model).layers == graph.layers


def test_ssh_sends_one_quoted_command(
    fakes: Fakes, repo: tuple[RepoModel, Graph], tmp_path: Path
) -> None:
    model, graph = repo
    pwned = [tmp_path / f"pwned{i}" for i in range(3)]
    kubeconfig = Path(
        f"{tmp_path}/kube config; touch {pwned[0]} $(touch {pwned[1]}) `touch {pwned[2]}`'\""
    )
    report = check_cluster(model, graph, ssh="admin@10.0.0.5", kubeconfig=kubeconfig)
    intended = [*BASE, "--kubeconfig", str(kubeconfig)]

    ssh_call, kubectl_call = fakes.calls()
    assert ssh_call["prog"] == "ssh"
    argv = ssh_call["argv"]
    dashdash = argv.index("--")
    assert argv[dashdash + 1 :] == ["admin@10.0.0.5", remote_command(intended)]
    remote = argv[-1]
    assert shlex.split(remote) == intended
    assert remote == " ".join(shlex.quote(a) for a in intended)
    # the remote shell ran exactly one kubectl with the argument intact, and nothing else
    assert kubectl_call == {"prog": "kubectl", "argv": intended[1:]}
    assert not any(p.exists() for p in pwned)
    assert report.target == "ssh admin@10.0.0.5"
    assert [n.name for n in report.not_ready] == EXPECTED
    assert allowed(["kubectl", *kubectl_call["argv"]])


def test_local_argument_is_never_shell_parsed(fakes: Fakes, tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    argv = ["kubectl", "get", f"pods; touch {sentinel}"]
    code, _out, _err = run_readonly(argv)
    assert code == 0
    assert fakes.calls() == [{"prog": "kubectl", "argv": argv[1:]}]
    assert not sentinel.exists()


def test_quoting_of_a_destructive_argument() -> None:
    argv = ["kubectl", "get", "x; rm -rf /", "-o", "json"]
    line = ssh_argv("root@host", argv)
    assert line[:-2] == ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "--"]
    assert shlex.split(line[-1]) == argv
    assert "'x; rm -rf /'" in line[-1]


@pytest.mark.parametrize(
    "target", ["-oProxyCommand=touch x", "host; touch x", "a b", "", "user@-host", "$(id)"]
)
def test_bad_ssh_target_is_refused(target: str) -> None:
    with pytest.raises(InfrawrightError, match="--ssh"):
        ssh_argv(target, ["kubectl", "get", "pods"])


@pytest.mark.parametrize(
    "argv",
    [
        ["kubectl", "delete", "kustomization", "x"],
        ["kubectl", "apply", "-f", "x.yaml"],
        ["kubectl", "get", "secrets"],
        ["kubectl", "get", "secret/foo"],
        ["kubectl", "get", "Secret.v1"],
        ["kubectl", "get", "secrets.v1."],
        ["kubectl", "get", "pods,secrets", "-A"],
        ["kubectl", "get", "SECRET", "-n", "flux-system"],
        ["kubectl", "describe", "secret", "sops-age"],
        ["kubectl", "events", "--for=secret/sops-age"],
        ["kubectl", "get", "events", "--for", "Secret/x"],
        ["kubectl", "get", "--raw", "/api/v1/namespaces/flux-system/secrets"],
        ["kubectl", "get", "--raw=/api/v1/namespaces/flux-system/pods"],
        ["kubectl", "get", "-f", "manifest.yaml"],
        ["kubectl", "get", "--filename=manifest.yaml"],
        ["kubectl", "get", "-k", "."],
        ["kubectl", "get", "pods", "-Aw"],
        ["kubectl", "get", "pods", "--watch"],
        ["kubectl", "exec", "-it", "pod", "--", "sh"],
        ["kubectl", "logs", "pod"],
        ["kubectl", "-n", "x", "delete", "pod", "y"],
        ["kubectl"],
        ["flux", "reconcile", "kustomization", "x"],
        ["flux", "suspend", "kustomization", "x"],
        ["flux", "get", "secrets"],
        ["sh", "-c", "kubectl get pods"],
        ["bash", "-c", "kubectl get pods"],
        ["/usr/bin/kubectl", "delete", "pod", "x"],
        ["ssh", "host", "kubectl get pods"],
        [],
        ["kubectl get pods; rm -rf /"],
        ["kubectl", "get", "pods\x00"],
    ],
)
def test_allowed_refuses(argv: list[str]) -> None:
    assert not allowed(argv)
    calls: list[list[str]] = []

    def runner(a: list[str]) -> tuple[int, str, str]:
        calls.append(a)
        return 0, "", ""

    with pytest.raises(RefusedError) as info:
        run_readonly(argv, runner=runner)
    assert calls == []  # nothing ran
    assert info.value.exit_code is ExitCode.FINDINGS


@pytest.mark.parametrize(
    "argv",
    [
        BASE,
        [*BASE, "--kubeconfig", "/etc/secrets/kubeconfig"],
        [*BASE, "--kubeconfig=/home/me/secret/config"],
        ["kubectl", "get", "events", "-A", "-o", "json"],
        ["kubectl", "events", "-n", "flux-system", "--for", "kustomization/kong"],
        ["kubectl", "describe", "kustomization", "kong", "-n", "flux-system"],
        ["kubectl", "get", "helmreleases.helm.toolkit.fluxcd.io", "-A", "-ojson"],
        ["kubectl", "get", "externalsecrets.external-secrets.io", "-A"],
        ["flux", "get", "kustomizations", "-A"],
        ["flux", "get", "sources", "git"],
        ["kubectl", "get", "pods; rm -rf /"],  # one argument: a strange name, no shell
    ],
)
def test_allowed_accepts_reading(argv: list[str]) -> None:
    assert allowed(argv)


def test_check_cluster_asks_the_gate(
    repo: tuple[RepoModel, Graph], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, graph = repo
    asked: list[list[str]] = []

    def gate(argv: list[str]) -> bool:
        asked.append(list(argv))
        return False

    calls: list[list[str]] = []

    def runner(a: list[str]) -> tuple[int, str, str]:
        calls.append(a)
        return 0, '{"items": []}', ""

    monkeypatch.setattr(cluster_check, "allowed", gate)
    with pytest.raises(RefusedError):
        check_cluster(model, graph, runner=runner)
    assert asked == [BASE]
    assert calls == []


def test_kubectl_failure_is_an_error(
    fakes: Fakes, repo: tuple[RepoModel, Graph], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, graph = repo
    monkeypatch.setenv("IW_FAKE_RC", "1")
    monkeypatch.setenv(
        "IW_FAKE_STDERR",
        "E1127 memcache.go:265 noise\nThe connection to the server localhost:8080 was refused\n",
    )
    fakes.answer("")
    with pytest.raises(InfrawrightError, match="was refused") as info:
        check_cluster(model, graph)
    assert "noise" not in info.value.message  # kubectl's last line is its summary
    assert info.value.exit_code is ExitCode.USAGE


@pytest.mark.parametrize("output", ["not json", "[]", '{"kind": "List"}'])
def test_unexpected_output_is_an_error(repo: tuple[RepoModel, Graph], output: str) -> None:
    model, graph = repo
    with pytest.raises(InfrawrightError, match="kubectl"):
        check_cluster(model, graph, runner=lambda a: (0, output, ""))


def test_default_runner_uses_no_shell_and_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen["argv"] = argv
        seen.update(kwargs)
        return subprocess.CompletedProcess(argv, 0, "out", "err")

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert default_runner(["kubectl", "get", "pods"]) == (0, "out", "err")
    assert seen["argv"] == ["kubectl", "get", "pods"]
    assert seen["shell"] is False
    assert 0 < seen["timeout"] <= 300
    assert seen["stdin"] == subprocess.DEVNULL


def test_missing_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError, match="kubectl: not found"):
        run_readonly(BASE)


def test_report_is_a_dataclass_with_json() -> None:
    report = ClusterReport("local", (), (), (), (), ())
    assert report.ok
    assert report.to_json()["ok"] is True
