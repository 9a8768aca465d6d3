"""Batched builds give exactly what one build per Kustomization gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLE, FIXTURES
from infrawright.build import batch
from infrawright.build.batch import batch_folder, cache_folder, cache_folders
from infrawright.build.builds import build_all, build_one
from infrawright.build.kustomize import find_kustomize
from infrawright.model.loader import load_repo


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


def test_cache_folders_are_kept_while_the_shape_holds_and_follow_it(
    example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    model = load_repo(example_copy)
    todo = list(model.kustomizations)
    expected = [cache_folder(model, ks) for ks in todo]
    assert "namespaces/kong" in expected
    assert cache_folders(model, todo) == expected
    with monkeypatch.context() as kept:  # the same shape: answered without working out
        kept.setattr(batch, "cache_folder", lambda *_args: pytest.fail("worked out again"))
        assert cache_folders(load_repo(example_copy), todo) == expected
    kustomization = example_copy / "namespaces/kong/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "  - ../cilium/namespace.yaml\n")
    changed = load_repo(example_copy)
    now = cache_folders(changed, list(changed.kustomizations))
    assert now == [cache_folder(changed, ks) for ks in changed.kustomizations]
    assert "namespaces/kong" not in now  # kong now reads outside its folder
