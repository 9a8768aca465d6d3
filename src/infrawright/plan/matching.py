"""Finding what a request names: catalog entries by name or alias."""

from __future__ import annotations

import re

from infrawright.catalog import Catalog, CatalogEntry
from infrawright.errors import InfrawrightError

_WORDS = re.compile(r"[a-z0-9][a-z0-9.+-]*")


class NotUnderstoodError(InfrawrightError):
    """The request matched no operation the rule planner knows."""


def _normalise(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower().replace("_", "-")))


def match_catalog(catalog: Catalog, request: str) -> CatalogEntry | None:
    """The catalog entry the request names: the longest name or alias found in it."""
    words = f" {_normalise(request)} "
    best: tuple[int, int, str] | None = None
    for entry in catalog.entries.values():
        for rank, phrase in [(1, entry.name)] + [(0, a) for a in entry.aliases]:
            norm = _normalise(phrase)
            variants = {norm, norm.replace("-", " "), norm.replace("-", "")}
            for variant in variants:
                if variant and f" {variant} " in words:
                    score = (len(variant), rank, entry.name)
                    if best is None or score > best:
                        best = score
    return catalog.get(best[2]) if best else None
