"""Builds started ahead: an edited folder is built while the model is made, the build
step takes that build instead of running kustomize again, and the findings are those of
a run without any cache."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.build import ahead
from infrawright.build.kustomize import Kustomize, build_plain
from infrawright.model.loader import load_repo
from infrawright.repo import snapshot
from infrawright.validate.engine import validate

COMPONENT = "namespaces/kong"


@pytest.fixture
def counted(tmp_path: Path, kustomize: Kustomize) -> tuple[Kustomize, Path]:
    """The real kustomize behind a script that logs the folder of every build."""
    log = tmp_path / "builds.log"
    script = tmp_path / "kustomize-logged"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$(cat "$1/kustomization.yaml" | tr -d "\\n ")" >> "{log}"\n'
        f'exec {" ".join(kustomize.argv)} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return Kustomize((str(script),), "test", kustomize.version), log


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(snapshot, "SETTLED_NS", 0)  # files just written are trusted at once
    return copy_repo(EXAMPLE, tmp_path / "repo")


def _edit(repo: Path) -> None:
    release = repo / COMPONENT / "helm-release.yaml"
    release.write_text(release.read_text().replace("  values:\n", "  values:\n    x: 1\n", 1))


def _run(repo: Path, tool: Kustomize) -> tuple[list[str], list[tuple[str, str]]]:
    started: list[str] = []

    def on_read(changed: list[str]) -> None:
        started.extend(ahead.start(repo, changed, tool, build_plain))

    try:
        model = load_repo(repo, on_read=on_read)
        result = validate(model, tool=tool)
    finally:
        ahead.settle()
    return started, sorted((f.rule, f.message) for f in result.findings)


def test_an_edited_folder_is_built_once_ahead_and_taken(
    repo: Path, counted: tuple[Kustomize, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tool, log = counted
    assert _run(repo, tool)[0] == []  # nothing known yet: nothing started ahead
    assert COMPONENT in ahead.plain_folders(repo, tool)
    _edit(repo)
    log.unlink()
    started, findings = _run(repo, tool)
    assert started == [COMPONENT]
    builds = log.read_text().splitlines()
    assert len(builds) == 1, builds  # the build step took the one started ahead
    assert COMPONENT.split("/")[-1] in builds[0]
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    assert _run(repo, tool)[1] == findings


def test_a_build_nobody_takes_is_dropped_and_leaves_nothing(
    repo: Path, counted: tuple[Kustomize, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool, _log = counted
    _run(repo, tool)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read again
    _edit(repo)
    assert ahead.start(repo, [f"{COMPONENT}/helm-release.yaml"], tool, build_plain)
    ahead.settle()
    assert ahead.take(tool, repo / COMPONENT) is None
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_folder_no_longer_built_as_it_stands_is_not_taken(
    repo: Path, counted: tuple[Kustomize, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cluster file now gives kong a target namespace: the build ahead (the folder as
    it stands) is not what Flux builds, so the build step runs its own."""
    tool, log = counted
    _run(repo, tool)
    cluster = repo / "clusters/local-kube/infrastructure.yaml"
    text = cluster.read_text()
    at = text.index("  path: ./namespaces/kong\n")
    cluster.write_text(text[:at] + "  targetNamespace: kong\n" + text[at:])
    _edit(repo)
    log.unlink()
    started, findings = _run(repo, tool)
    assert COMPONENT in started
    kong = [line for line in log.read_text().splitlines() if "namespaces/kong" in line]
    assert len(kong) == 2, kong  # the one ahead (dropped) and the build step's own
    assert sum('"namespace":"kong"' in line for line in kong) == 1
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    assert _run(repo, tool)[1] == findings
