"""A small, deterministic YAML writer for manifests built as data.

Mappings keep insertion order; strings are quoted only when YAML would read them as
something else (or when wrapped in :class:`Quoted`, e.g. chart versions in a repository
that quotes them); comments are attached to key paths and written on the line above.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

KeyPath = tuple[str | int, ...]

_PLAIN = re.compile(r"^[A-Za-z0-9_./@$][A-Za-z0-9_./:@$()\-+ ]*$")
_SPECIAL = re.compile(
    r"^(true|false|yes|no|on|off|null|y|n|~|[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|"
    r"0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$",
    re.IGNORECASE,
)


class Quoted(str):
    """A string always written in double quotes."""

    __slots__ = ()


@dataclass(frozen=True)
class Style:
    """How the repository writes YAML."""

    indent_sequences: bool = True


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if isinstance(value, Quoted) or not text or not _PLAIN.match(text):
        return json.dumps(text, ensure_ascii=False)
    if _SPECIAL.match(text) or text != text.strip() or ": " in text or " #" in text:
        return json.dumps(text, ensure_ascii=False)
    return text


def dump(
    data: Mapping[str, Any],
    style: Style = Style(),
    comments: Mapping[KeyPath, str] | None = None,
    header: Sequence[str] = (),
) -> str:
    """One YAML document (no ``---``), ending in a newline."""
    lines = [f"# {line}" if line else "#" for line in header]
    _mapping(data, 0, (), style, comments or {}, lines)
    return "\n".join(lines) + "\n"


def _comment(path: KeyPath, indent: int, comments: Mapping[KeyPath, str], out: list[str]) -> None:
    note = comments.get(path)
    if note:
        out.extend(" " * indent + f"# {line}".rstrip() for line in note.splitlines())


def _mapping(
    data: Mapping[str, Any],
    indent: int,
    path: KeyPath,
    style: Style,
    comments: Mapping[KeyPath, str],
    out: list[str],
    first_prefix: str | None = None,
) -> None:
    pad = " " * indent
    for i, (key, value) in enumerate(data.items()):
        here = (*path, key)
        prefix = first_prefix if (i == 0 and first_prefix is not None) else pad
        if i > 0 or first_prefix is None:
            _comment(here, indent, comments, out)
        k = scalar(key)
        if isinstance(value, Mapping) and value:
            out.append(f"{prefix}{k}:")
            _mapping(value, indent + 2, here, style, comments, out)
        elif isinstance(value, list | tuple) and value:
            out.append(f"{prefix}{k}:")
            _sequence(
                value, indent + (2 if style.indent_sequences else 0), here, style, comments, out
            )
        elif isinstance(value, Mapping):
            out.append(f"{prefix}{k}: {{}}")
        elif isinstance(value, list | tuple):
            out.append(f"{prefix}{k}: []")
        else:
            out.append(f"{prefix}{k}: {scalar(value)}")


def _sequence(
    items: Sequence[Any],
    indent: int,
    path: KeyPath,
    style: Style,
    comments: Mapping[KeyPath, str],
    out: list[str],
) -> None:
    pad = " " * indent
    for i, item in enumerate(items):
        here = (*path, i)
        _comment(here, indent, comments, out)
        if isinstance(item, Mapping) and item:
            first_key = next(iter(item))
            _comment((*here, first_key), indent, comments, out)
            _mapping(item, indent + 2, here, style, comments, out, first_prefix=f"{pad}- ")
        elif isinstance(item, list | tuple) and item:
            out.append(f"{pad}-")
            _sequence(item, indent + 2, here, style, comments, out)
        elif isinstance(item, Mapping):
            out.append(f"{pad}- {{}}")
        else:
            out.append(f"{pad}- {scalar(item)}")
