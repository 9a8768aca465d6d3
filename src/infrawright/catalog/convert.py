"""Turn parsed YAML or TOML data into frozen dataclasses, checked against their type hints.

``convert(SomeDataclass, data)`` walks the dataclass's field annotations and builds the
instance from plain data (dicts, lists and scalars), rejecting anything that does not fit.
It replaces pydantic for the catalog, whose import and model building cost more start-up
time than every CLI command could afford.

Supported annotations: ``str``, ``int``, ``float``, ``bool``, ``object``/``Any``, unions
(``int | str``, ``X | None``), ``Literal[...]``, ``tuple[X, ...]``, ``dict[K, V]`` and
nested dataclasses. Scalars are taken as they are, never coerced: ``True`` is not an
integer, ``"8080"`` is not an integer; an integer is accepted where a float is wanted.
Lists become tuples. Mappings must name every required field and nothing else.

Per-field options go in ``dataclasses.field(metadata=...)``:

- ``"alias"``: the key the data uses for the field (the field name is accepted as well,
  unless the alias is also present);
- ``"pattern"``: a regular expression the whole string must match;
- ``"min_length"``: the smallest length of a string, tuple or dict.

A dataclass may check itself across fields in ``__post_init__``; a ``ValueError`` raised
there is reported at the dataclass's own location.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin, get_type_hints

__all__ = ["ALIAS", "MIN_LENGTH", "PATTERN", "EntryError", "Loc", "convert"]

T = TypeVar("T")

#: Where a value sits in the data: keys of mappings and indexes of lists, outermost first.
Loc = tuple[str | int, ...]
_Convert = Callable[[object, Loc], Any]

ALIAS = "alias"
PATTERN = "pattern"
MIN_LENGTH = "min_length"


class EntryError(ValueError):
    """Data that does not fit its type: where the first problem is, and what it is."""

    def __init__(self, loc: Loc, msg: str) -> None:
        self.loc = loc
        self.msg = msg
        super().__init__(f"{'.'.join(str(p) for p in loc) or 'top level'}: {msg}")


def convert(cls: type[T], data: object) -> T:
    """``data`` as an instance of the dataclass ``cls``; raises ``EntryError`` if it does not fit.

    An instance of ``cls`` is returned as it is.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    return cast(T, _converter(cls)(data, ()))


def _part(key: object) -> str | int:
    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    return repr(key)


