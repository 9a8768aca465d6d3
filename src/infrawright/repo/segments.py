"""A YAML stream cut into its documents, as bytes, without parsing it.

Used to build a big file in pieces and to parse again only the documents of a file that
changed. A cut is made at every ``---`` at the start of a line, which YAML never allows
inside a document.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from typing import Any

from infrawright.repo.documents import Document, YamlFile, decode, parse_text, text_style


def _is_marker(line: bytes) -> bool:
    return line.startswith(b"---") and (len(line) == 3 or line[3:4] in (b" ", b"\t", b"\r", b"\n"))


_MARKER = re.compile(rb"^---(?:[ \t\r\n]|\Z)", re.M)
_STOPS = re.compile(rb"^(?:%|\.\.\.)", re.M)


def split_documents(raw: bytes) -> list[bytes] | None:
    """The file's documents as byte strings, each from its ``---`` line to the next one
    (YAML forbids ``---`` at the start of a line inside a document). None when the file
    uses directives or ``...`` end markers (after which a document may start without
    ``---``), or is not UTF-8."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if b"\r" in raw.replace(b"\r\n", b""):
        return split_lines(raw)  # lines that end in a lone CR: cut line by line
    if _STOPS.search(raw):
        return None
    bounds = [0, *(m.start() for m in _MARKER.finditer(raw) if m.start()), len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def split_lines(raw: bytes) -> list[bytes] | None:
    """:func:`split_documents` for decoded-as-UTF-8 bytes, one line at a time."""
    segments: list[bytes] = []
    current: list[bytes] = []
    for line in raw.splitlines(keepends=True):
        if line.startswith((b"%", b"...")):
            return None
        if _is_marker(line) and current:
            segments.append(b"".join(current))
            current = []
        current.append(line)
    if current:
        segments.append(b"".join(current))
    return segments


def reparse(old: YamlFile, old_raw: bytes, new_raw: bytes) -> YamlFile | None:
    """``new_raw`` parsed, reusing the documents of ``old`` (parsed from ``old_raw``) that
    are byte for byte the same; None when that cannot be done safely (then parse the
    whole file)."""
    old_parts = split_documents(old_raw)
    new_parts = split_documents(new_raw)
    if old_parts is None or new_parts is None or old.problem is not None:
        return None
    starts = _starts(old_parts)
    by_part: dict[int, Document] = {}
    for doc in old.documents:
        part = bisect.bisect_right(starts, doc.line) - 1
        if part < 0 or part in by_part:
            return None  # two documents in one part: not cut the way we think
        by_part[part] = doc
    known: dict[bytes, list[tuple[int, Any] | None]] = {}
    for number, text in enumerate(old_parts):
        was = by_part.get(number)
        entry = (was.line - starts[number], was.data) if was else None
        known.setdefault(text, []).append(entry)
    docs: list[Document] = []
    for text, start in zip(new_parts, _starts(new_parts), strict=True):
        reuse = known.get(text)
        if reuse:
            found = reuse.pop(0)
            if found is not None:
                docs.append(Document(old.path, start + found[0], len(docs), found[1]))
            continue
        fresh = _parse_part(old.path, text)
        if fresh is None:
            return None
        for offset, data in fresh:
            docs.append(Document(old.path, start + offset, len(docs), data))
    sops = any(isinstance(d.data, dict) and "sops" in d.data for d in docs)
    style = text_style(new_raw.decode("utf-8-sig"))
    return YamlFile(old.path, tuple(docs), sops=sops, style=style)


def _starts(parts: Sequence[bytes]) -> list[int]:
    """1-based line where each part starts."""
    out, line = [], 1
    for text in parts:
        out.append(line)
        line += text.count(b"\n")
    return out


def _parse_part(rel: str, text: bytes) -> list[tuple[int, Any]] | None:
    decoded, _problem = decode(text, rel)
    if decoded is None:
        return None
    parsed = parse_text(decoded, rel)
    if parsed.problem is not None or len(parsed.documents) > 1:
        return None
    return [(d.line - 1, d.data) for d in parsed.documents]
