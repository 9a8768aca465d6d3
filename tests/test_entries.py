"""Clusters wherever the Flux entry points are (issue 14, point 1): the bootstrap
Kustomization (``gotk-sync.yaml``), a FluxInstance's ``spec.sync``, the flux-instance
chart's ``instance.sync``, and the folders under ``clusters/``. Each cluster is
validated on its own, named in every report, chosen by name or folder, and changed on
its own by implement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE, FIXTURES, copy_repo, shared_path
from infrawright.cli.app import run
from infrawright.errors import ExitCode
from infrawright.model.entries import Entries, cluster_names
from infrawright.model.loader import load_repo, read_repo

GOTK = FIXTURES / "entry-gotk-sync"
INSTANCE = FIXTURES / "entry-flux-instance"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def validate_json(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str) -> dict[str, Any]:
    _code, out, err = cli(capsys, "validate", "--repo", str(repo), "--format", "json", *extra)
    assert out, err
    data: dict[str, Any] = json.loads(out)
    return data


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("folders", "names"),
    [
        (["clusters/prod"], ["prod"]),
        (["kubernetes/clusters/prod", "kubernetes/clusters/staging"], ["prod", "staging"]),
        (["deploy/main"], ["main"]),
        (["kubernetes/flux/cluster"], ["cluster"]),
        # two folders with one last segment keep as many segments as tell them apart
        (["eu/clusters/prod", "us/clusters/prod"], ["eu/clusters/prod", "us/clusters/prod"]),
        (["eu/prod", "us/prod", "lab"], ["eu/prod", "us/prod", "lab"]),
        # clusters/<name> keeps its name; another folder ending in it takes more segments
        (["clusters/prod", "kubernetes/prod"], ["prod", "kubernetes/prod"]),
        (["."], ["root"]),
    ],
)
def test_cluster_names(folders: list[str], names: list[str]) -> None:
    got = cluster_names(folders)
    assert [got[f] for f in folders] == names


# ------------------------------------------------------------------ finding entries


def entries_of(tmp_path: Path, files: dict[str, str]) -> Entries:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return read_repo(tmp_path).entries


BOOTSTRAP = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  sourceRef:
    kind: {kind}
    name: {source}
"""

FLUX_INSTANCE = """apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
  sync:
    kind: {kind}
    url: {url}
    path: {path}
"""

CHART_RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux-instance
  namespace: flux-system
spec:
  interval: 1h
  {chart}
  values:
    instance:
      sync:
        url: {url}
        path: {path}
