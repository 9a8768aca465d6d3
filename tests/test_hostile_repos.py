"""Repositories infrawright dislikes: each gives the right answer or a finding/error that
names the file (and line), in bounded time, never a traceback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.cli.app import run
from infrawright.errors import ExitCode


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(EXAMPLE, tmp_path / "repo")


def validate(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code = run(["validate", "--repo", str(repo), "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, (json.loads(out) if out.strip() else {}), err


def test_twenty_thousand_documents(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = repo / "namespaces/kong/many.yaml"
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: kong\n"
    big.write_text("---\n".join(doc.format(i=i) for i in range(20_000)))
    started = time.monotonic()
    code, report, _err = validate(repo, capsys)
    assert time.monotonic() - started < 60
    assert code == ExitCode.OK  # an orphan file is a warning
    [orphan] = [f for f in report["findings"] if f["file"] == "namespaces/kong/many.yaml"]
    assert (orphan["rule"], orphan["severity"]) == ("IW010", "warning")


def test_duplicate_keys_are_a_finding_naming_the_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = repo / "namespaces/kong/namespace.yaml"
    ns.write_text(ns.read_text().replace("kind: Namespace\n", "kind: Namespace\nkind: Namespace\n"))
    code, report, _err = validate(repo, capsys)
    assert code == ExitCode.FINDINGS
    assert any(f["rule"] == "IW000" and "kong" in f["file"] for f in report["findings"])


def test_tabs_are_a_finding_with_file_and_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = repo / "namespaces/kong/namespace.yaml"
    ns.write_text(ns.read_text().replace("  name: kong", "\tname: kong"))
    code, report, _err = validate(repo, capsys)
    assert code == ExitCode.FINDINGS
    [bad] = [f for f in report["findings"] if f["file"] == "namespaces/kong/namespace.yaml"]
    assert bad["rule"] == "IW000" and bad["line"]


def test_bom_and_crlf_files_are_read(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ns = repo / "namespaces/kong/namespace.yaml"
    ns.write_bytes(b"\xef\xbb\xbf" + ns.read_bytes().replace(b"\n", b"\r\n"))
    code, report, _err = validate(repo, capsys)
    assert code == ExitCode.OK, report


def test_implement_keeps_crlf_line_ends_of_the_cluster_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = repo / "clusters/local-kube/infrastructure.yaml"
    cluster.write_bytes(cluster.read_bytes().replace(b"\n", b"\r\n"))
    before = cluster.read_bytes()
    code = run(["implement", "--repo", str(repo), "we need metallb"])
    _out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    after = cluster.read_bytes()
    assert after.startswith(before)
    assert b"\n" not in after.replace(b"\r\n", b"")  # no bare LF anywhere
