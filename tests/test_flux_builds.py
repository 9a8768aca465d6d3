"""Builds match what Flux applies: namespaces from the including kustomization.yaml,
``targetNamespace``, ``components``, ``patches``, ``images`` and ``postBuild`` substitution.

Uses the ``flux-nested`` fixture (two teams, each with a Flux Kustomization called ``web``).
"""

from __future__ import annotations

import functools

import pytest

from conftest import FIXTURES
from infrawright.build.flux_build import substitute
from infrawright.model.loader import load_repo
from infrawright.repo.documents import Document
from infrawright.validate.engine import ValidationResult, validate

REPO = FIXTURES / "flux-nested"


@functools.cache
def result() -> ValidationResult:
    return validate(load_repo(REPO))


def objects(label: str, kind: str) -> list[Document]:
    return [o for o in result().analysis.builds[label].objects if o.kind == kind]


def test_namespace_comes_from_the_including_kustomization() -> None:
    keys = sorted(ks.key for ks in result().analysis.model.kustomizations)
    assert keys == ["flux-system/apps", "flux-system/flux-system", "team-a/web", "team-b/web"]


def test_same_name_in_two_namespaces_is_two_builds_and_no_finding() -> None:
    res = result()
    assert sorted(res.analysis.builds) == ["apps", "flux-system", "team-a/web", "team-b/web"]
    assert res.findings == ()


def test_cross_namespace_depends_on_resolves_in_the_graph() -> None:
    graph = result().analysis.graph
    assert graph.layers["team-a/web"] == 1
    assert graph.depends_on("team-a/web") == ["team-b/web"]


def test_target_namespace_is_applied() -> None:
    [deploy_a] = objects("team-a/web", "Deployment")
    [deploy_b] = objects("team-b/web", "Deployment")
    assert (deploy_a.namespace, deploy_b.namespace) == ("team-a", "team-b")


def test_post_build_substitution() -> None:
    [deploy_a] = objects("team-a/web", "Deployment")
    [deploy_b] = objects("team-b/web", "Deployment")
    assert (deploy_a.name, deploy_b.name) == ("web-a", "web-b")
    notes = deploy_a.metadata["annotations"]
    assert notes["example.com/tier"] == "frontend"  # default
    assert deploy_b.metadata["annotations"]["example.com/tier"] == "backend"
    assert notes["example.com/domain"] == "web.${CLUSTER_DOMAIN}"  # unknown: kept
    assert notes["example.com/literal"] == "${ESCAPED}"  # $$ escape


def test_components_patches_and_images_are_applied() -> None:
    [config] = objects("team-a/web", "ConfigMap")
    assert (config.name, config.namespace) == ("web-a-backup", "team-a")
    assert config.file == "components/backup/configmap.yaml"
    [deploy_a] = objects("team-a/web", "Deployment")
    assert deploy_a.metadata["annotations"]["example.com/patched"] == "yes"
    image = deploy_a.data["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "nginx:1.27.3"
    # team-b has none of these settings.
    assert objects("team-b/web", "ConfigMap") == []
    [deploy_b] = objects("team-b/web", "Deployment")
    assert "example.com/patched" not in deploy_b.metadata["annotations"]


def test_built_objects_keep_their_source_line() -> None:
    [deploy_a] = objects("team-a/web", "Deployment")
    assert (deploy_a.file, deploy_a.line) == ("apps/team-a/web/app/deployment.yaml", 1)


@pytest.mark.parametrize(
    ("text", "known", "want"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
        ("${A:=d}", {}, "d"),
        ("${A:-d}", {"A": "x"}, "x"),
        ("${A}", {}, "${A}"),
        ("$${A}", {"A": "x"}, "${A}"),
        ("no vars", {"A": "x"}, "no vars"),
    ],
)
def test_substitute(text: str, known: dict[str, str], want: str) -> None:
    assert substitute({"k": [text]}, known) == {"k": [want]}


def test_cilium_is_detected_only_where_it_runs() -> None:
    from conftest import EXAMPLE
    from infrawright.validate.context import runs_cilium
    from infrawright.validate.engine import analyze

    assert not runs_cilium(result().analysis.model, result().analysis.index)
    example = analyze(load_repo(EXAMPLE))
    assert runs_cilium(example.model, example.index)
