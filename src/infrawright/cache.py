"""The user's cache directory for results that are expensive to recompute.

``$INFRAWRIGHT_CACHE_DIR``, else ``$XDG_CACHE_HOME/infrawright``, else
``~/.cache/infrawright``; ``INFRAWRIGHT_CACHE=off`` (or ``--no-cache``) turns it off.
Entries unused for 30 days are removed (see :func:`prune`).
Entries are content-addressed (the key is a hash of everything the value depends on) and
written to a temporary file then renamed, so concurrent runs never read half an entry.
Values are stored with :mod:`marshal` (fast, and loading it runs no code); a value it
cannot hold (a YAML timestamp, say) is simply not stored. A cache that cannot be read or
written is ignored: it only ever saves time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import yaml


def enabled() -> bool:
    return os.environ.get("INFRAWRIGHT_CACHE", "").lower() not in ("off", "0", "no", "false")


def directory() -> Path:
    explicit = os.environ.get("INFRAWRIGHT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "infrawright"


def key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@functools.cache
def code_version() -> str:
    """What identifies the running infrawright: every file of the package (modules and
    the catalog's data) by size and modification time, so an edited checkout counts as
    new code, and the Python and PyYAML versions. Results the code computes from cached
    inputs include it in their keys."""
    package = os.path.dirname(os.path.abspath(__file__))
    stamps: list[tuple[str, int, int]] = []
    for here, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                with contextlib.suppress(OSError):
                    st = os.stat(os.path.join(here, name))
                    stamps.append((os.path.join(here, name), st.st_size, st.st_mtime_ns))
    return quick_key("code", sys.version, yaml.__version__, stamps)


def quick_key(*parts: object) -> str:
    """Like :func:`key`, several times faster, for keys made by the thousand. Mappings
    count in their order (the same file always parses to the same order). marshal
    format 2 has no back-references, so equal values always give equal bytes; values it
    cannot hold fall back to :func:`key`."""
    try:
        blob = marshal.dumps(cast(Any, parts), 2)
    except ValueError:
        return key(*parts)
    return hashlib.blake2b(blob, digest_size=32).hexdigest()


SUFFIX = ".marshal"


def load(kind: str, digest: str) -> Any | None:
    if not enabled():
        return None
    path = directory() / kind / f"{digest}{SUFFIX}"
    try:
        value = marshal.loads(path.read_bytes())
        if time.time() - path.stat().st_mtime > TOUCH_AFTER_S:
            os.utime(path)  # in use: not pruned
        return value
    except (OSError, ValueError, EOFError, TypeError):
        return None


def store(kind: str, digest: str, value: Any) -> None:
    try:
        blob = marshal.dumps(value)
    except ValueError:
        return  # holds something marshal cannot (dates from YAML timestamps): not cached
    store_bytes(kind, digest, blob)


def store_bytes(kind: str, digest: str, blob: bytes) -> None:
    """Store an entry already marshalled."""
    if not enabled():
        return
    folder = directory() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        Path(tmp).replace(folder / f"{digest}{SUFFIX}")
    except OSError:
        return


#: Entries not used for this long are removed (checked at most once a day).
MAX_AGE_S = 30 * 24 * 3600
TOUCH_AFTER_S = 24 * 3600
PRUNE_STAMP = ".last-prune"
#: The folder of downloaded schemas (``infrawright schemas pull``): never pruned.
PULLED = "schemas"


def prune(max_age_s: float = MAX_AGE_S) -> int:
    """Remove entries unused for ``max_age_s``, at most once a day; how many went."""
    if not enabled():
        return 0
    root = directory()
    stamp = root / PRUNE_STAMP
    now = time.time()
    try:
        if now - stamp.stat().st_mtime < TOUCH_AFTER_S:
            return 0
    except OSError:
        pass  # never pruned (or no cache yet)
    if not root.is_dir():
        return 0
    removed = 0
    for kind in root.iterdir():
        if not kind.is_dir() or kind.name == PULLED:
            continue
        for entry in kind.iterdir():
            try:
                if now - entry.stat().st_mtime > max_age_s:
                    entry.unlink()
                    removed += 1
            except OSError:
                continue
    with contextlib.suppress(OSError):
        stamp.touch()
    return removed


def size() -> tuple[int, int]:
    """(entries, bytes) in the cache directory."""
    count = total = 0
    root = directory()
    if root.is_dir():
        for entry in root.rglob(f"*{SUFFIX}"):
            try:
                total += entry.stat().st_size
                count += 1
            except OSError:
                continue
    return count, total
