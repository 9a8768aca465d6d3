"""The user's cache directory for results that are expensive to recompute.

``$INFRAWRIGHT_CACHE_DIR``, else ``$XDG_CACHE_HOME/infrawright``, else
``~/.cache/infrawright``; ``INFRAWRIGHT_CACHE=off`` (or ``--no-cache``) turns it off.
Entries are content-addressed (the key is a hash of everything the value depends on) and
written to a temporary file then renamed, so concurrent runs never read half an entry.
Values are stored with :mod:`marshal` (fast, and loading it runs no code); a value it
cannot hold (a YAML timestamp, say) is simply not stored. A cache that cannot be read or
written is ignored: it only ever saves time.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any


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


SUFFIX = ".marshal"


def load(kind: str, digest: str) -> Any | None:
    if not enabled():
        return None
    path = directory() / kind / f"{digest}{SUFFIX}"
    try:
        return marshal.loads(path.read_bytes())
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
