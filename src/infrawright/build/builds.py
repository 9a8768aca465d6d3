"""Build every Flux Kustomization of this repository with the real kustomize.

Each built object is a :class:`Document` that points at the file it came from (from
kustomize's origin annotations) and the line of the matching source document.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, cast

from infrawright import cache
from infrawright.build import ahead
from infrawright.build.batch import (
    FLUX_EXTRAS,
    Member,
    Row,
    batch_folder,
    build_batch,
    cache_folder,
    cache_folders,
    cached_objects,
    chunks,
    folder_key,
    recent_builds,
    remember_builds,
    store_objects,
)
from infrawright.build.flux_build import overlay_for, substitute_objects, variables
from infrawright.build.kustomize import Kustomize
from infrawright.build.origin import attribute_objects
from infrawright.build.sliced import Slice, build_slice, cuttable, plan_slices
from infrawright.build.split import Piece, assemble, build_piece, plan_pieces
from infrawright.model.flux import FluxKustomization
from infrawright.model.repo import PathProblem, RepoModel
from infrawright.progress import Phase, phase
from infrawright.repo.documents import Document, parse_text
from infrawright.repo.listing import FILE

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class Build:
    """What one Flux Kustomization produces, or why it could not be built."""

    kustomization: FluxKustomization
    folder: str | None
    objects: tuple[Document, ...] = ()
    error: str | None = None
    skipped: str | None = None
    generated: bool = False
    #: kustomize ran longer than the build time limit and was stopped.
    timed_out: bool = False
    #: The build cache key: what identifies its inputs (None when nothing does).
    key: str | None = field(default=None, compare=False)


def has_kustomization_file(folder: Path) -> bool:
    return any((folder / name).is_file() for name in KUSTOMIZATION_FILES)


def _loose_files(folder: Path) -> list[Path]:
    """What Flux builds from a folder without a kustomization file: every manifest in
    it, and sub-folders that have their own kustomization file."""
    resources: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        if here != folder and has_kustomization_file(here):
            resources.append(here)
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        resources.extend(here / n for n in sorted(filenames) if n.endswith((".yaml", ".yml")))
    return resources


def build_one(model: RepoModel, tool: Kustomize, ks: FluxKustomization) -> Build:
    if not model.is_local(ks):
        return Build(ks, None, skipped=ks.unbuilt or f"source is {ks.source}, not this repository")
    target = model.resolve(ks)
    if isinstance(target, PathProblem):
        return Build(ks, None, skipped=target.message)
    folder = model.rel(target)
    broken = [p.file for p in model.problems if p.file.startswith(f"{folder}/") or folder == "."]
    if broken:
        # Never hand kustomize a file we refused: an alias bomb would exhaust its memory.
        return Build(ks, folder, skipped=f"{broken[0]} cannot be read (see IW000)")
    generated = not has_kustomization_file(target)
    flux = overlay_for(ks, target)
    result = ahead.build_wrapped(
        tool,
        _loose_files(target) if generated else [target],
        overlay=flux.fields,
        components=flux.components,
        relaxed=generated,
    )
    if result.timed_out:
        message = timeout_message(model, target, tool.timeout)
        return Build(ks, folder, error=message, generated=generated, timed_out=True)
    if not result.ok:
        return Build(ks, folder, error=_tidy(result.error, model.root), generated=generated)
    parsed = parse_text(result.output, f"<build of {folder}>")
    if parsed.problem:
        return Build(ks, folder, error=parsed.problem.message, generated=generated)
    # The wrapper lived in a temp folder; origins are relative to it. Both wrappers put
    # their kustomization at <tmp>/kustomization.yaml, so resolve against a stand-in.
    return _finish(model, ks, folder, attribute_objects(model, list(parsed.documents)), generated)


def timeout_message(model: RepoModel, target: Path, limit: float) -> str:
    """What a build that ran out of time says: the folder, its kustomization file, how
    many documents the files under it hold (kustomization files aside) and the limit."""
    folder = model.rel(target)
    own = next((n for n in KUSTOMIZATION_FILES if (target / n).is_file()), None)
    if own is not None:
        where = f"{folder}/{own}" if folder != "." else own
    else:
        where = f"{folder} (no kustomization file: Flux generates one)"
    prefix = "" if folder == "." else folder + "/"
    documents = sum(
        len(f.documents)
        for rel, f in model.files.items()
        if rel.startswith(prefix) and rel.rsplit("/", 1)[-1] not in KUSTOMIZATION_FILES
    )
    return f"kustomize build of {where} ({documents:,} documents) timed out after {limit:g} s"


def _finish(
    model: RepoModel, ks: FluxKustomization, folder: str, objects: list[Document], generated: bool
) -> Build:
    """What Flux does after the build: postBuild substitution."""
    known = variables(ks, model.objects()) if "postBuild" in ks.doc.spec else None
    if known is not None:
        objects = substitute_objects(objects, known)
    return Build(ks, folder, objects=tuple(objects), generated=generated)


AnyPiece = Piece | Slice


def split_plan(model: RepoModel, ks: FluxKustomization) -> tuple[str, list[AnyPiece]] | None:
    """A big folder and the pieces to build it from, or None when ``ks`` is built whole:
    a generated folder (no kustomization file, see :mod:`split`) or one whose
    kustomization only lists its files and applies per-object transformers (see
    :mod:`sliced`)."""
    target = _split_target(model, ks)
    if target is None:
        return None
    folder = model.rel(target)
    pieces: list[AnyPiece] | None
    if has_kustomization_file(target):
        pieces = list(slices) if (slices := plan_slices(model, target)) is not None else None
    else:
        pieces = list(parts) if (parts := plan_pieces(model, _loose_files(target))) else None
    return (folder, pieces) if pieces is not None else None


def _split_target(model: RepoModel, ks: FluxKustomization) -> Path | None:
    if not model.is_local(ks):
        return None
    target = model.resolve(ks)
    if isinstance(target, PathProblem):
        return None
    folder = model.rel(target)
    if any(p.file.startswith(f"{folder}/") or folder == "." for p in model.problems):
        return None
    flux = overlay_for(ks, target)
    if flux.fields or flux.components:
        return None  # a patch or a namespace could reach across pieces
    return target


def may_split(model: RepoModel, ks: FluxKustomization, folder: str | None = None) -> bool:
    """Whether a folder with a kustomization file may be built in pieces (without reading
    its files): such a folder is not batched nor built ahead whole. ``folder``: its
    repository path when known (:func:`cache_folder`), which spares resolving it."""
    if folder is None:
        target = model.resolve(ks) if model.is_local(ks) else None
        if not isinstance(target, Path):
            return False
        folder = model.rel(target)
    if cuttable(model, folder) is None:
        return False  # most folders: small, or more than files and transformers
    return _split_target(model, ks) is not None


def build_any(model: RepoModel, tool: Kustomize, piece: AnyPiece) -> list[tuple[str, Any]] | None:
    if isinstance(piece, Slice):
        return build_slice(model, tool, piece)
    return build_piece(model, tool, piece)


def _tidy(message: str, root: Path) -> str:
    """Make kustomize's message about repository paths, not temp-folder paths."""
    real = str(root.resolve())
    from_wrapper = os.path.relpath(real, Path(tempfile.gettempdir()) / "wrapper")
    text = message.replace(from_wrapper + "/", "").replace(real + "/", "")
    return text.replace(from_wrapper, ".").replace(real, ".")


