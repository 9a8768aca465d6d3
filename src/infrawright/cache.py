"""The user's cache directory for results that are expensive to recompute.

``$INFRAWRIGHT_CACHE_DIR``, else ``$XDG_CACHE_HOME/infrawright``, else
``~/.cache/infrawright``; ``INFRAWRIGHT_CACHE=off`` (or ``--no-cache``) turns it off.
Entries are content-addressed (the key is a hash of everything the value depends on) and
written to a temporary file then renamed, so concurrent runs never read half an entry.
A cache that cannot be read or written is ignored: it only ever saves time.
"""

from __future__ import annotations

import hashlib
import json
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


def load(kind: str, digest: str) -> Any | None:
    if not enabled():
        return None
    path = directory() / kind / f"{digest}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store(kind: str, digest: str, value: Any) -> None:
    if not enabled():
        return
    folder = directory() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh)
        Path(tmp).replace(folder / f"{digest}.json")
    except OSError:
        return
