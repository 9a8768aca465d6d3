"""Folder listings of a repository, read once.

The loader lists every folder it walks; build cache keys and the rules that look at
folders (IW001, IW010) use those listings instead of listing the same folders again.
A folder the walk did not enter (hidden, vendored, outside the repository) is listed
on first use. Each entry is a name and a few flags: what it is, following symlinks,
and whether it is a symlink.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

FILE = 1
DIR = 2
LINK = 4

#: Entries of one folder: (name, flags), sorted by name.
Listing = tuple[tuple[str, int], ...]


def flags_of(entry: os.DirEntry[str]) -> int:
    """FILE or DIR (following a symlink; neither for a broken one), plus LINK."""
    try:
        if entry.is_symlink():
            return LINK | (DIR if entry.is_dir() else FILE if entry.is_file() else 0)
        return DIR if entry.is_dir() else FILE if entry.is_file() else 0
    except OSError:
        return LINK if entry.is_symlink() else 0


def scan(path: str) -> Listing:
    """The listing of a folder now (empty when it cannot be listed)."""
    try:
        with os.scandir(path) as it:
            return tuple(sorted((e.name, flags_of(e)) for e in it))
    except OSError:
        return ()


def join(folder: str, name: str) -> str:
    """A repository-relative path under ``folder`` ("." is the root)."""
    return name if folder in ("", ".") else f"{folder}/{name}"


class Listings:
    """Listings by repository-relative folder ("." for the root). A folder the walk did
    not list is listed now, and noted in ``listed_now``."""

    def __init__(self, root: str, walked: Mapping[str, Listing], listed_now: list[str]) -> None:
        self.root = root.rstrip(os.sep) or os.sep
        self._known = dict(walked)
        self._names: dict[str, dict[str, int]] = {}
        self.listed_now = listed_now

    def get(self, folder: str) -> Listing:
        folder = folder or "."
        known = self._known.get(folder)
        if known is None:
            path = self.root if folder == "." else os.path.join(self.root, folder)
            known = self._known[folder] = scan(path)
            self.listed_now.append(folder)
        return known

    def names(self, folder: str) -> dict[str, int]:
        """The listing as a mapping of name to flags (made once per folder, and shared:
        do not change it)."""
        folder = folder or "."
        known = self._names.get(folder)
        if known is None:
            known = self._names[folder] = dict(self.get(folder))
        return known


def patched(
    walked: Mapping[str, Listing], origin: Path, changes: Mapping[str, bytes | None]
) -> dict[str, Listing]:
    """The listings of ``origin`` (``walked``, else listed now) as they are once
    ``changes`` (path -> new bytes, None to delete) are written the way
    :func:`infrawright.change.apply.apply_changes` writes them: new files and the folders they
    need appear; a deleted file goes, and so does every folder its deletion left empty.
    Only the folders above a changed path differ from ``walked``."""
    stale = {
        "/".join(parts[:n]) or "."
        for parts in (rel.split("/") for rel in changes)
        for n in range(len(parts))
    }
    entries: dict[str, dict[str, int]] = {}
    for folder in stale:
        known = walked.get(folder)
        if known is None:
            known = scan(str(origin) if folder == "." else os.path.join(origin, folder))
        entries[folder] = dict(known)
    for rel, data in sorted(changes.items()):
        parts = rel.split("/")
        if data is None:
            parent = "/".join(parts[:-1]) or "."
            if entries[parent].get(parts[-1], 0) & FILE:
                del entries[parent][parts[-1]]
            _prune(entries, parent)
            continue
        for n, name in enumerate(parts):
            folder = "/".join(parts[:n]) or "."
            wanted = FILE if n == len(parts) - 1 else DIR
            if not entries[folder].get(name, 0) & wanted:
                entries[folder][name] = wanted
    out = {folder: listing for folder, listing in walked.items() if folder not in stale}
    out.update((folder, tuple(sorted(names.items()))) for folder, names in entries.items())
    return out


def _prune(entries: dict[str, dict[str, int]], folder: str) -> None:
    """Drop ``folder`` from its parent while it is empty, upwards (not the root)."""
    while folder != "." and not entries.get(folder):
        parent, _sep, name = folder.rpartition("/")
        parent = parent or "."
        entries.pop(folder, None)
        entries[parent].pop(name, None)
        folder = parent