"""
OCI_CHART = """apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  url: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance
"""
GIT_URL = "https://github.com/example/fleet"


def test_the_bootstrap_kustomization_is_an_entry(tmp_path: Path) -> None:
    found = entries_of(
        tmp_path,
        {
            "fleet/eu/flux-system/gotk-sync.yaml": BOOTSTRAP.format(
                path="./fleet/eu", kind="GitRepository", source="flux-system"
            ),
            "fleet/eu/apps.yaml": "a: 1\n",
        },
    )
    [cluster] = found.clusters
    assert (cluster.name, cluster.folder) == ("eu", "fleet/eu")
    [entry] = cluster.entries
    assert (entry.kind, entry.file, entry.line) == (
        "bootstrap",
        "fleet/eu/flux-system/gotk-sync.yaml",
        1,
    )
    assert cluster.describe() == (
        "fleet/eu/, synced by fleet/eu/flux-system/gotk-sync.yaml:1 "
        "(bootstrap Kustomization flux-system)"
    )
    assert found.elsewhere == ()


def test_a_flux_system_kustomization_of_another_source_is_no_entry(tmp_path: Path) -> None:
    found = entries_of(
        tmp_path,
        {
            "fleet/eu/sync.yaml": BOOTSTRAP.format(
                path="./fleet/eu", kind="OCIRepository", source="flux-system"
            ),
            "fleet/us/sync.yaml": BOOTSTRAP.format(
                path="./fleet/us", kind="GitRepository", source="platform"
            ),
        },
    )
    assert found.clusters == () and found.elsewhere == ()


def test_a_path_that_is_not_a_folder_here_is_listed_with_why(tmp_path: Path) -> None:
    found = entries_of(
        tmp_path,
        {
            "sync.yaml": BOOTSTRAP.format(
                path="./clusters-gone/eu", kind="GitRepository", source="flux-system"
            )
        },
    )
    assert found.clusters == ()
    [entry] = found.elsewhere
    assert entry.not_a_cluster == "path './clusters-gone/eu' is not a folder of this repository"


@pytest.mark.parametrize(
    ("kind", "url", "cluster", "why"),
    [
        ("GitRepository", GIT_URL, "main", None),
        (
            "OCIRepository",
            "oci://ghcr.io/example/fleet",
            None,
            "syncs OCIRepository oci://ghcr.io/example/fleet, an artifact and not this "
            "repository: not checked here",
        ),
        (
            "Bucket",
            "minio.example.com",
            None,
            "syncs Bucket minio.example.com, an artifact and not this repository: not checked here",
        ),
    ],
)
def test_a_flux_instance_sync_is_an_entry_when_it_syncs_a_git_repository(
    tmp_path: Path, kind: str, url: str, cluster: str | None, why: str | None
) -> None:
    found = entries_of(
        tmp_path,
        {
            "flux/instance.yaml": FLUX_INSTANCE.format(kind=kind, url=url, path="deploy/main"),
            "deploy/main/apps.yaml": "a: 1\n",
        },
    )
    assert found.names == ((cluster,) if cluster else ())
    entries = [e for c in found.clusters for e in c.entries] + list(found.elsewhere)
    assert [(e.kind, e.file, e.not_a_cluster) for e in entries] == [
        ("instance", "flux/instance.yaml", why)
    ]


@pytest.mark.parametrize(
    ("chart", "extra", "found_it"),
    [
        ("chart: {spec: {chart: flux-instance, sourceRef: {kind: HelmRepository, name: cp}}}",
         {}, True),
        ("chartRef: {kind: OCIRepository, name: flux-instance}", {}, True),
        # known by the OCIRepository's URL, whatever it is called
        ("chartRef: {kind: OCIRepository, name: operator-instance}",
         {"flux/oci.yaml": OCI_CHART.format(name="operator-instance")}, True),
        ("chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: p}}}", {}, False),
    ],
)  # fmt: skip
def test_the_flux_instance_chart_values_are_an_entry(
    tmp_path: Path, chart: str, extra: dict[str, str], found_it: bool
) -> None:
    files = {
        "apps/flux/helmrelease.yaml": CHART_RELEASE.format(
            chart=chart, url=GIT_URL, path="kubernetes/flux/cluster"
        ),
        "kubernetes/flux/cluster/ks.yaml": "a: 1\n",
        **extra,
    }
    found = entries_of(tmp_path, files)
    assert found.names == (("cluster",) if found_it else ())
    if found_it:
        [entry] = found.clusters[0].entries
        assert (entry.kind, entry.file) == ("instance-chart", "apps/flux/helmrelease.yaml")


def test_the_chart_renders_no_sync_without_a_url(tmp_path: Path) -> None:
    files = {
        "apps/flux/helmrelease.yaml": CHART_RELEASE.format(
            chart="chartRef: {kind: OCIRepository, name: flux-instance}",
            url='""',
            path="kubernetes/flux/cluster",
        ),
        "kubernetes/flux/cluster/ks.yaml": "a: 1\n",
    }
    assert entries_of(tmp_path, files).clusters == ()


def test_a_clusters_folder_and_its_bootstrap_are_one_cluster() -> None:
    found = read_repo(EXAMPLE).entries
    [cluster] = found.clusters
    assert (cluster.name, cluster.folder) == ("local-kube", "clusters/local-kube")
    assert sorted(e.kind for e in cluster.entries) == ["bootstrap", "folder"]


def test_each_file_belongs_to_the_deepest_cluster_folder(tmp_path: Path) -> None:
    found = entries_of(
        tmp_path,
        {
            "fleet/flux-system/gotk-sync.yaml": BOOTSTRAP.format(
                path="./fleet", kind="GitRepository", source="flux-system"
            ),
            "fleet/eu/flux-system/gotk-sync.yaml": BOOTSTRAP.format(
                path="./fleet/eu", kind="GitRepository", source="flux-system"
            ),
        },
    )
    assert found.names == ("eu", "fleet")
    eu, fleet = found.keeps("eu"), found.keeps("fleet")
    assert [eu(f) for f in ("fleet/eu/a.yaml", "fleet/b.yaml", "apps/c.yaml")] == [
        True,
        False,
        True,
    ]
    assert [fleet(f) for f in ("fleet/eu/a.yaml", "fleet/b.yaml", "apps/c.yaml")] == [
        False,
        True,
        True,
    ]


# ------------------------------------------------------------------ fixture (a): gotk-sync


def test_clusters_found_through_gotk_sync_are_validated_each_on_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = validate_json(capsys, GOTK)
    assert data["clusters"] == ["prod", "staging"]
    assert [(c["name"], c["folder"]) for c in data["cluster_entries"]] == [
        ("prod", "kubernetes/clusters/prod"),
        ("staging", "kubernetes/clusters/staging"),
    ]
    assert [e["file"] for c in data["cluster_entries"] for e in c["entry_points"]] == [
        "kubernetes/clusters/prod/flux-system/gotk-sync.yaml",
        "kubernetes/clusters/staging/flux-system/gotk-sync.yaml",
    ]
    # the planted error, in staging only; no "defined twice" for the shared names
    assert [(f["cluster"], f["rule"], f["file"], f["line"]) for f in data["findings"]] == [
        ("staging", "IW009", "kubernetes/clusters/staging/apps.yaml", 13)
    ]
    assert "flux-system/databases" in data["findings"][0]["message"]
    assert data["summary"]["kustomizations"] == 6  # 3 in each
    assert data["summary"]["built"] == 6  # flux-system too: it builds the cluster folder


def test_the_text_report_names_each_cluster_and_its_entry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _err = cli(capsys, "validate", "--repo", str(GOTK))
    assert code == ExitCode.FINDINGS
    prod = out.index(
        "Cluster prod: kubernetes/clusters/prod/, synced by "
        "kubernetes/clusters/prod/flux-system/gotk-sync.yaml:16 (bootstrap Kustomization "
        "flux-system)\n"
    )
    staging = out.index("Cluster staging: kubernetes/clusters/staging/, synced by")
    assert prod < staging < out.index("depends on flux-system/databases")
    assert out.rstrip().endswith("2 clusters: 1 error(s), 0 warning(s)")


@pytest.mark.parametrize(
    "wanted", ["staging", "kubernetes/clusters/staging", "./kubernetes/clusters/staging/"]
)
def test_cluster_takes_the_name_or_the_folder(
    capsys: pytest.CaptureFixture[str], wanted: str
) -> None:
    data = validate_json(capsys, GOTK, "--cluster", wanted)
    assert "clusters" not in data
    assert data["cluster"]["name"] == "staging"
    assert [f["rule"] for f in data["findings"]] == ["IW009"]
    assert data["summary"]["kustomizations"] == 3


def test_an_unknown_cluster_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "validate", "--repo", str(GOTK), "--cluster", "dev")
    assert code == ExitCode.USAGE and out == ""
    assert (
        "error: no cluster 'dev' in this repository (known: prod (kubernetes/clusters/prod/), "
        "staging (kubernetes/clusters/staging/))"
    ) in err


def test_graph_and_sarif_name_each_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = cli(capsys, "graph", "--repo", str(GOTK), "--format", "json")
    assert code == ExitCode.OK
    graphs = json.loads(out)["clusters"]
    layers = {"apps": 1, "flux-system": 0, "infrastructure": 0}
    assert {name: g["layers"] for name, g in graphs.items()} == {
        "prod": layers,
        "staging": layers,
    }
    _code, out, _err = cli(capsys, "validate", "--repo", str(GOTK), "--format", "sarif")
    runs = json.loads(out)["runs"]
    assert [r["automationDetails"]["id"] for r in runs] == [
        "infrawright/prod/",
        "infrawright/staging/",
    ]
    assert [len(r["results"]) for r in runs] == [0, 1]


def test_a_model_reads_its_cluster_only() -> None:
    prod = load_repo(GOTK, cluster="prod")
    assert prod.cluster_dir == "kubernetes/clusters/prod"
    assert sorted(ks.doc.file for ks in prod.kustomizations) == [
        "kubernetes/clusters/prod/apps.yaml",
        "kubernetes/clusters/prod/flux-system/gotk-sync.yaml",
        "kubernetes/clusters/prod/infrastructure.yaml",
    ]
    assert prod.profile.name == "flux"


def test_implement_on_prod_writes_in_prod_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_repo(GOTK, tmp_path / "repo")
    code, out, err = cli(capsys, "implement", "--repo", str(repo), "--json",
                         "add external-dns on prod")  # fmt: skip
    assert code == ExitCode.OK, err + out
    report = json.loads(out)
    assert report["status"] == "applied"
    assert sorted(report["files"]["created"]) == [
        "kubernetes/apps/base/external-dns/helmrelease.yaml",
        "kubernetes/apps/base/external-dns/helmrepository.yaml",
        "kubernetes/apps/base/external-dns/kustomization.yaml",
        "kubernetes/apps/base/external-dns/namespace.yaml",
        "kubernetes/apps/prod/external-dns/kustomization.yaml",
    ]
    assert report["files"]["modified"] == ["kubernetes/apps/prod/kustomization.yaml"]
    assert "cluster_layers" not in report  # one cluster: prod
    # validated after the write: prod runs it, staging is as it was
    data = validate_json(capsys, repo)
    assert [(f["cluster"], f["rule"]) for f in data["findings"]] == [("staging", "IW009")]
    prod = load_repo(repo, cluster="prod")
    releases = {d.name for d in prod.objects() if d.kind == "HelmRelease"}
    assert "external-dns" in releases


# ------------------------------------------------------------------ fixture (b): FluxInstance


def test_a_flux_instance_names_its_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = cli(capsys, "validate", "--repo", str(INSTANCE))
    assert code == ExitCode.OK
    assert out.splitlines()[1] == (
        "Cluster main: deploy/main/, synced by flux/instance.yaml:4 (FluxInstance spec.sync)"
    )
    data = validate_json(capsys, INSTANCE)
    assert data["cluster"] == {
        "name": "main",
        "folder": "deploy/main",
        "entry_points": [{"kind": "instance", "file": "flux/instance.yaml", "line": 4}],
    }
    assert data["findings"] == [] and data["summary"]["built"] == 1


def test_a_flux_instance_syncing_an_artifact_is_said_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_repo(INSTANCE, tmp_path / "repo")
    instance = repo / "flux" / "instance.yaml"
    text = instance.read_text().replace("kind: GitRepository", "kind: OCIRepository")
    instance.write_text(text.replace(GIT_URL.replace("fleet", "platform.git"), "oci://x/y"))
    code, out, _err = cli(capsys, "validate", "--repo", str(repo))
    assert code == ExitCode.OK
    assert out.splitlines()[1] == (
        "Entry point not followed: flux/instance.yaml:4 (FluxInstance spec.sync): syncs "
        "OCIRepository oci://x/y, an artifact and not this repository: not checked here"
    )
    assert "Cluster " not in out  # read as one cluster, as without an entry point
    data = validate_json(capsys, repo)
    assert "cluster" not in data
    assert data["entry_points_not_followed"] == [
        {
            "kind": "instance",
            "file": "flux/instance.yaml",
            "line": 4,
            "not_a_cluster": "syncs OCIRepository oci://x/y, an artifact and not this "
            "repository: not checked here",
        }
    ]
    assert data["summary"]["built"] == 1  # the heuristic still finds apps


# ------------------------------------------------------------------ (c): home-ops


@pytest.mark.shared
def test_home_ops_is_found_from_its_flux_instance_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_repo(shared_path("realrepos") / "onedr0p__home-ops", tmp_path / "repo")
    data = validate_json(capsys, repo)
    assert data["cluster"] == {
        "name": "cluster",
        "folder": "kubernetes/flux/cluster",
        "entry_points": [
            {
                "kind": "instance-chart",
                "file": "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml",
                "line": 3,
            }
        ],
    }
    model = load_repo(repo)
    assert (model.cluster, model.cluster_dir) == ("cluster", "kubernetes/flux/cluster")
