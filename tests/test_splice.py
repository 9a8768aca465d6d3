"""Byte-exact tests of the YAML splicing helpers on realistic Flux files."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from infrawright.render import splice
from infrawright.render.splice import (
    SpliceError,
    append_to_list,
    delete_document,
    document_spans,
    find_document,
    insert_document,
    remove_from_list,
    scalar_span,
    set_scalar,
    set_value,
)

# A cluster file of Flux Kustomizations: lists indented under their key (REDIS) or not (APPS).
CONTROLLERS = """\
# Controllers first: everything else depends on them.
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra-controllers
  namespace: flux-system
spec:
  interval: 1h
  path: ./infrastructure/controllers
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
REDIS = """\
# Redis cache for the apps.
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: redis
  namespace: flux-system
spec:
  dependsOn:
    - name: infra-controllers
  interval: 10m
  path: ./infrastructure/redis
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
APPS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  dependsOn:
  - name: infra-controllers
  - name: redis  # the session store
  # apps reconcile every ten minutes
  interval: 10m
  path: "./apps/production"
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  timeout: '5m'
"""
CLUSTER = "---\n" + CONTROLLERS + "---\n" + REDIS + "---\n" + APPS

REPOSITORY = """\
# Chart source for the monitoring stack.
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: prometheus-community
  namespace: flux-system
spec:
  interval: 24h
  url: https://prometheus-community.github.io/helm-charts
"""
RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: kube-prometheus-stack
  namespace: monitoring
spec:
  interval: 30m
  chart:
    spec:
      chart: kube-prometheus-stack
      version: @VERSION@
      sourceRef:
        kind: HelmRepository
        name: prometheus-community
        namespace: flux-system
  install:
    crds: Create
  values:
    # keep a week and a half of metrics
    prometheus:
      prometheusSpec:
        retention: 10d
    grafana:
      securityContext: { runAsNonRoot: true }
"""


def helm(version: str) -> str:
    """A HelmRepository, then (document 1) a HelmRelease pinned as written."""
    return REPOSITORY + "---\n" + RELEASE.replace("@VERSION@", version)


QUOTED, PLAIN, SINGLE = helm('"1.16.2"'), helm("1.16.2"), helm("'1.x'")
VERSION = ["spec", "chart", "spec", "version"]
RETENTION = ["spec", "values", "prometheus", "prometheusSpec", "retention"]


def changed_lines(old: str, new: str) -> list[str]:
    diff = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def assert_others_untouched(old: str, new: str, edited: int) -> None:
    """Every other document's bytes, and everything before the edited one, are unchanged."""
    old_spans, new_spans = document_spans(old), document_spans(new)
    assert len(old_spans) == len(new_spans)
    for i, ((a, b), (c, d)) in enumerate(zip(old_spans, new_spans, strict=True)):
        if i != edited:
            assert new[c:d] == old[a:b]
    assert new[: new_spans[edited][0]] == old[: old_spans[edited][0]]
    assert new[new_spans[edited][1] :].endswith(old[old_spans[edited][1] :])


def load(text: str, doc: int) -> Any:
    return [d for d in yaml.safe_load_all(text) if d is not None][doc]


@pytest.fixture
def no_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any use of ruamel.yaml from the module under test."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("ruamel.yaml round-trip used")

    monkeypatch.setattr(splice, "YAML", forbidden)


# -- locating documents and scalars ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "contents"),
    [
        ("kind: A\n", ["kind: A"]),
        ("---\nkind: A\n", ["kind: A"]),
        ("kind: A\n---\n# about B\nkind: B  # eol\n# trailing\n", ["kind: A", "kind: B  # eol"]),
        ("a: 1\n---\n---\nb: [1,\n  2]\nc: |\n  x\n\n", ["a: 1", "b: [1,\n  2]\nc: |\n  x"]),
        ("# only a comment\n", []),
        (CLUSTER, [CONTROLLERS.partition("\n")[2][:-1], REDIS.partition("\n")[2][:-1], APPS[:-1]]),
    ],
)
def test_document_spans(text: str, contents: list[str]) -> None:
    assert [text[start:end] for start, end in document_spans(text)] == contents


