"""Where Flux starts on each cluster: the entry points of a repository, and the clusters
they make.

A cluster is a folder of this repository that Flux syncs from the top. It is found in
one pass over the parsed files, from any of:

- a top-level ``clusters/<name>/`` folder (each one is a cluster, as before);
- the bootstrap's own Kustomization: ``flux-system`` in ``flux-system`` whose sourceRef
  is the GitRepository ``flux-system`` (what ``flux bootstrap`` writes to
  ``<path>/flux-system/gotk-sync.yaml``); its ``spec.path`` is the cluster folder;
- a ``FluxInstance`` (``fluxcd.controlplane.io``) whose ``spec.sync`` has ``kind:
  GitRepository`` and a ``path``: the operator makes the same ``flux-system`` source and
  Kustomization from it;
- a HelmRelease of the flux-operator project's ``flux-instance`` chart whose values set
  ``instance.sync`` (``url``, ``path``, ``kind`` defaulting to GitRepository): the chart
  renders that FluxInstance.

An entry whose source is an OCIRepository or a Bucket syncs an artifact, not this
repository, and an entry whose path is not a folder here cannot be followed: both are
kept, with why, but make no cluster. Without any entry point the repository is one
anonymous cluster (see :mod:`infrawright.model.reach`).

Names: ``clusters/<name>`` is ``<name>``; any other folder is named by its last path
segment, with more segments taken while two clusters would share a name
(``kubernetes/clusters/prod`` is ``prod``; ``eu/prod`` and ``us/prod`` stay whole); the
repository's root folder is ``root``. ``--cluster`` takes the name or the folder.

Each file belongs to the deepest cluster folder that holds it; a cluster reads its own
files and the files of no cluster (shared bases, apps), never another cluster's.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from infrawright.model.flux import HELM_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP
from infrawright.repo.documents import Document, YamlFile
from infrawright.repo.listing import DIR, Listing

#: How an entry point was found.
EntryKind = Literal["folder", "bootstrap", "instance", "instance-chart"]

OPERATOR_GROUP = "fluxcd.controlplane.io"
#: The flux-operator project's chart that renders a FluxInstance from its values.
INSTANCE_CHART = "flux-instance"
#: The source kinds a sync can name; only a GitRepository can be this repository.
SYNC_KINDS = ("GitRepository", "OCIRepository", "Bucket")
#: The kinds an entry point is read from.
_KINDS = frozenset({"Kustomization", "FluxInstance", "HelmRelease", "OCIRepository"})
#: The name of a cluster whose folder is the repository's root.
ROOT_NAME = "root"


@dataclass(frozen=True)
class EntryPoint:
    """One place where Flux is told to sync a folder: what it is, where it is written,
    the folder (relative to the repository, "." for the root; None when there is none
    to follow), and why it makes no cluster (None when it does)."""

    kind: EntryKind
    file: str
    line: int | None
    folder: str | None
    not_a_cluster: str | None = None

    def where(self) -> str:
        """``file:line``, or the folder for a ``clusters/<name>/`` folder."""
        if self.kind == "folder":
            return f"{self.file}/"
        return f"{self.file}:{self.line}" if self.line else self.file

    def describe(self) -> str:
        what = {
            "folder": "folder under clusters/",
            "bootstrap": "bootstrap Kustomization flux-system",
            "instance": "FluxInstance spec.sync",
            "instance-chart": "flux-instance HelmRelease values instance.sync",
        }[self.kind]
        return f"{self.where()} ({what})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            **({"not_a_cluster": self.not_a_cluster} if self.not_a_cluster else {}),
        }


@dataclass(frozen=True)
class ClusterEntry:
    """A cluster of the repository: its name, its folder and the entry points naming it."""

    name: str
    folder: str
    entries: tuple[EntryPoint, ...]

    def holds(self, rel: str) -> bool:
        """Is the file ``rel`` under this cluster's folder?"""
        return under(rel, self.folder)

    def describe(self) -> str:
        """The folder and the entry point that syncs it, for reports:
        ``kubernetes/clusters/prod/, synced by kubernetes/clusters/prod/flux-system/
        gotk-sync.yaml:17 (bootstrap Kustomization flux-system)``."""
        synced = [e for e in self.entries if e.kind != "folder"]
        shown = "./" if self.folder == "." else f"{self.folder}/"
        return f"{shown}, synced by {synced[0].describe()}" if synced else shown

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "folder": self.folder,
            "entry_points": [e.to_dict() for e in self.entries],
        }


