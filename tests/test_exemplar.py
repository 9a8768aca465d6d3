"""Exemplars: the existing Helm component a new one mirrors, and the style it teaches,
each item with where it came from (issue 15)."""

from __future__ import annotations

from conftest import EXAMPLE, FIXTURES, shared_path
from infrawright.model.exemplar import Exemplar, FileShape, exemplar
from infrawright.model.layout import infer_layout
from infrawright.model.loader import load_repo


def pick(root: object, cluster: str | None, hint: str | None) -> Exemplar:
    model = load_repo(root)  # type: ignore[arg-type]
    found = exemplar(model, infer_layout(model), cluster, hint)
    assert found is not None
    return found


def value(ex: Exemplar, name: str) -> tuple[str, str]:
    fact = ex.fact(name)
    assert fact is not None, [f.name for f in ex.facts]
    return fact.value, fact.where


def test_home_ops_keda_mirrors_an_operator_in_kube_system() -> None:
    ex = pick(shared_path("realrepos") / "onedr0p__home-ops", None, "keda")
    assert ex.component == "descheduler"
    assert ex.why.startswith("descheduler is of the same category (operations)")
    assert ex.files == (
        FileShape(
            "helmrelease.yaml",
            ("HelmRelease",),
            "kubernetes/apps/kube-system/descheduler/app/helmrelease.yaml:3",
        ),
        FileShape(
            "kustomization.yaml",
            ("Kustomization",),
            "kubernetes/apps/kube-system/descheduler/app/kustomization.yaml:3",
        ),
        FileShape(
            "ocirepository.yaml",
            ("OCIRepository",),
            "kubernetes/apps/kube-system/descheduler/app/ocirepository.yaml:3",
        ),
    )
    assert ex.file_split == "one file per kind"
    assert (ex.source_kind, ex.chart_ref) == ("OCIRepository", True)
    assert ex.file_for("OCIRepository") == "ocirepository.yaml"
    schema, where = value(ex, "schema comment")
    assert schema.startswith("# yaml-language-server: $schema=https://k8s-schemas.home-operations")
    assert where.endswith(":2")
    assert value(ex, "document start")[0] == "--- (3 of 3 files)"
    assert value(ex, "namespace set by") == (
        "targetNamespace of its Flux Kustomization",
        "kubernetes/apps/kube-system/descheduler/ks.yaml:15",
    )
    assert value(ex, "namespace object")[0] == "none in the component"
    assert value(ex, "HelmRelease defaults patched by flux-system/cluster-apps") == (
        "spec.patches",
        "kubernetes/flux/cluster/ks.yaml:18",
    )
    assert ex.fact("served apiVersion HelmRelease") is None  # already v2


def test_gitops_linkerd_old_api_versions_name_the_served_ones() -> None:
    ex = pick(
        shared_path("realrepos") / "stefanprodan__gitops-linkerd", "my-cluster", "external-dns"
    )
    assert ex.component == "cert-manager"
    assert [f.name for f in ex.files] == [
        "kustomization.yaml",
        "namespace.yaml",
        "release.yaml",
        "repository.yaml",
    ]
    assert (ex.source_kind, ex.chart_ref) == ("HelmRepository", False)
    assert value(ex, "apiVersion HelmRelease")[0] == "helm.toolkit.fluxcd.io/v2beta1"
    served, why = value(ex, "served apiVersion HelmRelease")
    assert served == "helm.toolkit.fluxcd.io/v2"
    assert why == (
        "infrastructure/cert-manager/release.yaml:2 uses helm.toolkit.fluxcd.io/v2beta1, "
        "deprecated since Flux 2.3 made helm.toolkit.fluxcd.io/v2 GA"
    )
    assert value(ex, "served apiVersion HelmRepository")[0] == "source.toolkit.fluxcd.io/v1"
    assert value(ex, "Namespace label toolkit.fluxcd.io/tenant") == (
        "sre-team (also on 3 of 4 others)",
        "infrastructure/cert-manager/namespace.yaml:2",
    )
    assert value(ex, "HelmRelease interval") == (
        "30m",
        "infrastructure/cert-manager/release.yaml:8",
    )
    assert value(ex, "chart interval") == ("12h", "infrastructure/cert-manager/release.yaml:17")
    assert value(ex, "namespace set by") == (
        "namespace: of its kustomization.yaml",
        "infrastructure/cert-manager/kustomization.yaml:1",
    )
    spec, where = value(ex, "Flux Kustomization spec")
    assert where == "clusters/my-cluster/infrastructure.yaml:2"
    assert '"retryInterval":"1m"' in spec and '"wait":true' in spec


def test_kustomize_helm_example_one_file_with_every_kind() -> None:
    ex = pick(
        shared_path("realrepos") / "fluxcd__flux2-kustomize-helm-example", "staging", "external-dns"
    )
    assert ex.component == "cert-manager"
    assert ex.files == (
        FileShape(
            "cert-manager.yaml",
            ("Namespace", "OCIRepository", "HelmRelease"),
            "infrastructure/controllers/cert-manager.yaml:2",
        ),
    )
    assert ex.file_split == "all in one file"
    assert value(ex, "HelmRelease install strategy") == (
        "RetryOnFailure",
        "infrastructure/controllers/cert-manager.yaml:31",
    )
    assert value(ex, "HelmRelease upgrade strategy")[0] == "RetryOnFailure"
    assert value(ex, "source pin") == (
        "semver: 1.x",
        "infrastructure/controllers/cert-manager.yaml:21",
    )
    assert value(ex, "source interval")[0] == "24h"
    assert ex.fact("Flux Kustomization spec") is None  # bundled: no Kustomization of its own


def test_example_exemplar_keeps_the_seed_style() -> None:
    ex = pick(EXAMPLE, "local-kube", "external-dns")
    assert ex.file_split == "one file per kind"
    assert ex.file_for("HelmRelease") == "helm-release.yaml"
    assert ex.file_for("HelmRepository") == "helm-repository.yaml"
    assert value(ex, "HelmRelease install")[0] == '{"remediation":{"retries":3}}'


def test_overlay_fixture_orders_mirrors_an_oci_app() -> None:
    ex = pick(FIXTURES / "layout-base-overlays", "staging", "oci://ghcr.io/example/charts/orders")
    assert ex.component == "podinfo"
    assert ex.why.startswith("podinfo takes its chart from the same kind of location")
    assert (ex.source_kind, ex.chart_ref) == ("OCIRepository", True)
    assert [f.name for f in ex.files] == [
        "helmrelease.yaml",
        "kustomization.yaml",
        "namespace.yaml",
        "ocirepository.yaml",
    ]
    assert value(ex, "namespace set by") == (
        "namespace: of its kustomization.yaml",
        "apps/base/podinfo/kustomization.yaml:1",
    )
    assert (
        value(ex, "HelmRelease label app.kubernetes.io/part-of")[0]
        == "shop (also on 1 of 1 others)"
    )
    assert value(ex, "source pin") == ("semver: 6.x", "apps/base/podinfo/ocirepository.yaml:13")


def test_no_exemplar_without_helm_components() -> None:
    model = load_repo(FIXTURES / "flux-nested")
    assert exemplar(model, infer_layout(model), None, "redis") is None
