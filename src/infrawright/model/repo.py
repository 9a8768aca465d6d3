"""RepoModel: everything infrawright knows about a repository after one read."""

from __future__ import annotations

import bisect
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from infrawright import cache
from infrawright.catalog import Catalog
from infrawright.model.entries import ClusterEntry, Entries
from infrawright.model.flux import FluxKustomization, Ref, is_this_repository
from infrawright.model.profile import Profile, detect_profile
from infrawright.repo.config import Config
from infrawright.repo.documents import Document, ParseProblem, YamlFile
from infrawright.repo.listing import DIR, LINK, Listing, Listings


@dataclass(frozen=True)
class PathProblem:
    """A Flux Kustomization whose ``spec.path`` cannot be used."""

    kustomization: FluxKustomization
    message: str


@dataclass(frozen=True)
class RepoModel:
    """A repository read once: files, Flux Kustomizations, components, settings."""

    root: Path
    config: Config
    catalog: Catalog
    cluster: str | None
    cluster_dir: str | None
    cluster_file: str | None
    files: Mapping[str, YamlFile]
    kustomizations: tuple[FluxKustomization, ...]
    components: tuple[str, ...]
    problems: tuple[ParseProblem, ...]
    #: Folder listings made while the files were found (see :mod:`infrawright.repo.listing`).
    listed: Mapping[str, Listing] = field(default_factory=dict)
    #: For a copy with a change written in it (see :func:`infrawright.model.loader.
    #: with_changes`): the repository it was made from, where every file the change did
    #: not write can be read as well (a partial copy holds only what its builds need).
    origin: Path | None = None
    #: The files written in ``root`` by the change (read from ``root``, never ``origin``).
    rewritten: frozenset[str] = frozenset()
    #: Every cluster of the repository and where Flux starts on it (see
    #: :mod:`infrawright.model.entries`); ``cluster`` is one of them.
    entries: Entries = field(default_factory=lambda: Entries(()))

    def source_root(self, rel: str) -> Path:
        """Where the file ``rel`` can be read: the copy for a file the change wrote, else
        the repository the copy was made from."""
        if self.origin is None or rel in self.rewritten:
            return self.root
        return self.origin

    @cached_property
    def profile(self) -> Profile:
        """The rule profile this repository is validated with (house or flux)."""
        clusters = [name for name, flags in self.listed.get("clusters", ()) if flags & DIR]
        if self.cluster and self.cluster_dir == f"clusters/{self.cluster}":
            clusters.append(self.cluster)
        return detect_profile(self.config, self.components, clusters)

    @property
    def cluster_entry(self) -> ClusterEntry | None:
        """The cluster this model was read for, with where it was found (None for a
        repository read as a whole)."""
        return self.entries.named(self.cluster) if self.cluster else None

    @cached_property
    def content_key(self) -> str | None:
        """What identifies everything read into this model: where it was read, the code
        reading it, the settings, every file's hash and problems, and the walk's folder
        listings. None when a file was not read from disk (it has no hash), and for a
        copy with a change written in it (never asked for again)."""
        files = [(rel, f.digest) for rel, f in self.files.items()]
        return self._key("model", files, [repr(p) for p in self.problems])

    @cached_property
    def shape_key(self) -> str | None:
        """What identifies the repository's shape, which an edit inside a manifest does
        not change: the code, the settings, the walk's folder listings, the files that
        define Flux Kustomizations and every kustomization file (by hash). None as for
        :attr:`content_key`."""
        names = ("kustomization.yaml", "kustomization.yml")
        flux = {ks.doc.file for ks in self.kustomizations}
        files = [
            (rel, f.digest)
            for rel, f in self.files.items()
            if rel in flux or rel.rpartition("/")[2] in names
        ]
        return self._key("shape", files)

    def _key(self, kind: str, files: list[tuple[str, str]], *before: object) -> str | None:
        """A key of ``files`` ((path, hash) pairs) and ``before``, with what every such key
        holds: the code, where the model was read, the cluster, the settings and the
        walk's listings. None for a copy, or when a file has no hash."""
        if self.origin is not None or not all(digest for _rel, digest in files):
            return None
        return cache.quick_key(
            kind,
            cache.code_version(),
            self.real_root,
            self.cluster,
            repr(self.config),
            *before,
            files,
            self._listed_key,
        )

    @cached_property
    def _listed_key(self) -> str:
        # in the walk's order, which is stable
        return cache.quick_key("listings", list(self.listed.items()))

    @cached_property
    def fresh_files(self) -> list[str]:
        """Files parsed in this run: new, or changed since the parsed-file cache saw them
        (all of them on a first run)."""
        return [rel for rel, f in self.files.items() if f.fresh]

    @cached_property
    def listings(self) -> Listings:
        """Listings of any folder: the walk's, others listed on first use."""
        return Listings(str(self.root), self.listed, self.looked_up)

    @cached_property
    def looked_up(self) -> list[str]:
        """What was asked of the file system after the files were read (folders listed,
        paths resolved): results that depend on more than the files and the walk."""
        return []

    @cached_property
    def source_urls(self) -> Mapping[str, str]:
        """HelmRepository and OCIRepository names to their URLs, from every file (found
        once: the index, several rules and the planner ask)."""
        urls: dict[str, str] = {}
        for doc in self.objects():
            if doc.kind in ("HelmRepository", "OCIRepository"):
                url = doc.spec.get("url")
                if isinstance(url, str):
                    urls[doc.name] = url
        return urls

    def documents(self) -> list[Document]:
        return [d for f in self.files.values() for d in f.documents]

    def objects(self) -> list[Document]:
        return [d for f in self.files.values() for d in f.objects]

    def kustomization(self, name: str, namespace: str = "flux-system") -> FluxKustomization | None:
        for ks in self.kustomizations:
            if ks.name == name and ks.namespace == namespace:
                return ks
        return None

    @cached_property
    def labels(self) -> dict[tuple[str, str], str]:
        """(namespace, name) -> the label builds and the graph use: the bare name when it
        is unique in the repository, else ``namespace/name``."""
        counts = Counter(ks.name for ks in self.kustomizations)
        return {
            (ks.namespace, ks.name): ks.name if counts[ks.name] == 1 else ks.key
            for ks in self.kustomizations
        }

    def label(self, ks: FluxKustomization) -> str:
        return self.labels[(ks.namespace, ks.name)]

    def label_of(self, ref: Ref) -> str:
        """Label of the Kustomization a dependsOn entry names (``ns/name`` if unknown)."""
        return self.labels.get((ref.namespace, ref.name), f"{ref.namespace}/{ref.name}")

    @cached_property
    def by_label(self) -> dict[str, FluxKustomization]:
        out: dict[str, FluxKustomization] = {}
        for ks in self.kustomizations:
            out.setdefault(self.label(ks), ks)
        return out

    @cached_property
    def kustomization_files(self) -> list[str]:
        """Every kustomization.yaml/.yml, sorted (for prefix searches with bisect)."""
        names = ("kustomization.yaml", "kustomization.yml")
        return sorted(rel for rel in self.files if rel.rsplit("/", 1)[-1] in names)

    def kustomization_files_under(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        files = self.kustomization_files
        start = bisect.bisect_left(files, prefix)
        out = []
        for rel in files[start:]:
            if not rel.startswith(prefix):
                break
            out.append(rel)
        return out

    def documents_under(self, folder: str) -> int:
        """How many YAML documents the files under ``folder`` hold."""
        prefix = folder.rstrip("/") + "/"
        return sum(len(f.documents) for rel, f in self.files.items() if rel.startswith(prefix))

    def is_local(self, ks: FluxKustomization) -> bool:
        """True when the Kustomization's source is this repository (so it can be built)."""
        return ks.source is None or ks.via is not None or is_this_repository(ks.source)

    def is_bootstrap(self, ks: FluxKustomization) -> bool:
        """The bootstrap's own Kustomization (``flux-system`` syncing the cluster folder)."""
        return ks.name == "flux-system" and ks.doc.file.endswith("gotk-sync.yaml")

    @cached_property
    def real_root(self) -> str:
        """The root with symlinks resolved, as a string (for fast prefix checks)."""
        return os.path.realpath(self.root)

    @cached_property
    def _resolved(self) -> dict[str, Path | str]:
        return {}

    def resolve(self, ks: FluxKustomization) -> Path | PathProblem:
        """The folder ``spec.path`` names, or why it cannot be used."""
        known = self._resolved.get(ks.path)
        if known is None:
            known = self._resolved[ks.path] = self._resolve_path(ks.path)
        return known if isinstance(known, Path) else PathProblem(ks, known)

    def _resolve_path(self, path: str) -> Path | str:
        raw = path.strip()
        if not raw:
            return "spec.path is empty"
        if raw.startswith("/"):
            raw = "." + raw  # Flux reads paths relative to the source root
        plain = self.plain_folder(raw)
        if plain is not None:
            self._rels[plain[1]] = plain[0]
            return Path(plain[1])
        if self.absent(raw):
            return f"spec.path {path!r} does not exist"
        self.looked_up.append(path)
        target = self.realpath(os.path.join(self.root, raw))
        root = self.real_root
        if target != root and not target.startswith(root.rstrip("/") + "/"):
            return f"spec.path {path!r} escapes the repository"
        if not os.path.isdir(target):
            return f"spec.path {path!r} does not exist"
        self._rels[target] = os.path.relpath(target, root).replace(os.sep, "/")
        return Path(target)

    def plain_folder(self, raw: str) -> tuple[str, str] | None:
        """(relative, real path) of a folder path whose every step is a real folder in the
        walk's listings (no symlink, no ".."): known without asking the file system."""
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        if not parts:
            return ".", self.real_root
        if ".." in parts:
            return None
        here = "."
        for part in parts:
            flags = self.listings.names(here).get(part)
            if flags is None or flags & LINK or not flags & DIR:
                return None
            here = part if here == "." else f"{here}/{part}"
        return here, f"{self.real_root.rstrip('/')}/{here}"

    def absent(self, raw: str) -> bool:
        """Is there surely nothing at the relative path ``raw``? True when a folder on the
        way is missing from a listing the walk made (every entry is listed, symlinks
        too), so the file system need not be asked."""
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            return False
        here = "."
        for part in parts:
            if here not in self.listed:
                return False  # not walked: unknown
            flags = self.listings.names(here).get(part)
            if flags is None:
                return True
            if flags & LINK or not flags & DIR:
                return False
            here = part if here == "." else f"{here}/{part}"
        return False

    @cached_property
    def _real_dirs(self) -> dict[str, str]:
        return {}

    def realpath(self, path: str) -> str:
        """``os.path.realpath``, remembering folders already resolved: a path under a
        known folder costs one ``lstat`` instead of one per component."""
        if not os.path.isabs(path) or ".." in path.split(os.sep):
            return os.path.realpath(path)
        path = os.path.normpath(path)
        parent, name = os.path.split(path)
        if not name:
            return os.path.realpath(path)
        real_parent = self._real_dirs.get(parent)
        if real_parent is None:
            real_parent = self._real_dirs[parent] = self.realpath(parent)
        joined = os.path.join(real_parent, name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined

    @cached_property
    def _rels(self) -> dict[str, str]:
        return {}

    def rel(self, path: Path) -> str:
        """Path relative to the repository root, with forward slashes."""
        key = str(path)
        known = self._rels.get(key)
        if known is None:
            known = self._rels[key] = self._rel(path)
        return known

    def _rel(self, path: Path) -> str:
        real = self.realpath(str(path)) if path.is_absolute() else os.path.realpath(path)
        root = self.real_root
        if real == root:
            return "."
        if real.startswith(root.rstrip("/") + "/"):
            return Path(os.path.relpath(real, root)).as_posix()
        return path.as_posix()

    def component_of(self, file: str) -> str | None:
        prefix = self.config.components_dir.strip("/") + "/"
        if not file.startswith(prefix):
            return None
        rest = file[len(prefix) :]
        return rest.split("/", 1)[0] if "/" in rest else None
