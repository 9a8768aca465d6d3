"""Throwaway copies of a repository, to validate a change before it is written.

Files are hard links where the copy can live on the repository's file system: making it
is then cheap, and safe because a change is only ever written by replacing a file, never
into it. That place is the system's temporary folder when it is on the same file system,
else ``.infrawright/`` when the repository already has one (nothing new is made in the
repository for a copy); anywhere else the files are copied.

A copy can be started in the background (:func:`background_copy`) and is then made while
the repository as it is gets validated: by ``cp -al`` in its own process where there is
one (a thread would compete for the interpreter lock), else by a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from infrawright import cache
from infrawright.change.mirror import sync as mirror_sync
from infrawright.change.sessions import STATE_DIR
from infrawright.progress import phase

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # not on Windows: no mirror there, a new copy each time
    fcntl = None

IGNORED = shutil.ignore_patterns(".git", ".infrawright", ".venv", "node_modules")
PREFIX = "infrawright-scratch-"
MIRROR_PREFIX = "infrawright-mirror-"
#: A mirror unused this long is removed.
MIRROR_UNUSED_S = 7 * 24 * 3600
#: A copy in ``.infrawright/`` older than this was left by a run that was killed.
STALE_AFTER_S = 3600


class _CancelledError(Exception):
    """The copy is no longer wanted (not an OSError: copytree collects those)."""


class ScratchCopy:
    """A copy of ``root`` being made in the background."""

    def __init__(self, root: Path) -> None:
        self.root = root
        parent = _parent(root)
        self._tmp = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        self._target = self._tmp / "repo"
        self._error: BaseException | None = None
        self._cancel = threading.Event()
        self._process = _start_cp(root, self._target) if _same_device(root, self._tmp) else None
        self._thread: threading.Thread | None = None
        if self._process is None:
            self._thread = threading.Thread(target=self._make, name=PREFIX, daemon=True)
            self._thread.start()

    def _make(self) -> None:
        try:
            link = self._link
            shutil.copytree(
                self.root, self._target, symlinks=True, ignore=IGNORED, copy_function=link
            )
        except BaseException as exc:  # handed to the thread that waits for the copy
            self._error = exc

    def _link(self, src: str, dst: str) -> object:
        if self._cancel.is_set():
            raise _CancelledError
        try:
            os.link(src, dst)
            return dst
        except OSError:
            return shutil.copy2(src, dst)

    def _wait(self) -> None:
        if self._process is not None:
            failed = self._process.wait() != 0
            self._process = None
            if failed and not self._cancel.is_set():  # e.g. a cp without -l: copy here
                shutil.rmtree(self._target, ignore_errors=True)
                self._make()
        if self._thread is not None:
            self._thread.join()

    def path(self) -> Path:
        """The finished copy (waits for it; raises what stopped it)."""
        with phase("scratch copy (waiting for it)"):
            self._wait()
        if self._error is not None:
            raise self._error
        return self._target

    def close(self, *, detach: bool = False) -> None:
        """Stop making the copy if it is still going, and remove it; with ``detach``
        the removal is left to a process of its own, so nobody waits for it."""
        self._cancel.set()
        if self._process is not None:
            self._process.kill()
        self._wait()
        with phase("scratch copy removed"):
            if not (detach and _remove_detached(self._tmp)):
                shutil.rmtree(self._tmp, ignore_errors=True)


def _same_device(root: Path, folder: Path) -> bool:
    try:
        return root.stat().st_dev == folder.stat().st_dev
    except OSError:
        return False


def _start_cp(root: Path, target: Path) -> subprocess.Popen[bytes] | None:
    """``cp -al`` of the repository's entries (not .git and the like) into ``target``."""
    cp = shutil.which("cp")
    if cp is None:
        return None
    try:
        names = sorted(p.name for p in root.iterdir())
        skipped = IGNORED(str(root), names)
        entries = [str(root / n) for n in names if n not in skipped]
        target.mkdir()
        if not entries:
            return None
        return subprocess.Popen(
            [cp, "-al", "--", *entries, str(target)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        return None


class MirrorCopy(ScratchCopy):
    """The repository's lasting mirror (see :mod:`infrawright.change.mirror`), brought up to date
    in a process of its own; held under a lock until closed, and kept for the next run."""

    def __init__(self, root: Path, folder: Path, lock: int) -> None:
        self.root = root
        self._folder = folder
        self._target = folder / "repo"
        self._lock = lock
        self._error = None
        self._thread = None
        self._cancel = threading.Event()
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", "infrawright.change.mirror", str(root), str(self._target)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @classmethod
    def open(cls, root: Path) -> MirrorCopy | None:
        """The mirror of ``root``, or None when there can be none here: no place on the
        repository's file system, another run holds it, or no way to lock it."""
        if fcntl is None or not sys.executable or not cache.enabled():
            return None
        base = _mirror_base(root)
        if base is None:
            return None
        try:
            real = os.path.realpath(root)
            name = hashlib.sha256(f"{os.getuid()}:{real}".encode()).hexdigest()[:20]
            folder = base / f"{MIRROR_PREFIX}{name}"
            folder.mkdir(mode=0o700, exist_ok=True)
            if folder.stat().st_uid != os.getuid() or folder.is_symlink():
                return None
            lock = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock)
            return None  # another run is using it
        _remove_unused_mirrors(base, keep=folder)
        try:
            return cls(root, folder, lock)
        except OSError:
            os.close(lock)
            return None

    def _wait(self) -> None:
        if self._process is not None:
            failed = self._process.wait() != 0
            self._process = None
            if failed and not self._cancel.is_set():
                try:  # once more here, to raise what stops it
                    mirror_sync(str(self.root), str(self._target))
                except OSError as exc:
                    self._error = exc

    def close(self, *, detach: bool = False) -> None:
        """Stop bringing the mirror up to date if that is still going, and release it."""
        self._cancel.set()
        if self._process is not None:
            self._process.kill()
        self._wait()
        with contextlib.suppress(OSError):
            os.utime(self._folder)  # in use: not removed as unused
        os.close(self._lock)  # releases the lock


def _mirror_base(root: Path) -> Path | None:
    """Where the mirror of ``root`` can live: the user's cache, else the system's
    temporary folder, else an existing ``.infrawright/``; the first that is on the
    repository's file system (hard links cannot cross file systems)."""
    try:
        device = root.stat().st_dev
    except OSError:
        return None
    mirrors = cache.directory() / "mirrors"
    with contextlib.suppress(OSError):
        mirrors.mkdir(parents=True, exist_ok=True)
    for base in (mirrors, Path(tempfile.gettempdir()), root / STATE_DIR):
        try:
            if base.is_dir() and base.stat().st_dev == device:
                return base
        except OSError:
            continue
    return None


def _remove_unused_mirrors(base: Path, keep: Path) -> None:
    """Remove mirrors of this user not used for :data:`MIRROR_UNUSED_S` (their
    repositories may be long gone; the links keep the files' space taken)."""
    now = time.time()
    try:
        with os.scandir(base) as it:
            old = [Path(e.path) for e in it if e.name.startswith(MIRROR_PREFIX)]
    except OSError:
        return
    for path in old:
        try:
            st = path.stat()
            if path == keep or st.st_uid != os.getuid() or now - st.st_mtime < MIRROR_UNUSED_S:
                continue
            lock = os.open(path / "lock", os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[union-attr]
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass  # in use
        finally:
            os.close(lock)


@contextmanager
def background_copy(
    root: Path, *, detach_removal: bool = False, lasting: bool = True
) -> Iterator[ScratchCopy]:
    """Start making a copy of ``root`` now: with ``lasting``, the repository's mirror
    brought up to date where there can be one (it stays for the next run); else a new
    copy, removed when the block ends (by a process of its own with ``detach_removal``:
    the command can end while it runs)."""
    copy = (MirrorCopy.open(root) if lasting else None) or ScratchCopy(root)
    try:
        yield copy
    finally:
        copy.close(detach=detach_removal)


def _remove_detached(folder: Path) -> bool:
    """Start ``rm -rf folder`` in the background of a shell that exits at once (so no
    child is left to wait for); False when that cannot be done here."""
    sh, rm = shutil.which("sh"), shutil.which("rm")
    if sh is None or rm is None:
        return False
    try:
        done = subprocess.run(
            [sh, "-c", '"$0" -rf -- "$1" >/dev/null 2>&1 &', rm, str(folder)],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextmanager
def scratch_copy(root: Path) -> Iterator[Path]:
    """A finished new copy of ``root``, removed when the block ends."""
    with background_copy(root, lasting=False) as copy:
        yield copy.path()


def _parent(root: Path) -> Path | None:
    """Where to make a copy of ``root`` (None: the system's temporary folder)."""
    try:
        device = root.stat().st_dev
        if Path(tempfile.gettempdir()).stat().st_dev == device:
            return None
        state = root / STATE_DIR
        if state.is_dir() and state.stat().st_dev == device:
            _remove_stale(state)
            return state
    except OSError:
        pass
    return None


def _remove_stale(base: Path) -> None:
    now = time.time()
    for old in base.glob(f"{PREFIX}*"):
        try:
            if now - old.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


@contextmanager
def partial_copy(root: Path) -> Iterator[Path]:
    """A new, empty folder for a partial copy of ``root``, where :func:`link_folders`
    puts the folders a change's builds read; removed when the block ends. It is made
    where a full copy would be, so its files can be hard links."""
    parent = _parent(root)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def link_folders(root: Path, copy: Path, folders: Collection[str]) -> bool:
    """Put ``folders`` of ``root`` (repository-relative, with everything under them) into
    ``copy``: hard links, or copies where links cannot be made. False, with the copy left
    incomplete, when one of them holds a symlink (what it points to may lie outside)."""
    done: list[str] = []
    for rel in sorted(set(folders)):
        if any(rel == d or rel.startswith(d + "/") for d in done):
            continue  # inside a folder already there
        done.append(rel)
        source = root / rel
        for here, dirs, files in os.walk(source):
            into = copy / rel / os.path.relpath(here, source)
            into.mkdir(parents=True, exist_ok=True)
            for name in (*dirs, *files):
                if Path(here, name).is_symlink():
                    return False
            for name in files:
                src, dst = Path(here, name), into / name
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
    return True
