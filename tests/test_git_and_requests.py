"""--commit/--branch, uncommitted edits kept, recover, and hostile requests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.change.apply import JOURNAL
from infrawright.cli.app import run
from infrawright.errors import ExitCode


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = copy_repo(EXAMPLE, tmp_path / "repo")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@example.com")
    return root


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_commit_makes_one_commit_with_the_change(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys, "implement", "--repo", str(repo), "--json", "--commit", "we need metallb"
    )
    assert code == ExitCode.OK, err
    report = json.loads(out)
    log = git(repo, "log", "--format=%s%n%b", "-1")
    assert log.startswith("we need metallb")
    assert "REVIEW notes:" in log and "namespaces/metallb/helm-release.yaml" in log
    assert git(repo, "status", "--porcelain") == ""
    assert len(git(repo, "log", "--oneline").splitlines()) == 2
    assert any(n.startswith("committed as ") for n in report["notes"])


def test_without_commit_nothing_is_committed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "implement", "--repo", str(repo), "we need metallb")[0] == 0
    assert len(git(repo, "log", "--oneline").splitlines()) == 1
    assert "namespaces/metallb/" in git(repo, "status", "--porcelain")


def test_branch_holds_the_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = cli(
        capsys, "implement", "--repo", str(repo), "--branch", "add-metallb", "we need metallb"
    )
    assert code == ExitCode.OK, err
    assert git(repo, "branch", "--show-current").strip() == "add-metallb"
    assert git(repo, "log", "--format=%s", "-1").strip() == "we need metallb"


def test_uncommitted_edits_in_touched_files_are_kept_and_named(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = repo / "clusters/local-kube/infrastructure.yaml"
    cluster.write_text(cluster.read_text() + "# my note, not committed\n")
    code, out, err = cli(capsys, "implement", "--repo", str(repo), "--json", "we need metallb")
    assert code == ExitCode.OK, err
    assert "# my note, not committed\n" in cluster.read_text()
    notes = json.loads(out)["notes"]
    assert any("uncommitted edits" in n and "infrastructure.yaml" in n for n in notes)


def test_recover_command_and_read_only_warning(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = repo / JOURNAL
    journal.mkdir(parents=True)
    (journal / "manifest.json").write_text(json.dumps({"namespaces/new/x.yaml": False}))
    (repo / "namespaces/new").mkdir()
    (repo / "namespaces/new/x.yaml").write_text("half: written\n")
    code, _out, err = cli(capsys, "validate", "--repo", str(repo))
    assert "interrupted infrawright write is pending" in err
    code, out, _err = cli(capsys, "recover", "--repo", str(repo))
    assert code == ExitCode.OK and "namespaces/new/x.yaml" in out
    assert not (repo / "namespaces/new").exists() and not journal.exists()
    code, out, _err = cli(capsys, "recover", "--repo", str(repo))
    assert "nothing to recover" in out


@pytest.mark.parametrize(
    "request_text",
    [
        "Add new component ../../etc with Flux Kustomization",
        "Add new component /etc/passwd with Flux Kustomization",
        "install cert-manager; rm -rf / && echo $(whoami) `id`",
        "add component \x00\x1b[31mred\x07 now",
        "Add CiliumNetworkPolicy for ../escape namespace",
    ],
)
def test_hostile_requests_write_nothing_outside(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], request_text: str
) -> None:
    outside = sorted(p.name for p in tmp_path.iterdir())
    code = run(["implement", "--repo", str(repo), request_text])
    _out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code in (ExitCode.OK, ExitCode.FINDINGS, ExitCode.USAGE)
    assert sorted(p.name for p in tmp_path.iterdir()) == outside
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    for line in status.splitlines():
        path = line[3:]
        assert not path.startswith(".."), path
        assert path.startswith(("namespaces/", "clusters/local-kube/")), path


def test_a_megabyte_request_from_a_file_is_bounded(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "request.txt"
    big.write_bytes(b"please " * 150_000 + b"\xff\xfe install metallb")  # ~1 MB, not UTF-8
    code = run(["implement", "--repo", str(repo), "--dry-run", "--request-file", str(big)])
    _out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code in (ExitCode.OK, ExitCode.USAGE)
    assert git(repo, "status", "--porcelain") == ""
