"""CEL validation rules of CRD schemas (``x-kubernetes-validations``), evaluated offline.

A rule sits at any level of a CRD's ``openAPIV3Schema``; ``self`` is the value at that
level (each item of a list, each value of a map), after the schema's defaults are
applied, as the API server does before it validates. Rules run with the CEL library
``cel-expr-python`` (Google's CEL runtime) and its strings and optional extensions.

What is not evaluated is counted, never reported as a violation: transition rules (they
read ``oldSelf``, which a repository does not have), rules that use a Kubernetes
extension the library lacks (``quantity``, ``url``, ``isSorted``, ...: compiling them
fails on the undeclared function) and rules whose evaluation fails on the object
(e.g. a field the rule reads that the object does not set).

Compiled programs are kept per process, one per expression text; where a schema's
rules sit is worked out once per schema.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cel_expr_python.cel import Env, Expression

Path = tuple[str | int, ...]

#: A step from a schema to the one below it: a property name, every item of a list
#: (``ITEMS``) or every value of a map (``VALUES``).
ITEMS = "[*]"
VALUES = "{*}"

_OLD_SELF = re.compile(r"\boldSelf\b")
_HAS_FIELD = re.compile(r"\bhas\(\s*self\.([A-Za-z_][A-Za-z0-9_]*)\s*\)")
_UNDECLARED = re.compile(r"undeclared reference to '([^']+)'")
_FIELD_PATH = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([^']*)'\s*\]")


@dataclass(frozen=True)
class Rule:
    """One ``x-kubernetes-validations`` entry."""

    rule: str
    message: str | None = None
    message_expression: str | None = None
    field_path: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Site:
    """Where rules sit in a schema: the steps down to it, its schema and its rules."""

    steps: tuple[str, ...]
    schema: Mapping[str, Any]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Violation:
    """A rule that evaluated to false on a value of an object."""

    #: The keys from the object's root to the field the rule reports (its site, and
    #: the rule's ``fieldPath`` under it when there is one).
    path: Path
    message: str
    rule: str
    #: The fields the rule tests with ``has(self.x)`` that the value sets, as paths: the
    #: lines a reader needs to see (both of "chart or chartRef", say).
    present: tuple[Path, ...] = ()


@dataclass
class Outcome:
    """What evaluating the rules of objects gave: violations, and what was not evaluated
    (reason -> how many evaluations), and how many were."""

    violations: list[Violation] = field(default_factory=list)
    evaluated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def dotted(path: Path) -> str:
    """``("spec", "values", 0)`` -> ``spec.values[0]``."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else key
    return out or "(root)"


def sites(schema: Mapping[str, Any]) -> tuple[Site, ...]:
    """Every place in ``schema`` that carries CEL rules, outermost first."""
    return _sites(_Identity(schema))


class _Identity:
    """A schema hashed by identity, so ``functools.cache`` keeps one answer per schema
    object (schemas are dicts read once per process and never changed)."""

    __slots__ = ("schema",)

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema

    def __hash__(self) -> int:
        return id(self.schema)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.schema is self.schema


@cache
def _sites(key: _Identity) -> tuple[Site, ...]:
    out: list[Site] = []
    _collect(key.schema, (), out)
    return tuple(out)


def _collect(schema: Mapping[str, Any], steps: tuple[str, ...], out: list[Site]) -> None:
    if not isinstance(schema, Mapping):
        return
    found = [_rule(v) for v in schema.get("x-kubernetes-validations") or []]
    rules = tuple(r for r in found if r is not None)
    if rules:
        out.append(Site(steps, schema, rules))
    for name, sub in (schema.get("properties") or {}).items():
        _collect(sub, (*steps, name), out)
    items = schema.get("items")
    if isinstance(items, Mapping):
        _collect(items, (*steps, ITEMS), out)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        _collect(extra, (*steps, VALUES), out)
    for combined in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(combined) or []:
            _collect(sub, steps, out)


