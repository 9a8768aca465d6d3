"""Write a validated Changeset into the repository, all or nothing.

Each file is written to a temporary sibling, flushed, then renamed over its target, so no
file is ever half-written. Several renames are not one atomic step, so a journal makes the
whole change all-or-nothing: before the first rename, the bytes of every file the change
touches are saved under ``.infrawright/journal/`` with a manifest; the journal is removed
after the last rename and a commit marker. If the process dies in between, the next run
finds the journal (:func:`recover`): before the marker it puts every file back, after it
the change is complete and only the journal goes. An error during the write rolls back
at once.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from infrawright.errors import InfrawrightError
from infrawright.render.changeset import Changeset

TEMP_PREFIX = ".infrawright-"


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
            if target.is_file() or target.is_symlink():
                target.unlink()
            _prune_empty(target.parent, root.resolve())
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
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


JOURNAL = Path(".infrawright") / "journal"
COMMITTED = "committed"


def apply_atomically(root: Path, changes: Changeset) -> None:
    """Apply ``changes`` so the tree ends exactly as before or exactly as planned."""
    recover(root)
    journal = root / JOURNAL
    backups = journal / "before"
    backups.mkdir(parents=True)
    manifest: dict[str, bool] = {}
    for rel in sorted(changes.files):
        target = safe_target(root, rel)
        manifest[rel] = target.is_file()
        if manifest[rel]:
            keep = backups / rel
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, keep)
    _write_synced(journal / "manifest.json", json.dumps(manifest, sort_keys=True).encode())
    try:
        apply_changes(root, changes)
    except BaseException:
        recover(root)
        raise
    # Commit marker: from here on the change is complete; a run killed before the journal
    # is gone is rolled forward (the journal is just removed), not back.
    _write_synced(journal / COMMITTED, b"done\n")
    shutil.rmtree(journal)


def recover(root: Path) -> list[str]:
    """Undo a write that did not finish; returns the files put back (empty: none)."""
    journal = root / JOURNAL
    if not journal.exists():
        return []
    if (journal / COMMITTED).is_file():
        shutil.rmtree(journal)  # every rename was done: roll forward
        return []
    manifest_file = journal / "manifest.json"
    if not manifest_file.is_file():
        shutil.rmtree(journal)  # died while saving backups: nothing was written yet
        return []
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InfrawrightError(
            f"{manifest_file}: unfinished write found but its journal is unreadable ({exc})",
            hint="restore the listed files with git, then delete .infrawright/journal",
        ) from None
    back = Changeset()
    for rel, existed in sorted(manifest.items()):
        back.files[rel] = (journal / "before" / rel).read_bytes() if existed else None
    # A run killed between writing a temporary file and renaming it leaves the temporary.
    for folder in sorted({safe_target(root, rel).parent for rel in manifest}):
        for stray in folder.glob(f"{TEMP_PREFIX}*") if folder.is_dir() else ():
            stray.unlink(missing_ok=True)
    apply_changes(root, back)
    shutil.rmtree(journal)
    return sorted(back.files)


def _write_synced(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
