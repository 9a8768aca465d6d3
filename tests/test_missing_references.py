"""A build that fails on a missing file is reported where the file is named: the
kustomization file and line of the reference, the name, and a close name when the folder
has one."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.model.loader import load_repo
from infrawright.validate.engine import validate
from infrawright.validate.finding import Finding

KONG = "namespaces/kong/kustomization.yaml"


def iw000(repo: Path) -> list[Finding]:
    return [f for f in validate(load_repo(repo)).findings if f.rule == "IW000"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(EXAMPLE, tmp_path / "repo")


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_misspelt_resource_is_named_at_its_line_with_the_close_name(repo: Path) -> None:
    edit(repo, KONG, "  - helm-release.yaml\n", "  - helm-release.yml\n")
    [found] = iw000(repo)
    assert (found.file, found.line) == (KONG, 6)
    assert found.message == (
        "kustomize build namespaces/kong failed: resources.2 names 'helm-release.yml', which "
        "does not exist; did you mean 'helm-release.yaml'?"
    )
    assert found.resource == "Kustomization/flux-system/kong"


def test_a_missing_patch_file_is_named_at_its_line(repo: Path) -> None:
    edit(
        repo,
        KONG,
        "  # ServiceMonitor",
        "patches:\n  - path: replicas.yaml\n    target:\n      kind: HelmRelease\n"
        "  # ServiceMonitor",
    )
    [found] = iw000(repo)
    assert (found.file, found.line) == (KONG, 9)
    assert "patches.0.path names 'replicas.yaml', which does not exist" in found.message
    assert "did you mean" not in found.message  # nothing in the folder is close


def test_a_missing_generator_file_in_a_sub_kustomization(repo: Path) -> None:
    sub = repo / "namespaces" / "kong" / "cilium-network-policies" / "kustomization.yaml"
    sub.write_text(
        sub.read_text()
        + "configMapGenerator:\n  - name: settings\n    files:\n      - conf/a.ini\n"
    )
    [found] = iw000(repo)
    assert found.file == "namespaces/kong/cilium-network-policies/kustomization.yaml"
    assert found.line is not None
    assert "configMapGenerator.0.files.0 names 'conf/a.ini', which does not exist" in found.message
    assert found.hint.endswith("or add namespaces/kong/cilium-network-policies/conf/a.ini")