@cache
def _converter(hint: Any) -> _Convert:
    """A function that checks and converts a value for one type annotation."""
    if hint is Any or hint is object:
        return lambda value, loc: value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    if hint in _SCALARS:
        return _scalar(hint)
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return _literal(args)
    if origin is Union or origin is types.UnionType:
        return _union(args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _tuple(_converter(args[0]))
    if origin is dict and len(args) == 2:
        return _dict(_converter(args[0]), _converter(args[1]))
    raise TypeError(f"convert() does not support the annotation {hint!r}")


_SCALARS: dict[object, str] = {
    str: "a valid string",
    int: "a valid integer",
    float: "a valid number",
    bool: "a valid boolean",
}


def _describe(hint: object) -> str:
    if hint in _SCALARS:
        return _SCALARS[hint]
    if hint is type(None):
        return "null"
    if get_origin(hint) is Literal:
        return " or ".join(repr(a) for a in get_args(hint))
    if get_origin(hint) is tuple:
        return "a list"
    if get_origin(hint) is dict:
        return "a mapping"
    return f"a {getattr(hint, '__name__', hint)}"


def _scalar(kind: type) -> _Convert:
    wanted = f"Input should be {_SCALARS[kind]}"

    def check(value: object, loc: Loc) -> object:
        # bool is a subclass of int, but a YAML/TOML true is never meant as a number.
        if isinstance(value, bool) != (kind is bool):
            raise EntryError(loc, wanted)
        if isinstance(value, kind):
            return value
        if kind is float and isinstance(value, int):
            return float(value)
        raise EntryError(loc, wanted)

    return check


def _literal(allowed: tuple[object, ...]) -> _Convert:
    names = [repr(a) for a in allowed]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

    def check(value: object, loc: Loc) -> object:
        for candidate in allowed:
            if type(value) is type(candidate) and value == candidate:
                return candidate
        raise EntryError(loc, f"Input should be {listed}")

    return check


def _union(members: tuple[object, ...]) -> _Convert:
    optional = type(None) in members
    rest = tuple(m for m in members if m is not type(None))
    if len(rest) == 1:
        # X | None: a problem inside X is reported from inside X.
        inner = _converter(rest[0])

        def optional_one(value: object, loc: Loc) -> object:
            return None if value is None else inner(value, loc)

        return optional_one
    converters = [_converter(m) for m in rest]
    wanted = f"Input should be {' or '.join(_describe(m) for m in members)}"

    def first_fit(value: object, loc: Loc) -> object:
        if value is None and optional:
            return None
        for member in converters:
            try:
                return member(value, loc)
            except EntryError:
                continue
        raise EntryError(loc, wanted)

    return first_fit


def _tuple(item: _Convert) -> _Convert:
    def check(value: object, loc: Loc) -> tuple[object, ...]:
        if not isinstance(value, list | tuple):
            raise EntryError(loc, "Input should be a list")
        return tuple([item(v, (*loc, i)) for i, v in enumerate(value)])

    return check


def _dict(key: _Convert, item: _Convert) -> _Convert:
    def check(value: object, loc: Loc) -> dict[object, object]:
        if not isinstance(value, Mapping):
            raise EntryError(loc, "Input should be a mapping")
        out: dict[object, object] = {}
        for k, v in value.items():
            where = (*loc, _part(k))
            try:
                converted = key(k, where)
            except EntryError as exc:
                raise EntryError(where, f"Key: {exc.msg}") from None
            out[converted] = item(v, where)
        return out

    return check


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    keys: tuple[str, ...]  # accepted input keys, preferred first
    convert: _Convert
    required: bool
    pattern: re.Pattern[str] | None
    min_length: int | None
    constrained: bool  # has a pattern or a min_length

    def check(self, value: object, loc: Loc) -> None:
        """The field's constraints, on its converted value."""
        pattern, least = self.pattern, self.min_length
        if pattern is not None and isinstance(value, str) and not pattern.fullmatch(value):
            raise EntryError(loc, f"String should match pattern '{pattern.pattern}'")
        if least is not None and isinstance(value, str | tuple | dict) and len(value) < least:
            what, unit = ("String", "character") if isinstance(value, str) else ("List", "item")
            plural = "" if least == 1 else "s"
            raise EntryError(
                loc, f"{what} should have at least {least} {unit}{plural}, not {len(value)}"
            )


def _dataclass(cls: type[Any]) -> _Convert:
    plan: list[_Field] | None = None

    def fields() -> list[_Field]:
        # Built on first use, so that dataclasses may refer to each other (or themselves).
        nonlocal plan
        if plan is None:
            hints = get_type_hints(cls)
            plan = [
                _Field(
                    name=f.name,
                    keys=(f.metadata[ALIAS], f.name) if f.metadata.get(ALIAS) else (f.name,),
                    convert=_converter(hints[f.name]),
                    required=f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING,
                    pattern=re.compile(f.metadata[PATTERN]) if PATTERN in f.metadata else None,
                    min_length=f.metadata.get(MIN_LENGTH),
                    constrained=PATTERN in f.metadata or MIN_LENGTH in f.metadata,
                )
                for f in dataclasses.fields(cls)
                if f.init
            ]
        return plan

    def build(value: object, loc: Loc) -> object:
        if isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise EntryError(loc, f"Input should be a mapping of {cls.__name__} fields")
        kwargs: dict[str, object] = {}
        used: list[str] = []
        for f in fields():
            for key in f.keys:
                if key in value:
                    break
            else:
                if f.required:
                    raise EntryError((*loc, f.keys[0]), "Field required")
                continue  # the dataclass default applies
            used.append(key)
            converted = f.convert(value[key], (*loc, key))
            if f.constrained:
                f.check(converted, (*loc, key))
            kwargs[f.name] = converted
        if len(used) != len(value):
            for key in value:
                if key not in used:
                    raise EntryError((*loc, _part(key)), "Extra inputs are not permitted")
        try:
            return cls(**kwargs)
        except EntryError:
            raise
        except ValueError as exc:
            raise EntryError(loc, str(exc)) from None

    return build
