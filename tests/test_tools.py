"""The shared tool set: guarded writes, staged validation, finish/discard, no raising."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLE, FLUX_KS, KUSTOMIZATION, SHARED, copy_repo
from infrawright.agents.tools import TOOL_NAMES, Tools
from infrawright.cli.app import run

CRDS = [SHARED / "crds"] if (SHARED / "crds").is_dir() else []

NAMESPACE = """apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
"""


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and ".infrawright" not in p.parts
    }


@pytest.fixture
def tools(tmp_path: Path) -> Tools:
    return Tools(copy_repo(EXAMPLE, tmp_path / "repo"), crd_dirs=CRDS)


def test_every_tool_has_a_schema(tools: Tools) -> None:
    schemas = {s["name"]: s for s in tools.schemas()}
    assert tuple(schemas) == TOOL_NAMES
    assert schemas["write_file"]["parameters"]["required"] == ["path", "content"]
    assert schemas["implement"]["parameters"]["properties"]["dry_run"] == {"type": "boolean"}
    assert all(s["description"] for s in schemas.values())


def test_staged_component_is_written_only_by_finish(tools: Tools) -> None:
    root = tools.root
    before = tree(root)
    cluster = "clusters/local-kube/infrastructure.yaml"
    for path, content in (
        ("namespaces/team-a/namespace.yaml", NAMESPACE),
        ("namespaces/team-a/kustomization.yaml", KUSTOMIZATION),
        (cluster, (root / cluster).read_text() + FLUX_KS),
    ):
        ok, result = tools.call("write_file", {"path": path, "content": content})
        assert ok, result
    assert tree(root) == before  # staged, not written
    ok, checked = tools.call("validate", {})
    assert ok and checked["passed"] and checked["new_findings"] == []
    ok, read = tools.call("read_file", {"path": "namespaces/team-a/namespace.yaml"})
    assert ok and read == NAMESPACE
    ok, report = tools.call("finish", {"summary": "add team-a"})
    assert ok and report["status"] == "applied", report
    assert (root / "namespaces/team-a/namespace.yaml").read_text() == NAMESPACE
    assert report["session"]


def test_finish_refuses_a_change_that_adds_a_finding(tools: Tools) -> None:
    before = tree(tools.root)
    bad = NAMESPACE.replace("  labels:\n", "  labelz:\n")  # no PSS labels: IW007
    assert tools.call("write_file", {"path": "namespaces/team-a/namespace.yaml", "content": bad})[0]
    assert tools.call(
        "write_file", {"path": "namespaces/team-a/kustomization.yaml", "content": KUSTOMIZATION}
    )[0]
    cluster = "clusters/local-kube/infrastructure.yaml"
    text = (tools.root / cluster).read_text() + FLUX_KS
    assert tools.call("write_file", {"path": cluster, "content": text})[0]
    ok, report = tools.call("finish", {"summary": "broken"})
    assert ok and report["status"] == "failed"
    found = report["validation"]["findings"]
    # No PSS labels (IW007), and `labelz` is no field of a Namespace's metadata (IW013,
    # from Kubernetes' own schema: the API server would reject it too).
    assert [f["rule"] for f in found] == ["IW007", "IW013"]
    assert "'labelz' was unexpected" in found[1]["message"]
    assert tree(tools.root) == before
    assert tools.pending.files  # kept, so the model can fix it
    ok, dropped = tools.call("discard", {})
    assert ok and dropped["discarded"] and not tools.pending.files


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("../outside.yaml", "outside the repository"),
        ("/etc/passwd", "relative to the repository root"),
        ("clusters/local-kube/flux-system/gotk-sync.yaml", "not writable"),
        ("namespaces/team-a/script.sh", "only YAML"),
        ("namespaces/Bad_Name/x.yaml", "DNS-1123"),
        (".infrawright/change/sessions/x.yaml", "not writable"),
        ("README.md", "only YAML"),
    ],
)
def test_writes_outside_the_allowed_paths_are_refused(tools: Tools, path: str, words: str) -> None:
    ok, message = tools.call("write_file", {"path": path, "content": "a: 1\n"})
    assert not ok and words in message
    assert not tools.pending.files


def test_symlink_out_of_the_repo_is_refused(tools: Tools, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tools.root / "namespaces/escape").symlink_to(outside)
    ok, message = tools.call(
        "write_file", {"path": "namespaces/escape/x.yaml", "content": "a: 1\n"}
    )
    assert not ok and "outside the repository" in message
    assert list(outside.iterdir()) == []


def test_banned_fields_are_refused(tools: Tools) -> None:
    release = (EXAMPLE / "namespaces/kong/helm-release.yaml").read_text()
    forced = release.replace("  upgrade:\n", "  upgrade:\n    force: true\n", 1)
    ok, message = tools.call(
        "write_file", {"path": "namespaces/kong/helm-release.yaml", "content": forced}
    )
    assert not ok and "force: true" in message and "IW006" in message


def test_bad_yaml_and_unknown_tools_are_messages_not_exceptions(tools: Tools) -> None:
    ok, message = tools.call("write_file", {"path": "namespaces/a/x.yaml", "content": "a: [1"})
    assert not ok and "namespaces/a/x.yaml" in message
    assert tools.call("rm_rf", {})[0] is False
    assert tools.call("write_file", {"path": "namespaces/a/x.yaml"})[0] is False
    ok, message = tools.call("plan", {"request": "make it faster"})
    assert not ok and "not understood" in message
    ok, message = tools.call("explain_rule", {"rule_id": "IW999"})
    assert not ok and "unknown rule" in message


def test_plan_then_apply_plan(tools: Tools) -> None:
    ok, plan = tools.call("plan", {"request": "we need metallb"})
    assert ok and plan["ops"][0]["op"] == "add-helm-component"
    ok, report = tools.call("apply_plan", {"plan": plan, "dry_run": True})
    assert ok and report["status"] == "dry-run" and report["diff"]
    ok, report = tools.call(
        "apply_plan", {"plan": {"version": 1, "request": "x", "ops": [{"op": "nope"}]}}
    )
    assert not ok


def test_inspect_repo_and_graph(tools: Tools) -> None:
    ok, info = tools.call("inspect_repo", {})
    assert ok
    assert info["kustomizations"]["cert-manager-config"]["depends_on"] == ["cilium", "cert-manager"]
    assert info["components"]["cert-manager"]["catalog"] == "cert-manager"
    ok, graph = tools.call("graph", {})
    assert ok and graph["layers"]["cilium"] == 0


def test_plan_schema_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan-schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "AddHelmComponent" in json.dumps(schema)


def test_arguments_of_the_wrong_type_are_refused(tools: Tools) -> None:
    ok, message = tools.call("implement", {"request": "we need metallb", "dry_run": "false"})
    assert not ok and "dry_run must be bool" in message


def test_edits_on_disk_are_seen_by_the_next_call(tools: Tools) -> None:
    ok, info = tools.call("inspect_repo", {})
    assert ok and "team-z" not in info["components"]
    (tools.root / "namespaces/team-z").mkdir()
    (tools.root / "namespaces/team-z/kustomization.yaml").write_text(KUSTOMIZATION)
    ok, info = tools.call("inspect_repo", {})
    assert ok and "team-z" in info["components"]


def test_an_applied_implement_drops_stale_staged_writes(tools: Tools) -> None:
    assert tools.call(
        "write_file", {"path": "namespaces/team-a/namespace.yaml", "content": NAMESPACE}
    )[0]
    ok, report = tools.call("implement", {"request": "we need metallb"})
    assert ok and report["status"] == "applied"
    assert report["discarded_pending"] == ["namespaces/team-a/namespace.yaml"]
    assert not tools.pending.files


def test_hidden_files_are_not_readable(tools: Tools) -> None:
    (tools.root / ".env").write_text("TOKEN=secret\n")
    for path in (".env", ".git/config", ".infrawright/lock"):
        ok, message = tools.call("read_file", {"path": path})
        assert not ok and "hidden" in message


def test_cluster_file_rewrite_may_not_drop_kustomizations(tools: Tools) -> None:
    cluster = "clusters/local-kube/infrastructure.yaml"
    text = (tools.root / cluster).read_text()
    first = text.split("\n---\n")[0]  # keeps only the first Kustomization
    ok, message = tools.call("write_file", {"path": cluster, "content": first + "\n"})
    assert not ok and "drops Flux Kustomization" in message and "remove <component>" in message


def test_finish_reports_review_comments(tools: Tools) -> None:
    noted = NAMESPACE.replace("  labels:\n", "  # REVIEW: team-a owns this namespace\n  labels:\n")
    for path, content in (
        ("namespaces/team-a/namespace.yaml", noted),
        ("namespaces/team-a/kustomization.yaml", KUSTOMIZATION),
        (
            "clusters/local-kube/infrastructure.yaml",
            (tools.root / "clusters/local-kube/infrastructure.yaml").read_text() + FLUX_KS,
        ),
    ):
        assert tools.call("write_file", {"path": path, "content": content})[0]
    ok, report = tools.call("finish", {"summary": "team-a"})
    assert ok and report["status"] == "applied", report
    assert report["review"] == [
        {
            "file": "namespaces/team-a/namespace.yaml",
            "line": 5,
            "note": "team-a owns this namespace",
        }
    ]
