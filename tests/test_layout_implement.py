"""implement writes where the repository keeps its components (issue 15): the layout
learnt from the repository decides the folder, the file of the Flux Kustomization and
its path, unless a config file says otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

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
) -> dict[str, Any]:
    code = run(["implement", "--repo", str(root), "--json", *extra, request])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err + out
    report: dict[str, Any] = json.loads(out)
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


def test_flux2_kustomize_helm_example_gets_one_controller_in_its_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _real("fluxcd__flux2-kustomize-helm-example", tmp_path / "repo")
    report = _implement(capsys, root, "install external-dns")
    assert report["status"] == "applied"
    files = report["files"]
    assert isinstance(files, dict)
    assert files["created"] == ["infrastructure/controllers/external-dns.yaml"]
    assert files["modified"] == ["infrastructure/controllers/kustomization.yaml"]
    assert (
        "- external-dns.yaml"
        in (root / "infrastructure/controllers/kustomization.yaml").read_text()
    )
    assert not (root / "namespaces").exists()
    written = (root / "infrastructure/controllers/external-dns.yaml").read_text()
    # written like cert-manager next to it: one file, its install/upgrade strategy
    assert written.startswith("---\n")
    assert written.count("strategy:\n      name: RetryOnFailure") == 2
    assert "toolkit.fluxcd.io/tenant: sre-team" in written
    checks = {c["statement"]: c["holds"] for c in report["postconditions"]}
    for cluster in ("production", "staging"):
        assert checks[f"cluster {cluster}: HelmRelease external-dns is built by infra-controllers"]
        assert checks[f"cluster {cluster}: chart external-dns is installed once"]
    assert all(checks.values()), checks
    reviews = [r["note"] for r in report["review"]]
    assert any("every cluster that deploys components: production, staging" in r for r in reviews)


def test_home_ops_gets_keda_beside_its_app_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _real("onedr0p__home-ops", tmp_path / "repo")
    report = _implement(capsys, root, "install keda")
    assert report["status"] == "applied"
    files = report["files"]
    assert isinstance(files, dict)
    base = "kubernetes/apps/kube-system/keda"
    assert sorted(files["created"]) == [
        f"{base}/app/helmrelease.yaml",
        f"{base}/app/helmrepository.yaml",
        f"{base}/app/kustomization.yaml",
        f"{base}/ks.yaml",
    ]
    assert files["modified"] == ["kubernetes/apps/kube-system/kustomization.yaml"]
    listed = (root / "kubernetes/apps/kube-system/kustomization.yaml").read_text()
    assert "  - ./keda/ks.yaml\n" in listed
    ks = (root / base / "ks.yaml").read_text()
    assert ks.startswith(
        "---\n# yaml-language-server: $schema=https://k8s-schemas.home-operations.com/"
    )
    assert "path: ./kubernetes/apps/kube-system/keda/app" in ks
    assert "targetNamespace: kube-system" in ks
    checks = report["postconditions"]
    assert isinstance(checks, list) and all(c["holds"] for c in checks), checks
    assert not (root / "namespaces").exists()


ORDERS = (
    "add the app 'orders' from the chart at oci://ghcr.io/example/charts/orders, tracking "
    "2.x, in its own namespace on the staging and production clusters, 2 replicas in "
    "staging and 4 in production"
)


def test_base_and_overlays_get_a_base_and_one_overlay_per_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import FIXTURES
    from infrawright.model.flux import HelmRelease, dotted_get
    from infrawright.model.loader import load_repo
    from infrawright.validate.engine import validate

    root = copy_repo(FIXTURES / "layout-base-overlays", tmp_path / "repo")
    report = _implement(capsys, root, ORDERS)
    assert report["status"] == "applied"
    assert sorted(report["files"]["created"]) == [
        "apps/base/orders/helmrelease.yaml",
        "apps/base/orders/kustomization.yaml",
        "apps/base/orders/namespace.yaml",
        "apps/base/orders/ocirepository.yaml",
        "apps/production/orders/kustomization.yaml",
        "apps/production/orders/values.yaml",
        "apps/staging/orders/kustomization.yaml",
        "apps/staging/orders/values.yaml",
    ]
    assert sorted(report["files"]["modified"]) == [
        "apps/production/kustomization.yaml",
        "apps/staging/kustomization.yaml",
    ]
    assert 'semver: "2.x"' in (root / "apps/base/orders/ocirepository.yaml").read_text()
    # what the real builds of each cluster render
    for cluster, replicas in (("staging", 2), ("production", 4)):
        result = validate(load_repo(root, cluster=cluster))
        assert not result.findings, [f.to_dict() for f in result.findings]
        releases = [
            HelmRelease.parse_doc(o)
            for b in result.analysis.builds.values()
            for o in b.objects
            if o.kind == "HelmRelease" and o.name == "orders"
        ]
        assert [dotted_get(r.values, "replicaCount") for r in releases] == [replicas]
        assert releases[0].namespace == "orders"
    assert all(c["holds"] for c in report["postconditions"])
    assert not (root / "namespaces").exists()


def test_a_request_for_one_cluster_writes_that_overlay_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import FIXTURES

    root = copy_repo(FIXTURES / "layout-base-overlays", tmp_path / "repo")
    text = ORDERS.replace("staging and production clusters", "staging cluster").replace(
        " and 4 in production", ""
    )
    report = _implement(capsys, root, text)
    created = report["files"]["created"]
    assert "apps/staging/orders/values.yaml" in created
    assert not any(f.startswith("apps/production/") for f in created)
    assert report["files"]["modified"] == ["apps/staging/kustomization.yaml"]


@pytest.fixture
def two_clusters(tmp_path: Path) -> Path:
    """The example with a second cluster, lab, that runs the same components."""
    from conftest import EXAMPLE

    root = copy_repo(EXAMPLE, tmp_path / "repo")
    lab = root / "clusters/lab"
    shutil.copytree(root / "clusters/local-kube", lab)
    for path in lab.rglob("*.yaml"):
        path.write_text(path.read_text().replace("clusters/local-kube", "clusters/lab"))
    return root


def test_a_change_goes_to_every_cluster_with_layers_for_each(
    two_clusters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _implement(capsys, two_clusters, "we need metallb")
    assert report["status"] == "applied"
    assert sorted(report["files"]["modified"]) == [
        "clusters/lab/infrastructure.yaml",
        "clusters/local-kube/infrastructure.yaml",
    ]
    assert set(report["cluster_layers"]) == {"lab", "local-kube"}
    assert all(layers["metallb"] == 1 for layers in report["cluster_layers"].values())
    statements = [c["statement"] for c in report["postconditions"]]
    assert "cluster lab: chart metallb is installed once" in statements
    assert "cluster local-kube: chart metallb is installed once" in statements


def test_cluster_narrows_to_one(two_clusters: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _implement(capsys, two_clusters, "we need metallb", "--cluster", "lab")
    assert report["files"]["modified"] == ["clusters/lab/infrastructure.yaml"]
    assert "cluster_layers" not in report


def test_a_deprecated_api_version_of_the_repository_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _real("stefanprodan__gitops-linkerd", tmp_path / "repo")
    report = _implement(capsys, root, "install external-dns", "--dry-run")
    notes = [r["note"] for r in report["review"]]
    assert any(
        "use helm.toolkit.fluxcd.io/v2beta1, deprecated since Flux 2.3" in n for n in notes
    ), notes
    assert any("kustomize.toolkit.fluxcd.io/v1beta2, deprecated since Flux 2.0" in n for n in notes)


def test_a_cluster_that_deploys_no_component_is_left_alone(
    two_clusters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the lab cluster keeps only its bootstrap: nothing is deployed there
    (two_clusters / "clusters/lab/infrastructure.yaml").write_text("# nothing deployed yet\n")
    report = _implement(capsys, two_clusters, "we need metallb", "--dry-run")
    assert report["files"]["modified"] == ["clusters/local-kube/infrastructure.yaml"]
    assert "cluster_layers" not in report


def test_removing_a_bundle_entry_is_never_a_false_no_op(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _real("fluxcd__flux2-kustomize-helm-example", tmp_path / "repo")
    code = run(["implement", "--repo", str(root), "remove envoy-gateway"])
    err = capsys.readouterr().err
    # known to run from the bundle (its OCIRepository names the chart), so not "already
    # gone": refused with where it runs, and nothing written
    assert code == ExitCode.USAGE, err
    assert "runs here from infrastructure/controllers/envoy-gateway.yaml" in err
    assert (root / "infrastructure/controllers/envoy-gateway.yaml").is_file()


def test_a_folder_the_repository_lacks_is_not_invented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _real("onedr0p__home-ops", tmp_path / "repo")
    code = run(["implement", "--repo", str(root), "we need velero for backups"])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert "kubernetes/apps/velero/kustomization.yaml does not exist" in err
    assert "into namespace kube-system" in err
    assert not (root / "kubernetes/apps/velero").exists()


@pytest.mark.parametrize(
    ("request_text", "message"),
    [
        # its HelmRelease takes the chart from an OCIRepository (chartRef), whose URL
        # names the chart: still the catalog's envoy-gateway, so no second copy
        ("install envoy gateway", "envoy-gateway already runs here"),
        # an ingress controller of another product is not what this asks for
        ("we need an ingress controller", "envoy-gateway runs here"),
    ],
)
def test_what_a_bundle_runs_is_never_installed_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], request_text: str, message: str
) -> None:
    root = _real("fluxcd__flux2-kustomize-helm-example", tmp_path / "repo")
    before = sorted(p.relative_to(root) for p in root.rglob("*") if ".git" not in p.parts)
    code = run(["implement", "--repo", str(root), request_text])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    assert message in err and "infrastructure/controllers/envoy-gateway.yaml" in err
    after = sorted(p.relative_to(root) for p in root.rglob("*") if ".git" not in p.parts)
    assert [p for p in after if ".infrawright" not in p.parts] == [
        p for p in before if ".infrawright" not in p.parts
    ]


@pytest.mark.parametrize(
    ("request_text", "named"),
    [
        # "backend" is the namespace of the Flux Kustomization backend/podinfo
        ("allow frontend to reach the backend service", "backend"),
        ("add a network policy for backend/podinfo", "backend/podinfo"),
    ],
)
def test_a_policy_for_what_a_flux_kustomization_deploys_is_refused_with_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], request_text: str, named: str
) -> None:
    """gitops-linkerd deploys its apps from Flux Kustomizations labelled namespace/name,
    not from component folders: a policy for them is refused, never an internal error."""
    root = _real("stefanprodan__gitops-linkerd", tmp_path / "repo")
    code = run(["implement", "--repo", str(root), "--dry-run", request_text])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE, err + out
    assert (
        f"error: {named} is deployed by the Flux Kustomization backend/podinfo, not from a "
        "component folder"
    ) in err
    assert "internal error" not in err


def test_a_policy_into_what_runs_outside_the_components_folder_names_where_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """flux2-kustomize-helm-example runs podinfo from apps/base/podinfo/: a policy into
    it is refused with that file, not as "not a component of this repository"."""
    root = _real("fluxcd__flux2-kustomize-helm-example", tmp_path / "repo")
    request = "allow envoy-gateway to reach podinfo on port 9898"
    code = run(["implement", "--repo", str(root), "--dry-run", request])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE, err + out
    assert (
        "network policy into podinfo, which runs here from apps/base/podinfo/namespace.yaml"
    ) in err


def test_a_policy_for_a_kustomization_outside_the_components_folder_names_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """home-ops deploys echo from kubernetes/apps/network/echo/app: a policy for it is
    refused with that path and the file of its Kustomization, not with a folder under
    the components folder that does not exist."""
    root = _real("onedr0p__home-ops", tmp_path / "repo")
    code = run(["implement", "--repo", str(root), "--dry-run", "add a network policy for echo"])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE, err + out
    assert (
        "echo is deployed by the Flux Kustomization echo from ./kubernetes/apps/network/echo/app "
        "(kubernetes/apps/network/echo/ks.yaml:3)"
    ) in err
    assert not list(root.rglob("cilium-network-policies"))