def test_document_spans_offsets() -> None:
    text = "a: 1\n---\n# c\nb: 2  # x\n# tail\n"
    assert document_spans(text) == [(0, 4), (13, 22)]


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        (lambda d: d["metadata"]["name"] == "redis", 1),
        (lambda d: d["metadata"]["name"] == "apps", 2),
        (lambda d: "dependsOn" in d["spec"], 1),
        (lambda d: d["kind"] == "HelmRelease", None),
    ],
)
def test_find_document(match: Callable[[Any], bool], expected: int | None) -> None:
    assert find_document(CLUSTER, match) == expected


def test_find_document_sees_plain_data() -> None:
    seen: list[Any] = []

    def record(data: Any) -> bool:
        seen.append(data)
        return False

    assert find_document(QUOTED, record) is None
    assert seen[1]["spec"]["chart"]["spec"]["version"] == "1.16.2"
    assert type(seen[1]["spec"]["values"]["prometheus"]) is dict


@pytest.mark.parametrize(
    ("text", "doc", "path", "spelled"),
    [
        (QUOTED, 1, VERSION, '"1.16.2"'),
        (PLAIN, 1, VERSION, "1.16.2"),
        (SINGLE, 1, VERSION, "'1.x'"),
        (PLAIN, 1, RETENTION, "10d"),
        (PLAIN, 1, ["spec", "values", "grafana", "securityContext", "runAsNonRoot"], "true"),
        (CLUSTER, 2, ["spec", "dependsOn", 1, "name"], "redis"),
        (CLUSTER, 2, ["spec", "timeout"], "'5m'"),
    ],
)
def test_scalar_span(text: str, doc: int, path: list[str | int], spelled: str) -> None:
    start, end = scalar_span(text, doc, path)
    assert text[start:end] == spelled


# -- set_scalar -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "doc", "path", "value", "old_line", "new_line"),
    [
        (QUOTED, 1, VERSION, "1.16.3", '      version: "1.16.2"', '      version: "1.16.3"'),
        (PLAIN, 1, VERSION, "1.16.3", "      version: 1.16.2", "      version: 1.16.3"),
        (SINGLE, 1, VERSION, "2.x", "      version: '1.x'", "      version: '2.x'"),
        (PLAIN, 1, VERSION, "1.10", "      version: 1.16.2", '      version: "1.10"'),
        (QUOTED, 1, VERSION, "1.10", '      version: "1.16.2"', '      version: "1.10"'),
        (SINGLE, 1, VERSION, "1.10", "      version: '1.x'", "      version: '1.10'"),
        (PLAIN, 1, VERSION, "yes", "      version: 1.16.2", '      version: "yes"'),
        (PLAIN, 1, VERSION, "2024-01-01", "      version: 1.16.2", '      version: "2024-01-01"'),
        (PLAIN, 1, VERSION, "1e3", "      version: 1.16.2", '      version: "1e3"'),
        (PLAIN, 1, VERSION, "y", "      version: 1.16.2", '      version: "y"'),
        (PLAIN, 1, VERSION, "0o17", "      version: 1.16.2", '      version: "0o17"'),
        (PLAIN, 1, RETENTION, "15d", "        retention: 10d", "        retention: 15d"),
        (PLAIN, 1, RETENTION, "a: b", "        retention: 10d", '        retention: "a: b"'),
        (QUOTED, 1, VERSION, 'a"b', '      version: "1.16.2"', '      version: "a\\"b"'),
        (SINGLE, 1, VERSION, "it's", "      version: '1.x'", "      version: 'it''s'"),
        (
            PLAIN,
            1,
            ["spec", "values", "grafana", "securityContext", "runAsNonRoot"],
            False,
            "      securityContext: { runAsNonRoot: true }",
            "      securityContext: { runAsNonRoot: false }",
        ),
        (CLUSTER, 1, ["spec", "prune"], False, "  prune: true", "  prune: false"),
        (CLUSTER, 2, ["spec", "timeout"], "10m", "  timeout: '5m'", "  timeout: '10m'"),
        (
            CLUSTER,
            2,
            ["spec", "path"],
            "./apps/staging",
            '  path: "./apps/production"',
            '  path: "./apps/staging"',
        ),
        (
            CLUSTER,
            2,
            ["spec", "dependsOn", 1, "name"],
            "valkey",
            "  - name: redis  # the session store",
            "  - name: valkey  # the session store",
        ),
    ],
)
def test_set_scalar_changes_one_line(
    text: str,
    doc: int,
    path: list[str | int],
    value: str | bool,
    old_line: str,
    new_line: str,
    no_round_trip: None,
) -> None:
    out = set_scalar(text, doc, path, value)
    assert changed_lines(text, out) == [f"-{old_line}\n", f"+{new_line}\n"]
    start, end = document_spans(text)[doc]
    assert out == text[:start] + text[start:end].replace(old_line, new_line) + text[end:]
    assert_others_untouched(text, out, doc)
    got: Any = load(out, doc)
    for key in path:
        got = got[key]
    assert got == value
    assert type(got) is type(value)


