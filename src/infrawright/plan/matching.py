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
    found = match_how(catalog, request)
    return found[0] if found else None


def match_how(catalog: Catalog, request: str) -> tuple[CatalogEntry, str | None] | None:
    """:func:`match_catalog`, and the phrase it matched when that only describes what
    the entry does (an alias that is not part of its name: "ingress controller" for
    ingress-nginx); None when the request names the product."""
    words = f" {_normalise(request)} "
    best: tuple[int, int, str, str] | None = None
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
                    score = (rank, len(variant), entry.name, norm)
                    if best is None or score[:3] > best[:3]:
                        best = score
    if best is None:
        return None
    found = catalog.get(best[2])
    assert found is not None
    return found, (best[3] if best[0] == 0 else None)


def does_already(entry: CatalogEntry, phrase: str) -> bool:
    """Does ``entry`` do what ``phrase`` describes: is it its name, or part of one of
    its aliases ("ingress controller" in kong's "kong ingress controller")?"""
    wanted = f" {_normalise(phrase)} "
    names = [entry.name.replace("-", " "), *entry.aliases]
    return any(wanted in f" {_normalise(n).replace('-', ' ')} " for n in names)