def _rule(entry: object) -> Rule | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("rule"), str):
        return None

    def text(key: str) -> str | None:
        value = entry.get(key)
        return value if isinstance(value, str) and value else None

    return Rule(
        entry["rule"],
        text("message"),
        text("messageExpression"),
        text("fieldPath"),
        text("reason"),
    )


def check(schema: Mapping[str, Any], data: Mapping[str, Any], outcome: Outcome) -> None:
    """Evaluate every rule of ``schema`` on the object ``data``; add to ``outcome``."""
    for site in sites(schema):
        for path, value in _values(data, site.steps, ()):
            if value is None:
                continue  # a null field: the API server does not run its rules
            for rule in site.rules:
                _evaluate(rule, path, value, site.schema, outcome)


def _values(value: object, steps: Sequence[str], path: Path) -> Iterator[tuple[Path, object]]:
    """The values of ``value`` that ``steps`` lead to, with their paths."""
    if not steps:
        yield path, value
        return
    step, rest = steps[0], steps[1:]
    if step == ITEMS:
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _values(item, rest, (*path, i))
    elif step == VALUES:
        if isinstance(value, dict):
            for key, item in value.items():
                yield from _values(item, rest, (*path, str(key)))
    elif isinstance(value, dict) and step in value:
        yield from _values(value[step], rest, (*path, step))


def defaulted(value: object, schema: Mapping[str, Any]) -> object:
    """``value`` with the schema's defaults filled in where it leaves fields out (a new
    dict or list only where something was added; ``value`` itself is not changed)."""
    if not _has_defaults(schema):
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        out: dict[str, Any] | None = None
        if isinstance(props, dict):
            for name, sub in props.items():
                if not isinstance(sub, dict) or not _has_defaults(sub):
                    continue
                if name in value:
                    new = defaulted(value[name], sub)
                    if new is value[name]:
                        continue
                elif "default" in sub:
                    new = defaulted(sub["default"], sub)
                else:
                    continue
                out = dict(value) if out is None else out
                out[name] = new
        if isinstance(extra, dict) and _has_defaults(extra):
            for name, item in value.items():
                if isinstance(props, dict) and name in props:
                    continue
                new = defaulted(item, extra)
                if new is not item:
                    out = dict(value) if out is None else out
                    out[name] = new
        return value if out is None else out
    if isinstance(value, list):
        items = schema.get("items")
        if not isinstance(items, dict):
            return value
        new_items = [defaulted(item, items) for item in value]
        changed = any(n is not o for n, o in zip(new_items, value, strict=True))
        return new_items if changed else value
    return value


_DEFAULTS: dict[int, tuple[Mapping[str, Any], bool]] = {}


def _has_defaults(schema: Mapping[str, Any]) -> bool:
    """Whether ``schema`` or any schema below it has a ``default`` (worked out once per
    schema object: most of a CRD has none, and then a value is left as it is)."""
    hit = _DEFAULTS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    below: list[Any] = list((schema.get("properties") or {}).values())
    below += [schema.get(k) for k in ("items", "additionalProperties")]
    found = "default" in schema or any(_has_defaults(sub) for sub in below if isinstance(sub, dict))
    _DEFAULTS[id(schema)] = (schema, found)
    return found


def _evaluate(
    rule: Rule, path: Path, value: object, schema: Mapping[str, Any], outcome: Outcome
) -> None:
    program, fields, presence = _plan(rule.rule)
    if isinstance(program, str):
        outcome.skipped[program] += 1
        return
    if fields is not None and isinstance(value, dict):
        # Only what the rule reads is defaulted and converted to CEL values (a
        # HelmRelease's spec.values can be big, and its spec has chart rules); a rule
        # that only asks whether fields are set needs no defaults below them.
        part = _part(schema, fields)
        if presence:
            given = {k: value[k] for k in fields if k in value}
            for name, sub in part["properties"].items():
                if name not in value and isinstance(sub, dict) and "default" in sub:
                    given[name] = sub["default"]
            trimmed: object = given
        else:
            trimmed = defaulted({k: value[k] for k in fields if k in value}, part)
    else:
        trimmed = defaulted(value, schema)
    result = program.eval(data={"self": trimmed})
    if result.type().name() == "ERROR":
        outcome.skipped["evaluation error on the object"] += 1
        return
    outcome.evaluated += 1
    if result.value() is not False:
        return
    outcome.violations.append(
        Violation(
            (*path, *_field_path(rule.field_path)),
            _message(rule, defaulted(value, schema)),
            rule.rule,
            tuple(
                (*path, name)
                for name in dict.fromkeys(_HAS_FIELD.findall(rule.rule))
                if isinstance(value, dict) and name in value
            ),
        )
    )