def test_version_1_10_stays_a_string() -> None:
    out = set_scalar(PLAIN, 1, VERSION, "1.10")
    assert load(out, 1)["spec"]["chart"]["spec"]["version"] == "1.10"
    assert load(set_scalar(PLAIN, 1, VERSION, "1.16.3"), 1)["spec"]["chart"]["spec"]["version"] == (
        "1.16.3"
    )


@pytest.mark.parametrize(
    ("value", "spelled"),
    [(3, "3"), (1.5, "1.5"), (1e20, "1.0e+20"), (True, "true"), ("", '""'), ("a\nb", '"a\\nb"')],
)
def test_set_scalar_value_types(value: str | int | float | bool, spelled: str) -> None:
    out = set_scalar("spec:\n  replicas: 1  # scale\n", 0, ["spec", "replicas"], value)
    assert out == f"spec:\n  replicas: {spelled}  # scale\n"
    assert yaml.safe_load(out)["spec"]["replicas"] == value


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        (PLAIN, VERSION, "1.16.2"),
        (QUOTED, VERSION, "1.16.2"),
        (PLAIN, RETENTION, "10d"),
        ("a: 1e3\nb: y\n", ["a"], "1e3"),
        ("a: 1e3\nb: y\n", ["b"], "y"),
    ],
)
def test_set_scalar_to_the_same_value_changes_nothing(
    text: str, path: list[str | int], value: str
) -> None:
    doc = len(document_spans(text)) - 1
    assert set_scalar(text, doc, path, value) == text


def test_set_scalar_fills_an_empty_value() -> None:
    assert set_scalar("a:\nb: 1\n", 0, ["a"], "x") == "a: x\nb: 1\n"


def test_scalar_edits_never_round_trip(no_round_trip: None) -> None:
    out = set_value(PLAIN, 1, VERSION, "1.16.3", comment="REVIEW: bump checked")
    assert changed_lines(PLAIN, out) == [
        "-      version: 1.16.2\n",
        "+      version: 1.16.3  # REVIEW: bump checked\n",
    ]
    no_match = remove_from_list(CLUSTER, 2, ["spec", "dependsOn"], lambda d: d["name"] == "x")
    assert no_match is CLUSTER
    with pytest.raises(AssertionError, match="round-trip used"):
        set_value(PLAIN, 1, ["spec", "timeout"], "10m")


def test_set_value_comment_is_not_repeated() -> None:
    once = set_value(QUOTED, 1, VERSION, "1.16.3", comment="REVIEW: bump")
    assert set_value(once, 1, VERSION, "1.16.3", comment="REVIEW: bump") == once
    assert '      version: "1.16.3"  # REVIEW: bump\n' in once


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: scalar_span(QUOTED, 1, ["spec", "chart", "spec", "versoin"]),
            "spec.chart.spec.versoin",
        ),
        (lambda: set_scalar(QUOTED, 1, ["spec", "chart"], "x"), "spec.chart is not a scalar"),
        (
            lambda: set_scalar(CLUSTER, 2, ["spec", "dependsOn", 5, "name"], "x"),
            r"spec.dependsOn\[5\]",
        ),
        (lambda: set_scalar(CLUSTER, 3, ["kind"], "x"), "document 3 out of range"),
        (lambda: remove_from_list(CLUSTER, 0, ["spec", "dependsOn"], bool), "spec.dependsOn"),
        (
            lambda: remove_from_list(CLUSTER, 0, ["spec", "interval"], bool),
            "spec.interval is not a list",
        ),
        (lambda: append_to_list(CLUSTER, 0, ["spec", "prune"], "x"), "spec.prune is not a list"),
        (lambda: set_value(CLUSTER, 0, ["spec", "interval", "unit"], "h"), "spec.interval.unit"),
        (lambda: set_value(CLUSTER, 2, ["spec", "dependsOn", 2, "name"], "x"), r"dependsOn\[2\]"),
        (lambda: delete_document(CLUSTER, 3), "document 3 out of range"),
        (lambda: insert_document(CLUSTER, "kind: X\n", after=3), "document 3 out of range"),
        (lambda: set_scalar("a: &v 1\nb: *v\n", 0, ["b"], 2), "b is an alias"),
    ],
)
def test_errors_name_the_path(call: Callable[[], object], message: str) -> None:
    with pytest.raises(SpliceError, match=message):
        call()


