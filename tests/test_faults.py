"""Faults during a real apply: the process killed at every file-system step, and a write
refused by the OS. After the next command the tree is exactly as before or exactly as
planned (compared by content hash), and rerunning the request finishes the job.

The kill test needs strace (``-e inject=SYSCALL:signal=KILL:when=N`` kills the process at
exactly the N-th call); without it the test is skipped and says so.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import EXAMPLE
from infrawright.change.apply import JOURNAL
from infrawright.change.workflow import recover_unfinished

REQUEST = "we need metallb"
BIN = Path(sys.executable).parent
IMPLEMENT = str(BIN / "implement-infra")
STRACE = shutil.which("strace")
#: Syscalls of the write path: journal folders and backups, temp files and their modes,
#: fsync, renames, deletions and the journal's removal.
SYSCALLS = ("rename", "fsync", "unlinkat", "unlink", "mkdir", "rmdir", "chmod")
#: Runs that must really be killed. strace follows child processes too, and the scratch
#: copy is made by ``cp -al`` and removed by a detached ``rm``: a kill there stops only
#: that child (the run falls back to copying itself), so it is not counted. About 110 of
#: the calls are the run's own (journal, backups, renames, sessions).
MIN_KILLS = int(os.environ.get("INFRAWRIGHT_MIN_KILLS", "100"))


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in (".git", ".infrawright") or not path.is_file():
            continue
        h.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def fresh(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest, symlinks=True)
    return dest


def implement(repo: Path, *prefix: str) -> subprocess.CompletedProcess[str]:
    # A killed run leaves its scratch copy behind: keep those beside the test's repos.
    return subprocess.run(
        [*prefix, IMPLEMENT, "--repo", str(repo), REQUEST],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "TMPDIR": str(repo.parent)},
    )


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The example as a git repo, its digest, and the digest after the request."""
    base = tmp_path_factory.mktemp("faults") / "base"
    shutil.copytree(EXAMPLE, base)
    subprocess.run(["git", "init", "-q", str(base)], check=True)
    after_repo = fresh(base, base.parent / "after")
    done = implement(after_repo)
    assert done.returncode == 0, done.stderr
    return base, digest(base), digest(after_repo)


def syscall_counts(base: Path, work: Path) -> dict[str, int]:
    """How often a full run makes each syscall of the write path."""
    repo = fresh(base, work / "count")
    summary = work / "count.txt"
    trace = ",".join(SYSCALLS)
    done = implement(
        repo, STRACE or "strace", "-f", "-c", "-e", f"trace={trace}", "-o", str(summary)
    )
    assert done.returncode == 0, done.stderr
    counts: dict[str, int] = {}
    for line in summary.read_text().splitlines():
        match = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
        if match and match.group(2) in SYSCALLS:
            counts[match.group(2)] = int(match.group(1))
    return counts


@pytest.mark.skipif(STRACE is None, reason="strace is not installed; it places each kill exactly")
def test_killed_at_every_step_the_tree_is_before_or_after(
    states: tuple[Path, str, str], tmp_path: Path
) -> None:
    base, before, after = states
    counts = syscall_counts(base, tmp_path)
    trials = [(name, n) for name, total in sorted(counts.items()) for n in range(1, total + 1)]
    assert len(trials) >= MIN_KILLS, counts

    def trial(item: tuple[str, int]) -> tuple[str, int, bool, str]:
        name, n = item
        repo = fresh(base, tmp_path / f"{name}-{n}")
        run = implement(
            repo,
            STRACE or "strace",
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            f"inject={name}:signal=KILL:when={n}",
        )
        killed = run.returncode != 0
        # The next command: every writing command recovers first, as `infrawright recover`
        # does (run here in-process to keep hundreds of trials fast; the command itself is
        # tested in test_git_and_requests.py).
        recover_unfinished(repo)
        state = digest(repo)
        if n % 10 == 0:  # rerunning the request finishes the job
            again = implement(repo)
            assert again.returncode == 0, (name, n, again.stderr)
            assert digest(repo) == after, (name, n, "rerun did not finish the job")
        shutil.rmtree(repo)
        return name, n, killed, state

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(trial, trials))
    bad = [(name, n) for name, n, _killed, state in results if state not in (before, after)]
    assert bad == []
    kills = sum(1 for *_rest, killed, _state in results if killed)
    assert kills >= MIN_KILLS, f"only {kills} runs were killed of {len(results)}"
    # Both outcomes happen: early kills roll back, late ones (after the last rename) too
    # or leave the finished change.
    assert {state for *_rest, state in results} <= {before, after}


def test_a_write_refused_by_the_os_changes_nothing(
    states: tuple[Path, str, str], tmp_path: Path
) -> None:
    """RLIMIT_FSIZE (root ignores read-only modes) below the new cluster file's size."""
    base, _before, _after = states
    repo = fresh(base, tmp_path / "repo")
    cluster = repo / "clusters/local-kube/infrastructure.yaml"
    limit = cluster.stat().st_size + 64  # the old file fits, the new one (+1 KB) does not
    for path in repo.rglob("*"):  # prose larger than the limit is not needed here
        if path.is_file() and ".git" not in path.parts and path.stat().st_size > limit:
            assert path.suffix == ".md", path
            path.unlink()
    before = digest(repo)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process

    done = subprocess.run(
        [IMPLEMENT, "--repo", str(repo), REQUEST],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=limited,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "File too large" in done.stderr and "nothing was changed" in done.stderr
    assert digest(repo) == before


@pytest.mark.skipif(STRACE is None, reason="strace is not installed; it places each error exactly")
def test_an_error_at_any_rename_or_fsync_leaves_before_or_after(
    states: tuple[Path, str, str], tmp_path: Path
) -> None:
    """ENOSPC injected at the N-th rename or fsync (scratch copy, session, real apply)."""
    base, before, after = states
    counts = syscall_counts(base, tmp_path)
    trials = [(name, n) for name in ("rename", "fsync") for n in range(1, counts[name] + 1)]
    seen: set[str] = set()
    for name, n in trials:
        repo = fresh(base, tmp_path / f"err-{name}-{n}")
        run = implement(
            repo,
            STRACE or "strace",
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            f"inject={name}:error=ENOSPC:when={n}",
        )
        assert "Traceback" not in run.stderr, (name, n, run.stderr)
        assert run.returncode in (0, 2), (name, n, run.stderr)
        state = digest(repo)
        assert state in (before, after), (name, n)
        assert not (repo / JOURNAL).exists() or run.returncode == 2
        seen.add("after" if state == after else "before")
        shutil.rmtree(repo)
    assert seen == {"before", "after"}  # errors early roll back; late ones are harmless
