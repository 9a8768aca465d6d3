"""File names are learnt as patterns over components, never copied from another
component's file: where monitors are ``servicemonitor-<component>.yaml``, a new one is
named after its own component."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.cli.app import run
from infrawright.errors import ExitCode
from infrawright.model.conventions import infer
from infrawright.model.loader import load_repo

RENAMED = ("cert-manager", "cilium", "kong")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example, with each ServiceMonitor file named after its component."""
    root = copy_repo(EXAMPLE, tmp_path / "repo")
    for c in RENAMED:
        folder = root / "namespaces" / f"{c}-monitoring"
        (folder / "servicemonitor.yaml").rename(folder / f"servicemonitor-{c}.yaml")
        kfile = folder / "kustomization.yaml"
        kfile.write_text(
            kfile.read_text().replace("- servicemonitor.yaml", f"- servicemonitor-{c}.yaml")
        )
    return root


def test_the_convention_is_a_pattern(repo: Path) -> None:
    conv = infer(load_repo(repo)).file_names["ServiceMonitor"]
    assert conv.value == "servicemonitor-{name}.yaml"
    assert conv.agree == conv.total >= len(RENAMED)


def test_a_new_monitor_is_named_after_its_own_component(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["implement", "--repo", str(repo), "--json", "--dry-run", "install external-dns"])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    created = json.loads(out)["files"]["created"]
    assert "namespaces/external-dns-monitoring/servicemonitor-external-dns.yaml" in created
    assert not any("servicemonitor-cilium" in f or "servicemonitor-kong" in f for f in created)


def test_literal_names_stay_literal() -> None:
    conv = infer(load_repo(EXAMPLE)).file_names["ServiceMonitor"]
    assert conv.value == "servicemonitor.yaml"
