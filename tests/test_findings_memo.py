"""Findings kept from an earlier run are only used when nothing they depend on changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrawright import cache
from infrawright.model.loader import load_repo
from infrawright.progress import observe
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


def _edit_values(repo: Path) -> None:
    release = repo / "namespaces/kong/helm-release.yaml"
    release.write_text(release.read_text().replace("  values:\n", "  values:\n    x: 1\n", 1))


def _uncached(repo: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    with monkeypatch.context() as off:
        off.setenv("INFRAWRIGHT_CACHE", "off")
        result, _phases = run(repo)
    return sorted((f.rule, f.file, f.message) for f in result.findings)


def test_an_edit_inside_a_manifest_keeps_the_findings_of_the_shape_rules(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IW001, IW002 and IW010 read only the repository's shape (listings, kustomization
    files, the Flux Kustomizations): an edit to a HelmRelease's values leaves it as it
    was, so their findings are kept; the other rules run."""
    (repo / "namespaces/kong/orphan.yaml").write_text("kind: ConfigMap\napiVersion: v1\n")
    _first, phases = run(repo)
    assert "rules" in phases
    _edit_values(repo)
    result, phases = run(repo)
    assert "rules" in phases and "rules that need no build" not in phases
    assert [(f.rule, f.file) for f in result.findings] == [("IW010", "namespaces/kong/orphan.yaml")]
    assert sorted((f.rule, f.file, f.message) for f in result.findings) == _uncached(
        repo, monkeypatch
    )


@pytest.mark.parametrize(
    "change",
    ["new orphan file", "resource dropped from a kustomization", "cluster file edited"],
)
def test_a_change_to_the_shape_runs_the_shape_rules_again(
    repo: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    run(repo)
    if change == "new orphan file":
        (repo / "namespaces/kong/orphan.yaml").write_text("kind: ConfigMap\napiVersion: v1\n")
    elif change == "resource dropped from a kustomization":
        kustomization = repo / "namespaces/kong/kustomization.yaml"
        kustomization.write_text(kustomization.read_text().replace("  - helm-release.yaml\n", ""))
    else:
        cluster = repo / "clusters/local-kube/infrastructure.yaml"
        cluster.write_text(cluster.read_text().replace("path: ./namespaces/kong", "path: ./gone"))
    result, phases = run(repo)
    assert "rules that need no build" in phases
    found = sorted((f.rule, f.file, f.message) for f in result.findings)
    assert any(rule == "IW010" for rule, _file, _message in found), found
    assert found == _uncached(repo, monkeypatch)


def test_a_missing_folder_is_known_from_the_walk_without_asking_the_file_system(
    repo: Path,
) -> None:
    """A Kustomization path, or the components folder, that the walk's listings show
    missing is reported as before, and the findings can still be kept (nothing was
    asked beyond the listings)."""
    cluster = repo / "clusters/local-kube/infrastructure.yaml"
    text = cluster.read_text().replace("path: ./namespaces/kong", "path: ./namespaces/gone/deeper")
    cluster.write_text(text)
    (repo / ".infrawright.toml").write_text('components_dir = "apps"\n')
    model = load_repo(repo)
    result = validate(model)
    messages = [f.message for f in result.findings if f.rule == "IW010"]
    assert any("'./namespaces/gone/deeper' does not exist" in m for m in messages), messages
    assert model.looked_up == []
