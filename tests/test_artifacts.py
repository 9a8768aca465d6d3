"""An ExternalArtifact an ArtifactGenerator makes from this repository is read as a folder
of it when its copy rules move whole folders by one prefix; any other is not built, and
says why."""

from __future__ import annotations

from typing import Any

import pytest

from infrawright.model.artifacts import locate


def artifact(*rules: dict[str, Any], source: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "generator": "flux-system/flux-system",
        "sources": [source or {"alias": "repo", "kind": "GitRepository", "name": "flux-system"}],
        "artifact": {"name": "apps", "copy": list(rules)},
    }


@pytest.mark.parametrize(
    ("rules", "prefix"),
    [
        ([{"from": "@repo/infrastructure/**", "to": "@artifact/"}], "infrastructure"),
        (
            [
                {"from": "@repo/apps/base/**", "to": "@artifact/base/"},
                {"from": "@repo/apps/production/**", "to": "@artifact/production/"},
            ],
            "apps",
        ),
        ([{"from": "@repo/deploy/**", "to": "@artifact/deploy/"}], ""),
    ],
)
def test_whole_folders_moved_by_one_prefix_are_read_from_the_repository(
    rules: list[dict[str, Any]], prefix: str
) -> None:
    found = locate(artifact(*rules))
    assert found.prefix == prefix, found.why


@pytest.mark.parametrize(
    ("rules", "source", "why"),
    [
        (
            [
                {"from": "@repo/apps/base/**", "to": "@artifact/base/"},
                {"from": "@repo/overlays/prod/**", "to": "@artifact/prod/"},
            ],
            None,
            "rearrange folders",
        ),
        ([{"from": "@repo/apps/**", "to": "@artifact/other/"}], None, "rearrange folders"),
        ([{"from": "@repo/apps/*.yaml", "to": "@artifact/"}], None, "whole-folder copies"),
        (
            [{"from": "@repo/apps/**", "to": "@artifact/", "exclude": ["*.md"]}],
            None,
            "exclude",
        ),
        ([{"from": "@elsewhere/apps/**", "to": "@artifact/"}], None, "names no source"),
        (
            [{"from": "@repo/apps/**", "to": "@artifact/"}],
            {"alias": "repo", "kind": "GitRepository", "name": "podinfo"},
            "is not this repository",
        ),
        ([], None, "no copy rules"),
    ],
)
def test_other_artifacts_say_why_they_are_not_built(
    rules: list[dict[str, Any]], source: dict[str, Any] | None, why: str
) -> None:
    found = locate(artifact(*rules, source=source))
    assert found.prefix is None
    assert why in found.why
    assert found.why.startswith("ExternalArtifact of ArtifactGenerator flux-system/flux-system")
