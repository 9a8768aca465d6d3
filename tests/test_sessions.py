"""Sessions: continue with a decision (replacing the previous result), undo, the lock,
and how decisions change a plan."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.catalog import builtin_catalog
from infrawright.change.sessions import STATE_DIR, SessionStore
from infrawright.cli.app import run
from infrawright.errors import ExitCode
from infrawright.plan.decisions import apply_decisions
from infrawright.plan.rules import plan_request


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and STATE_DIR not in p.parts
    }


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(EXAMPLE, tmp_path / "repo")


def test_applied_change_is_a_session_ignored_by_git(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "implement", "--repo", str(repo), "--json", "we need metallb")
    assert code == ExitCode.OK, err
    report = json.loads(out)
    [session] = SessionStore(repo).all()
    assert report["session"] == session.id
    assert session.status == "applied"
    assert set(session.files) == set(report["files"]["created"] + report["files"]["modified"])
    assert (repo / STATE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    code, out, _ = cli(capsys, "sessions", "--repo", str(repo))
    assert session.id in out and "we need metallb" in out


def test_dry_run_records_no_session(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        capsys, "implement", "--repo", str(repo), "--dry-run", "--json", "we need metallb"
    )
    assert code == ExitCode.OK
    assert json.loads(out)["session"] == ""
    assert SessionStore(repo).all() == []


def test_continue_replaces_the_previous_result(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = tree(repo)
    code, _out, err = cli(
        capsys, "implement", "--repo", str(repo), "Create HelmRelease for Redis caching"
    )
    assert code == ExitCode.OK, err
    assert (repo / "namespaces/redis").is_dir()
    code, out, err = cli(
        capsys,
        "continue",
        "--repo",
        str(repo),
        "--json",
        "--decision",
        "use valkey instead of redis",
    )
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert report["status"] == "applied"
    assert not (repo / "namespaces/redis").exists()  # replaced, not added beside
    assert (repo / "namespaces/valkey/helm-release.yaml").is_file()
    cluster = (repo / "clusters/local-kube/infrastructure.yaml").read_text()
    assert "name: redis\n" not in cluster and "name: valkey\n" in cluster
    first, second = SessionStore(repo).all()
    assert (first.status, second.status) == ("superseded", "applied")
    assert second.parent == first.id and second.decisions == ["use valkey instead of redis"]
    # Undo of the continued session gives back the tree from before both runs.
    code, out, err = cli(capsys, "undo", "--repo", str(repo))
    assert code == ExitCode.OK, err
    assert tree(repo) == original


def test_decisions_not_understood_are_reported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "implement", "--repo", str(repo), "install external-dns")[0] == 0
    code, out, err = cli(
        capsys,
        "continue",
        "--repo",
        str(repo),
        "--json",
        "--decision",
        "use namespace dns, and make it purple",
    )
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert (
        "decision recorded, not understood by the rule planner: make it purple" in report["notes"]
    )
    text = (repo / "namespaces/external-dns/helm-release.yaml").read_text()
    assert "namespace: dns" in text


def test_undo_refuses_when_files_changed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "implement", "--repo", str(repo), "we need metallb")[0] == 0
    release = repo / "namespaces/metallb/helm-release.yaml"
    release.write_text(release.read_text() + "# edited by hand\n")
    before = tree(repo)
    code, _out, err = cli(capsys, "undo", "--repo", str(repo))
    assert code == ExitCode.FINDINGS
    assert "namespaces/metallb/helm-release.yaml" in err
    assert tree(repo) == before
    assert SessionStore(repo).all()[0].status == "applied"


def test_lock_held_by_a_live_process_is_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_LOCK_WAIT", "0.3")
    (repo / STATE_DIR).mkdir()
    (repo / STATE_DIR / "lock").write_text(str(os.getppid()))
    before = tree(repo)
    code, _out, err = cli(capsys, "implement", "--repo", str(repo), "we need metallb")
    assert code == ExitCode.USAGE
    assert "another infrawright run" in err
    assert tree(repo) == before


def test_stale_lock_is_taken_over(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / STATE_DIR).mkdir()
    (repo / STATE_DIR / "lock").write_text("999999999")
    code, _out, err = cli(capsys, "implement", "--repo", str(repo), "we need metallb")
    assert code == ExitCode.OK, err
    assert not (repo / STATE_DIR / "lock").exists()


def test_nothing_to_undo_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = cli(capsys, "undo", "--repo", str(repo))
    assert code == ExitCode.USAGE
    assert "no applied session" in err


@pytest.mark.parametrize(
    ("decision", "field", "value"),
    [
        ("use baseline PSS", "pss_level", "baseline"),
        ("privileged please", "pss_level", "privileged"),
        ("put it in the caching namespace", "namespace", "caching"),
        ("namespace called kv", "namespace", "kv"),
        ("skip monitoring", "monitoring", False),
        ("pin version 0.9.1", "version", "0.9.1"),
        ("use valkey instead", "component", "valkey"),
    ],
)
def test_decisions_change_the_plan(decision: str, field: str, value: object) -> None:
    catalog = builtin_catalog()
    plan = plan_request("Create HelmRelease for Redis caching", catalog)
    assert [o.op for o in plan.ops] == ["add-helm-component", "add-instance"]
    applied = apply_decisions(plan, [decision], catalog)
    ops = applied.plan.ops
    if field == "component":  # another product: its install, and no Redis instance
        [op] = ops
    elif field == "namespace":  # "put it in X": the Redis, not its operator
        op = ops[1]
        assert ops[0].namespace == plan.ops[0].namespace  # type: ignore[union-attr]
    else:
        op = ops[0]
    got = op.chart.version if field == "version" else getattr(op, field)  # type: ignore[union-attr]
    assert got == value
    assert applied.understood and not applied.recorded
    assert f"decision: {decision}" in op.review


def test_second_run_waits_for_the_first(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The lock holder finishes within the wait: the second run goes ahead."""
    import subprocess
    import threading

    holder = subprocess.Popen(["sleep", "0.7"])
    threading.Thread(target=holder.wait, daemon=True).start()  # reaps it when it ends
    try:
        (repo / STATE_DIR).mkdir()
        (repo / STATE_DIR / "lock").write_text(str(holder.pid))
        code, _out, err = cli(capsys, "implement", "--repo", str(repo), "we need metallb")
    finally:
        holder.wait()
    assert code == ExitCode.OK, err
