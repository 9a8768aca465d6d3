"""Byte-preserving edits of (multi-document) YAML text: PyYAML marks locate nodes; structural
edits re-dump only the edited document with ruamel.yaml and splice it back in."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _Loader(_SafeLoader):
    """The safe loader; unknown tags (`!env_var`, `=`) read as untagged data."""


def _untagged(loader: _Loader, node: Any) -> Any:
    return getattr(loader, f"construct_{node.id}")(node)  # node.id: scalar, sequence, mapping


_Loader.add_constructor(None, _untagged)

KeyPath = Sequence[str | int]
Scalar = str | int | bool | float
Slot = tuple[Any, Any]  # (ruamel container, key): where the comment after an entry lives

# Plain strings that some YAML 1.1 or 1.2 reader (PyYAML, ruamel, go-yaml) reads as non-strings.
_AMBIGUOUS = re.compile(
    r"^(~|null|true|false|yes|no|on|off|y|n|<<|=|[-+]?\.(inf|nan)|[-+]?(0[box][0-9a-f_]+"
    r"|([0-9][0-9_]*(\.[0-9_]*)?|\.[0-9_]+)(e[-+]?[0-9]+)?|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?))$",
    re.IGNORECASE,
)


class SpliceError(ValueError):
    """A document or path that is not there, or not of the kind the edit needs."""


@dataclass(frozen=True, eq=False)
class _Doc:
    node: yaml.Node
    start: int  # first character of the content
    end: int  # end of the content's last line (before its newline)
    sep: int | None  # start of its `---` line, when explicit
    empty: bool


def _line_start(text: str, i: int) -> int:
    return text.rfind("\n", 0, i) + 1


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    return len(text) if j < 0 else j


def _fmt(path: KeyPath) -> str:
    out = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")
    return out or "<document root>"


def _scalar_end(text: str, item: Any) -> int:
    """End of a scalar (node or event), before the line breaks that end a block scalar."""
    end: int = item.end_mark.index
    if getattr(item, "style", None) in ("|", ">"):
        while end > item.start_mark.index and text[end - 1].isspace():
            end -= 1
    return end


def _parse(text: str) -> list[_Doc]:
    starts: list[Any] = []
    ends: list[int] = []  # per document: the end of its last scalar, alias or flow collection
    flows: list[bool] = []
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.DocumentStartEvent):
                starts.append(event)
                ends.append(0)
            elif isinstance(event, yaml.CollectionStartEvent):
                flows.append(bool(event.flow_style))
            elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent) or (
                isinstance(event, yaml.CollectionEndEvent) and flows.pop()
            ):
                ends[-1] = max(ends[-1], _scalar_end(text, event))
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise SpliceError(f"not valid YAML: {exc}") from exc
    docs = []
    for node, begin, end in zip(nodes, starts, ends, strict=True):
        empty = isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style
        start = node.start_mark.index
        sep = _line_start(text, begin.start_mark.index) if begin.explicit else None
        docs.append(_Doc(node, start, start if empty else _line_end(text, end), sep, empty))
    return docs


def _pick(text: str, doc: int) -> tuple[list[_Doc], _Doc]:
    full = _parse(text)
    docs = [d for d in full if not d.empty]
    if not 0 <= doc < len(docs):
        raise SpliceError(f"document {doc} out of range: the text has {len(docs)}")
    return full, docs[doc]


def _plain(node: yaml.Node) -> Any:
    loader = _Loader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _walk(node: yaml.Node, path: KeyPath) -> list[tuple[yaml.Node | None, yaml.Node]]:
    """(key node, value node) along the longest existing prefix of path."""
    found: list[tuple[yaml.Node | None, yaml.Node]] = []
    for key in path:
        hit: tuple[yaml.Node | None, yaml.Node] | None = None
        floor = 0
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            hit = next((kv for kv in reversed(node.value) if kv[0].value == key), None)
            floor = hit[0].end_mark.index if hit else 0
        elif isinstance(node, yaml.SequenceNode) and key in range(len(node.value)):
            hit = (None, node.value[key])
            floor = max([node.start_mark.index] + [n.end_mark.index for n in node.value[:key]])
        if hit is None:
            break
        if hit[1].start_mark.index < floor:  # an alias: its node is the anchor's, elsewhere
            raise SpliceError(f"{_fmt(path)}: {_fmt(path[: len(found) + 1])} is an alias")
        found.append(hit)
        node = hit[1]
    return found


def _at(text: str, doc: int, path: KeyPath) -> tuple[yaml.Node | None, yaml.Node]:
    root = _pick(text, doc)[1].node
    found = _walk(root, path)
    if len(found) < len(path):
        missing = _fmt(path[: len(found) + 1])
        raise SpliceError(f"{_fmt(path)}: {missing} not found in document {doc}")
    return found[-1] if path else (None, root)


def _scalar(text: str, doc: int, path: KeyPath) -> tuple[yaml.ScalarNode, int, int]:
    node = _at(text, doc, path)[1]
    if not isinstance(node, yaml.ScalarNode):
        raise SpliceError(f"{_fmt(path)} is not a scalar in document {doc}")
    start, end = node.start_mark.index, _scalar_end(text, node)
    rest = re.sub(r"^([&!]\S*\s+)+", "", text[start:end])  # an anchor or tag stays
    return node, end - len(rest), end


def document_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each non-empty document's content (comments around excluded)."""
    return [(d.start, d.end) for d in _parse(text) if not d.empty]


