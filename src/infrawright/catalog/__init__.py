"""Well-known charts and the facts infrawright relies on, kept as data.

One YAML file per chart under ``charts/``; a repository can add or override entries in
its config (``[[catalog]]`` tables in ``.infrawright.toml``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from infrawright import cache as diskcache
from infrawright.catalog.schema import CatalogEntry, ChartSource
from infrawright.errors import InfrawrightError
from infrawright.typed import DataError, read

__all__ = ["Catalog", "CatalogEntry", "builtin_catalog"]


@dataclass(frozen=True)
class Catalog:
    """Catalog entries by name, with lookups by chart and by API group."""

    entries: Mapping[str, CatalogEntry]

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name: str) -> CatalogEntry | None:
        return self.entries.get(name)

    def for_chart(self, chart: str, repository: str | None = None) -> CatalogEntry | None:
        """The entry for a chart name, using the repository URL to break ties. For an
        OCI URL the chart is its last segment (an OCIRepository's own name is often
        another), and a mirror that keeps the chart's path (``mirror.gcr.io/envoyproxy/
        gateway-helm``, ``ocharted.example/kubernetes-sigs.github.io/external-dns/
        external-dns``) is where the chart is published too."""
        hits = self._by_chart.get(chart, [])
        if repository and repository.startswith("oci://") and not hits:
            chart = repository.rstrip("/").rsplit("/", 1)[-1]
            hits = self._by_chart.get(chart, [])
        if repository:
            wanted = repository.rstrip("/")
            exact = [e for e in hits if e.chart and _published_at(e.chart, wanted)]
            # Without a repository match, trust only distinctive chart names (the chart
            # is named like the entry); a generic name such as "operator" is ambiguous.
            hits = exact or [e for e in hits if e.name == chart]
        return hits[0] if hits else None

    @cached_property
    def _by_chart(self) -> dict[str, list[CatalogEntry]]:
        out: dict[str, list[CatalogEntry]] = {}
        for entry in self.entries.values():
            if entry.chart:
                out.setdefault(entry.chart.name, []).append(entry)
        return out

    def providers_of(self, group: str) -> list[CatalogEntry]:
        return [e for e in self.entries.values() if any(g.group == group for g in e.provides)]

    def merged(self, extra: Iterable[CatalogEntry]) -> Catalog:
        entries = dict(self.entries)
        for entry in extra:
            entries[entry.name] = entry
        return Catalog(entries)


def parse_entry(data: Any, origin: str) -> CatalogEntry:
    """One catalog entry from parsed YAML or TOML data; ``origin`` says where it came from."""
    try:
        return read(CatalogEntry, data)
    except DataError as exc:
        raise InfrawrightError(
            f"{origin}: catalog entry is invalid at {exc.where or 'top level'}: {exc.what}",
            hint="see the catalog schema in infrawright/catalog/schema.py",
        ) from None


def _published_at(chart: ChartSource, url: str) -> bool:
    """Is ``url`` where ``chart`` is published: its repository, or for an OCI registry
    the chart's own address (an OCIRepository's URL names the chart:
    ``oci://docker.io/envoyproxy/gateway-helm``), or an OCI mirror of either that keeps
    the chart's path, with or without the original host?"""
    base = chart.repository.rstrip("/")
    if url == base or (base.startswith("oci://") and url == f"{base}/{chart.name}"):
        return True
    if not url.startswith("oci://"):
        return False
    where = f"{base.split('://', 1)[-1]}/{chart.name}"
    path = where.split("/", 1)[1] if "/" in where else where
    tail = url.split("://", 1)[-1]
    return tail.endswith(f"/{where}") or (
        base.startswith("oci://") and "/" in path and tail.endswith(f"/{path}")
    )


@cache
def builtin_catalog() -> Catalog:
    """The catalog shipped with infrawright. Its files' parsed data is kept in the user's
    cache while they are unchanged (parsing them is most of the time)."""
    folder = resources.files("infrawright.catalog") / "charts"
    items = sorted(
        (item for item in folder.iterdir() if item.name.endswith(".yaml")), key=lambda p: p.name
    )
    signature = [(item.name, *_stat(item)) for item in items]
    key = diskcache.key("catalog", 1, str(folder), signature)
    stored = diskcache.load("catalog", key)
    if isinstance(stored, list) and len(stored) == len(items):
        datas: list[Any] = stored
    else:
        datas = [yaml.load(i.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) for i in items]
        diskcache.store("catalog", key, datas)
    entries: dict[str, CatalogEntry] = {}
    for item, data in zip(items, datas, strict=True):
        entry = parse_entry(data, f"catalog/charts/{item.name}")
        entries[entry.name] = entry
    return Catalog(entries)


def _stat(item: Traversable) -> tuple[int, int]:
    """Size and modification time of a catalog file ((-1, -1) inside a zip file)."""
    try:
        st = Path(str(item)).stat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)
