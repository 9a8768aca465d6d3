"""A change validated in a partial copy (only the folders its builds read) gives exactly
what the same change validated in a full copy of the repository gives."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.change.implement import (
    _validate_in_part,
    partial_copy_possible,
    validate_in_scratch,
)
from infrawright.change.scratch import ScratchCopy
from infrawright.change.workflow import rule_planner
from infrawright.model.conventions import infer
from infrawright.model.loader import load_repo
from infrawright.model.repo import RepoModel
from infrawright.render.changeset import Changeset
from infrawright.render.draft import Draft
from infrawright.render.ops import render_plan
from infrawright.validate.engine import ValidationResult, validate

REQUESTS = [
    "we need metallb",
    "install redis",
    "upgrade kong to 2.41.0",
    "allow ingress from kong to postgres on port 5432",
    "remove kong",
    "create namespace team-a",
]


def _change(model: RepoModel, before: ValidationResult, request: str) -> Changeset:
    plan = rule_planner()(request, model)
    return render_plan(Draft(before.analysis, infer(model)), plan).changes


def _summary(result: ValidationResult) -> dict[str, Any]:
    analysis = result.analysis
    return {
        "findings": sorted((f.rule, f.file, f.line, f.message) for f in result.findings),
        "layers": analysis.graph.layers,
        "builds": {
            label: sorted(
                (o.file, o.line, json.dumps(o.data, sort_keys=True)) for o in build.objects
            )
            for label, build in analysis.builds.items()
        },
        "unchecked": result.unchecked_kinds,
    }


def _in_full_copy(
    model: RepoModel, changes: Changeset, before: ValidationResult, monkeypatch: pytest.MonkeyPatch
) -> ValidationResult:
    """The same change validated the long way: a full copy and no cache (so nothing a
    partial copy built can be taken from it)."""
    with monkeypatch.context() as off:
        off.setenv("INFRAWRIGHT_CACHE", "off")
        full_copy = ScratchCopy(model.root)
        try:
            return validate_in_scratch(model, changes, [], before, full_copy)[1]
        finally:
            full_copy.close()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read again
    return copy_repo(EXAMPLE, tmp_path / "repo")


@pytest.mark.parametrize("request_text", REQUESTS)
def test_a_partial_copy_gives_what_a_full_copy_gives(
    repo: Path, tmp_path: Path, request_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_repo(repo)
    before = validate(model)
    assert partial_copy_possible(model)
    changes = _change(model, before, request_text)
    assert changes.files
    part = _validate_in_part(model, changes, [], before)
    assert part is not None, "the partial copy was not used"
    assert _summary(part[1]) == _summary(_in_full_copy(model, changes, before, monkeypatch))
    assert list((tmp_path / "tmp").iterdir()) == []  # the partial copy is gone
    assert load_repo(repo).content_key == model.content_key  # the repository is untouched


def test_rules_that_ask_the_file_system_send_it_to_a_full_copy(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kustomization naming ``./cilium-network-policies`` makes IW010 ask the file system
    where that leads, which a partial copy cannot answer for: the change is validated in
    a full copy instead, with the same result as always."""
    model = load_repo(repo)
    before = validate(model)
    kustomization = "namespaces/kong/kustomization.yaml"
    text = (repo / kustomization).read_text()
    changes = Changeset(
        files={kustomization: text.replace("- cilium-network", "- ./cilium-network").encode()}
    )
    assert _validate_in_part(model, changes, [], before) is None
    _after, result = validate_in_scratch(model, changes, [], before)
    assert _summary(result) == _summary(_in_full_copy(model, changes, before, monkeypatch))


def test_a_repository_with_a_symlink_is_not_copied_in_part(repo: Path) -> None:
    (repo / "namespaces/kong/extra.yaml").symlink_to("namespace.yaml")
    model = load_repo(repo)
    assert not partial_copy_possible(model)
