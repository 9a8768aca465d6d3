"""Keep a hard-linked copy of a repository in step with it (``python -m infrawright.change.mirror
SOURCE TARGET``).

Validating a change needs the repository as it would be after the change, on disk, for
kustomize. Linking every file anew for each run costs a second of system time on a big
repository, and every new link touches each file's change time, which makes the next
run read every file again. A mirror made once and brought up to date each time costs
one walk of both trees, and links only what changed.

After :func:`sync`, ``TARGET`` has the same folders, symlinks and files as ``SOURCE``,
every file a hard link to the source's (the same inode, so the same bytes). Anything
else in the target goes. Folders named in :data:`IGNORED` are left out at any depth.
A change is only ever written into the mirror by replacing a file, never into it, so
the repository is never touched.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys

IGNORED = frozenset({".git", ".infrawright", ".venv", "node_modules"})


def sync(source: str, target: str) -> int:
    """Make ``target`` mirror ``source``; returns how many entries were changed."""
    changed = 0
    if not os.path.isdir(target) or os.path.islink(target):
        _remove(target)
        os.makedirs(target, exist_ok=True)
        changed += 1
    todo = [(source, target)]
    while todo:
        src, dst = todo.pop()
        wanted = {e.name: e for e in _entries(src) if e.name not in IGNORED}
        present = {e.name: e for e in _entries(dst)}
        for name, gone in present.items():
            if name not in wanted:
                _remove(gone.path, gone)
                changed += 1
        for name, entry in wanted.items():
            here = os.path.join(dst, name)
            old = present.get(name)
            if entry.is_symlink():
                link = os.readlink(entry.path)
                if old is not None and old.is_symlink() and os.readlink(here) == link:
                    continue
                _remove(here, old)
                os.symlink(link, here)
                changed += 1
            elif entry.is_dir(follow_symlinks=False):
                if old is None or old.is_symlink() or not old.is_dir(follow_symlinks=False):
                    _remove(here, old)
                    os.mkdir(here)
                    changed += 1
                todo.append((entry.path, here))
            elif entry.is_file(follow_symlinks=False):
                if old is not None and _same_file(entry, old):
                    continue
                _remove(here, old)
                _link(entry.path, here)
                changed += 1
    return changed


def _entries(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _same_file(entry: os.DirEntry[str], old: os.DirEntry[str]) -> bool:
    """Is ``old`` (in the mirror) the source file ``entry``: its hard link, or where a
    link could not be made, a copy with the same size and modification time?"""
    if old.is_symlink() or not old.is_file(follow_symlinks=False):
        return False
    if old.inode() == entry.inode():
        return True
    a, b = entry.stat(follow_symlinks=False), old.stat(follow_symlinks=False)
    return a.st_dev != b.st_dev and (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns)


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)  # another file system, or links not allowed: a copy


def _remove(path: str, entry: os.DirEntry[str] | None = None) -> None:
    """Remove whatever is at ``path`` (nothing there is fine)."""
    try:
        mode = entry.stat(follow_symlinks=False).st_mode if entry else os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m infrawright.change.mirror SOURCE TARGET", file=sys.stderr)
        return 2
    try:
        sync(args[0], args[1])
    except OSError as exc:
        print(f"infrawright.change.mirror: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
