"""The layout model: where a new component goes in each cluster and how it is wired,
learnt from the repository (issue 15), on the four real repositories, the example and
the base/overlay fixture; an ambiguous repository is reported as unknown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLE, FIXTURES, shared_path
from infrawright.build.kustomize import Kustomize, build_plain
from infrawright.model.layout import (
    Layout,
    Listing,
    Patch,
    Placement,
    Wiring,
    choose,
    clusters_for,
    infer_layout,
    layout_rows,
    template,
)
from infrawright.model.loader import load_repo
from infrawright.model.repo import RepoModel

OVERLAYS = FIXTURES / "layout-base-overlays"


def real(name: str) -> RepoModel:
    return load_repo(shared_path("realrepos") / name)


def only(layout: Layout, cluster: str | None) -> Placement:
    found = layout.cluster(cluster)
    assert found is not None and found.default is not None, found
    return found.default


def test_template_names_the_component_and_its_namespace() -> None:
    assert template("infrastructure/cert-manager/", "cert-manager") == "infrastructure/{name}/"
    assert template("a/cert-manager/cert-manager/app/", "cert-manager", "cert-manager") == (
        "a/{namespace}/{name}/app/"
    )
    assert template("apps/staging/podinfo-values.yaml", "podinfo") == (
        "apps/staging/{name}-values.yaml"
    )
    assert template("infrastructure/controllers/kustomization.yaml", "cert-manager") == (
        "infrastructure/controllers/kustomization.yaml"
    )


def test_gitops_linkerd_one_kustomization_per_folder_in_the_cluster_file() -> None:
    model = real("stefanprodan__gitops-linkerd")
    layout = infer_layout(model)
    assert [c.name for c in layout.clusters] == ["my-cluster"]
    p = only(layout, "my-cluster")
    assert p.wiring is Wiring.SHARED_FILE
    assert p.folder.value == "infrastructure/{name}/"
    assert p.folder.evidence.agree == (
        "cert-manager",
        "linkerd",
        "ingress-nginx",
        "flagger",
        "weave-gitops",
    )
    assert p.folder.evidence.total == 5
    assert p.ks_file is not None and p.ks_file.value == "clusters/my-cluster/infrastructure.yaml"
    assert p.ks_path is not None and p.ks_path.value == "./infrastructure/{name}"
    assert p.listings == ()  # the cluster folder has no kustomization.yaml: Flux applies it all
    assert p.built_by is None
    choice = choose(model, layout, "my-cluster", model.catalog.get("external-dns"))
    assert choice.placement == p
    folder, path = p.folder.value, p.ks_path.value
    assert (
        folder is not None and folder.format(name="external-dns") == "infrastructure/external-dns/"
    )
    assert path is not None and path.format(name="external-dns") == "./infrastructure/external-dns"


def test_kustomize_helm_example_bundle_for_controllers_and_overlays_for_apps() -> None:
    model = real("fluxcd__flux2-kustomize-helm-example")
    layout = infer_layout(model)
    assert [c.name for c in layout.clusters] == ["production", "staging"]
    for name in ("production", "staging"):
        cluster = layout.cluster(name)
        assert cluster is not None
        assert [c.name for c in cluster.components] == ["podinfo", "cert-manager", "envoy-gateway"]
        bundle, overlay = cluster.placements
        assert cluster.default == bundle
        assert bundle.wiring is Wiring.BUNDLE
        assert bundle.built_by == "flux-system/infra-controllers"
        assert bundle.folder.value == "infrastructure/controllers/{name}.yaml"
        assert bundle.entry_form == "file"
        assert bundle.listings == (
            Listing("infrastructure/controllers/kustomization.yaml", "{name}.yaml"),
        )
        assert bundle.ks_file is None
        assert overlay.wiring is Wiring.OVERLAY
        assert overlay.built_by == "flux-system/apps"
        assert overlay.folder.value == "apps/base/{name}/"
        assert overlay.overlay is not None and overlay.overlay.value == f"apps/{name}/"
        assert overlay.listings == (Listing(f"apps/{name}/kustomization.yaml", "../base/{name}"),)
        assert overlay.patches == (
            Patch("file", f"apps/{name}/{{name}}-values.yaml", f"apps/{name}/kustomization.yaml"),
        )
        # the apps Kustomization reads an ExternalArtifact made from the repository
        comp = cluster.component("cert-manager")
        assert comp is not None and comp.ks_at == f"clusters/{name}/infrastructure.yaml:2"
    external_dns = model.catalog.get("external-dns")
    assert (
        choose(model, layout, "staging", external_dns).placement
        == (layout.clusters[1].placements[0])
    )
    # charts outside the catalog go where the apps are
    assert choose(model, layout, "staging", None).placement == layout.clusters[1].placements[1]
    # no cluster named: every cluster where components like it run
    assert clusters_for(layout, ["cert-manager", "envoy-gateway"]) == ("production", "staging")


def test_home_ops_ks_yaml_beside_app_listed_by_the_namespace_folder() -> None:
    model = real("onedr0p__home-ops")
    layout = infer_layout(model)
    # found from the flux-instance HelmRelease's instance.sync.path, named by its last segment
    assert [c.name for c in layout.clusters] == ["cluster"]
    cluster = layout.clusters[0]
    assert cluster.entry == "kubernetes/flux/cluster"
    assert len(cluster.components) == 68
    p = only(layout, None)
    assert p.wiring is Wiring.BESIDE_APP
    assert p.folder.value == "kubernetes/apps/{namespace}/{name}/app/"
    assert (len(p.folder.evidence.agree), p.folder.evidence.total) == (61, 66)
    assert p.ks_file is not None and p.ks_file.value == "kubernetes/apps/{namespace}/{name}/ks.yaml"
    assert p.ks_path is not None and p.ks_path.value == "./kubernetes/apps/{namespace}/{name}/app"
    assert p.listings == (
        Listing("kubernetes/apps/{namespace}/kustomization.yaml", "./{name}/ks.yaml"),
    )
    assert p.shared[0] == ("kubernetes/components/alerts", 66)
    # keda: no keda namespace; the operations charts all live in kube-system
    choice = choose(model, layout, None, model.catalog.get("keda"))
    assert choice.placement == p
    assert choice.namespace == "kube-system"
    assert "3 of 3 operations components live there (descheduler, reloader, spegel)" in choice.why


def test_monitoring_example_bundle_of_folders_flux_lists() -> None:
    layout = infer_layout(real("fluxcd__flux2-monitoring-example"))
    p = only(layout, "test")
    assert p.wiring is Wiring.BUNDLE
    assert p.built_by == "flux-system/monitoring-controllers"
    assert p.folder.value == "monitoring/controllers/{name}/"
    assert p.entry_form == "folder"
    assert p.listings == ()  # monitoring/controllers has no kustomization.yaml


def test_example_is_todays_namespaces_layout() -> None:
    model = load_repo(EXAMPLE)
    layout = infer_layout(model)
    p = only(layout, "local-kube")
    assert p.wiring is Wiring.SHARED_FILE
    assert p.folder.value == "namespaces/{name}/"
    assert p.folder.evidence.agree == (
        "cilium",
        "cert-manager",
        "monitoring",
        "kong",
        "cloudnative-pg",
    )
    assert p.ks_file is not None and p.ks_file.value == "clusters/local-kube/infrastructure.yaml"
    assert p.ks_path is not None and p.ks_path.value == "./namespaces/{name}"


def test_base_overlay_fixture_two_clusters() -> None:
    model = load_repo(OVERLAYS)
    layout = infer_layout(model)
    assert [c.name for c in layout.clusters] == ["production", "staging"]
    for name in ("production", "staging"):
        p = only(layout, name)
        assert p.wiring is Wiring.OVERLAY
        assert p.components == ("podinfo", "cart")
        assert p.folder.value == "apps/base/{name}/"
        assert p.overlay is not None and p.overlay.value == f"apps/{name}/{{name}}/"
        assert p.listings == (
            Listing(f"apps/{name}/kustomization.yaml", "{name}"),
            Listing(f"apps/{name}/{{name}}/kustomization.yaml", "../../base/{name}"),
        )
        assert p.patches == (
            Patch(
                "file",
                f"apps/{name}/{{name}}/values.yaml",
                f"apps/{name}/{{name}}/kustomization.yaml",
            ),
        )
        assert choose(model, layout, name, None).placement == p
    rows = layout_rows(layout)
    assert (
        "staging: placement 1 (base-and-overlays) overlay",
        "apps/staging/{name}/",
        "2 of 2 (podinfo, cart)",
    ) in rows


def test_base_overlay_fixture_builds_each_clusters_replicas(kustomize: Kustomize) -> None:
    for cluster, want in (
        ("staging", {"podinfo": 1, "cart": 2}),
        ("production", {"podinfo": 3, "cart": 4}),
    ):
        result = build_plain(kustomize, OVERLAYS / "apps" / cluster)
        assert result.ok, result.error
        replicas = {
            d["metadata"]["name"]: d["spec"]["values"]["replicaCount"]
            for d in yaml.safe_load_all(result.output)
            if d and d.get("kind") == "HelmRelease"
        }
        assert replicas == want


def test_ambiguous_layout_is_unknown(tmp_path: Path) -> None:
    """One component in a shared-file layout, one in a bundle: the repository does not
    say which a new one follows."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    for name in ("monitoring", "kong", "cloudnative-pg", "cert-manager"):
        _drop_component(root, name)
    bundle = root / "bundle"
    bundle.mkdir()
    (bundle / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - metallb.yaml\n"
    )
    (bundle / "metallb.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n"
        "  name: metallb\n  namespace: metallb-system\nspec:\n  interval: 1h\n"
        "  url: https://metallb.github.io/metallb\n---\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
        "  name: metallb\n  namespace: metallb-system\nspec:\n  interval: 1h\n"
        "  chart:\n    spec:\n      chart: metallb\n      sourceRef:\n"
        "        kind: HelmRepository\n        name: metallb\n"
    )
    cluster_file = root / "clusters/local-kube/infrastructure.yaml"
    cluster_file.write_text(
        cluster_file.read_text()
        + "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata:\n  name: bundle\n  namespace: flux-system\nspec:\n  interval: 10m\n"
        "  path: ./bundle\n  prune: false\n  sourceRef:\n    kind: GitRepository\n"
        "    name: flux-system\n"
    )
    model = load_repo(root)
    layout = infer_layout(model)
    cluster = layout.cluster("local-kube")
    assert cluster is not None
    assert [c.name for c in cluster.components] == ["cilium", "metallb"]
    assert cluster.default is None
    assert cluster.why == (
        "as many components are kustomization-in-shared-file (cilium) as listed-in-bundle (metallb)"
    )
    choice = choose(model, layout, "local-kube", model.catalog.get("kong"))
    assert choice.placement is None
    assert choice.why == (
        "as many catalog charts are kustomization-in-shared-file (cilium) as "
        "listed-in-bundle (metallb)"
    )
    assert ("local-kube: default", "unknown", cluster.why) in layout_rows(layout)


def _drop_component(root: Path, name: str) -> None:
    import re

    for folder in (name, f"{name}-monitoring", f"{name}-config"):
        shutil.rmtree(root / "namespaces" / folder, ignore_errors=True)
    if name == "cloudnative-pg":
        shutil.rmtree(root / "namespaces" / "postgres", ignore_errors=True)
    cluster_file = root / "clusters/local-kube/infrastructure.yaml"
    docs = cluster_file.read_text().split("\n---\n")
    kept = [
        d
        for d in docs
        if not re.search(
            r"path: \./namespaces/(" + re.escape(name) + r"|postgres)(-\w+)?\n", d + "\n"
        )
    ]
    cluster_file.write_text("\n---\n".join(kept))


@pytest.mark.parametrize("cluster", ["staging", "production"])
def test_overlay_fixture_validates_clean(cluster: str, capsys: pytest.CaptureFixture[str]) -> None:
    from infrawright.cli.app import run

    code = run(["validate", "--repo", str(OVERLAYS), "--cluster", cluster, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert '"findings": []' in out
