"""What each Flux Kustomization applies, and which cluster it belongs to, from the files
alone (no kustomize run).

A Flux Kustomization builds its ``spec.path``: the kustomization.yaml there and every
file and folder it lists (``resources`` and ``components``, through any depth), or, with
no kustomization.yaml, what Flux generates for it: every YAML file under the folder, a
sub-folder with its own kustomization.yaml taken as a whole. Each file reached is
remembered with the chain of entries that reached it, so the layout model can tell a
component folder from a bundle of components or a base listed by an overlay.

Clusters are found by :mod:`infrawright.model.entries` (each folder under ``clusters/``,
or wherever the Flux entry points say): each starts from the Flux Kustomizations defined
in its folder, and reads its own files and those of no cluster. A repository without
an entry point is one cluster, starting from the Kustomizations no other Kustomization
applies. A Kustomization belongs to every cluster whose walk reaches its file.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from infrawright.model.artifacts import mapped
from infrawright.model.entries import ClusterEntry, Entries, find_entries
from infrawright.model.flux import FluxKustomization, is_flux_kustomization, is_this_repository
from infrawright.repo.documents import Document, YamlFile
from infrawright.repo.inclusion import KUSTOMIZATION_NAMES, Inclusion, index_inclusion
from infrawright.repo.listing import DIR


@dataclass(frozen=True)
class Entry:
    """One entry of a kustomization.yaml: the folder listing it, the text as written, the
    file or folder it names (relative to the repository), and under which key."""

    folder: str
    text: str
    target: str
    key: str  # "resources" or "components"; "" for one Flux generated


@dataclass(frozen=True)
class Reached:
    """A file a Flux Kustomization applies, and the entries that led to it from the
    Kustomization's path (outermost first; empty for a file directly in the path)."""

    file: str
    chain: tuple[Entry, ...]


@dataclass(frozen=True)
class Built:
    """A Flux Kustomization from this repository and what it applies."""

    ks: FluxKustomization
    folder: str  # spec.path relative to the repository, without "./"
    files: tuple[Reached, ...]


@dataclass(frozen=True)
class Cluster:
    """A cluster: its name (None for a repository without an entry point), the folder
    it starts from, and the Flux Kustomizations it applies, in walk order."""

    name: str | None
    entry: str
    builds: tuple[Built, ...]


class Tree:
    """The kustomization entries of a repository, and builds walked from them."""

    def __init__(self, files: Mapping[str, YamlFile], listed: Mapping[str, object]) -> None:
        self.files = files
        self.sorted_files = sorted(files)
        self.listed = listed
        self.kfiles: dict[str, str] = {}  # folder -> its kustomization file
        for rel in self.sorted_files:
            folder, _, base = rel.rpartition("/")
            if base in KUSTOMIZATION_NAMES:
                self.kfiles.setdefault(folder or ".", rel)
        self._entries: dict[str, tuple[Entry, ...]] = {}

    def kustomization(self, folder: str) -> dict[str, Any] | None:
        rel = self.kfiles.get(folder)
        if rel is None:
            return None
        docs = self.files[rel].documents
        data = docs[0].data if docs else None
        return data if isinstance(data, dict) else {}

    def entries(self, folder: str) -> tuple[Entry, ...]:
        """What the folder's kustomization lists, or what Flux would generate for it."""
        known = self._entries.get(folder)
        if known is None:
            known = self._entries[folder] = self._list(folder)
        return known

    def _list(self, folder: str) -> tuple[Entry, ...]:
        data = self.kustomization(folder)
        if data is None:
            return self.generated(folder)
        out = []
        for key in ("resources", "components"):
            items = data.get(key)
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, str) or "://" in item or item.startswith("github.com/"):
                    continue
                target = posixpath.normpath(posixpath.join(folder, item))
                if target.startswith(".."):
                    continue
                out.append(Entry(folder, item, target, key))
        return tuple(out)

    def generated(self, folder: str) -> tuple[Entry, ...]:
        """What Flux generates for a folder without a kustomization: every YAML file in
        it, and every sub-folder with a kustomization (taken whole) or, recursively, the
        files of one without."""
        prefix = "" if folder == "." else folder.rstrip("/") + "/"
        out: list[Entry] = []
        start = bisect.bisect_left(self.sorted_files, prefix)
        covered: str | None = None
        for rel in self.sorted_files[start:]:
            if not rel.startswith(prefix):
                break
            if covered is not None and rel.startswith(covered):
                continue
            inner = rel[len(prefix) :]
            parts = inner.split("/")
            # the outermost folder on the way that has its own kustomization
            here = folder
            for part in parts[:-1]:
                here = part if here == "." else f"{here}/{part}"
                if here in self.kfiles:
                    covered = here + "/"
                    out.append(Entry(folder, here[len(prefix) :], here, ""))
                    break
            else:
                out.append(Entry(folder, inner, rel, ""))
        return tuple(out)

    def walk(self, folder: str) -> tuple[Reached, ...]:
        """Every file the build of ``folder`` applies, each with its chain of entries."""
        out: list[Reached] = []
        seen: set[str] = set()
        stack: list[tuple[str, tuple[Entry, ...]]] = [(folder, ())]
        while stack:
            here, chain = stack.pop()
            if here in seen:
                continue
            seen.add(here)
            todo = []
            for entry in self.entries(here):
                if entry.target in self.files:
                    out.append(Reached(entry.target, (*chain, entry)))
                elif self._is_folder(entry.target):
                    todo.append((entry.target, (*chain, entry)))
            stack.extend(reversed(todo))
        return tuple(out)

    def _is_folder(self, rel: str) -> bool:
        if rel in self.kfiles:
            return True
        parent, _, name = rel.rpartition("/")
        listing = self.listed.get(parent or ".")
        if isinstance(listing, tuple):
            return any(n == name and flags & DIR for n, flags in listing)
        return False

    @cached_property
    def defined_in(self) -> dict[str, list[Document]]:
        """Flux Kustomization documents by the file that defines them."""
        out: dict[str, list[Document]] = {}
        for rel, parsed in self.files.items():
            for doc in parsed.objects:
                if is_flux_kustomization(doc):
                    out.setdefault(rel, []).append(doc)
        return out


