"""The schema cache: schemas ``infrawright schemas pull`` downloaded, kept for offline use.

One JSON file per kind, ``<cache folder>/schemas/<group>/<kind>_<version>.json`` (the
kind in lower case, as in the CRD catalog), holding ``{"url": ..., "schema": ...}``:
where it came from and the JSON schema itself (from a CRD manifest: its
``openAPIV3Schema`` for that version). These files are downloads, not results the code
can compute again, so the cache's pruning of unused entries leaves them alone and
``--no-cache`` does not hide them: validate reads them whenever they are there.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from infrawright import cache

GVK = tuple[str, str, str]
FOLDER = cache.PULLED


def folder() -> Path:
    return cache.directory() / FOLDER


def path_of(key: GVK) -> Path:
    group, version, kind = key
    return folder() / (group or "core") / f"{kind.lower()}_{version}.json"


def load(key: GVK) -> tuple[dict[str, Any], str] | None:
    """(schema, URL) of a pulled kind, or None when none was pulled (or the file is not
    one this module wrote). Read once per process while the file is unchanged."""
    path = path_of(key)
    try:
        st = path.stat()
    except OSError:
        return None
    return _read(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _read(path: str, _mtime: int, _size: int) -> tuple[dict[str, Any], str] | None:
    try:
        with Path(path).open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    schema, url = data.get("schema"), data.get("url")
    if isinstance(schema, dict) and isinstance(url, str):
        return schema, url
    return None


def save(key: GVK, schema: dict[str, Any], url: str) -> Path:
    """Write a pulled schema (a temporary file, then renamed: a reader never sees half)."""
    path = path_of(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"url": url, "schema": schema}, fh)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    return path


def signature() -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of every pulled file: what the findings memo depends on."""
    root = folder()
    if not root.is_dir():
        return ()
    out = []
    for path in sorted(root.glob("*/*.json")):
        with contextlib.suppress(OSError):
            st = path.stat()
            out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)
