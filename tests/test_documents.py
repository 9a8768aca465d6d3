"""Reading YAML: positions, tolerance of real-world YAML, bounds on hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrawright.repo.documents import (
    Document,
    decode,
    document,
    fields_of,
    from_fields,
    parse_text,
    read_yaml_file,
    reindexed,
    yaml_file,
)


def test_documents_keep_their_start_line() -> None:
    text = (
        "# header\n---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n\n"
        "apiVersion: v1\nkind: B\nmetadata: {name: b}\n"
    )
    parsed = parse_text(text, "f.yaml")
    assert [(d.kind, d.line) for d in parsed.objects] == [("A", 3), ("B", 8)]


def test_resource_id_namespaced_and_cluster_scoped() -> None:
    parsed = parse_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\n---\n"
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n",
        "f.yaml",
    )
    assert [d.resource for d in parsed.objects] == ["ConfigMap/n/c", "Namespace/n"]


def test_anchor_defined_twice_is_read_not_rejected() -> None:
    parsed = parse_text("a: &x 1\nb: &x 2\nc: *x\n", "f.yaml")
    assert parsed.problem is None
    assert parsed.documents[0].data == {"a": 1, "b": 2, "c": 2}


def test_bare_equals_and_application_tags_are_plain_values() -> None:
    parsed = parse_text("a: =\nb: !env_var HOME\n", "f.yaml")
    assert parsed.problem is None
    assert parsed.documents[0].data == {"a": "=", "b": "HOME"}


def test_alias_bomb_is_refused_quickly_with_its_line() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
        previous = name
    parsed = parse_text("\n".join(lines) + "\n", "bomb.yaml")
    assert parsed.problem is not None
    assert "alias" in parsed.problem.message
    assert parsed.problem.line is not None and parsed.problem.line > 1


def test_syntax_error_names_the_line() -> None:
    parsed = parse_text("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    assert parsed.problem is not None
    assert parsed.problem.line == 3


def test_non_utf8_names_line_and_byte() -> None:
    text, problem = decode(b"a: 1\nb: caf\xe9\n", "latin.yaml")
    assert text is None and problem is not None
    assert problem.line == 2
    assert "0xe9" in problem.message


def test_binary_file_is_refused() -> None:
    _text, problem = decode(b"\x00\x01\x02", "bin.yaml")
    assert problem is not None and "binary" in problem.message


def test_bom_and_crlf_are_read(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"\xef\xbb\xbfapiVersion: v1\r\nkind: A\r\nmetadata:\r\n  name: a\r\n")
    parsed = read_yaml_file(path, "f.yaml")
    assert parsed.problem is None
    assert parsed.objects[0].name == "a"


def test_sops_files_are_marked() -> None:
    parsed = parse_text("kind: Secret\napiVersion: v1\nsops:\n  mac: x\n", "s.yaml")
    assert parsed.sops


@pytest.mark.parametrize("depth", [5_000])
def test_deep_nesting_does_not_crash(depth: int) -> None:
    parsed = parse_text("[" * depth + "]" * depth, "deep.yaml")
    # Either read or refused with a message; never an exception.
    assert parsed.problem is None or parsed.problem.message


def test_recursive_alias_is_refused_not_expanded_forever() -> None:
    """Found by bench/fuzz.py: an alias inside its own anchor looped without end."""
    parsed = parse_text("a: &x [*x, *x]\nb: 1\n", "loop.yaml")
    assert parsed.problem is not None
    assert parsed.problem.line == 1


@pytest.mark.parametrize(
    "data",
    [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "v1"},
        {"kind": 5, "apiVersion": "v1"},
        {"kind": None, "apiVersion": "v1"},
        ["a", "list"],
        "scalar",
        None,
    ],
)
def test_the_fast_constructor_builds_the_same_document(data: object) -> None:
    slow = Document("f.yaml", 3, 1, data)
    fast = document("f.yaml", 3, 1, data)
    assert fast == slow
    derived = ("kind", "api_version", "is_object", "group")
    assert [getattr(fast, f) for f in derived] == [getattr(slow, f) for f in derived]
    # kept in the parse cache as plain data and restored from it
    restored = from_fields(fields_of(slow))
    assert restored == slow and fields_of(restored) == fields_of(slow)
    assert [getattr(restored, f) for f in derived] == [getattr(slow, f) for f in derived]
    moved = reindexed(slow, 7)
    assert moved.index == 7 and (moved.file, moved.line, moved.data) == ("f.yaml", 3, data)
    assert fields_of(moved) == {**fields_of(slow), "index": 7} and slow.index == 1


def test_the_fast_file_constructor_builds_the_same_file() -> None:
    slow = parse_text("a: 1\n---\nkind: Namespace\napiVersion: v1\n", "x.yaml")
    fast = yaml_file(
        slow.path, slow.documents, slow.problem, slow.sops, slow.digest, slow.fresh, slow.style
    )
    assert fast == slow
    assert fast.objects == slow.objects and len(fast.objects) == 1
    assert (fast.digest, fast.fresh, fast.style) == (slow.digest, slow.fresh, slow.style)


def test_the_style_of_a_file_is_kept_with_its_parse() -> None:
    text = (
        "spec:\n  chart:\n    spec:\n      version: '1.2.x'\n"
        "resources:\n  - a.yaml\nitems:\n- b\n---\nversion: 2\n"
    )
    parsed = parse_text(text, "f.yaml")
    assert parsed.style == (True, (True, False))
    assert parse_text("version: 1.0\n", "g.yaml").style == (False, ())
    assert parse_text("a: 1\n", "h.yaml").style == (None, ())