_PARTS: dict[tuple[int, frozenset[str]], tuple[Mapping[str, Any], Mapping[str, Any]]] = {}


def _part(schema: Mapping[str, Any], fields: frozenset[str]) -> Mapping[str, Any]:
    """The schema of only ``fields`` of ``schema``, made once per schema and fields."""
    key = (id(schema), fields)
    hit = _PARTS.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    props = schema.get("properties") or {}
    part = {"properties": {k: props[k] for k in fields if k in props}}
    _PARTS[key] = (schema, part)
    return part


@cache
def _plan(expression: str) -> tuple[Expression | str, frozenset[str] | None, bool]:
    """What evaluating ``expression`` takes, worked out once: its program (or why it is
    not evaluated), the fields of ``self`` it reads (None: all of it), and whether it
    only asks whether they are set (``has(self.x)``)."""
    if _OLD_SELF.search(expression):
        return "transition rule (uses oldSelf)", None, False
    fields = _fields_read(expression)
    presence = fields is not None and not _SELF.search(_HAS_FIELD.sub("", expression))
    return compiled(expression), fields, presence


_SELF = re.compile(r"\bself\b(\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)(\s*\()?)?")


@cache
def _fields_read(expression: str) -> frozenset[str] | None:
    """The fields of ``self`` an expression reads, when it reads ``self`` only as
    ``self.field`` (never whole, never a method of ``self`` itself); else None."""
    names: set[str] = set()
    for match in _SELF.finditer(expression):
        if match.group(2) is None or match.group(3) is not None:
            return None
        names.add(match.group(2))
    return frozenset(names)


def _message(rule: Rule, value: object) -> str:
    """The rule's ``messageExpression`` when it gives a string, else its ``message``,
    else what the API server says for a rule without one."""
    if rule.message_expression:
        program = compiled(rule.message_expression)
        if not isinstance(program, str):
            result = program.eval(data={"self": value})
            text = result.value()
            if result.type().name() == "STRING" and isinstance(text, str) and text.strip():
                return text
    return rule.message or f"failed rule: {rule.rule}"


def _field_path(field_path: str | None) -> Path:
    """``.spec.chartRef`` or ``['a.b']`` as keys; nothing for what cannot be read."""
    if not field_path:
        return ()
    keys = [
        m.group(1) if m.group(1) is not None else m.group(2)
        for m in _FIELD_PATH.finditer(field_path)
    ]
    return tuple(keys)


@cache
def compiled(expression: str) -> Expression | str:
    """The compiled program of ``expression``, or why it cannot be evaluated here (a
    function the library does not have, or a syntax it does not read)."""
    try:
        return _env().compile(expression)
    except RuntimeError as err:
        missing = _UNDECLARED.search(str(err))
        if missing:
            return f"unsupported function {missing.group(1)!r}"
        return "expression the CEL library cannot compile"


@cache
def _env() -> Env:
    """One CEL environment per process: ``self`` of any type, and the strings and
    optional extensions Kubernetes also has."""
    from cel_expr_python import cel
    from cel_expr_python.ext import ext_optional, ext_strings

    return cel.NewEnv(
        variables={"self": cel.Type.DYN},
        extensions=[ext_strings.ExtStrings(), ext_optional.ExtOptional()],
    )
