"""Builds started ahead: kustomize for an edited folder runs while the model is made.

After an edit, the one build the cache cannot answer is usually the slowest step left:
a kustomize process (tens of milliseconds) after the repository is read, modelled and
looked up. The last full validation of a repository notes the folders that are built
exactly as they stand (a Flux Kustomization's path with its own kustomization file and
nothing Flux adds on top, see :func:`infrawright.build.batch.batch_folder`). When the
next run reads a changed file under one of them, :func:`start` builds that folder at
once, on a thread, the same way the build step would; the build step then takes the
result instead of starting kustomize itself (the build step builds through
:func:`build_wrapped`, which asks :func:`take`). A guess nobody takes costs one idle
core's time and is dropped by :func:`settle`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from infrawright import cache
from infrawright.build import kustomize
from infrawright.build.kustomize import BuildResult, Kustomize

#: Changed files beyond this many are a bigger change than an edit: nothing is guessed.
MAX_CHANGED = 32
#: At most this many folders are built ahead.
MAX_BUILDS = 4

Key = tuple[tuple[str, ...], str]

_lock = threading.Lock()
_pending: dict[Key, Future[BuildResult]] = {}


def _hints_key(root: Path, tool: Kustomize) -> str:
    return cache.key("plain-folders", 1, os.path.realpath(root), tool.describe())


def plain_folders(root: Path, tool: Kustomize) -> set[str]:
    """The folders the last full validation of ``root`` built as they stand."""
    stored = cache.load("builds", _hints_key(root, tool))
    return set(stored) if isinstance(stored, list) else set()


def remember(root: Path, tool: Kustomize, folders: Collection[str]) -> None:
    """Note the folders this full validation built as they stand (written only when
    they differ from what was noted)."""
    if set(folders) != plain_folders(root, tool):
        cache.store("builds", _hints_key(root, tool), sorted(folders))


def _wanted(changed: Sequence[str], plain: set[str]) -> list[str]:
    """For each changed file, the nearest folder above it that is built as it stands."""
    out: list[str] = []
    for rel in changed:
        folder = rel
        while "/" in folder:
            folder = folder.rsplit("/", 1)[0]
            if folder in plain:
                if folder not in out:
                    out.append(folder)
                break
    return out[:MAX_BUILDS]


def start(
    root: Path,
    changed: Sequence[str],
    tool: Kustomize,
    build: Callable[[Kustomize, Path], BuildResult],
) -> list[str]:
    """Build ahead the folders the files ``changed`` since the last run (paths relative to
    ``root``) sit in, when the last run noted them; ``build(tool, folder)`` is how the
    build step would build that folder. Returns the folders started."""
    if not changed or len(changed) > MAX_CHANGED or not cache.enabled():
        return []
    folders = _wanted(changed, plain_folders(root, tool))
    for folder in folders:
        path = root / folder
        future: Future[BuildResult] = Future()
        with _lock:
            _pending[(tool.argv, os.path.realpath(path))] = future
        thread = threading.Thread(target=_run, args=(future, build, tool, path), daemon=True)
        thread.start()
    return folders


def _run(
    future: Future[BuildResult],
    build: Callable[[Kustomize, Path], BuildResult],
    tool: Kustomize,
    path: Path,
) -> None:
    try:
        future.set_result(build(tool, path))
    except BaseException as exc:  # handed to whoever takes it
        future.set_exception(exc)


def take(tool: Kustomize, path: Path) -> BuildResult | None:
    """The result of a build of ``path`` started ahead, waiting for it if it still runs;
    None when there is none."""
    if not _pending:
        return None
    with _lock:
        future = _pending.pop((tool.argv, os.path.realpath(path)), None)
    return future.result() if future is not None else None


def settle() -> None:
    """Wait for the builds started ahead that nobody took, and drop them (no kustomize
    process or temporary folder outlives the run)."""
    with _lock:
        left = list(_pending.values())
        _pending.clear()
    for future in left:
        future.exception()


def build_wrapped(
    tool: Kustomize,
    resources: Sequence[Path],
    *,
    overlay: Mapping[str, Any] | None = None,
    components: Sequence[Path] = (),
    relaxed: bool = False,
    files: Mapping[str, bytes] | None = None,
    timeout: float | None = None,
) -> BuildResult:
    """:func:`infrawright.build.kustomize.build_wrapped`, except that one folder built
    as it stands whose build was started ahead is taken from there."""
    plain = not (overlay or components or relaxed or files) and timeout is None
    if plain and len(resources) == 1:
        early = take(tool, Path(resources[0]))
        if early is not None:
            return early
    return kustomize.build_wrapped(
        tool,
        resources,
        overlay=overlay,
        components=components,
        relaxed=relaxed,
        files=files,
        timeout=timeout,
    )
