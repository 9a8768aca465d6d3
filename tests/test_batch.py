"""Batched builds give exactly what one build per Kustomization gives."""

from __future__ import annotations

from conftest import EXAMPLE, FIXTURES
from infrawright.repo.loader import load_repo
from infrawright.validate.batch import batch_folder
from infrawright.validate.builds import build_all, build_one
from infrawright.validate.kustomize import find_kustomize


def test_batched_builds_equal_single_builds() -> None:
    model = load_repo(EXAMPLE)
    tool = find_kustomize()
    batchable = [ks.name for ks in model.kustomizations if batch_folder(model, ks)]
    assert len(batchable) >= 10  # the flat layout batches almost everything
    batched = build_all(model, tool)
    for build in batched:
        single = build_one(model, tool, build.kustomization)
        assert build.folder == single.folder
        assert build.error == single.error
        assert [(o.file, o.line, o.data) for o in build.objects] == [
            (o.file, o.line, o.data) for o in single.objects
        ], build.kustomization.name


def test_what_flux_changes_is_not_batched() -> None:
    model = load_repo(FIXTURES / "flux-nested")
    assert {ks.key: batch_folder(model, ks) for ks in model.kustomizations} == {
        "flux-system/apps": "apps",
        "flux-system/flux-system": None,  # no kustomization.yaml: built like Flux does
        "team-a/web": None,  # targetNamespace, patches, images, components, postBuild
        "team-b/web": None,
    }


def test_a_failing_member_is_named_alone() -> None:
    """iw000-build-fails: one component does not build; the others still do."""
    model = load_repo(FIXTURES / "iw000-build-fails")
    builds = build_all(model, find_kustomize())
    failed = [b.kustomization.name for b in builds if b.error]
    built = [b.kustomization.name for b in builds if b.error is None and b.objects]
    assert len(failed) == 1
    assert built
