"""End-to-end wall time of ``implement-infra`` on the example and on a generated repository.

    .venv/bin/python bench/implement.py [--runs 5] [--large-runs 3] [--components 1000]

Each run works on a fresh copy of the repository and a fresh infrawright cache directory
(neither copy is timed) and must end with the change applied. Two ways are timed:

* subprocess: ``implement-infra --repo COPY REQUEST`` (process start included);
* in-process: ``load_repo`` + ``plan_request`` + ``infrawright.change.implement.implement``, as
  the CLI calls them (process start and imports excluded; the kustomize lookup and the
  chart catalog are cached once before timing).

Three cache states: cold (an empty cache: a first run, or CI without a cache), warm (the
cache an untimed ``infrawright validate`` of the same copy, at the same path, left behind
just before: infrawright keeps parsed files per repository folder) and used (warm, then
an untimed dry run of another request: the repository's mirror exists).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from benchlib import (
    CACHE_MODES,
    SHARED_CRDS,
    Stats,
    byte_compile,
    code_note,
    console_script,
    crd_args,
    example_repo,
    fresh_copy,
    generated_repo,
    machine_note,
    own_cache,
    ratio,
    run_checked,
    say,
    table,
    timed,
    use_cache,
)

from infrawright.build.kustomize import find_kustomize
from infrawright.catalog import builtin_catalog
from infrawright.change.implement import implement
from infrawright.model.loader import find_root, load_repo
from infrawright.plan.rules import plan_request
from infrawright.repo.config import load_config

REQUESTS = ("we need metallb", "install external-dns")
#: An earlier request for the "used" state: dry-run, so nothing is written, and unlike
#: the timed ones, so their components are still to be built.
EARLIER = "Add new component team-a with Flux Kustomization"
#: Cache states: CACHE_MODES, and "used", warm plus an earlier implement of another
#: request (the repository's mirror exists, its conventions are known).
MODES = (*CACHE_MODES, "used")
GOAL_S = 1.0
Runner = Callable[[Path, str, Sequence[Path]], None]


@dataclass(frozen=True)
class Result:
    repo: str
    request: str
    cache: str
    subprocess: Stats
    in_process: Stats


@dataclass(frozen=True)
class Subject:
    """A repository to benchmark."""

    label: str
    base: Path
    runs: int


def run_subprocess(repo: Path, request: str, crd_dirs: Sequence[Path]) -> None:
    run_checked(
        [console_script("implement-infra"), "--repo", str(repo), *crd_args(crd_dirs), request]
    )


def run_in_process(repo: Path, request: str, crd_dirs: Sequence[Path]) -> None:
    root = find_root(repo)
    model = load_repo(root, config=load_config(root, None))
    plan = plan_request(request, model.catalog)
    outcome = implement(model, plan, crd_dirs=list(crd_dirs))
    if outcome.status != "applied":
        found = "; ".join(f.message for f in outcome.new_findings[:3])
        raise SystemExit(
            f"in-process implement on {repo}: {outcome.status}: {outcome.error} {found}"
        )


def settle_scratch(temp: Path, limit_s: float = 30.0) -> None:
    """Wait until the scratch copies earlier runs left to a background ``rm`` are gone,
    so a run does not share the machine with the previous run's clean-up."""
    deadline = time.monotonic() + limit_s
    while any(temp.glob("infrawright-scratch-*")) and time.monotonic() < deadline:
        time.sleep(0.05)


def fill_cache(repo: Path, crd_dirs: Sequence[Path]) -> None:
    """One untimed validate of ``repo`` into the cache in use."""
    run_checked(
        [console_script("infrawright"), "validate", "--repo", str(repo), *crd_args(crd_dirs)]
    )


def measure(
    subject: Subject, request: str, cache: str, runner: Runner, opts: argparse.Namespace
) -> Stats:
    times: list[float] = []
    for i in range(subject.runs):
        copy = fresh_copy(subject.base, opts.scratch)
        cache_dir = use_cache(opts.scratch, None)
        if cache in ("warm", "used"):
            fill_cache(copy, opts.crd_dir)
        if cache == "used":
            run_checked(
                [
                    console_script("implement-infra"),
                    "--repo",
                    str(copy),
                    "--dry-run",
                    *crd_args(opts.crd_dir),
                    EARLIER,
                ]
            )
        settle_scratch(opts.temp)
        elapsed = timed(partial(runner, copy, request, opts.crd_dir))
        shutil.rmtree(copy.parent)
        shutil.rmtree(cache_dir)
        times.append(elapsed)
        say(f"  {cache} {runner.__name__} run {i + 1}/{subject.runs}: {elapsed:.2f} s")
    return Stats(tuple(times))


