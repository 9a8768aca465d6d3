"""``infrawright validate`` against the seed's way, on the example and generated repos.

    .venv/bin/python bench/validate.py [--runs 5] [--large-runs 3] [--sizes 100 1000]

For each repository, in the same run and alternating:

* ``infrawright validate --repo REPO`` as a subprocess (process start included);
* ``load_repo`` + ``validate`` in-process (process start and imports excluded);
* the seed's way: ``kubectl kustomize FOLDER`` for every Flux Kustomization with a
  kustomization file, one after another (each a new process; listing is not timed).

infrawright is timed with a cold cache (a new, empty cache directory per run) and a warm
one (a copy of the cache a previous validate of the same repository left). Validation
only reads the repository, so all runs use the same copy of it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from benchlib import (
    CACHE_MODES,
    SHARED_CRDS,
    Stats,
    code_note,
    console_script,
    crd_args,
    example_repo,
    generated_repo,
    machine_note,
    own_cache,
    ratio,
    run_checked,
    say,
    table,
    timed,
    use_cache,
    warm_cache,
)

from infrawright.catalog import builtin_catalog
from infrawright.repo.loader import load_repo
from infrawright.validate.builds import has_kustomization_file
from infrawright.validate.engine import validate
from infrawright.validate.kustomize import find_kustomize

Timing = Callable[[], None]


@dataclass
class Times:
    """Wall times of one repository, by column name."""

    label: str
    builds: int
    columns: dict[str, list[float]] = field(default_factory=dict)

    def add(self, column: str, seconds: float) -> None:
        self.columns.setdefault(column, []).append(seconds)

    def stats(self, column: str) -> Stats:
        return Stats(tuple(self.columns.get(column, ())))


def kustomize_argv() -> list[str]:
    """``kubectl kustomize`` as the seed ran it; else the kustomize infrawright uses."""
    kubectl = shutil.which("kubectl")
    return [kubectl, "kustomize"] if kubectl else list(find_kustomize().argv)


def kustomization_folders(repo: Path) -> list[Path]:
    """The folder of every local Flux Kustomization that has a kustomization file (one
    per component; the bootstrap's cluster folder has none, Flux generates it)."""
    model = load_repo(repo)
    folders = [model.resolve(ks) for ks in model.kustomizations if model.is_local(ks)]
    return [f for f in folders if isinstance(f, Path) and has_kustomization_file(f)]


def seed_way(folders: Sequence[Path], argv: Sequence[str]) -> None:
    for folder in folders:
        run_checked([*argv, str(folder)])


def validate_subprocess(repo: Path, crd_dirs: Sequence[Path]) -> None:
    run_checked(
        [console_script("infrawright"), "validate", "--repo", str(repo), *crd_args(crd_dirs)]
    )


def validate_in_process(repo: Path, crd_dirs: Sequence[Path]) -> None:
    result = validate(load_repo(repo), crd_dirs=crd_dirs)
    if result.errors:
        raise SystemExit(f"{repo}: {len(result.errors)} error finding(s), e.g. {result.errors[0]}")


def timed_with_cache(action: Timing, scratch: Path, filled: Path | None) -> float:
    cache_dir = use_cache(scratch, filled)
    try:
        return timed(action)
    finally:
        shutil.rmtree(cache_dir)


def one_run(repo: Path, times: Times, folders: Sequence[Path], opts: argparse.Namespace) -> None:
    """Every column once: infrawright per cache state, then the seed's way."""
    for cache in opts.caches:
        filled = opts.warm if cache == "warm" else None
        sub = partial(validate_subprocess, repo, opts.crd_dir)
        inproc = partial(validate_in_process, repo, opts.crd_dir)
        times.add(f"{cache} subprocess", timed_with_cache(sub, opts.scratch, filled))
        times.add(f"{cache} in-process", timed_with_cache(inproc, opts.scratch, filled))
    times.add("seed", timed(partial(seed_way, folders, kustomize_argv())))


def bench_repo(label: str, repo: Path, runs: int, opts: argparse.Namespace) -> Times:
    folders = kustomization_folders(repo)
    opts.warm = warm_cache(repo, opts.scratch, opts.crd_dir) if "warm" in opts.caches else None
    times = Times(label, len(folders))
    for i in range(runs):
        one_run(repo, times, folders, opts)
        latest = ", ".join(f"{name} {values[-1]:.2f} s" for name, values in times.columns.items())
        say(f"{label} run {i + 1}/{runs}: {latest}")
    return times


def report(results: Sequence[Times], caches: Sequence[str], argv: Sequence[str]) -> str:
    headers = [
        "repository",
        "builds (seed)",
        "cache",
        "validate (process start incl.)",
        "validate in-process",
        "seed's way (sequential)",
        "validate / seed",
    ]
    rows = [
        [
            t.label,
            str(t.builds),
            cache,
            t.stats(f"{cache} subprocess").cell(),
            t.stats(f"{cache} in-process").cell(),
            t.stats("seed").cell(),
            ratio(t.stats(f"{cache} subprocess"), t.stats("seed")),
        ]
        for t in results
        for cache in caches
    ]
    tool = f"{Path(argv[0]).name} {' '.join(argv[1:])}"
    return "\n".join(
        [
            "infrawright validate wall time: median (min–max)",
            f"seed's way: `{tool} FOLDER` once per Flux Kustomization, one after another",
            "",
            table(headers, rows),
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time infrawright validate against the seed.")
    parser.add_argument("--runs", type=int, default=5, help="runs on the example and small repos")
    parser.add_argument(
        "--large-runs", type=int, default=3, help="runs on repos of 1,000+ components (default 3)"
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cache", choices=[*CACHE_MODES, "both"], default="both", help="cache state(s) to time"
    )
    parser.add_argument(
        "--crd-dir",
        type=Path,
        action="append",
        default=[],
        help=f"passed to validate (e.g. {SHARED_CRDS})",
    )
    args = parser.parse_args(argv)
    args.caches = list(CACHE_MODES) if args.cache == "both" else [args.cache]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    start_load = os.getloadavg()[0]
    own_cache()
    find_kustomize()
    builtin_catalog()
    results: list[Times] = []
    with tempfile.TemporaryDirectory(prefix="infrawright-bench-") as tmp:
        opts.scratch = Path(tmp)
        example = example_repo(Path(tempfile.mkdtemp(dir=tmp)))
        results.append(bench_repo("example", example, opts.runs, opts))
        for size in opts.sizes:
            repo = generated_repo(Path(tempfile.mkdtemp(dir=tmp)), size, opts.seed)
            runs = opts.large_runs if size >= 1000 else opts.runs
            results.append(bench_repo(f"generated-{size}", repo, runs, opts))
    print(report(results, opts.caches, kustomize_argv()))
    print(machine_note(start_load))
    print(code_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