@dataclass(frozen=True)
class Entries:
    """Every entry point of a repository and the clusters they make, by name."""

    clusters: tuple[ClusterEntry, ...]
    #: Entry points that make no cluster (another source, a path not in the repository).
    elsewhere: tuple[EntryPoint, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.clusters)

    def named(self, wanted: str) -> ClusterEntry | None:
        """The cluster called ``wanted``, or whose folder it is (``./a/b/`` is ``a/b``)."""
        for c in self.clusters:
            if c.name == wanted:
                return c
        folder = normal_folder(wanted)
        return next((c for c in self.clusters if c.folder == folder), None)

    def known(self) -> str:
        """The clusters for a message: ``prod (kubernetes/clusters/prod/), ...``."""
        if not self.clusters:
            return "none"
        return ", ".join(
            c.name if c.folder == f"clusters/{c.name}" else f"{c.name} ({c.folder}/)"
            for c in self.clusters
        )

    def owner(self, rel: str) -> ClusterEntry | None:
        """The cluster a file belongs to: the deepest cluster folder that holds it."""
        best: ClusterEntry | None = None
        for c in self.clusters:
            if c.holds(rel) and (best is None or len(c.folder) > len(best.folder)):
                best = c
        return best

    def keeps(self, name: str | None) -> Callable[[str], bool]:
        """A test of repository-relative paths: is the file read for the cluster
        ``name``? Its own files and the files of no cluster (all files for None, or
        when the repository has one cluster)."""
        chosen = self.named(name) if name is not None else None
        if chosen is None or len(self.clusters) < 2:
            return _everything
        others = [c for c in self.clusters if c is not chosen]
        if chosen.folder == "." or not any(under(chosen.folder, o.folder) for o in others):
            # no cluster folder holds this one: skip the files of the others
            prefixes = tuple(f"{o.folder}/" for o in others if o.folder != ".")
            return lambda rel: not rel.startswith(prefixes)
        return lambda rel: self.owner(rel) in (None, chosen)


def _everything(_rel: str) -> bool:
    return True


def under(rel: str, folder: str) -> bool:
    """Is the path ``rel`` inside ``folder`` ("." holds everything)?"""
    return folder == "." or rel.startswith(folder + "/")


def normal_folder(path: str) -> str | None:
    """A path as written in a manifest (``./clusters/prod/``) as a repository-relative
    folder (``clusters/prod``, "." for the root); None when it names no plain folder of
    the repository (empty, a variable, or leaving it)."""
    raw = path.strip()
    if "${" in raw:
        return None
    norm = posixpath.normpath(raw.lstrip("/")) if raw.strip("./") else "."
    return None if norm == ".." or norm.startswith("../") else norm


def find_entries(files: Mapping[str, YamlFile], listed: Mapping[str, Listing]) -> Entries:
    """The entry points of the parsed ``files`` and the clusters they make; ``listed``:
    the walk's folder listings (which folders exist, and ``clusters/``)."""
    found: list[EntryPoint] = [
        EntryPoint("folder", f"clusters/{name}", None, f"clusters/{name}")
        for name, flags in listed.get("clusters", ())
        if flags & DIR
    ]
    charts: list[tuple[Document, dict[str, Any]]] = []
    oci_urls: dict[str, str] = {}
    for parsed in files.values():
        for doc in parsed.documents:  # not .objects: most documents are of no kind asked
            kind = doc.kind
            if kind not in _KINDS or not doc.is_object:
                continue
            if kind == "Kustomization":
                if doc.group == KUSTOMIZE_GROUP and _is_bootstrap(doc):
                    found.append(_folder_entry("bootstrap", doc, doc.spec.get("path"), listed))
            elif kind == "FluxInstance":
                sync = doc.spec.get("sync")
                if doc.group == OPERATOR_GROUP and isinstance(sync, dict):
                    found.append(_sync_entry("instance", doc, sync, listed))
            elif kind == "HelmRelease":
                sync = _chart_sync(doc) if doc.group == HELM_GROUP else None
                if sync is not None:
                    charts.append((doc, sync))
            elif doc.group == SOURCE_GROUP:  # an OCIRepository: the chart may be named by it
                url = doc.spec.get("url")
                if isinstance(url, str):
                    oci_urls[doc.name] = url
    for doc, sync in charts:
        if _is_instance_chart(doc, oci_urls):
            found.append(_sync_entry("instance-chart", doc, sync, listed))
    return _clusters(found)


