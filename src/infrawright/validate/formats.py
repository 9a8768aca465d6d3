"""String formats of Flux fields, checked with or without a CRD schema.

Flux durations (``interval``, ``timeout``, ``retryInterval``) are Go duration strings
in the form the Flux CRDs' patterns accept: numbers with units, e.g. ``1h30m``, ``10m``,
``500ms`` (the source-controller timeouts stop at minutes). ``1 hour``, ``10 minutes``
or a bare ``5`` are refused by the API server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from infrawright.model.flux import DURATION_FIELDS, WITH_HOURS
from infrawright.repo.documents import Document


@dataclass(frozen=True)
class BadDuration:
    keys: tuple[str, ...]
    value: object
    units: tuple[str, ...]

    @property
    def path(self) -> str:
        return ".".join(self.keys)

    def message(self) -> str:
        examples = "1h, 10m, 30s" if self.units == WITH_HOURS else "60s, 5m, 500ms"
        unit_note = "" if self.units == WITH_HOURS else " in ms, s or m"
        return (
            f"{self.path}: {_shown(self.value)} is not a duration "
            f"(Go form{unit_note}, e.g. {examples})"
        )


_WORD_UNITS = {
    "ms": ("ms", "millisecond", "milliseconds", "msec"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
}
_PART = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]+)\s*,?\s*(?:and\s+)?", re.IGNORECASE)


def normalised(value: object, units: tuple[str, ...]) -> str | None:
    """The Go duration a value written in words means (``10 minutes`` -> ``10m``, ``1 hour
    30 minutes`` -> ``1h30m``); None when it has no unit (``5``) or one these fields do not
    take: then only a person can say what was meant."""
    if not isinstance(value, str):
        return None
    text, out, pos = value.strip().lower(), [], 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None or m.end() == pos:
            return None
        unit = next((u for u, words in _WORD_UNITS.items() if m.group(2) in words), None)
        if unit is None or unit not in units:
            return None
        out.append(f"{m.group(1)}{unit}")
        pos = m.end()
    return "".join(out) or None


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


@cache
def _pattern(units: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"([0-9]+(\.[0-9]+)?({'|'.join(units)}))+")


def bad_durations(doc: Document) -> list[BadDuration]:
    """The duration fields of a Flux object whose value is not a duration."""
    fields = DURATION_FIELDS.get((doc.group, doc.kind))
    if not fields:
        return []
    out = []
    data = doc.data
    spec = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(spec, dict):
        return []
    for keys, units in fields:
        value: Any = data
        for key in keys:  # every path starts at spec, found above
            value = value.get(key) if isinstance(value, dict) else None
            if value is None:
                break
        if value is None:
            continue
        if isinstance(value, str) and ("${" in value or _pattern(units).fullmatch(value)):
            continue  # a variable Flux substitutes, or a duration
        out.append(BadDuration(keys, value, units))
    return out
