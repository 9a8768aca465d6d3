"""The bundled example repository is valid and shaped like the reference layout."""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLE
from infrawright.build.kustomize import Kustomize
from infrawright.model.loader import load_repo
from infrawright.validate.engine import validate


def test_example_validates_clean_against_upstream_crds(kustomize: Kustomize, crds: Path) -> None:
    model = load_repo(EXAMPLE)
    result = validate(model, crd_dirs=[crds], tool=kustomize)
    assert result.findings == ()
    assert all(b.error is None and b.skipped is None for b in result.analysis.builds.values())
    assert result.schema_checked >= 30
    assert "cilium.io/v2/CiliumNetworkPolicy" not in result.unchecked_kinds


def test_example_layout() -> None:
    model = load_repo(EXAMPLE)
    assert model.cluster == "local-kube"
    assert model.cluster_file == "clusters/local-kube/infrastructure.yaml"
    assert (EXAMPLE / "knowledge/infrastructure/infrastructure-patterns.md").is_file()
    assert (EXAMPLE / "Vagrantfile").is_file()
    infra = {ks.name for ks in model.kustomizations if ks.doc.file == model.cluster_file}
    assert infra == {ks.name for ks in model.kustomizations} - {"flux-system"}
    for needed in ("cilium", "cert-manager", "cert-manager-config", "monitoring", "postgres"):
        assert needed in model.components
    assert any(c.endswith("-monitoring") for c in model.components)


def test_example_crd_index(kustomize: Kustomize) -> None:
    from infrawright.validate.engine import analyze

    analysis = analyze(load_repo(EXAMPLE), tool=kustomize)
    assert analysis.index.providers_of("cert-manager.io") == ["cert-manager"]
    assert analysis.index.providers_of("cilium.io") == ["cilium"]
    assert analysis.index.providers_of("monitoring.coreos.com") == ["monitoring"]
    uses = {(u.group, u.kind) for u in analysis.index.uses["cert-manager-config"]}
    assert ("cert-manager.io", "ClusterIssuer") in uses
    assert analysis.graph.layers["cilium"] == 0