def bench_subject(subject: Subject, opts: argparse.Namespace) -> list[Result]:
    results = []
    for request in opts.requests:
        for cache in opts.caches:
            say(f"{subject.label}: {request!r}, {cache} cache, {subject.runs} run(s) each way")
            sub = measure(subject, request, cache, run_subprocess, opts)
            inproc = (
                measure(subject, request, cache, run_in_process, opts)
                if opts.in_process
                else Stats(())
            )
            results.append(Result(subject.label, request, cache, sub, inproc))
    return results


def results_table(results: Sequence[Result]) -> str:
    headers = [
        "repository",
        "request",
        "cache",
        "runs",
        "subprocess (process start included)",
        "in-process (process start excluded)",
    ]
    rows = [
        [
            r.repo,
            r.request,
            r.cache,
            str(len(r.subprocess.times)),
            r.subprocess.cell(),
            r.in_process.cell(),
        ]
        for r in results
    ]
    return table(headers, rows)


def goal_lines(results: Sequence[Result], example: str, large: str) -> list[str]:
    by_key = {(r.repo, r.request, r.cache): r for r in results}
    lines = []
    for request, cache in dict.fromkeys((r.request, r.cache) for r in results):
        small = by_key.get((example, request, cache))
        big = by_key.get((large, request, cache))
        if small is None:
            continue
        verdict = "met" if small.subprocess.median < GOAL_S else "NOT met"
        lines.append(
            f"goal < {GOAL_S:.0f} s on the example, {request!r}, {cache} cache: {verdict} "
            f"(median {small.subprocess.short()} with process start, "
            f"{small.in_process.short()} in-process)"
        )
        if big is not None:
            lines.append(
                f"  {large} / example: subprocess {ratio(big.subprocess, small.subprocess)}, "
                f"in-process {ratio(big.in_process, small.in_process)}"
            )
            at_scale = "met" if big.subprocess.median < GOAL_S else "NOT met"
            if cache == "cold":  # a cold cache builds every component: a reference only
                at_scale = f"reference, no goal ({at_scale} by the same measure)"
            lines.append(
                f"goal < {GOAL_S:.0f} s on {large} (issue 5), {request!r}, {cache} cache: "
                f"{at_scale} (median {big.subprocess.short()} with process start, "
                f"{big.in_process.short()} in-process)"
            )
    return lines


def report(results: Sequence[Result], example: str, large: str) -> str:
    title = "implement-infra wall time: median (min–max)"
    return "\n".join([title, "", results_table(results), "", *goal_lines(results, example, large)])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time implement-infra end to end.")
    parser.add_argument("--runs", type=int, default=5, help="runs per request on the example")
    parser.add_argument(
        "--large-runs",
        type=int,
        default=3,
        help="runs per request on the generated repository (default 3; 0 skips it)",
    )
    parser.add_argument("--components", type=int, default=1000, help="size of the generated repo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--request", dest="requests", action="append", help="repeatable")
    parser.add_argument(
        "--cache",
        choices=[*MODES, "both", "all"],
        default="all",
        help="cache state(s) to time (both: cold and warm; all: every state)",
    )
    parser.add_argument(
        "--crd-dir",
        type=Path,
        action="append",
        default=[],
        help=f"passed to implement (e.g. {SHARED_CRDS})",
    )
    parser.add_argument("--no-in-process", dest="in_process", action="store_false")
    args = parser.parse_args(argv)
    args.requests = args.requests or list(REQUESTS)
    caches = {"both": list(CACHE_MODES), "all": list(MODES)}
    args.caches = caches.get(args.cache, [args.cache])
    return args


def subject(label: str, base: Path, runs: int, opts: argparse.Namespace) -> Subject:
    return Subject(label, base, runs)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    start_load = os.getloadavg()[0]
    own_cache()
    byte_compile()
    find_kustomize()
    builtin_catalog()
    with tempfile.TemporaryDirectory(prefix="infrawright-bench-") as tmp:
        opts.scratch = Path(tmp)
        # infrawright's scratch copies go here (for child processes and this one), where
        # settle_scratch can see them.
        opts.temp = Path(tmp) / "temp"
        opts.temp.mkdir()
        os.environ["TMPDIR"] = tempfile.tempdir = str(opts.temp)
        example = example_repo(Path(tempfile.mkdtemp(dir=tmp)))
        results = bench_subject(subject("example", example, opts.runs, opts), opts)
        large = f"generated-{opts.components}"
        if opts.large_runs > 0:
            base = generated_repo(Path(tempfile.mkdtemp(dir=tmp)), opts.components, opts.seed)
            results += bench_subject(subject(large, base, opts.large_runs, opts), opts)
    print(report(results, "example", large))
    print(machine_note(start_load))
    print(code_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
