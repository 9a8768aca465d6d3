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
    """The catalog entry the request names. A product the request names wins over a
    description of what it does: first the entry's name, then an alias that is part of
    its name or its chart's ("minio" for minio-operator), then any other alias ("object
    storage"); among equals, the longest phrase."""
    words = f" {_normalise(request)} "
    best: tuple[int, int, str] | None = None
    for entry in catalog.entries.values():
        parts = set(entry.name.split("-"))
        if entry.chart is not None:
            parts |= set(entry.chart.name.split("-"))
        ranked = [(2, entry.name)] + [
            (1 if _normalise(a).replace(" ", "-") in parts else 0, a) for a in entry.aliases
        ]
        for rank, phrase in ranked:
            norm = _normalise(phrase)
            variants = {norm, norm.replace("-", " "), norm.replace("-", "")}
            for variant in variants:
                if variant and f" {variant} " in words:
                    score = (rank, len(variant), entry.name)
                    if best is None or score > best:
                        best = score
    return catalog.get(best[2]) if best else None
