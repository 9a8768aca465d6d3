"""Helpers shared by the bench scripts: timing, fresh copies, tools, tables."""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gen_repo import COMPONENTS_DIR, COPIED, EXAMPLE, generate, git_commit

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


def byte_compile() -> None:
    """Compile infrawright's modules as an install does, so a timed process does not
    compile the ones edited since the last write of their .pyc files (with
    ``PYTHONDONTWRITEBYTECODE`` set nothing writes them otherwise: 0.1 s per process)."""
    import compileall

    import infrawright

    compileall.compile_dir(str(Path(infrawright.__file__).parent), quiet=1)


def own_cache() -> None:
    """The benchmark decides about infrawright's cache: never the user's, never off."""
    os.environ.pop(CACHE_SWITCH, None)
    os.environ.pop(CACHE_ENV, None)


def warm_cache(
    repo: Path,
    scratch: Path,
    crd_dirs: Sequence[Path],
    argv: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
) -> Path:
    """A cache directory filled by one ``infrawright validate`` of ``repo`` (not timed):
    this environment's console script, or ``argv`` (a validate of ``repo``) run in
    ``env``."""
    folder = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
    if argv is None:
        argv = [console_script("infrawright"), "validate", "--repo", str(repo)]
    run_checked([*argv, *crd_args(crd_dirs)], env={**(env or os.environ), CACHE_ENV: str(folder)})
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


# --------------------------------------------------------------------------- measured children


@dataclass(frozen=True)
class ChildRun:
    """One finished child process: its wall time and its peak resident memory."""

    seconds: float
    max_rss_bytes: int


def run_measured(argv: Sequence[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run a command like :func:`run_checked` (a failure stops the benchmark), timing it
    from just before the process starts until it is reaped, and reading its peak memory
    with ``os.wait4`` on that one child. On Linux ``ru_maxrss`` is the largest resident
    set of the child or of any descendant it waited for (a maximum over processes, not a
    sum of processes running at the same time). Output goes to temporary files, so a
    full pipe can never stall the child."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
        if proc.returncode != 0:
            out.seek(0)
            err.seek(0)
            tail = (out.read() + err.read()).decode(errors="replace")[-3000:]
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{tail}")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return ChildRun(seconds, usage.ru_maxrss * scale)


def megabytes(sizes: Sequence[int]) -> str:
    """``median (min–max)`` of byte counts in MB (10^6 bytes), or ``n/a``."""
    if not sizes:
        return "n/a"
    mb = [s / 1e6 for s in sizes]
    if len(mb) == 1:
        return f"{mb[0]:.0f} MB"
    return f"{statistics.median(mb):.0f} MB ({min(mb):.0f}–{max(mb):.0f})"


def speedup(baseline: Stats, measured: Stats) -> str:
    """``baseline / measured`` of the medians, as ``27x`` or ``1.4x`` (above 1x the
    measured way is faster), or ``n/a``."""
    if not baseline.times or not measured.times or measured.median == 0:
        return "n/a"
    factor = baseline.median / measured.median
    return f"{factor:.0f}x" if factor >= 10 else f"{factor:.1f}x"


# --------------------------------------------------------------------------- one-component edits

#: The key :func:`change_component` adds under ``spec.values``.
EDIT_KEY = "podAnnotations"


def _values_line(lines: Sequence[str]) -> int | None:
    """Index of the HelmRelease's ``  values:`` line (spec.values of a plain, two-space
    indented HelmRelease, as gen_repo and the example write them)."""
    for i, line in enumerate(lines):
        if line.split("#", 1)[0].rstrip() == "  values:":
            return i
    return None


def change_candidates(repo: Path) -> list[Path]:
    """HelmRelease files that :func:`change_component` can edit, sorted: every
    ``<components dir>/<c>/helm-release.yaml`` with a ``spec.values`` block and no
    ``podAnnotations`` yet; the synthetic components (not copied from the example) when
    the repository has any."""
    found = []
    for path in sorted((repo / COMPONENTS_DIR).glob("*/helm-release.yaml")):
        text = path.read_text(encoding="utf-8")
        if f"{EDIT_KEY}:" not in text and _values_line(text.splitlines()) is not None:
            found.append(path)
    synthetic = [p for p in found if p.parent.name not in COPIED]
    return synthetic or found


def change_component(repo: Path, run: int, seed: int = 0) -> str:
    """Change one component of ``repo`` in place, as a user editing one HelmRelease
    would: add ``podAnnotations: {bench.infrawright.dev/edit: run-N}`` under its
    ``spec.values``. Run ``run`` of a benchmark gets a different component than every
    other run (a fixed shuffle of :func:`change_candidates`, wrapping around after all
    of them); the same repository, run and seed always pick the same one. Returns the
    component's name (its folder)."""
    candidates = change_candidates(repo)
    if not candidates:
        raise SystemExit(f"{repo}: no HelmRelease with spec.values to change")
    order = random.Random(seed).sample(range(len(candidates)), len(candidates))
    path = candidates[order[run % len(candidates)]]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = _values_line(lines)
    assert at is not None  # change_candidates checked
    child = next(
        (ln for ln in lines[at + 1 :] if ln.strip() and not ln.lstrip().startswith("#")), ""
    )
    indent = child[: len(child) - len(child.lstrip())] if child.startswith("   ") else "    "
    lines[at + 1 : at + 1] = [
        f"{indent}{EDIT_KEY}:\n",
        f'{indent}  bench.infrawright.dev/edit: "run-{run}"\n',
    ]
    path.write_text("".join(lines), encoding="utf-8")
    return path.parent.name
