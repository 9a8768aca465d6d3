"""Write a validated Changeset into the repository.

Each file is written to a temporary sibling, flushed, then renamed over its target, so
no file is ever half-written. (Several renames are not one atomic step; a journal that
makes the whole change all-or-nothing under crashes is a later step.)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from infrawright.errors import InfrawrightError
from infrawright.render.changeset import Changeset


def safe_target(root: Path, rel: str) -> Path:
    """The path for ``rel`` inside ``root``; refuses anything that would leave it."""
    real_root = root.resolve()
    target = (root / rel).resolve()
    if rel.startswith("/") or ".." in Path(rel).parts or real_root not in target.parents:
        raise InfrawrightError(f"{rel}: refusing to write outside the repository")
    return target


def apply_changes(root: Path, changes: Changeset) -> None:
    targets = {rel: safe_target(root, rel) for rel in changes.files}
    for rel, data in sorted(changes.files.items()):
        target = targets[rel]
        if data is None:
            if target.exists():
                target.unlink()
            _prune_empty(target.parent, root.resolve())
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".infrawright-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if target.exists():
                Path(tmp).chmod(target.stat().st_mode & 0o777)
            else:
                Path(tmp).chmod(0o644)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _prune_empty(folder: Path, root: Path) -> None:
    """Remove folders a deletion left empty, up to (not including) the repository root."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()  # only succeeds when empty
        except OSError:
            return
        folder = folder.parent