def _cost(model: RepoModel, ks: FluxKustomization) -> int:
    """Rough cost of building ``ks`` alone: documents under its folder."""
    target = model.resolve(ks)
    if isinstance(target, PathProblem):
        return 0
    return model.documents_under(model.rel(target))


def build_all(
    model: RepoModel,
    tool: Kustomize,
    jobs: int | None = None,
    only: Sequence[FluxKustomization] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[Build]:
    """Build every Flux Kustomization (or ``only`` these), in a stable order.

    Self-contained folders are built in batches (one kustomize process each, see
    :mod:`batch`), big generated folders in pieces (see :mod:`split`), the rest one by
    one; a batch or a split that failed is built again one by one, which names the
    failure. All work runs in one pool bounded by the cores, biggest first.
    ``meanwhile`` is called while builds started early are still running, if any are
    and a core is left for it.
    """
    todo = list(model.kustomizations if only is None else only)
    if not todo:
        return []
    workers = max(1, jobs or (os.cpu_count() or 2))
    # Their folders depend on the repository's shape only, kept from the last run.
    folders = dict(zip(map(id, todo), cache_folders(model, todo), strict=True))
    pieced = {id(ks) for ks in todo if may_split(model, ks, folders[id(ks)])}
    with ThreadPoolExecutor(max_workers=workers) as early_pool:
        with phase("build cache lookups", total=len(todo)):
            recent = recent_builds(model, tool) if cache.enabled() else {}
            early_keys, early_jobs = _start_early(model, tool, todo, recent, early_pool)
            rest = [ks for ks in todo if id(ks) not in early_keys]
            done, keys = _cached_builds(model, tool, rest, recent, pieced, folders)
        hits = {keys[i] for i in done}
        with phase("kustomize builds", total=len(todo) - len(done)) as step:
            built, fresh = _build_rest(model, tool, rest, done, keys, workers, step, pieced)
            by_id = {id(ks): build for ks, build in zip(rest, built, strict=True)}
            running = sum(1 for job in early_jobs if not job.done())
            if meanwhile is not None and 0 < running < workers:
                meanwhile()  # on a core no build needs; with none free it only slows them
            for job in early_jobs:
                for ident, build in job.result().items():
                    key = early_keys[ident]
                    by_id[ident] = build
                    step.advance()
                    if build.error is None and not build.skipped:
                        fresh[key] = store_objects(model, key, build.objects)
                        by_id[ident] = replace(build, key=key)
    if len(todo) == len(model.kustomizations) and (keys or early_keys):
        remember_builds(model, tool, recent, hits, fresh)
    return [by_id[id(ks)] for ks in todo]


#: At most this many files parsed in this run for their builds to be started early.
EARLY_MAX_FRESH = 32


def _start_early(
    model: RepoModel,
    tool: Kustomize,
    todo: list[FluxKustomization],
    recent: dict[str, list[Row]],
    pool: ThreadPoolExecutor,
) -> tuple[dict[int, str], list[Future[dict[int, Build]]]]:
    """Start building now the Kustomizations whose files changed since the last run, if
    the cache does not have them: kustomize then runs beside the lookups of all the rest
    instead of after them. Only a few (an edit, not a first run), each with a cache key
    and built whole: those that can be batched in one kustomize process, the others one
    by one. Returns the cache key of each (by ``id()`` of the Kustomization) and the
    jobs, each giving builds by ``id()``."""
    fresh = model.fresh_files
    if not fresh or len(fresh) > EARLY_MAX_FRESH or not cache.enabled():
        return {}, []
    by_folder: dict[str, list[FluxKustomization]] = {}
    for ks in todo:
        target = model.resolve(ks) if model.is_local(ks) else None
        if isinstance(target, Path):
            by_folder.setdefault(model.rel(target), []).append(ks)
    wanted: dict[int, FluxKustomization] = {}
    for rel in fresh:
        folder = rel.rsplit("/", 1)[0] if "/" in rel else "."
        while True:  # the file's folder and every folder above it
            wanted.update((id(ks), ks) for ks in by_folder.get(folder, []))
            if folder == ".":
                break
            folder = folder.rsplit("/", 1)[0] if "/" in folder else "."
    keys: dict[int, str] = {}
    together: list[Member] = []
    alone: list[FluxKustomization] = []
    jobs: list[Future[dict[int, Build]]] = []
    for ks in wanted.values():
        if len(keys) >= EARLY_MAX_BUILDS:
            break
        own = cache_folder(model, ks)
        if own is None:
            continue
        key = folder_key(model, tool, ks, own)
        if key is None or cached_objects(model, key, recent) is not None:
            continue
        keys[id(ks)] = key
        split = split_plan(model, ks)
        if split is not None:  # its pieces, most of them from the cache
            jobs.append(pool.submit(_split_by_id, model, tool, ks, *split))
            continue
        batched = batch_folder(model, ks)
        if batched is not None and batched not in {f for _ks, f in together}:
            together.append((ks, batched))
        else:
            alone.append(ks)
    if len(together) == 1:
        alone.append(together.pop()[0])
    jobs += [pool.submit(_one_by_id, model, tool, ks) for ks in alone]
    if together:
        jobs.append(pool.submit(_together_by_id, model, tool, together))
    return keys, jobs


#: At most this many Kustomizations are started early.
EARLY_MAX_BUILDS = 8


def _one_by_id(model: RepoModel, tool: Kustomize, ks: FluxKustomization) -> dict[int, Build]:
    return {id(ks): build_one(model, tool, ks)}


def _split_by_id(
    model: RepoModel, tool: Kustomize, ks: FluxKustomization, folder: str, pieces: list[AnyPiece]
) -> dict[int, Build]:
    """A big folder from its pieces; whole when they cannot be put together."""
    workers = max(1, os.cpu_count() or 2)
    built = _run_biggest_first(
        [(piece.documents, partial(build_any, model, tool, piece)) for piece in pieces], workers
    )
    objects = assemble(model, cast("list[list[tuple[str, Any]] | None]", built))
    if objects is None:
        return {id(ks): build_one(model, tool, ks)}
    generated = not has_kustomization_file(model.root / folder)
    return {id(ks): _finish(model, ks, folder, objects, generated=generated)}


def _together_by_id(model: RepoModel, tool: Kustomize, members: list[Member]) -> dict[int, Build]:
    """A batch of members; one by one when the batch cannot be built."""
    batch = build_batch(model, tool, members)
    if batch is None:
        return {id(ks): build_one(model, tool, ks) for ks, _folder in members}
    return {id(ks): Build(ks, folder, objects=tuple(batch[folder])) for ks, folder in members}


def _cached_builds(
    model: RepoModel,
    tool: Kustomize,
    todo: list[FluxKustomization],
    recent: dict[str, list[Row]],
    pieced: set[int],
    folders: dict[int, str | None],
) -> tuple[dict[int, Build], dict[int, str]]:
    """Builds found in the cache, and the cache key of every build a hash identifies
    (both by ``id()`` of the Kustomization). ``pieced``: the ones that may be built in
    pieces (never built whole ahead); ``folders``: :func:`cache_folder` of each."""
    done: dict[int, Build] = {}
    keys: dict[int, str] = {}
    if cache.enabled():
        plain: list[str] = []
        for ks in todo:
            folder = folders[id(ks)]
            if folder is None:
                continue
            names = model.listings.names(folder)
            generated = not any(names.get(n, 0) & FILE for n in KUSTOMIZATION_FILES)
            plain_ks = not any(key in ks.doc.spec for key in FLUX_EXTRAS)
            if not generated and plain_ks and id(ks) not in pieced:
                plain.append(folder)  # never built whole ahead when it is built in pieces
            key = folder_key(model, tool, ks, folder)
            if key is None:
                continue
            keys[id(ks)] = key
            hit = cached_objects(model, key, recent)
            if hit is not None:
                done[id(ks)] = Build(ks, folder, objects=tuple(hit), generated=generated, key=key)
        if len(todo) == len(model.kustomizations):
            ahead.remember(model.root, tool, plain)
    return done, keys


def _build_rest(
    model: RepoModel,
    tool: Kustomize,
    todo: list[FluxKustomization],
    done: dict[int, Build],
    keys: dict[int, str],
    workers: int,
    step: Phase,
    pieced: set[int],
) -> tuple[list[Build], dict[str, list[Row]]]:
    """Build what the cache did not have; returns the builds, and the cache rows stored
    for the ones a key identifies. ``pieced`` ones are not batched."""
    hits = set(done)
    members: list[Member] = []
    seen: set[str] = set()
    for ks in todo:
        folder = None if id(ks) in done or id(ks) in pieced else batch_folder(model, ks)
        if folder is not None and folder not in seen:
            seen.add(folder)
            members.append((ks, folder))
    groups = chunks(members, workers)
    grouped = {id(ks) for group in groups for ks, _folder in group}
    singles = [ks for ks in todo if id(ks) not in done and id(ks) not in grouped]
    splits = {id(ks): plan for ks in singles if (plan := split_plan(model, ks)) is not None}

    jobs_: list[tuple[int, Callable[[], object]]] = []
    for group in groups:
        together = partial(build_batch, model, tool, group)
        jobs_.append((50 + 3 * len(group), _counted(together, step, len(group))))
    for ks in singles:
        pieces = splits[id(ks)][1] if id(ks) in splits else []
        for n, piece in enumerate(pieces):
            part = partial(build_any, model, tool, piece)
            jobs_.append((30 + piece.documents, _counted(part, step, int(n == 0))))
        if id(ks) not in splits:
            one = partial(build_one, model, tool, ks)
            jobs_.append((50 + _cost(model, ks), _counted(one, step, 1)))
    results = _run_biggest_first(jobs_, workers)

    retry: list[FluxKustomization] = []
    at = 0
    for group in groups:
        batch = cast("dict[str, list[Document]] | None", results[at])
        at += 1
        if batch is None:
            retry.extend(ks for ks, _folder in group)
            continue
        for ks, folder in group:
            done[id(ks)] = Build(ks, folder, objects=tuple(batch[folder]))
    for ks in singles:
        split = splits.get(id(ks))
        if split is None:
            done[id(ks)] = cast(Build, results[at])
            at += 1
            continue
        folder, pieces = split
        built = cast("list[list[tuple[str, Any]] | None]", results[at : at + len(pieces)])
        at += len(pieces)
        objects = assemble(model, built)
        if objects is None:
            retry.append(ks)
            continue
        generated = not has_kustomization_file(model.root / folder)
        done[id(ks)] = _finish(model, ks, folder, objects, generated=generated)
    if retry:
        again = _run_biggest_first(
            [(50, partial(build_one, model, tool, ks)) for ks in retry], workers
        )
        for ks, build in zip(retry, again, strict=True):
            done[id(ks)] = cast(Build, build)
    fresh: dict[str, list[Row]] = {}
    for ks in todo:
        build = done[id(ks)]
        if id(ks) in keys and id(ks) not in hits and build.error is None and not build.skipped:
            fresh[keys[id(ks)]] = store_objects(model, keys[id(ks)], build.objects)
            done[id(ks)] = replace(build, key=keys[id(ks)])
    return [done[id(ks)] for ks in todo], fresh


def _counted(call: Callable[[], object], step: Phase, units: int) -> Callable[[], object]:
    def run() -> object:
        try:
            return call()
        finally:
            step.advance(units)

    return run


def _run_biggest_first(jobs: list[tuple[int, Callable[[], object]]], workers: int) -> list[object]:
    """Results of ``jobs`` (cost, call) in their order, run by ``workers`` threads with
    the costliest started first, so a big job does not finish last alone."""
    if not jobs:
        return []
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0])
    results: list[object] = [None] * len(jobs)
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = {pool.submit(jobs[i][1]): i for i in order}
        for future, i in futures.items():
            results[i] = future.result()
    return results
