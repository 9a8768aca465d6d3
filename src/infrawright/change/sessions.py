"""Sessions: what an applied change wrote, so it can be continued or undone.

Each applied change is recorded under ``.infrawright/change/sessions/<id>/``: ``session.json``
(request, decisions, plan, status, every file's digest before and after) and ``before/``
(the bytes each modified or deleted file had). The folder ignores itself for git. A lock
file keeps two runs from writing the same repository at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from infrawright.build.kustomize import process_alive
from infrawright.change.apply import apply_atomically, safe_target
from infrawright.errors import InfrawrightError, RefusedError
from infrawright.render.changeset import Changeset

STATE_DIR = ".infrawright"
SessionStatus = Literal["pending", "applied", "undone", "superseded"]


class LockedError(InfrawrightError):
    """Another infrawright run holds the repository's lock (exit 2)."""


def digest(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


@dataclass
class Session:
    """One applied change."""

    id: str
    request: str
    status: SessionStatus
    created: str
    plan: dict[str, Any]
    decisions: list[str] = field(default_factory=list)
    parent: str | None = None
    files: dict[str, dict[str, str | None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    planner: str = "rules"


def state_dir(root: Path) -> Path:
    """``.infrawright/`` of a repository, made when missing, with a ``.gitignore`` that
    keeps all of it out of git."""
    state = root / STATE_DIR
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# infrawright state: sessions and lock, never committed\n*\n")
    return state


class SessionStore:
    """Sessions of one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / STATE_DIR / "sessions"

    def _ensure(self) -> None:
        state_dir(self.root)
        self.dir.mkdir(parents=True, exist_ok=True)

    def new_id(self) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        return f"{stamp}-{secrets.token_hex(3)}"

    def record(
        self,
        changes: Changeset,
        *,
        request: str,
        plan: dict[str, Any],
        decisions: list[str],
        parent: str | None = None,
        notes: list[str] | None = None,
        planner: str = "rules",
    ) -> Session:
        """Save what is about to be written (call before applying the change)."""
        self._ensure()
        session = Session(
            id=self.new_id(),
            request=request,
            status="pending",
            created=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            plan=plan,
            decisions=list(decisions),
            parent=parent,
            notes=list(notes or []),
            planner=planner,
        )
        folder = self.dir / session.id
        (folder / "before").mkdir(parents=True)
        for rel, new in sorted(changes.files.items()):
            target = safe_target(self.root, rel)
            old = target.read_bytes() if target.is_file() else None
            if old is not None:
                keep = folder / "before" / rel
                keep.parent.mkdir(parents=True, exist_ok=True)
                keep.write_bytes(old)
            session.files[rel] = {"before": digest(old), "after": digest(new)}
        self.save(session)
        return session

    def save(self, session: Session) -> None:
        path = self.dir / session.id / "session.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(session), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)

    def mark_applied(self, session_id: str) -> None:
        """The change of a pending session is written; until then (a run killed half
        way) it stays pending and is never undone or continued."""
        for session in self.all():
            if session.id == session_id:
                session.status = "applied"
                self.save(session)
                return

    def all(self) -> list[Session]:
        if not self.dir.is_dir():
            return []
        out = []
        for path in sorted(self.dir.glob("*/session.json")):
            try:
                out.append(Session(**json.loads(path.read_text())))
            except (OSError, ValueError, TypeError) as exc:
                raise InfrawrightError(
                    f"{path}: session record cannot be read ({exc})",
                    hint="delete that session folder if it is not needed",
                ) from None
        return sorted(out, key=lambda s: (s.created, s.id))

    def get(self, session_id: str | None, *, status: SessionStatus = "applied") -> Session:
        sessions = self.all()
        if session_id:
            for s in sessions:
                if s.id == session_id:
                    return s
            raise InfrawrightError(
                f"no session {session_id!r} in {self.dir}",
                hint="`infrawright sessions` lists them",
            )
        live = [s for s in sessions if s.status == status]
        if not live:
            raise InfrawrightError(
                f"no {status} session in {self.root}", hint="`infrawright sessions` lists them"
            )
        return live[-1]

    def changed_since(self, session: Session) -> list[str]:
        """Files that no longer hold what the session wrote."""
        out = []
        for rel, sums in sorted(session.files.items()):
            target = self.root / rel
            now = target.read_bytes() if target.is_file() else None
            if digest(now) != sums["after"]:
                out.append(rel)
        return out

    def revert(self, session: Session) -> Changeset:
        """Put every file back as it was before the session; refuses if any changed since."""
        changed = self.changed_since(session)
        if changed:
            raise RefusedError(
                f"session {session.id} cannot be undone: changed since it was applied: "
                f"{', '.join(changed)}",
                hint="revert those files by hand (git checkout) or commit them first",
            )
        back = Changeset()
        for rel, sums in sorted(session.files.items()):
            if sums["before"] is None:
                back.files[rel] = None
            else:
                back.files[rel] = (self.dir / session.id / "before" / rel).read_bytes()
        apply_atomically(self.root, back)
        return back


@contextmanager
def repo_lock(root: Path, wait: float | None = None) -> Iterator[None]:
    """Hold ``.infrawright/lock`` while writing.

    A second run waits up to ``wait`` seconds (``$INFRAWRIGHT_LOCK_WAIT``, default 3) for
    the first, then gives up with exit 2; a lock left by a dead process is taken over;
    the same process may take it again (nested use).
    """
    state = root / STATE_DIR
    state.mkdir(exist_ok=True)
    lock = state / "lock"
    limit = wait if wait is not None else float(os.environ.get("INFRAWRIGHT_LOCK_WAIT", "3"))
    deadline = time.monotonic() + limit
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if holder == os.getpid():
                yield  # nested: the outer holder releases it
                return
            if holder is not None and process_alive(holder):
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise LockedError(
                    f"{lock}: another infrawright run (pid {holder}) is changing this "
                    f"repository (waited {limit:g} s)",
                    hint="wait for it to finish; delete the lock file if that process is gone",
                ) from None
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _holder(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None