def _is_bootstrap(doc: Document) -> bool:
    if doc.name != "flux-system" or (doc.namespace or "flux-system") != "flux-system":
        return False
    ref = doc.spec.get("sourceRef")
    return (
        isinstance(ref, dict)
        and ref.get("kind", "GitRepository") == "GitRepository"
        and ref.get("name") == "flux-system"
    )


def _chart_sync(doc: Document) -> dict[str, Any] | None:
    """``values.instance.sync`` of a HelmRelease when it sets a ``url`` (the chart
    renders ``spec.sync`` only then)."""
    values = doc.spec.get("values")
    instance = values.get("instance") if isinstance(values, dict) else None
    sync = instance.get("sync") if isinstance(instance, dict) else None
    return sync if isinstance(sync, dict) and sync.get("url") else None


def _is_instance_chart(doc: Document, oci_urls: Mapping[str, str]) -> bool:
    """Is the HelmRelease's chart flux-operator's ``flux-instance``: by chart name, or a
    chartRef to an OCIRepository whose URL (else name) ends in it?"""
    chart = doc.spec.get("chart")
    chart_spec = chart.get("spec") if isinstance(chart, dict) else None
    if isinstance(chart_spec, dict):
        return chart_spec.get("chart") == INSTANCE_CHART
    ref = doc.spec.get("chartRef")
    if not isinstance(ref, dict) or ref.get("kind") != "OCIRepository":
        return False
    name = str(ref.get("name", ""))
    url = oci_urls.get(name)
    if url is not None:
        return url.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0] == INSTANCE_CHART
    return name == INSTANCE_CHART


def _sync_entry(
    kind: EntryKind, doc: Document, sync: dict[str, Any], listed: Mapping[str, Listing]
) -> EntryPoint:
    source = str(sync.get("kind") or "GitRepository")
    if source != "GitRepository":
        what = source if source in SYNC_KINDS else f"unknown kind {source!r}"
        url = sync.get("url")
        at = f" {url}" if isinstance(url, str) and url else ""
        why = f"syncs {what}{at}, an artifact and not this repository: not checked here"
        return EntryPoint(kind, doc.file, doc.line, None, why)
    return _folder_entry(kind, doc, sync.get("path", ""), listed)


def _folder_entry(
    kind: EntryKind, doc: Document, path: object, listed: Mapping[str, Listing]
) -> EntryPoint:
    text = path if isinstance(path, str) else ""
    folder = normal_folder(text)
    if folder is None:
        return EntryPoint(kind, doc.file, doc.line, None, f"path {text!r} is not a plain folder")
    if not _is_folder(folder, listed):
        return EntryPoint(
            kind, doc.file, doc.line, None, f"path {text!r} is not a folder of this repository"
        )
    return EntryPoint(kind, doc.file, doc.line, folder)


def _is_folder(folder: str, listed: Mapping[str, Listing]) -> bool:
    if folder == "." or folder in listed:
        return True
    parent, _, name = folder.rpartition("/")
    return any(n == name and f & DIR for n, f in listed.get(parent or ".", ()))


def _clusters(found: Iterable[EntryPoint]) -> Entries:
    by_folder: dict[str, list[EntryPoint]] = {}
    elsewhere: list[EntryPoint] = []
    for e in found:
        if e.folder is None or e.not_a_cluster:
            elsewhere.append(e)
        else:
            by_folder.setdefault(e.folder, []).append(e)
    names = cluster_names(by_folder)
    clusters = sorted(
        (ClusterEntry(names[f], f, tuple(es)) for f, es in by_folder.items()),
        key=lambda c: c.name,
    )
    return Entries(tuple(clusters), tuple(elsewhere))


def cluster_names(folders: Iterable[str]) -> dict[str, str]:
    """A short unique name for each cluster folder (see the module docstring)."""
    todo = sorted(set(folders))
    names: dict[str, str] = {}
    for f in todo:
        head, _, name = f.rpartition("/")
        if head == "clusters":
            names[f] = name
    rest = [f for f in todo if f not in names]
    taken = set(names.values())
    for f in rest:
        if f == ".":
            names[f] = ROOT_NAME if ROOT_NAME not in taken else "."
            taken.add(names[f])
            continue
        parts = f.split("/")
        others = [o.split("/") for o in rest if o not in (f, ".")]
        name = f
        for k in range(1, len(parts) + 1):
            candidate = parts[-k:]
            if "/".join(candidate) in taken:
                continue
            if not any(o[-k:] == candidate for o in others):
                name = "/".join(candidate)
                break
        names[f] = name
        taken.add(name)
    return names
