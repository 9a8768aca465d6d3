"""The little git infrawright needs: which touched files hold uncommitted edits, and one
commit of an applied change (only with ``--commit``)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from infrawright.errors import InfrawrightError


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InfrawrightError(f"git {' '.join(args)}: {exc}") from None
    if check and out.returncode != 0:
        raise InfrawrightError(
            f"git {' '.join(args)} failed: {(out.stderr or out.stdout).strip()}",
            hint="the change itself was applied; commit it by hand",
        )
    return out


def is_repo(root: Path) -> bool:
    return _git(root, "rev-parse", "--is-inside-work-tree", check=False).returncode == 0


def dirty(root: Path, paths: Sequence[str]) -> list[str]:
    """Which of ``paths`` have uncommitted changes (empty outside a git repository)."""
    if not paths or not is_repo(root):
        return []
    out = _git(root, "status", "--porcelain", "--untracked-files=no", "--", *paths, check=False)
    return sorted(line[3:].strip() for line in out.stdout.splitlines() if line.strip())


def prepare_branch(root: Path, branch: str) -> None:
    """Switch to a new branch ``branch`` (uncommitted work comes along)."""
    if not is_repo(root):
        raise InfrawrightError(f"{root}: not a git repository; --branch needs one")
    if (
        _git(
            root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False
        ).returncode
        == 0
    ):
        raise InfrawrightError(
            f"branch {branch!r} already exists", hint="name a new branch, or switch to it first"
        )
    _git(root, "switch", "-c", branch)


def commit(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly ``paths`` (added, changed or deleted); returns the commit id."""
    if not is_repo(root):
        raise InfrawrightError(f"{root}: not a git repository; --commit needs one")
    _git(root, "add", "--all", "--", *paths)
    _git(root, "commit", "--quiet", "-m", message, "--", *paths)
    return _git(root, "rev-parse", "HEAD").stdout.strip()
