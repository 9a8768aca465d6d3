"""JSON Schema (draft 2020-12) of a tree of frozen dataclasses, from their type hints.

It covers the annotations :mod:`infrawright.catalog.convert` reads (``str``, ``int``,
``float``, ``bool``, ``Any``, ``Literal``, unions, ``tuple[X, ...]``, ``dict[str, V]``
and nested dataclasses), so the schema a planner is given and the checks its Plan meets
come from the same declarations. Each dataclass becomes a ``$defs`` entry with its
docstring as description; a field's ``description`` metadata and JSON-able default are
kept; no other keys are allowed (``additionalProperties: false``).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from infrawright.catalog.convert import PATTERN

_SCALARS: dict[object, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}

#: For a field holding a tuple of a union of dataclasses: the key naming the member
#: (``op``) and the member type for each of its values.
Discriminated = Mapping[str, tuple[str, Mapping[str, type[Any]]]]


def schema_of(root: type[Any], discriminated: Discriminated | None = None) -> dict[str, Any]:
    """The schema of the dataclass ``root`` and every type it refers to."""
    defs: dict[str, Any] = {}
    top = _Builder(defs, discriminated or {}).dataclass(root)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **top, "$defs": defs}


class _Builder:
    def __init__(self, defs: dict[str, Any], discriminated: Discriminated) -> None:
        self.defs = defs
        self.discriminated = discriminated

    def ref(self, cls: type[Any]) -> dict[str, Any]:
        if cls.__name__ not in self.defs:
            self.defs[cls.__name__] = {}  # taken: a type that refers to itself stops here
            self.defs[cls.__name__] = self.dataclass(cls)
        return {"$ref": f"#/$defs/{cls.__name__}"}

    def dataclass(self, cls: type[Any]) -> dict[str, Any]:
        hints = get_type_hints(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            prop: dict[str, Any]
            if f.name in self.discriminated:
                key, members = self.discriminated[f.name]
                prop = {"type": "array", "items": self.one_of(key, members)}
            else:
                prop = self.hint(hints[f.name])
            if PATTERN in f.metadata:
                prop["pattern"] = f.metadata[PATTERN]
            if f.metadata.get("description"):
                prop["description"] = f.metadata["description"]
            if f.default is not dataclasses.MISSING:
                prop["default"] = _plain(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                prop["default"] = _plain(f.default_factory())
            else:
                required.append(f.name)
            properties[f.name] = prop
        out: dict[str, Any] = {"type": "object", "title": cls.__name__}
        if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
            out["description"] = " ".join(cls.__doc__.split())
        out["properties"] = properties
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        return out

    def one_of(self, key: str, members: Mapping[str, type[Any]]) -> dict[str, Any]:
        refs = {value: self.ref(cls) for value, cls in members.items()}
        for cls in members.values():  # the member is known by its key: it must be there
            required = self.defs[cls.__name__].setdefault("required", [])
            if key not in required:
                required.insert(0, key)
        return {
            "oneOf": list(refs.values()),
            "discriminator": {
                "propertyName": key,
                "mapping": {value: ref["$ref"] for value, ref in refs.items()},
            },
        }

    def hint(self, hint: Any) -> dict[str, Any]:
        if hint is Any or hint is object:
            return {}
        if hint is type(None):
            return {"type": "null"}
        if hint in _SCALARS:
            return {"type": _SCALARS[hint]}
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return self.ref(hint)
        origin, args = get_origin(hint), get_args(hint)
        if origin is Literal:
            if len(args) == 1:
                return {"const": args[0]}
            return {"enum": list(args)}
        if origin is Union or origin is types.UnionType:
            return {"anyOf": [self.hint(a) for a in args]}
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": self.hint(args[0])}
        if origin is dict and len(args) == 2:
            return {"type": "object", "additionalProperties": self.hint(args[1])}
        raise TypeError(f"no JSON Schema for the annotation {hint!r}")


def _plain(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
