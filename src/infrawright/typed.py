"""Frozen records read from plain data (parsed YAML, TOML or JSON) with msgspec.

The catalog's entries and the Plan's operations are :class:`Frozen` Structs: keyword-only,
immutable, and strict when read with :func:`read` (no coercion: ``"8080"`` is not an
integer, ``true`` is not a number; lists become tuples; an unknown key is refused). A
problem is reported where it is, as a dotted path into the data (``ops.0.namespace``).
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

__all__ = ["DataError", "Frozen", "read"]

T = TypeVar("T")


class Frozen(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the immutable records read from data. Subclasses inherit the settings; they
    repeat ``frozen=True, kw_only=True`` for type checkers, which do not."""


class DataError(ValueError):
    """Data that does not fit its type: where the first problem is, and what it is."""

    def __init__(self, where: str, what: str) -> None:
        self.where = where
        self.what = what
        super().__init__(f"{where or 'top level'}: {what}")


def read(cls: type[T], data: object) -> T:
    """``data`` as a ``cls``; raises :class:`DataError` saying where it does not fit."""
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        where, what = _located(str(exc))
        raise DataError(where, what) from None


# msgspec's messages end with where they apply: " - at `$.ops[0].name`", or for a
# mapping key " - at `key` in `$.labels`"; a missing or unknown field is named in the
# message and located at its object.
_AT = re.compile(r"^(?P<what>.*?)(?: - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`)?$", re.S)
_FIELD = {
    re.compile(r"^Object missing required field `([^`]+)`$"): "required field missing",
    re.compile(r"^Object contains unknown field `([^`]+)`$"): "unknown field",
}


def _located(message: str) -> tuple[str, str]:
    found = _AT.match(message)
    assert found is not None  # the pattern matches any text
    what, path = found.group("what"), found.group("path") or ""
    # $.ops[0].values[...]: indexes become dotted steps; a mapping's value stays [...]
    # (msgspec does not say which key).
    where = re.sub(r"\[(\d+)\]", r".\1", path).lstrip(".")
    if found.group("key"):
        what = f"a key: {what}"
    for pattern, meaning in _FIELD.items():
        named = pattern.match(what)
        if named:
            where = f"{where}.{named.group(1)}" if where else named.group(1)
            what = meaning
    return where, what
