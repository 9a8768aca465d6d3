"""Folder listings of a repository, read once.

The loader lists every folder it walks; build cache keys and the rules that look at
folders (IW001, IW010) use those listings instead of listing the same folders again.
A folder the walk did not enter (hidden, vendored, outside the repository) is listed
on first use. Each entry is a name and a few flags: what it is, following symlinks,
and whether it is a symlink.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping

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


def without(walked: Mapping[str, Listing], changed: Collection[str]) -> dict[str, Listing]:
    """``walked`` less the listings writing ``changed`` files may have altered: each
    changed file's folder and every folder above it (a new folder appears there)."""
    stale = {"."}
    for rel in changed:
        parts = rel.split("/")[:-1]
        for n in range(1, len(parts) + 1):
            stale.add("/".join(parts[:n]))
    return {folder: listing for folder, listing in walked.items() if folder not in stale}
