"""Every cluster of a repository is validated, each on its own: Kustomization names are
unique per cluster, findings and summaries name their cluster, `--cluster` narrows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLE, SHARED, copy_repo
from infrawright.cli.app import run
from infrawright.errors import ExitCode

KHE = SHARED / "realrepos" / "fluxcd__flux2-kustomize-helm-example"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(list(args))
    out, _err = capsys.readouterr()
    return code, out


@pytest.fixture
def two_clusters(tmp_path: Path) -> Path:
    """The example with a second cluster that defines the same Kustomization names; the
    second one's cert-manager-config depends on a Kustomization it does not have."""
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    shutil.copytree(repo / "clusters" / "local-kube", repo / "clusters" / "edge")
    cluster_file = repo / "clusters" / "edge" / "infrastructure.yaml"
    text = cluster_file.read_text()
    marker = "  name: cert-manager-config\n"
    assert marker in text
    head, tail = text.split(marker, 1)
    tail = tail.replace("dependsOn:\n", "dependsOn:\n    - name: no-such-thing\n", 1)
    cluster_file.write_text(head + marker + tail)
    return repo


def test_each_cluster_is_validated_and_named(
    two_clusters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = cli(capsys, "validate", "--repo", str(two_clusters), "--format", "json")
    data = json.loads(out)
    assert data["clusters"] == ["edge", "local-kube"]
    assert code == ExitCode.FINDINGS
    found = {(f["cluster"], f["rule"]) for f in data["findings"]}
    assert ("edge", "IW009") in found
    assert not any(f["cluster"] == "local-kube" and f["rule"] == "IW009" for f in data["findings"])
    # The same names in two clusters are not "defined twice".
    assert not any("defined twice" in f["message"] for f in data["findings"])
    assert data["summary"]["kustomizations"] == 24  # 12 in each


def test_the_text_report_names_each_cluster(
    two_clusters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = cli(capsys, "validate", "--repo", str(two_clusters))
    assert code == ExitCode.FINDINGS
    edge, local = out.index("Cluster edge"), out.index("Cluster local-kube")
    missing = out.index("no-such-thing")
    assert edge < missing < local
    assert out.rstrip().endswith("2 clusters: 1 error(s), 0 warning(s)")


def test_cluster_narrows_to_one(two_clusters: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(
        capsys, "validate", "--repo", str(two_clusters), "--cluster", "local-kube", "--format",
        "json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == ExitCode.OK, data["findings"]
    assert "clusters" not in data and data["findings"] == []
    assert data["summary"]["kustomizations"] == 12


def test_the_graph_names_each_cluster(
    two_clusters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = cli(capsys, "graph", "--repo", str(two_clusters), "--format", "json")
    assert code == ExitCode.OK
    graphs = json.loads(out)["clusters"]
    assert set(graphs) == {"edge", "local-kube"}
    assert graphs["edge"]["layers"]["cilium"] == 0
    code, out = cli(capsys, "graph", "--repo", str(two_clusters))
    assert out.startswith("Cluster edge\n") and "\nCluster local-kube\n" in out


def khe(tmp_path: Path) -> Path:
    if not KHE.is_dir():
        pytest.skip(f"real-repository test data not found: {KHE}; CI provides ../shared")
    return copy_repo(KHE, tmp_path / "khe")


@pytest.mark.shared
def test_the_official_example_is_built_for_both_clusters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = khe(tmp_path)
    code, out = cli(capsys, "validate", "--repo", str(repo), "--format", "json")
    data = json.loads(out)
    assert data["clusters"] == ["production", "staging"]
    assert data["profile"]["name"] == "flux"
    assert {f["rule"] for f in data["findings"]} & {"IW001", "IW002", "IW009"} == set()
    # Every ExternalArtifact Kustomization is built from the repository's own folders.
    assert data["not_built"] == []
    assert data["summary"]["built"] == data["summary"]["kustomizations"] == 6
    assert code == ExitCode.OK
    _code, text = cli(capsys, "validate", "--repo", str(repo))
    assert "from an artifact: apps: ExternalArtifact/flux-system/apps" in text
    assert "built from apps/ of this repository" in text


@pytest.mark.shared
def test_a_broken_overlay_in_an_artifact_is_found_in_its_cluster(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = khe(tmp_path)
    overlay = repo / "apps" / "staging" / "kustomization.yaml"
    overlay.write_text(
        overlay.read_text().replace("resources:\n", "resources:\n  - gone.yaml\n", 1)
    )
    code, out = cli(capsys, "validate", "--repo", str(repo), "--format", "json")
    data = json.loads(out)
    assert code == ExitCode.FINDINGS
    broken = [f for f in data["findings"] if f["rule"] == "IW000"]
    assert [(f["cluster"], f["file"]) for f in broken] == [
        ("staging", "apps/staging/kustomization.yaml")
    ]
    assert "gone.yaml" in broken[0]["message"]
