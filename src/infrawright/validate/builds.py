"""Build every Flux Kustomization of this repository with the real kustomize.

Each built object is a :class:`Document` that points at the file it came from (from
kustomize's origin annotations) and the line of the matching source document.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infrawright import cache
from infrawright.model.flux import FluxKustomization
from infrawright.model.repo import PathProblem, RepoModel
from infrawright.repo.documents import Document, parse_text
from infrawright.validate.batch import (
    Member,
    batch_folder,
    build_batch,
    cache_folder,
    cached_objects,
    chunks,
    folder_key,
    store_objects,
)
from infrawright.validate.flux_build import overlay_for, substitute_objects, variables
from infrawright.validate.kustomize import Kustomize, build_wrapped

ORIGIN = "config.kubernetes.io/origin"
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


def _strip_origin(data: dict[str, Any]) -> str | None:
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return None
    notes = meta.get("annotations")
    if not isinstance(notes, dict) or ORIGIN not in notes:
        return None
    origin = notes.pop(ORIGIN)
    if not notes:
        del meta["annotations"]
    for line in str(origin).splitlines():
        if line.startswith("path:"):
            return line.split(":", 1)[1].strip()
    return None


def _attribute(model: RepoModel, wrapper_parent: Path, docs: list[Document]) -> list[Document]:
    """Map built objects back to repository files and lines."""
    out: list[Document] = []
    for doc in docs:
        if not isinstance(doc.data, dict):
            continue
        origin = _strip_origin(doc.data)
        file, line = "", None
        if origin:
            # kustomize reports origins relative to the wrapper folder, which is gone by
            # now; the absolute path is rebuilt from the folder the wrapper lived in.
            absolute = Path(os.path.normpath(wrapper_parent / "wrapper" / origin))
            file = model.rel(absolute)
            source = model.files.get(file)
            if source:
                same_kind = [c for c in source.objects if c.kind == doc.kind]
                named = [c for c in same_kind if c.name == doc.name]
                # kustomize may rename an object (namespace:, namePrefix:); the file's only
                # object of that kind is then the one it came from.
                match = named or (same_kind if len(same_kind) == 1 else [])
                line = match[0].line if match else None
        out.append(Document(file, line or 0, doc.index, doc.data))
    return out


def attribute_objects(model: RepoModel, docs: list[Document]) -> list[Document]:
    """Built objects mapped to repository files and lines. Every wrapper puts its
    kustomization at <tmp>/kustomization.yaml, and origins are relative to it; the
    folder is gone by now, so they are resolved against a stand-in of the same depth."""
    return _attribute(model, Path(tempfile.gettempdir()), docs)


def build_one(model: RepoModel, tool: Kustomize, ks: FluxKustomization) -> Build:
    if not model.is_local(ks):
        return Build(ks, None, skipped=f"source is {ks.source}, not this repository")
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
    result = build_wrapped(
        tool,
        _loose_files(target) if generated else [target],
        overlay=flux.fields,
        components=flux.components,
        relaxed=generated,
    )
    if not result.ok:
        return Build(ks, folder, error=_tidy(result.error, model.root), generated=generated)
    parsed = parse_text(result.output, f"<build of {folder}>")
    if parsed.problem:
        return Build(ks, folder, error=parsed.problem.message, generated=generated)
    # The wrapper lived in a temp folder; origins are relative to it. Both wrappers put
    # their kustomization at <tmp>/kustomization.yaml, so resolve against a stand-in.
    objects = attribute_objects(model, list(parsed.documents))
    known = variables(ks, model.objects())
    if known is not None:
        objects = substitute_objects(objects, known)
    return Build(ks, folder, objects=tuple(objects), generated=generated)


def _tidy(message: str, root: Path) -> str:
    """Make kustomize's message about repository paths, not temp-folder paths."""
    real = str(root.resolve())
    from_wrapper = os.path.relpath(real, Path(tempfile.gettempdir()) / "wrapper")
    text = message.replace(from_wrapper + "/", "").replace(real + "/", "")
    return text.replace(from_wrapper, ".").replace(real, ".")


def build_all(
    model: RepoModel,
    tool: Kustomize,
    jobs: int | None = None,
    only: Sequence[FluxKustomization] | None = None,
) -> list[Build]:
    """Build every Flux Kustomization (or ``only`` these), in a stable order.

    Self-contained folders are built in batches (one kustomize process each, see
    :mod:`batch`); the rest, and members of a batch that failed, one by one. Work runs
    in parallel, bounded by the cores.
    """
    todo = list(model.kustomizations if only is None else only)
    if not todo:
        return []
    workers = max(1, jobs or (os.cpu_count() or 2))
    done: dict[int, Build] = {}
    keys: dict[int, str] = {}  # id(ks) -> cache key, for builds a hash can identify
    if cache.enabled():
        for ks in todo:
            folder = cache_folder(model, ks)
            if folder is None:
                continue
            keys[id(ks)] = folder_key(model, tool, ks, folder)
            hit = cached_objects(keys[id(ks)])
            if hit is not None:
                generated = not has_kustomization_file(model.root / folder)
                done[id(ks)] = Build(ks, folder, objects=tuple(hit), generated=generated)
    members: list[Member] = []
    seen: set[str] = set()
    for ks in todo:
        folder = None if id(ks) in done else batch_folder(model, ks)
        if folder is not None and folder not in seen:
            seen.add(folder)
            members.append((ks, folder))
    groups = chunks(members, workers)
    if groups:
        with ThreadPoolExecutor(max_workers=min(workers, len(groups))) as pool:
            results = list(pool.map(lambda group: build_batch(model, tool, group), groups))
        for group, result in zip(groups, results, strict=True):
            if result is None:
                continue
            for ks, folder in group:
                done[id(ks)] = Build(ks, folder, objects=tuple(result[folder]))
                if id(ks) in keys:
                    store_objects(keys[id(ks)], result[folder])
    rest = [ks for ks in todo if id(ks) not in done]
    if rest:
        with ThreadPoolExecutor(max_workers=min(workers, len(rest))) as pool:
            built = list(pool.map(lambda k: build_one(model, tool, k), rest))
        for ks, build in zip(rest, built, strict=True):
            done[id(ks)] = build
            if id(ks) in keys and build.error is None and build.skipped is None:
                store_objects(keys[id(ks)], build.objects)
    return [done[id(ks)] for ks in todo]