def test_splice_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"spec\.chart\.spec\.versoin"):
        set_value(QUOTED, 1, ["spec", "chart", "spec", "versoin", 0], "1")


# -- structural edits -------------------------------------------------------------------

RELEASE_WITH_RESOURCES = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: kube-prometheus-stack
  namespace: monitoring
spec:
  interval: 30m
  chart:
    spec:
      chart: kube-prometheus-stack
      version: "1.16.2"
      sourceRef:
        kind: HelmRepository
        name: prometheus-community
        namespace: flux-system
  install:
    crds: Create
  values:
    # keep a week and a half of metrics
    prometheus:
      prometheusSpec:
        retention: 10d
        resources:
          requests:
            memory: 2Gi  # REVIEW: sized for 10d retention
    grafana:
      securityContext: { runAsNonRoot: true }
"""


def test_set_value_creates_nested_keys() -> None:
    path = [*RETENTION[:-1], "resources", "requests", "memory"]
    out = set_value(QUOTED, 1, path, "2Gi", comment="REVIEW: sized for 10d retention")
    assert out == REPOSITORY + "---\n" + RELEASE_WITH_RESOURCES
    assert_others_untouched(QUOTED, out, 1)


@pytest.mark.parametrize(
    ("text", "doc", "path", "value", "comment", "after_line", "added"),
    [
        (
            CLUSTER,
            0,
            ["spec", "wait"],
            True,
            "REVIEW: wait for the CRDs",
            "    name: flux-system\n---\n# Redis",
            "  wait: true  # REVIEW: wait for the CRDs\n",
        ),
        (
            CLUSTER,
            2,
            ["spec", "postBuild", "substitute", "cluster_env"],
            "1.10",
            None,
            "  timeout: '5m'\n",
            "  postBuild:\n    substitute:\n      cluster_env: '1.10'\n",
        ),
        (
            PLAIN,
            1,
            ["spec", "values", "grafana", "enabled"],
            False,
            None,
            "      securityContext: { runAsNonRoot: true }\n",
            "      enabled: false\n",
        ),
        (
            PLAIN,
            1,
            ["metadata", "labels"],
            {"app.kubernetes.io/part-of": "monitoring"},
            "REVIEW: new label",
            "  namespace: monitoring\n",
            "  labels:  # REVIEW: new label\n    app.kubernetes.io/part-of: monitoring\n",
        ),
    ],
)
def test_set_value_adds_keys(
    text: str,
    doc: int,
    path: list[str | int],
    value: Any,
    comment: str | None,
    after_line: str,
    added: str,
) -> None:
    cut = text.index(after_line) + len(after_line.split("\n")[0]) + 1
    out = set_value(text, doc, path, value, comment=comment)
    assert out == text[:cut] + added + text[cut:]
    assert_others_untouched(text, out, doc)


def test_set_value_replaces_a_list() -> None:
    out = set_value(CLUSTER, 1, ["spec", "dependsOn"], [{"name": "a"}, {"name": "b"}])
    old = "  dependsOn:\n    - name: infra-controllers\n"
    assert out == CLUSTER.replace(old, "  dependsOn:\n    - name: a\n    - name: b\n")


@pytest.mark.parametrize(
    ("doc", "name", "old", "new"),
    [
        (1, "infra-controllers", "  dependsOn:\n    - name: infra-controllers\n", ""),
        (2, "redis", "  - name: redis  # the session store\n", ""),
        (2, "infra-controllers", "dependsOn:\n  - name: infra-controllers\n", "dependsOn:\n"),
    ],
)
def test_remove_from_list(doc: int, name: str, old: str, new: str) -> None:
    out = remove_from_list(CLUSTER, doc, ["spec", "dependsOn"], lambda d: d["name"] == name)
    assert CLUSTER.count(old) == 1
    assert out == CLUSTER.replace(old, new)
    assert_others_untouched(CLUSTER, out, doc)


def test_remove_last_items_removes_the_key_and_keeps_comments() -> None:
    out = remove_from_list(CLUSTER, 2, ["spec", "dependsOn"], lambda d: True)
    removed = "  dependsOn:\n  - name: infra-controllers\n  - name: redis  # the session store\n"
    assert out == CLUSTER.replace(removed, "")
    assert "  # apps reconcile every ten minutes\n  interval: 10m\n" in out
    assert "dependsOn" not in load(out, 2)["spec"]


def test_remove_from_a_flow_list() -> None:
    text = "spec:\n  dependsOn: [{name: redis}, {name: postgres}]\n  interval: 1m\n"
    out = remove_from_list(text, 0, ["spec", "dependsOn"], lambda d: d == {"name": "redis"})
    assert out == "spec:\n  dependsOn: [{name: postgres}]\n  interval: 1m\n"


@pytest.mark.parametrize(
    ("text", "doc", "after_line", "added"),
    [
        (CLUSTER, 1, "    - name: infra-controllers\n", "    - name: postgres\n"),
        (CLUSTER, 2, "  - name: redis  # the session store\n", "  - name: postgres\n"),
        (
            "---\n" + CONTROLLERS + "---\n" + APPS,
            0,
            "    name: flux-system\n---\napiVersion",
            "  dependsOn:\n  - name: postgres\n",
        ),
        (
            "---\n" + CONTROLLERS + "---\n" + REDIS,
            0,
            "    name: flux-system\n---\n# Redis",
            "  dependsOn:\n    - name: postgres\n",
        ),
    ],
)
def test_append_to_list_keeps_list_style(text: str, doc: int, after_line: str, added: str) -> None:
    cut = text.index(after_line) + len(after_line.split("\n")[0]) + 1
    out = append_to_list(text, doc, ["spec", "dependsOn"], {"name": "postgres"})
    assert out == text[:cut] + added + text[cut:]
    assert_others_untouched(text, out, doc)


def test_append_to_an_empty_flow_list() -> None:
    out = append_to_list("spec:\n  dependsOn: []\n", 0, ["spec", "dependsOn"], {"name": "a"})
    assert out == "spec:\n  dependsOn:\n    - name: a\n"


def test_structural_edit_keeps_comments_of_untouched_documents() -> None:
    out = append_to_list(CLUSTER, 2, ["spec", "dependsOn"], {"name": "postgres"})
    assert out.startswith("---\n" + CONTROLLERS + "---\n" + REDIS + "---\n")
    for comment in ("# Controllers first", "# Redis cache", "# the session store", "# apps rec"):
        assert out.count(comment) == 1


# -- whole documents --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "doc", "expected"),
    [
        (CLUSTER, 0, "---\n" + REDIS + "---\n" + APPS),
        (CLUSTER, 1, "---\n" + CONTROLLERS + "---\n" + APPS),
        (CLUSTER, 2, "---\n" + CONTROLLERS + "---\n" + REDIS),
        (QUOTED, 0, RELEASE.replace("@VERSION@", '"1.16.2"')),
        (QUOTED, 1, REPOSITORY),
        ("# header\n\n# about a\na: 1\n# about b\n---\nb: 2\n", 0, "# header\n\n# about b\nb: 2\n"),
        ("a: 1\n---\nb: 2", 1, "a: 1\n"),
        ("a: 1\n", 0, ""),
    ],
)
def test_delete_document(text: str, doc: int, expected: str) -> None:
    assert delete_document(text, doc) == expected


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        (CLUSTER, None, CLUSTER + "---\nkind: X\n"),
        (CLUSTER, 2, CLUSTER + "---\nkind: X\n"),
        (CLUSTER, 0, "---\n" + CONTROLLERS + "---\nkind: X\n---\n" + REDIS + "---\n" + APPS),
        (CLUSTER, 1, "---\n" + CONTROLLERS + "---\n" + REDIS + "---\nkind: X\n---\n" + APPS),
        ("a: 1", None, "a: 1\n---\nkind: X\n"),
        ("", None, "kind: X\n"),
    ],
)
def test_insert_document(text: str, after: int | None, expected: str) -> None:
    assert insert_document(text, "kind: X", after=after) == expected
    assert insert_document(text, "---\nkind: X\n", after=after) == expected
