"""implement writes where the repository keeps its components (issue 15): the layout
learnt from the repository decides the folder, the file of the Flux Kustomization and
its path, unless a config file says otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import copy_repo, shared_path
from infrawright.cli.app import run
from infrawright.errors import ExitCode


def _real(name: str, dest: Path) -> Path:
    src = shared_path("realrepos") / name
    if not src.is_dir():
        pytest.skip(f"{src} not found")
    return copy_repo(src, dest)


def _implement(
    capsys: pytest.CaptureFixture[str], root: Path, request: str, *extra: str
) -> dict[str, object]:
    code = run(["implement", "--repo", str(root), "--json", *extra, request])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err + out
    report: dict[str, object] = json.loads(out)
    return report


def test_gitops_linkerd_gets_its_component_in_infrastructure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _real("stefanprodan__gitops-linkerd", tmp_path / "repo")
    report = _implement(capsys, root, "install external-dns")
    assert report["status"] == "applied"
    files = report["files"]
    assert isinstance(files, dict)
    assert sorted(files["created"]) == [
        "infrastructure/external-dns/kustomization.yaml",
        "infrastructure/external-dns/namespace.yaml",
        # the repository names its files release.yaml and repository.yaml
        "infrastructure/external-dns/release.yaml",
        "infrastructure/external-dns/repository.yaml",
    ]
    assert files["modified"] == ["clusters/my-cluster/infrastructure.yaml"]
    assert not (root / "namespaces").exists()
    docs = (root / "clusters/my-cluster/infrastructure.yaml").read_text().split("\n---\n")
    added = next(d for d in docs if "name: external-dns" in d)
    assert "path: ./infrastructure/external-dns" in added
    checks = report["postconditions"]
    assert isinstance(checks, list) and checks
    assert all(c["holds"] for c in checks), checks


def test_a_config_file_still_decides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _real("stefanprodan__gitops-linkerd", tmp_path / "repo")
    (root / "apps-extra").mkdir()
    (root / ".infrawright.toml").write_text('components_dir = "apps-extra"\n')
    run(["implement", "--repo", str(root), "--json", "--dry-run", "install external-dns"])
    report = json.loads(capsys.readouterr().out)
    created = report["files"]["created"]
    assert created and all(f.startswith("apps-extra/external-dns/") for f in created)


def test_the_seed_layout_is_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import EXAMPLE

    root = copy_repo(EXAMPLE, tmp_path / "repo")
    report = _implement(capsys, root, "install external-dns", "--dry-run")
    files = report["files"]
    assert isinstance(files, dict)
    assert all(str(f).startswith("namespaces/external-dns") for f in files["created"])
    assert files["modified"] == ["clusters/local-kube/infrastructure.yaml"]
