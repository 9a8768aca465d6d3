"""Findings kept from an earlier run are only used when nothing they depend on changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrawright import cache
from infrawright.progress import observe
from infrawright.repo.loader import load_repo
from infrawright.validate.engine import ValidationResult, validate


def run(repo: Path, **options: object) -> tuple[ValidationResult, list[str]]:
    with observe() as recorded:
        result = validate(load_repo(repo), **options)  # type: ignore[arg-type]
    return result, [name for name, _s, _n in recorded.summary()]


@pytest.fixture
def repo(example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    cache.code_version.cache_clear()
    return example_copy


def test_an_unchanged_repository_gets_the_same_findings_without_running_the_rules(
    repo: Path,
) -> None:
    orphan = repo / "namespaces/kong/orphan.yaml"
    orphan.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: orphan\n")
    first, phases = run(repo)
    assert "rules" in phases
    assert [f.rule for f in first.findings] == ["IW010"]
    again, phases = run(repo)
    assert "rules" not in phases
    assert again.findings == first.findings
    assert again.unchecked_kinds == first.unchecked_kinds
    assert again.schema_checked == first.schema_checked


def test_any_edit_runs_the_rules_again(repo: Path) -> None:
    run(repo)
    orphan = repo / "namespaces/kong/orphan.yaml"
    orphan.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: orphan\n")
    result, phases = run(repo)
    assert "rules" in phases
    assert [f.rule for f in result.findings] == ["IW010"]
    orphan.unlink()  # back as it was at first: the first run's findings apply again
    result, phases = run(repo)
    assert "rules" not in phases
    assert result.findings == ()


def test_other_options_or_other_code_run_the_rules_again(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(repo)
    _result, phases = run(repo, disable=["IW010"])
    assert "rules" in phases
    monkeypatch.setattr(cache, "code_version", lambda: "an edited checkout")
    _result, phases = run(repo)
    assert "rules" in phases


def test_findings_that_needed_more_than_the_walk_are_not_kept(repo: Path) -> None:
    """A file in a hidden folder is not in the walk; IW010 lists that folder itself, so
    the findings depend on more than the key covers and are never reused."""
    hidden = repo / "namespaces/kong/.drafts"
    hidden.mkdir()
    run(repo)
    (hidden / "draft.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n")
    result, phases = run(repo)
    assert "rules" in phases
    assert any(f.file == "namespaces/kong/.drafts/draft.yaml" for f in result.findings)