def folder_of(ks: FluxKustomization) -> str | None:
    """``spec.path`` relative to the repository ("." for the root), or None when it is
    not a plain relative folder of this repository."""
    raw = ks.path.strip()
    if not raw or "${" in raw:
        return None
    norm = posixpath.normpath(raw.lstrip("/"))
    if norm.startswith(".."):
        return None
    return norm


def clusters(
    files: Mapping[str, YamlFile],
    listed: Mapping[str, object],
    tree: Tree | None = None,
    entries: Entries | None = None,
) -> tuple[Cluster, ...]:
    """Every cluster of the repository with the Flux Kustomizations it applies
    (``entries``: the clusters, found from the files when not given)."""
    tree = tree or Tree(files, listed)
    if entries is None:
        entries = find_entries(files, {k: v for k, v in listed.items() if isinstance(v, tuple)})
    inclusion = index_inclusion(files)
    if not entries.clusters:
        return (_one_cluster(tree, inclusion, None, entries),)
    return tuple(_one_cluster(tree, inclusion, c, entries) for c in entries.clusters)


def _kustomizations(
    tree: Tree, inclusion: Inclusion, keeps: Callable[[str], bool]
) -> dict[str, list[FluxKustomization]]:
    from_files: dict[str, list[FluxKustomization]] = {}
    docs: list[Document] = []
    for rel, parsed in tree.files.items():
        if keeps(rel):
            docs.extend(parsed.objects)
    found = [
        FluxKustomization.parse_doc(doc, inclusion.namespace_of(rel))
        for rel, defined in tree.defined_in.items()
        if keeps(rel)
        for doc in defined
    ]
    for ks in mapped(found, docs):
        from_files.setdefault(ks.doc.file, []).append(ks)
    return from_files


def _one_cluster(
    tree: Tree, inclusion: Inclusion, cluster: ClusterEntry | None, entries: Entries
) -> Cluster:
    by_file = _kustomizations(tree, inclusion, entries.keeps(cluster.name if cluster else None))
    built: dict[str, Built] = {}
    order: list[str] = []

    memo: dict[str, Built | None] = {}

    def build(ks: FluxKustomization) -> Built | None:
        if ks.key not in memo:
            memo[ks.key] = _build(ks)
        return memo[ks.key]

    def _build(ks: FluxKustomization) -> Built | None:
        if ks.source is not None and ks.via is None and not is_this_repository(ks.source):
            return None
        if ks.unbuilt or (ks.name == "flux-system" and ks.doc.file.endswith("gotk-sync.yaml")):
            return None
        folder = folder_of(ks)
        if folder is None:
            return None
        return Built(ks, folder, tree.walk(folder))

    name = cluster.name if cluster else None
    if cluster is not None:
        entry = cluster.folder
        start = [ks for rel, kss in by_file.items() if cluster.holds(rel) for ks in kss]
    else:
        every = {ks.key: build(ks) for kss in by_file.values() for ks in kss}
        applied = {r.file for b in every.values() if b is not None for r in b.files}
        start = [ks for rel, kss in by_file.items() if rel not in applied for ks in kss]
        entry = posixpath.dirname(start[0].doc.file) if start else "."
    stack = list(reversed(start))
    while stack:
        ks = stack.pop()
        if ks.key in built:
            continue
        done = build(ks)
        if done is None:
            continue
        built[ks.key] = done
        order.append(ks.key)
        inner = [k for r in done.files for k in by_file.get(r.file, ())]
        stack.extend(reversed(inner))
    return Cluster(name, entry, tuple(built[k] for k in order))
