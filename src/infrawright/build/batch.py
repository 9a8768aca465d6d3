"""Many Kustomizations in one kustomize process.

Starting kustomize costs more than building a small component, so folders that can be
built together are listed in one wrapper kustomization and built in one call; origin
annotations tell which folder each object came from. Only self-contained folders are
batched: a kustomization file of their own, nothing Flux adds on top (namespace, patches,
substitution, ...), and no resource outside the folder. A batch that fails for any reason
(duplicate IDs across components, a broken file) is not reported: its members are built
one by one, which names the failing one.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Any

from infrawright import cache
from infrawright.build import ahead
from infrawright.build.kustomize import Kustomize
from infrawright.build.origin import attribute_objects
from infrawright.model.flux import FluxKustomization
from infrawright.model.repo import PathProblem, RepoModel
from infrawright.repo.documents import Document, document, parse_text, reindexed
from infrawright.repo.listing import DIR, FILE, LINK, join
from infrawright.repo.snapshot import file_digest

FLUX_EXTRAS = (
    "targetNamespace",
    "namePrefix",
    "nameSuffix",
    "patches",
    "images",
    "components",
    "commonMetadata",
    "postBuild",
)
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml")
#: Fewer members than this are built one by one (nothing to gain).
MIN_BATCH = 3


def cache_folder(model: RepoModel, ks: FluxKustomization) -> str | None:
    """The folder of ``ks`` when everything its build reads lives inside it (so a hash of
    the folder's files identifies the build), else None."""
    if not model.is_local(ks):
        return None
    spec = ks.doc.spec
    post = spec.get("postBuild")
    if isinstance(post, dict) and post.get("substituteFrom"):
        return None  # reads ConfigMaps and Secrets from elsewhere
    target = model.resolve(ks)
    if isinstance(target, PathProblem):
        return None
    folder = model.rel(target)
    if folder == ".":
        return None
    prefix = folder + "/"
    if any(p.file.startswith(prefix) for p in model.problems):
        return None
    for component in spec.get("components") or []:
        inside = posixpath.normpath(posixpath.join(folder, str(component)))
        if not inside.startswith(prefix):
            return None
    for rel in model.kustomization_files_under(folder):
        parsed = model.files[rel]
        data = parsed.documents[0].data if parsed.documents else None
        if not isinstance(data, dict) or not _self_contained(posixpath.dirname(rel), data, folder):
            return None
    return folder


def cache_folders(model: RepoModel, todo: Sequence[FluxKustomization]) -> list[str | None]:
    """:func:`cache_folder` of each of ``todo``. They depend only on the repository's
    shape (:attr:`RepoModel.shape_key`) and its unreadable files, so they are kept
    between runs while those stay as they are."""
    key = None
    if cache.enabled() and not model.looked_up and model.shape_key is not None:
        problems = [repr(p) for p in model.problems]
        key = cache.quick_key("cache-folders", 1, model.shape_key, problems)
    labels = [f"{ks.doc.file}:{ks.doc.line}:{ks.doc.index}" for ks in todo]  # unique
    known = cache.load("builds", key) if key is not None else None
    if isinstance(known, dict) and all(label in known for label in labels):
        return [known[label] for label in labels]
    found = [cache_folder(model, ks) for ks in todo]
    if key is not None and not model.looked_up:
        stored = known if isinstance(known, dict) else {}
        stored.update(zip(labels, found, strict=True))
        cache.store("builds", key, stored)
    return found


def batch_folder(model: RepoModel, ks: FluxKustomization) -> str | None:
    """The folder of ``ks`` when it can be built in a batch, else None: self-contained,
    its own kustomization file, and nothing Flux adds on top."""
    if any(key in ks.doc.spec for key in FLUX_EXTRAS):
        return None
    folder = cache_folder(model, ks)
    if folder is None:
        return None
    if not any(f"{folder}/{n}" in model.files for n in KUSTOMIZATION_NAMES):
        return None
    return folder


def _self_contained(here: str, data: dict[str, object], folder: str) -> bool:
    if "helmCharts" in data or "helmChartInflationGenerator" in data:
        return False
    for key in ("resources", "components", "bases", "crds"):
        for entry in data.get(key) or []:  # type: ignore[attr-defined]
            if not isinstance(entry, str) or "://" in entry or entry.startswith("github.com/"):
                return False
            if "/" not in entry and entry not in ("", ".", ".."):
                continue  # a file or folder right here: inside
            target = posixpath.normpath(posixpath.join(here, entry))
            if target != folder and not target.startswith(folder + "/"):
                return False
    for patch in data.get("patches") or []:  # type: ignore[attr-defined]
        path = patch.get("path") if isinstance(patch, dict) else patch
        if isinstance(path, str):
            target = posixpath.normpath(posixpath.join(here, path))
            if not target.startswith(folder + "/"):
                return False
    return True


def build_batch(
    model: RepoModel, tool: Kustomize, members: Sequence[tuple[FluxKustomization, str]]
) -> dict[str, list[Document]] | None:
    """Objects per folder for one batch, or None when the batch has to be split up."""

    folders = [folder for _ks, folder in members]
    result = ahead.build_wrapped(tool, [model.root / f for f in folders])
    if not result.ok:
        return None
    parsed = parse_text(result.output, "<batch build>")
    if parsed.problem:
        return None
    objects = attribute_objects(model, list(parsed.documents))
    out: dict[str, list[Document]] = {f: [] for f in folders}
    by_length = sorted(folders, key=len, reverse=True)
    for obj in objects:
        owner = next((f for f in by_length if obj.file.startswith(f + "/")), None)
        if owner is None:
            return None  # cannot tell which member it belongs to
        out[owner].append(obj)
    return out


Member = tuple[FluxKustomization, str]


#: kustomize's cost per component grows with the batch; about 100 is the sweet spot here
#: (measured: 3.9 ms per component at 100, 5.3 ms at 400).
MAX_BATCH = 100


def chunks(items: list[Member], workers: int) -> list[list[Member]]:
    """Split the batchable members so every worker gets work and no batch is too big
    (in order, for stable output)."""
    if len(items) < MIN_BATCH:
        return []
    size = min(MAX_BATCH, -(-len(items) // max(1, workers)))
    size = max(size, MIN_BATCH)
    return [items[i : i + size] for i in range(0, len(items), size)]


def folder_key(model: RepoModel, tool: Kustomize, ks: FluxKustomization, folder: str) -> str | None:
    """Cache key of a self-contained folder's build: every file it can read (all of them
    live in the folder), the Kustomization's spec and the kustomize version. YAML files
    are known by the hash they were read with; other files are read now. A folder holding
    a symlink has no key (what it points to can change on its own): it is always built."""
    files: list[tuple[str, str]] = []
    stack = [folder]
    while stack:
        here = stack.pop()
        for name, flags in model.listings.get(here):
            rel = join(here, name)
            if flags & LINK:
                return None
            if flags & DIR:
                stack.append(rel)
            elif flags & FILE:
                known = model.files.get(rel)
                digest = known.digest if known is not None else ""
                if not digest:
                    try:
                        digest = file_digest((model.root / rel).read_bytes()).hex()
                    except OSError:
                        return None
                files.append((rel, digest))
    files.sort()
    return cache.quick_key("build", 5, tool.describe(), ks.doc.spec, folder, files)


def _by_line(
    model: RepoModel, file: str, memo: dict[str, dict[int, Document]]
) -> dict[int, Document]:
    """The documents of a repository file, by the line they start on."""
    if file not in memo:
        source = model.files.get(file)
        memo[file] = {d.line: d for d in source.documents} if source else {}
    return memo[file]


#: A built object as the cache holds it: file, line, index, and its data, or None when
#: the data is that of the repository document at that file and line.
Row = tuple[str, int, int, Any]


def cached_objects(
    model: RepoModel, key: str, known: dict[str, list[Row]] | None = None
) -> list[Document] | None:
    """A build from the cache (``known`` first: the builds of the repository's last full
    run, see :func:`recent_builds`). An object stored as "same as its source" (most are)
    gets the data of that repository document, which the key says is unchanged."""
    stored = known.get(key) if known else None
    if stored is None:
        stored = cache.load("builds", key)
    if not isinstance(stored, list):
        return None
    memo: dict[str, dict[int, Document]] = {}
    out = []
    for file, line, index, data in stored:
        if data is None:
            source = _by_line(model, file, memo).get(line)
            if source is None:
                return None
            out.append(reindexed(source, index))
        else:
            out.append(document(str(file), int(line), int(index), data))
    return out


def store_objects(model: RepoModel, key: str, objects: Sequence[Document]) -> list[Row]:
    """Cache a build; returns the rows stored."""
    memo: dict[str, dict[int, Document]] = {}
    rows: list[Row] = []
    for o in objects:
        source = _by_line(model, o.file, memo).get(o.line) if o.line else None
        same = source is not None and source.data == o.data
        rows.append((o.file, o.line, o.index, None if same else o.data))
    cache.store("builds", key, rows)
    return rows


def _recent_key(model: RepoModel, tool: Kustomize) -> str:
    return cache.key("recent-builds", 1, model.real_root, tool.describe())


def recent_builds(model: RepoModel, tool: Kustomize) -> dict[str, list[Row]]:
    """Every build of this repository's last full validation, by key, from one cache entry
    (one read instead of one per Kustomization). Any of them may be out of date: they are
    only used for the keys asked for, like the per-build entries."""
    stored = cache.load("builds", _recent_key(model, tool))
    return stored if isinstance(stored, dict) else {}


def remember_builds(
    model: RepoModel,
    tool: Kustomize,
    recent: dict[str, list[Row]],
    reused: set[str],
    fresh: dict[str, list[Row]],
) -> None:
    """Keep the builds of a full validation together for :func:`recent_builds`: the ones
    reused from the cache (``recent`` holds most of them) and the ones just built. Only
    written when that set changed."""
    if not fresh and reused <= recent.keys() and len(recent) == len(reused):
        return
    keep = {key: recent[key] for key in reused if key in recent}
    for key in reused - keep.keys():
        stored = cache.load("builds", key)
        if isinstance(stored, list):
            keep[key] = stored
    keep.update(fresh)
    cache.store("builds", _recent_key(model, tool), keep)