def find_document(text: str, match: Callable[[Any], bool]) -> int | None:
    """Index of the first non-empty document whose plain data satisfies match."""
    docs = [d for d in _parse(text) if not d.empty]
    return next((i for i, d in enumerate(docs) if match(_plain(d.node))), None)


def scalar_span(text: str, doc: int, path: KeyPath) -> tuple[int, int]:
    """Offsets of the scalar at path in document doc (quotes included)."""
    return _scalar(text, doc, path)[1:]


def _renderings(value: Scalar, style: str | None) -> list[str]:
    """Candidate spellings, preferred first; the first that reads back as value wins."""
    if isinstance(value, bool):
        return [str(value).lower()]
    if not isinstance(value, str):  # YAML 1.1 reads 1e+20 as a string: write 1.0e+20
        out = {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}.get(repr(value), repr(value))
        return [out.replace("e", ".0e") if "e" in out and "." not in out else out]
    double = json.dumps(value, ensure_ascii=False)
    if style == "'" and value.isprintable():
        return ["'" + value.replace("'", "''") + "'", double]
    if not style and value.isprintable() and value == value.strip() and value:
        return [double] if _AMBIGUOUS.match(value) else [value, double]
    return [double]


def _holds(text: str, doc: int, path: KeyPath, value: Any) -> bool:
    try:
        docs = [d for d in _parse(text) if not d.empty]
    except SpliceError:
        return False
    found = _walk(docs[doc].node, path) if doc < len(docs) else []
    got = _plain(found[-1][1]) if len(found) == len(path) else None
    return type(got) is type(value) and (got == value or (got != got and value != value))


def set_scalar(text: str, doc: int, path: KeyPath, value: Scalar) -> str:
    """Replace only the scalar's characters, keeping its quoting unless the value forbids it."""
    node, start, end = _scalar(text, doc, path)
    if _holds(text, doc, path, value):
        return text  # already that value: not one byte changes
    pad = " " if start == end and start and not text[start - 1].isspace() else ""
    for rendered in _renderings(value, node.style or None):
        new = text[:start] + pad + rendered + text[end:]
        if _holds(new, doc, path, value):
            return new
    raise SpliceError(f"{_fmt(path)}: cannot write {value!r} in place in document {doc}")


def _measure(node: yaml.Node, maps: Counter[int], seqs: Counter[tuple[int, int]]) -> None:
    """Count nested-mapping indents and (sequence, offset) list indents, as ruamel names them."""
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    for item in node.value if isinstance(node, yaml.SequenceNode) else []:
        _measure(item, maps, seqs)
    for key, value in pairs:
        col = key.start_mark.column
        if isinstance(value, yaml.MappingNode) and value.value and not value.flow_style:
            maps[value.value[0][0].start_mark.column - col] += 1
        if isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
            seqs[(value.value[0].start_mark.column - col, value.start_mark.column - col)] += 1
        _measure(value, maps, seqs)


def _rt_edit(text: str, doc: int, edit: Callable[[Any], None]) -> str:
    """Round-trip document doc alone through ruamel, apply edit, splice the dump back."""
    full, target = _pick(text, doc)
    maps: Counter[int] = Counter()
    seqs: Counter[tuple[int, int]] = Counter()
    _measure(target.node, maps, seqs)
    for other in full if not seqs else []:  # no list here: follow the rest of the file
        _measure(other.node, Counter(), seqs)
    mapping = maps.most_common(1)[0][0] if maps else 2
    sequence, offset = seqs.most_common(1)[0][0] if seqs else (mapping + 2, mapping)
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096
    rt.brace_single_entry_mapping_in_flow_sequence = True
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    source = text[target.start : target.end] + "\n"
    data = rt.load(source)
    edit(data)
    dumps = []
    for tree in (rt.load(source), data):
        out = io.StringIO()
        rt.dump(tree, out)
        dumps.append(out.getvalue())
    new = _keep_lines(source, *dumps)
    return text[: target.start] + new.removesuffix("\n") + text[target.end :]


