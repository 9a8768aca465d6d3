"""What every rule can look at: the repository, its builds, the CRD index, the graph."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from infrawright.build.builds import Build
from infrawright.model.crds import CrdIndex
from infrawright.model.flux import HELM_GROUP, FluxKustomization, HelmRelease
from infrawright.model.graph import Graph
from infrawright.model.repo import RepoModel
from infrawright.repo.documents import Document
from infrawright.repo.positions import key_line
from infrawright.validate import cel
from infrawright.validate.schema import SchemaStore

MONITORING_GROUP = "monitoring.coreos.com"
CILIUM_GROUP = "cilium.io"


@dataclass(frozen=True)
class Context:
    """Read-only inputs of the rules."""

    model: RepoModel
    builds: Mapping[str, Build]
    index: CrdIndex
    graph: Graph
    schemas: SchemaStore

    def built(self) -> Iterator[tuple[FluxKustomization, Document]]:
        """Every built object with the Kustomization that produced it."""
        for build in self.builds.values():
            for obj in build.objects:
                yield build.kustomization, obj

    def of_kind(self, *kinds: str) -> list[tuple[FluxKustomization, Document]]:
        """The built objects of these kinds (any API group), in build order."""
        if len(kinds) == 1:
            return self._by_kind.get(kinds[0], [])
        wanted = set(kinds)
        return [(ks, obj) for ks, obj in self._in_order if obj.kind in wanted]

    @cached_property
    def _by_kind(self) -> dict[str, list[tuple[FluxKustomization, Document]]]:
        """Built objects by kind, sorted out once: most rules want a few kinds only."""
        out: dict[str, list[tuple[FluxKustomization, Document]]] = {}
        for ks, obj in self._in_order:
            known = out.get(obj.kind)
            if known is None:
                out[obj.kind] = [(ks, obj)]
            else:
                known.append((ks, obj))
        return out

    @cached_property
    def _in_order(self) -> list[tuple[FluxKustomization, Document]]:
        return list(self.built())

    def schema_objects(self) -> list[Document]:
        """The objects that have a CRD schema, once each: every built one, and the Flux
        Kustomizations in files no build covers (e.g. where the bootstrap is not local)."""
        return self._schema_objects

    @cached_property
    def _schema_objects(self) -> list[Document]:
        kinds = {kind for _group, _version, kind in self.schemas.schemas}
        if not kinds:
            return []
        objects = [obj for _ks, obj in self.of_kind(*kinds)]
        built_files = {obj.file for _ks, obj in self.built()}
        objects += [ks.doc for ks in self.model.kustomizations if ks.doc.file not in built_files]
        seen: set[tuple[str, int, str]] = set()
        out: list[Document] = []
        for obj in objects:
            key = (obj.file, obj.line, obj.resource)
            if key not in seen and self.schemas.has(obj):
                seen.add(key)
                out.append(obj)
        return out

    @cached_property
    def cel(self) -> tuple[list[tuple[Document, list[cel.Violation]]], cel.Outcome]:
        """The CRDs' CEL rules evaluated on every object with a schema: the violations
        per object, and the totals (evaluated, and not evaluated by reason)."""
        total = cel.Outcome()
        per_object: list[tuple[Document, list[cel.Violation]]] = []
        for obj in self.schema_objects():
            schema = self.schemas.schemas[self.schemas.key(obj)]
            before = len(total.violations)
            cel.check(schema, obj.data, total)
            if len(total.violations) > before:
                per_object.append((obj, total.violations[before:]))
        return per_object, total

    def helm_releases(self) -> Iterator[tuple[FluxKustomization, HelmRelease]]:
        return iter(self._helm_releases)

    @cached_property
    def _helm_releases(self) -> list[tuple[FluxKustomization, HelmRelease]]:
        """Found once: several rules walk every HelmRelease."""
        return [
            (ks, HelmRelease.parse_doc(obj))
            for ks, obj in self.of_kind("HelmRelease")
            if obj.group == HELM_GROUP
        ]

    def monitoring_stacks(self) -> list[str]:
        """Kustomizations that install the prometheus-operator CRDs."""
        configured = self.model.config.monitoring_stack
        if configured:
            return [configured]
        return self.index.providers_of(MONITORING_GROUP)

    def runs_cilium(self) -> bool:
        """Does the cluster run Cilium? (A Kustomization installs cilium.io, or the
        repository holds Cilium policies, e.g. with Cilium installed out of band.)"""
        return runs_cilium(self.model, self.index)

    def source_of(self, obj: Document) -> Document | None:
        """The repository document a built object came from, as written (before Flux
        patches, namespaces or substitution were applied)."""
        source = self.model.files.get(obj.file)
        if source is None:
            return None
        return next((d for d in source.objects if d.line == obj.line), None)

    def line_of(self, doc: Document, keys: Sequence[str | int]) -> int | None:
        if not doc.file or not doc.line:
            return None
        return key_line(self.model.source_root(doc.file), doc.file, doc.line, keys)

    def helm_repository_urls(self) -> dict[str, str]:
        return helm_repository_urls(self.model)


def helm_repository_urls(model: RepoModel) -> dict[str, str]:
    """HelmRepository and OCIRepository names to their URLs, from every file."""
    return dict(model.source_urls)


def runs_cilium(model: RepoModel, index: CrdIndex) -> bool:
    if index.providers_of(CILIUM_GROUP):
        return True
    return any(d.group == CILIUM_GROUP for d in model.objects())
