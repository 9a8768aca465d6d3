"""What a planner may know about the repository: its components and what they install.

Planners see these facts, not the repository itself, so the rule planner, an LLM and an
MCP client reason about the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infrawright.model.flux import HelmRelease
from infrawright.model.repo import RepoModel
from infrawright.validate.context import helm_repository_urls


@dataclass(frozen=True)
class Component:
    """One component folder and what its HelmRelease (if any) installs."""

    name: str
    namespace: str | None = None
    catalog: str | None = None
    chart: str | None = None
    version: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RepoFacts:
    """Components by name (folders under the components dir and Flux Kustomizations)."""

    components: Mapping[str, Component] = field(default_factory=dict)
    #: Catalog charts whose HelmRelease lives outside the components folder: entry name ->
    #: the file (the repository runs them, but not as components infrawright edits).
    elsewhere: Mapping[str, str] = field(default_factory=dict)
    components_dir: str = "namespaces"
    #: The repository's cluster names (see :mod:`infrawright.model.entries`); empty when
    #: not known.
    clusters: tuple[str, ...] = ()
    #: ``group/Kind`` of the custom objects each component holds -> those components
    #: (a PostgreSQL ``Cluster`` in ``postgres``).
    custom: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Namespaces and HelmReleases outside the components folder: name -> the first file
    #: that defines one (what runs here that infrawright does not edit).
    outside: Mapping[str, str] = field(default_factory=dict)

    def holding(self, group: str, kind: str) -> tuple[str, ...]:
        """The components that hold an object of ``group``/``kind``."""
        return self.custom.get(f"{group}/{kind}", ())

    def running_elsewhere(self, entry: str) -> str | None:
        """The file of a HelmRelease of catalog chart ``entry`` outside the components
        folder, when the repository runs it there."""
        return self.elsewhere.get(entry)

    def by_catalog(self, entry: str) -> Component | None:
        """The component installing a catalog chart."""
        hits = [c for c in self.components.values() if c.catalog == entry]
        return hits[0] if hits else None

    @classmethod
    def from_model(cls, model: RepoModel) -> RepoFacts:
        urls = helm_repository_urls(model)
        found: dict[str, Component] = {
            name: Component(name) for name in (*model.components, *model.by_label)
        }
        elsewhere: dict[str, str] = {}
        outside: dict[str, str] = {}
        custom: dict[str, list[str]] = {}
        for rel, parsed in sorted(model.files.items()):
            comp = model.component_of(rel)
            for doc in parsed.objects if comp is not None else ():
                held = custom.setdefault(f"{doc.group}/{doc.kind}", []) if "." in doc.group else []
                if comp is not None and comp not in held:
                    held.append(comp)
            if comp is None:
                for doc in parsed.objects:
                    if doc.kind in ("Namespace", "HelmRelease") and doc.name:
                        outside.setdefault(doc.name, rel)
                    if doc.kind == "HelmRelease":
                        release = HelmRelease.parse_doc(doc)
                        url = urls.get(release.source.name) if release.source else None
                        entry = model.catalog.for_chart(release.chart, url)
                        if entry is not None:
                            elsewhere.setdefault(entry.name, rel)
                continue
            for doc in parsed.objects:
                if doc.kind == "Namespace":
                    current = found.get(comp, Component(comp))
                    if current.namespace is None:
                        found[comp] = _replace(current, namespace=doc.name)
                if doc.kind != "HelmRelease":
                    continue
                release = HelmRelease.parse_doc(doc)
                url = urls.get(release.source.name) if release.source else None
                entry = model.catalog.for_chart(release.chart, url)
                current = found.get(comp, Component(comp))
                found[comp] = Component(
                    comp,
                    namespace=current.namespace or release.namespace,
                    catalog=entry.name if entry else None,
                    chart=release.chart,
                    version=release.version,
                    values=release.values,
                )
        return cls(
            found,
            elsewhere,
            model.config.components_dir.strip("/") or ".",
            model.entries.names,
            {k: tuple(v) for k, v in custom.items()},
            outside,
        )


def _replace(c: Component, *, namespace: str) -> Component:
    return Component(c.name, namespace, c.catalog, c.chart, c.version, c.values)