def _keep_lines(source: str, before: str, after: str) -> str:
    """after, but lines ruamel only re-spelled (`{ a: 1 }`) keep source's spelling."""
    old, base, new = (s.splitlines(keepends=True) for s in (source, before, after))
    if len(old) != len(base):
        return after
    merged = "".join(
        "".join(old[i1:i2] if tag == "equal" else new[j1:j2])
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, base, new, autojunk=False).get_opcodes()
    )
    try:
        same = yaml.load(merged, Loader=_Loader) == yaml.load(after, Loader=_Loader)
    except yaml.YAMLError:
        same = False
    return merged if same else after


def _to_rt(value: Any) -> Any:
    if isinstance(value, dict):
        return CommentedMap((k, _to_rt(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return CommentedSeq(_to_rt(v) for v in value)
    return value


def _keys(container: Any) -> list[Any]:
    return list(container) if isinstance(container, CommentedMap) else list(range(len(container)))


def _last_slot(container: Any, key: Any) -> Slot:
    while isinstance(value := container[key], CommentedMap | CommentedSeq) and value:
        if value.fa.flow_style():
            break
        container, key = value, _keys(value)[-1]
    return container, key


def _cell(slot: Slot) -> tuple[list[Any], int]:
    cell = slot[0].ca.items.setdefault(slot[1], [None] * 4)
    return cell, 2 if isinstance(slot[0], CommentedMap) else 0


def _pop_tail(slot: Slot) -> str:
    """Detach the comment lines below an entry's last line (its end-of-line comment stays)."""
    cell, pos = _cell(_last_slot(*slot))
    value = cell[pos].value if cell[pos] is not None else ""
    cut = value.find("\n") + 1
    if not 0 < cut < len(value):
        return ""
    if cut == 1:
        cell[pos] = None
    else:
        cell[pos].value = value[:cut]
    return str(value[cut:])


def _push_tail(slot: Slot, tail: str) -> None:
    cell, pos = _cell(slot)
    if cell[pos] is None:
        cell[pos] = CommentToken("\n" + tail, CommentMark(0), None)
    else:
        cell[pos].value = cell[pos].value.rstrip("\n") + "\n" + tail


def _put(container: Any, key: Any, value: Any) -> None:
    """Set, or append (key None), an entry; comment lines after the last entry stay last."""
    keys = _keys(container)
    old = key if key in keys else (keys[-1] if keys else None)
    tail = _pop_tail((container, old)) if old is not None else ""
    if key is None:
        container.append(_to_rt(value))
        key = len(container) - 1
    else:
        container[key] = _to_rt(value)
    if tail:
        _push_tail(_last_slot(container, key), tail)


def _delete(parent: Slot | None, container: Any, key: Any) -> None:
    """Delete an entry; comment lines below it move to the entry (or key) now above them."""
    keys = _keys(container)
    i = keys.index(key)
    above = _last_slot(container, keys[i - 1]) if i else parent
    tail = _pop_tail((container, key))
    del container[key]
    if tail and above is not None:
        _push_tail(above, tail)


def set_value(text: str, doc: int, path: KeyPath, value: Any, *, comment: str | None = None) -> str:
    """Set path to value, creating missing mapping keys; comment: an end-of-line `# comment`."""
    root = _pick(text, doc)[1].node
    found = _walk(root, path)
    have, parent = len(found), found[-1][1] if found else root
    if have == len(path) and isinstance(parent, yaml.ScalarNode) and isinstance(value, Scalar):
        new = set_scalar(text, doc, path, value)
        return _add_comment(new, doc, path, comment) if comment else new
    missing = path[have:]
    bad = bool(missing) and not isinstance(parent, yaml.MappingNode)
    if not path or bad or int in map(type, missing):
        raise SpliceError(f"{_fmt(path)}: cannot create {_fmt(path[: have + 1])} in document {doc}")

    def edit(data: Any) -> None:
        for i, key in enumerate(path[:-1]):
            if i >= have:
                _put(data, key, CommentedMap())
            data = data[key]
        _put(data, path[-1], value)

    new = _rt_edit(text, doc, edit)
    return _add_comment(new, doc, path, comment) if comment else new


def delete_key(text: str, doc: int, path: KeyPath) -> str:
    """Remove the mapping entry at ``path`` (and a mapping it leaves empty); every other
    byte of the file is kept."""
    if not path:
        raise SpliceError("delete_key needs a path")

    def edit(data: Any) -> None:
        trail: list[tuple[Any, Any]] = []
        for key in path[:-1]:
            trail.append((data, key))
            data = data[key]
        if path[-1] not in data:
            raise SpliceError(f"{_fmt(path)}: not found in document {doc}")
        parent = trail[-1] if trail else None
        _delete(parent, data, path[-1])
        while trail and not data:  # a mapping left empty goes too
            container, key = trail.pop()
            _delete(trail[-1] if trail else None, container, key)
            data = container

    return _rt_edit(text, doc, edit)


def _add_comment(text: str, doc: int, path: KeyPath, comment: str) -> str:
    """Append `  # comment` to the line where path's key (or single-line value) ends."""
    key, value = _at(text, doc, path)
    inline = isinstance(value, yaml.ScalarNode) and value.style not in ("|", ">")
    node = value if key is None or inline or getattr(value, "flow_style", False) else key
    cut = len(text[: _line_end(text, _scalar_end(text, node))].rstrip(" \t"))
    if text[:cut].endswith("# " + comment):
        return text
    new = text[:cut] + "  # " + comment + text[cut:]
    if _plain(_at(new, doc, ())[1]) != _plain(_at(text, doc, ())[1]):
        raise SpliceError(f"{_fmt(path)}: no place for an end-of-line comment in document {doc}")
    return new


def remove_from_list(text: str, doc: int, path: KeyPath, match: Callable[[Any], bool]) -> str:
    """Remove the list items whose plain data match; a list left empty loses its key."""
    node = _at(text, doc, path)[1]
    if not isinstance(node, yaml.SequenceNode):
        raise SpliceError(f"{_fmt(path)} is not a list in document {doc}")
    drop = [i for i, item in enumerate(node.value) if match(_plain(item))]

    def edit(data: Any) -> None:
        chain: list[Slot] = []
        for key in path:
            chain.append((data, key))
            data = data[key]
        if len(drop) == len(data) and isinstance(chain[-1][0], CommentedMap):
            _delete(chain[-2] if len(chain) > 1 else None, *chain[-1])
            return
        for i in reversed(drop):
            _delete(chain[-1], data, i)

    return _rt_edit(text, doc, edit) if drop else text


def append_to_list(text: str, doc: int, path: KeyPath, item: Any) -> str:
    """Append item to the list at path, creating the list (and missing keys) when absent."""
    found = _walk(_pick(text, doc)[1].node, path)
    if len(found) < len(path) or not path:
        return set_value(text, doc, path, [item])
    if not isinstance(found[-1][1], yaml.SequenceNode):
        raise SpliceError(f"{_fmt(path)} is not a list in document {doc}")

    def edit(data: Any) -> None:
        for key in path:
            data = data[key]
        _put(data, None, item)

    return _rt_edit(text, doc, edit)


def delete_document(text: str, doc: int) -> str:
    """Remove a document, one adjoining `---` line and the comments between the two."""
    full, target = _pick(text, doc)
    end = _line_end(text, target.end) + 1
    if target.sep is not None:
        return text[: target.sep] + text[end:]
    start = _line_start(text, target.start)  # no `---` above: take the next one
    while start and text[_line_start(text, start - 1) : start].lstrip().startswith("#"):
        start = _line_start(text, start - 1)
    rest = full[full.index(target) + 1 :]
    if not rest or rest[0].sep is None:
        return text[:start] + text[end:]
    sep = rest[0].sep
    return text[:start] + text[end:sep] + text[min(_line_end(text, sep) + 1, rest[0].start) :]


def insert_document(text: str, new_doc_text: str, *, after: int | None = None) -> str:
    """Insert rendered YAML as a new document after document after (None: at the end)."""
    body = new_doc_text.removeprefix("---\n")
    body = body if body.endswith("\n") else body + "\n"
    full = _parse(text)
    if after is not None:
        full, target = _pick(text, after)
        rest = full[full.index(target) + 1 :]
        if rest and rest[0].sep is not None:  # a document after the first starts with `---`
            return text[: rest[0].sep] + "---\n" + body + text[rest[0].sep :]
    head = text if not text or text.endswith("\n") else text + "\n"
    return head + ("---\n" if any(not d.empty for d in full) else "") + body
