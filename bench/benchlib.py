"""Helpers shared by the bench scripts: timing, fresh copies, tools, tables."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gen_repo import EXAMPLE, generate, git_commit

PROJECT = Path(__file__).resolve().parents[1]
SHARED_CRDS = PROJECT.parent / "shared" / "crds"
#: infrawright's cache location and its off switch (see infrawright/cache.py).
CACHE_ENV = "INFRAWRIGHT_CACHE_DIR"
CACHE_SWITCH = "INFRAWRIGHT_CACHE"
CACHE_MODES = ("cold", "warm")


@dataclass(frozen=True)
class Stats:
    """Wall times of repeated runs, in seconds."""

    times: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def short(self) -> str:
        """The median alone, or ``n/a`` when nothing ran."""
        return f"{self.median:.2f} s" if self.times else "n/a"

    def cell(self) -> str:
        """``median (min–max)``, or just the time for a single run."""
        if not self.times:
            return "n/a"
        if len(self.times) == 1:
            return f"{self.times[0]:.2f} s"
        return f"{self.median:.2f} s ({min(self.times):.2f}–{max(self.times):.2f})"


def say(message: str) -> None:
    """Progress on stderr, so stdout keeps only the results."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def console_script(name: str) -> str:
    """A console script of this interpreter's environment (the dev virtualenv)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name}: not found beside {sys.executable} nor on PATH")
    return found


def fresh_copy(base: Path, scratch: Path) -> Path:
    """A new copy of ``base`` (with its .git) in a new folder under ``scratch``."""
    target = Path(tempfile.mkdtemp(prefix="copy-", dir=scratch)) / base.name
    shutil.copytree(base, target, symlinks=True)
    return target


def example_repo(parent: Path) -> Path:
    """A committed scratch copy of examples/local-kube."""
    repo = parent / "local-kube"
    shutil.copytree(EXAMPLE, repo)
    git_commit(repo, "examples/local-kube")
    return repo


def generated_repo(parent: Path, components: int, seed: int) -> Path:
    repo = parent / f"generated-{components}"
    say(f"generating {components} components (seed {seed}) in {repo}")
    generate(repo, components, seed)
    return repo


def run_checked(argv: Sequence[str], env: dict[str, str] | None = None) -> None:
    """Run a command; a failure stops the benchmark with its output."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{tail}")


def own_cache() -> None:
    """The benchmark decides about infrawright's cache: never the user's, never off."""
    os.environ.pop(CACHE_SWITCH, None)
    os.environ.pop(CACHE_ENV, None)


def warm_cache(repo: Path, scratch: Path, crd_dirs: Sequence[Path]) -> Path:
    """A cache directory filled by one ``infrawright validate`` of ``repo`` (not timed)."""
    folder = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
    argv = [console_script("infrawright"), "validate", "--repo", str(repo), *crd_args(crd_dirs)]
    run_checked(argv, env={**os.environ, CACHE_ENV: str(folder)})
    return folder


def use_cache(scratch: Path, filled: Path | None) -> Path:
    """Point infrawright, here and in child processes, at a new cache directory: empty
    (cold) or a copy of ``filled`` (warm). The caller deletes it after the run."""
    folder = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
    if filled is not None:
        shutil.copytree(filled, folder, dirs_exist_ok=True)
    os.environ[CACHE_ENV] = str(folder)
    return folder


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with columns padded to their widest cell."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def ratio(numerator: Stats, denominator: Stats) -> str:
    if not numerator.times or not denominator.times or denominator.median == 0:
        return "n/a"
    return f"{numerator.median / denominator.median:.2g}x"


def machine_note(start_load: float) -> str:
    """Cores and 1-minute load average at start and end: other work skews the times."""
    end = os.getloadavg()[0]
    return (
        f"machine: {os.cpu_count()} cores, load average {start_load:.1f} at start, {end:.1f} at end"
    )


def code_note() -> str:
    """Which infrawright was measured: the checkout's commit, and whether src/ has edits."""
    git = ["git", "-C", str(PROJECT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True)
    commit = head.stdout.strip() or "unknown commit"
    return f"infrawright at {commit}" + (" (src/ has uncommitted edits)" if dirty.stdout else "")


def crd_args(crd_dirs: Sequence[Path]) -> list[str]:
    return [arg for d in crd_dirs for arg in ("--crd-dir", str(d))]
