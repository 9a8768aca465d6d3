"""``infrawright validate`` against the seed's way, on the example and generated repos (issue 5).

    .venv/bin/python bench/validate.py [--runs 5] [--large-runs 3] [--sizes 100 1000]
                                       [--cache cold|warm|both] [--seed 0] [--crd-dir DIR]
                                       [--against REV] [--no-seed]

Every run times, on the same repository:

(a) the seed's way: ``kubectl kustomize FOLDER`` for every Flux Kustomization with a
    kustomization file, one after another (each a new process; listing is not timed);
(b) ``infrawright validate`` cold: a new, empty cache directory;
(c) ``infrawright validate`` warm after changing one component: a copy P of the
    repository is made, an untimed validate of P fills a cache C, one component's
    HelmRelease in P gets a new value under ``spec.values`` (another component every
    run), and validate of P is timed with a copy of C;
and, for reference, warm with nothing changed: validate of P timed with a copy of C
before the edit.

(b), (c) and the reference are timed both as a subprocess (``infrawright validate
--repo``, process start included; its peak memory read with ``os.wait4``) and in-process
(``load_repo`` + ``validate``, process start and imports excluded). Copies (repository and
caches) are made before the clock starts and deleted after it stops. The report gives
medians (min–max), the ratios a/b and a/c, and the issue's goals at N = 1,000.

``--no-seed`` leaves (a) out (and the goals judged against it), so that more runs of
the rest fit in the same time.

With ``--against REV`` every infrawright column is also timed for that git revision of
this repository (checked out in a temporary folder, see bench/trees.py), the two trees'
runs interleaved (their order alternating run by run) so that a slow moment of the
machine hits both; each tree fills its own warm caches. Both trees then run in new
processes through ``PYTHONPATH``, in-process meaning a child that imports infrawright,
looks up kustomize and reads the catalog before its clock starts. A second table gives
each state's medians side by side and how much slower (+) or faster (-) this checkout is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from benchlib import (
    CACHE_ENV,
    CACHE_MODES,
    SHARED_CRDS,
    Stats,
    byte_compile,
    change_component,
    code_note,
    console_script,
    crd_args,
    example_repo,
    fresh_copy,
    generated_repo,
    machine_note,
    megabytes,
    own_cache,
    run_checked,
    run_measured,
    say,
    speedup,
    table,
    timed,
    use_cache,
    warm_cache,
)
from trees import Tree, checked_out, this_tree

from infrawright.build.builds import has_kustomization_file
from infrawright.build.kustomize import find_kustomize
from infrawright.catalog import builtin_catalog
from infrawright.model.loader import load_repo
from infrawright.validate.engine import validate

#: The issue's goals, at N = GOAL_SIZE components.
GOAL_SIZE = 1000
COLD_GOAL, COLD_AIM = 10.0, 20.0  # seed's way / cold validate, at least
WARM_GOAL, WARM_AIM = 0.5, 0.3  # seconds, warm validate after one change, under
MEMORY_GOAL_MB = 500.0  # peak memory, under

SEED = "seed"
COLD = "cold"
CHANGED = "changed"
UNCHANGED = "unchanged"
#: Row labels of the infrawright columns, in report order.
STATES = {
    COLD: "(b) cold: empty cache",
    CHANGED: "(c) warm, one component changed",
    UNCHANGED: "warm, nothing changed (reference)",
}
SUB = "subprocess"
INPROC = "in-process"
#: The slowdown issue 14 allows against the revision before it, at N = GOAL_SIZE.
SLOWER_GOAL = 0.10

#: ``load_repo`` + ``validate`` timed in a child of one tree (``--against``): arguments
#: REPO [CRD_DIR...]; prints the seconds.
TIMED_CHILD = """
import sys, time
from pathlib import Path
from infrawright.build.kustomize import find_kustomize
from infrawright.catalog import builtin_catalog
from infrawright.model.loader import load_repo
from infrawright.validate.engine import validate
find_kustomize()
builtin_catalog()
repo, crd_dirs = Path(sys.argv[1]), [Path(a) for a in sys.argv[2:]]
start = time.perf_counter()
result = validate(load_repo(repo), crd_dirs=crd_dirs)
elapsed = time.perf_counter() - start
if result.errors:
    raise SystemExit(f"{repo}: {len(result.errors)} error finding(s), e.g. {result.errors[0]}")
print(elapsed)
"""


@dataclass
class Times:
    """Measurements of one repository: wall times by column (``seed``, ``cold
    subprocess``, ...), peak memory of the subprocess runs by state, and the components
    changed for (c)."""

    label: str
    builds: int
    columns: dict[str, list[float]] = field(default_factory=dict)
    memory: dict[str, list[int]] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)

    def add(self, column: str, seconds: float) -> None:
        self.columns.setdefault(column, []).append(seconds)

    def add_memory(self, state: str, max_rss_bytes: int) -> None:
        self.memory.setdefault(state, []).append(max_rss_bytes)

    def stats(self, column: str) -> Stats:
        return Stats(tuple(self.columns.get(column, ())))

    def peak_mb(self, state: str) -> float | None:
        sizes = self.memory.get(state)
        return max(sizes) / 1e6 if sizes else None


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


def validate_argv(repo: Path, crd_dirs: Sequence[Path]) -> list[str]:
    return [console_script("infrawright"), "validate", "--repo", str(repo), *crd_args(crd_dirs)]


def validate_in_process(repo: Path, crd_dirs: Sequence[Path]) -> None:
    result = validate(load_repo(repo), crd_dirs=crd_dirs)
    if result.errors:
        raise SystemExit(f"{repo}: {len(result.errors)} error finding(s), e.g. {result.errors[0]}")


def time_state(
    times: Times,
    state: str,
    repo: Path,
    filled: Path | None,
    opts: argparse.Namespace,
    tree: Tree | None = None,
) -> None:
    """Validate ``repo`` once as a subprocess and once in-process, each with a new cache
    directory: empty, or a copy of ``filled`` (made before the clock starts, deleted
    after it stops). With a ``tree`` (``--against``) both run that tree in a child."""
    cache_dir = use_cache(opts.scratch, filled)
    try:
        argv = validate_argv(repo, opts.crd_dir)
        if tree is not None:
            argv = tree.infrawright(*argv[1:])
        env = dict(os.environ) if tree is None else tree.env()
        child = run_measured(argv, env=env)
    finally:
        shutil.rmtree(cache_dir)
    times.add(f"{state} {SUB}", child.seconds)
    times.add_memory(state, child.max_rss_bytes)
    cache_dir = use_cache(opts.scratch, filled)
    try:
        if tree is None:
            seconds = timed(partial(validate_in_process, repo, opts.crd_dir))
        else:
            seconds = in_child(tree, repo, opts.crd_dir)
        times.add(f"{state} {INPROC}", seconds)
    finally:
        shutil.rmtree(cache_dir)


def in_child(tree: Tree, repo: Path, crd_dirs: Sequence[Path]) -> float:
    """``load_repo`` + ``validate`` of ``tree`` timed inside a new process (imports and
    start excluded), in the cache directory set in this process."""
    argv = [sys.executable, "-c", TIMED_CHILD, str(repo), *map(str, crd_dirs)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=tree.env(), check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{tree.label}: in-process validate of {repo} failed:\n{proc.stderr}")
    return float(proc.stdout.strip().splitlines()[-1])


def warm_runs(
    times: Times, base: Path, run: int, opts: argparse.Namespace, tree: Tree | None = None
) -> None:
    """The warm states, in the order the path-keyed caches need: copy the pristine
    repository to P, fill a cache C with an untimed validate of P, time P unchanged,
    change one component in P, time P again; every timed run gets its own copy of C.
    Then P and C are deleted."""
    copy = fresh_copy(base, opts.scratch)
    argv = None if tree is None else tree.infrawright("validate", "--repo", str(copy))
    env = None if tree is None else tree.env()
    filled = warm_cache(copy, opts.scratch, opts.crd_dir, argv, env)
    try:
        time_state(times, UNCHANGED, copy, filled, opts, tree)
        name = change_component(copy, run, opts.seed)
        times.changed.append(name)
        say(f"{times.label} run {run + 1}: changed {name}")
        time_state(times, CHANGED, copy, filled, opts, tree)
    finally:
        shutil.rmtree(copy.parent)
        shutil.rmtree(filled)


def one_run(
    times: Times, base: Path, folders: Sequence[Path], run: int, opts: argparse.Namespace
) -> None:
    """Every column once: cold on the pristine repository, the warm states on a copy,
    then the seed's way on the pristine repository."""
    if COLD in opts.states:
        time_state(times, COLD, base, None, opts)
    if CHANGED in opts.states:
        warm_runs(times, base, run, opts)
    if not opts.no_seed:
        times.add(SEED, timed(partial(seed_way, folders, kustomize_argv())))


def bench_repo(label: str, repo: Path, runs: int, opts: argparse.Namespace) -> Times:
    folders = kustomization_folders(repo)
    times = Times(label, len(folders))
    for i in range(runs):
        one_run(times, repo, folders, i, opts)
        latest = ", ".join(f"{name} {values[-1]:.2f} s" for name, values in times.columns.items())
        say(f"{label} run {i + 1}/{runs}: {latest}")
    return times


def compare_repo(
    label: str, repo: Path, runs: int, trees: Sequence[Tree], opts: argparse.Namespace
) -> dict[str, Times]:
    """Every column for each tree, run by run, the trees' order alternating; the seed's
    way once per run (in the first tree's Times)."""
    folders = kustomization_folders(repo)
    times = {t.label: Times(label, len(folders)) for t in trees}
    for i in range(runs):
        for tree in trees if i % 2 == 0 else list(reversed(trees)):
            t = times[tree.label]
            if COLD in opts.states:
                time_state(t, COLD, repo, None, opts, tree)
            if CHANGED in opts.states:
                warm_runs(t, repo, i, opts, tree)
        if not opts.no_seed:
            seed = timed(partial(seed_way, folders, kustomize_argv()))
            times[trees[0].label].add(SEED, seed)
        latest = ", ".join(
            f"{tree.label} {column} {values[-1]:.2f} s"
            for tree in trees
            for column, values in times[tree.label].columns.items()
        )
        say(f"{label} run {i + 1}/{runs}: {latest}")
    return times


# --------------------------------------------------------------------------- report


def results_table(results: Sequence[Times], states: Sequence[str]) -> str:
    headers = [
        "repository",
        "builds (a)",
        "run",
        "subprocess (process start incl.)",
        "in-process (process start excl.)",
        "peak RSS (subprocess)",
        "a / this, subprocess",
        "a / this, in-process",
    ]
    rows = []
    for t in results:
        seed = t.stats(SEED)
        rows.append([t.label, str(t.builds), "(a) seed's way, serial", seed.cell(), "", "", "", ""])
        for state in states:
            sub, inproc = t.stats(f"{state} {SUB}"), t.stats(f"{state} {INPROC}")
            rows.append(
                [
                    t.label,
                    str(t.builds),
                    STATES[state],
                    sub.cell(),
                    inproc.cell(),
                    megabytes(t.memory.get(state, [])),
                    speedup(seed, sub),
                    speedup(seed, inproc),
                ]
            )
    return table(headers, rows)


def _verdict(met: bool, aim_met: bool) -> str:
    if not met:
        return "NOT met"
    return "met, aim met too" if aim_met else "met (aim not met)"


def goal_lines(results: Sequence[Times], states: Sequence[str]) -> list[str]:
    """The issue's goals, judged on the generated repository of GOAL_SIZE components."""
    label = f"generated-{GOAL_SIZE}"
    t = next((r for r in results if r.label == label), None)
    if t is None:
        return [f"goals (issue 5) are set at N = {GOAL_SIZE}: not judged, {label} was not run"]
    runs = max((len(v) for v in t.columns.values()), default=0)
    lines = [f"goals (issue 5) at N = {GOAL_SIZE} ({label}, {runs} run(s)):"]
    seed = t.stats(SEED)
    if COLD in states and not seed.times:
        lines.append("- cold against the seed's way: not judged, it was not timed (--no-seed)")
    elif COLD in states:
        cold = t.stats(f"{COLD} {SUB}")
        factor = seed.median / cold.median
        lines.append(
            f"- cold >= {COLD_GOAL:.0f}x the seed's way (aim {COLD_AIM:.0f}x), judged on the "
            f"subprocess column (a/b {speedup(seed, cold)}, process start included like the "
            f"seed's way): {_verdict(factor >= COLD_GOAL, factor >= COLD_AIM)}"
            f"; in-process a/b {speedup(seed, t.stats(f'{COLD} {INPROC}'))}"
        )
    if CHANGED in states:
        for column in (SUB, INPROC):
            warm = t.stats(f"{CHANGED} {column}").median
            lines.append(
                f"- warm after one change < {WARM_GOAL} s (aim {WARM_AIM} s), {column} column "
                f"(median {warm:.2f} s): {_verdict(warm < WARM_GOAL, warm < WARM_AIM)}"
            )
    peaks = {s: t.peak_mb(s) for s in states}
    measured = [p for p in peaks.values() if p is not None]
    if measured:
        each = ", ".join(f"{s} {p:.0f} MB" for s, p in peaks.items() if p is not None)
        met = "met" if max(measured) < MEMORY_GOAL_MB else "NOT met"
        lines.append(
            f"- peak memory < {MEMORY_GOAL_MB:.0f} MB, judged on the largest max RSS of any "
            f"subprocess run ({each}): {met}"
        )
    return lines


def report(results: Sequence[Times], states: Sequence[str], argv: Sequence[str]) -> str:
    tool = f"{Path(argv[0]).name} {' '.join(argv[1:])}"
    changed = [
        f"components changed for (c), run by run: {t.label}: {', '.join(t.changed)}"
        for t in results
        if t.changed
    ]
    return "\n".join(
        [
            "infrawright validate wall time: median (min–max) over runs",
            f"(a) seed's way: `{tool} FOLDER` once per Flux Kustomization, one after another",
            "a / this: the seed's way's median divided by this row's (>1x: infrawright is faster)",
            "peak RSS: max RSS of the validate process or of any of its kustomize children "
            "(largest single process, os.wait4), median (min–max) over runs",
            "",
            results_table(results, states),
            "",
            *changed,
            *goal_lines(results, states),
        ]
    )


def comparison_table(
    results: Sequence[dict[str, Times]], this: str, other: str, states: Sequence[str]
) -> str:
    """Each state's medians for both trees and this checkout's difference, in %."""
    headers = ["repository", "run", "column", this, other, "this vs other"]
    rows = []
    for times in results:
        for state in states:
            for column in (SUB, INPROC):
                mine = times[this].stats(f"{state} {column}")
                theirs = times[other].stats(f"{state} {column}")
                diff = (mine.median - theirs.median) / theirs.median * 100
                rows.append(
                    [times[this].label, STATES[state], column, mine.cell(), theirs.cell(),
                     f"{diff:+.1f}%"]
                )  # fmt: skip
    return table(headers, rows)


def slower_lines(
    results: Sequence[dict[str, Times]], this: str, other: str, states: Sequence[str]
) -> list[str]:
    """Issue 14's goal: at N = GOAL_SIZE no state more than SLOWER_GOAL slower."""
    label = f"generated-{GOAL_SIZE}"
    times = next((r for r in results if r[this].label == label), None)
    if times is None:
        return [f"not slower by more than {SLOWER_GOAL:.0%} at N = {GOAL_SIZE}: not judged"]
    lines = [f"not slower than {other} by more than {SLOWER_GOAL:.0%} at N = {GOAL_SIZE}:"]
    for state in states:
        for column in (SUB, INPROC):
            mine = times[this].stats(f"{state} {column}").median
            theirs = times[other].stats(f"{state} {column}").median
            ratio = mine / theirs - 1
            verdict = "met" if ratio <= SLOWER_GOAL else "NOT met"
            lines.append(f"- {STATES[state]}, {column}: {ratio:+.1%}: {verdict}")
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time infrawright validate against the seed.")
    parser.add_argument("--runs", type=int, default=5, help="runs on the example and small repos")
    parser.add_argument(
        "--large-runs", type=int, default=3, help="runs on repos of 1,000+ components (default 3)"
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000])
    parser.add_argument(
        "--seed", type=int, default=0, help="of the generated repos and of which component changes"
    )
    parser.add_argument(
        "--cache",
        choices=[*CACHE_MODES, "both"],
        default="both",
        help="cold (empty cache), warm (after changing one component, with the unchanged "
        "warm run as reference) or both (default)",
    )
    parser.add_argument(
        "--crd-dir",
        type=Path,
        action="append",
        default=[],
        help=f"passed to validate (e.g. {SHARED_CRDS})",
    )
    parser.add_argument(
        "--against", metavar="REV", help="also time this git revision, runs interleaved"
    )
    parser.add_argument(
        "--no-seed",
        action="store_true",
        help="do not time the seed's way (80 s a run at N = 1,000): more runs of the rest "
        "in the same time, e.g. for --against",
    )
    args = parser.parse_args(argv)
    caches = list(CACHE_MODES) if args.cache == "both" else [args.cache]
    args.states = [COLD] * ("cold" in caches) + [CHANGED, UNCHANGED] * ("warm" in caches)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    start_load = os.getloadavg()[0]
    own_cache()
    byte_compile()
    find_kustomize()
    builtin_catalog()
    with tempfile.TemporaryDirectory(prefix="infrawright-bench-") as tmp:
        opts.scratch = Path(tmp)
        if opts.against:
            with checked_out(opts.against, opts.scratch) as other:
                compared = run_compared(opts, [this_tree(), other])
        else:
            results = [bench_repo(label, repo, runs, opts) for label, repo, runs in repos(opts)]
        os.environ.pop(CACHE_ENV, None)
    if opts.against:
        first = [times[this_tree().label] for times in compared]
        print(report(first, opts.states, kustomize_argv()))
        print()
        print(f"this checkout beside {opts.against}, medians (min–max), runs interleaved:")
        labels = (this_tree().label, opts.against)
        print(comparison_table(compared, *labels, opts.states))
        print("\n".join(slower_lines(compared, *labels, opts.states)))
    else:
        print(report(results, opts.states, kustomize_argv()))
    print(machine_note(start_load))
    print(code_note())
    return 0


def repos(opts: argparse.Namespace) -> Iterator[tuple[str, Path, int]]:
    """The repositories timed, made as they are needed: the example, then one generated
    repository per size."""
    yield "example", example_repo(Path(tempfile.mkdtemp(dir=opts.scratch))), opts.runs
    for size in opts.sizes:
        repo = generated_repo(Path(tempfile.mkdtemp(dir=opts.scratch)), size, opts.seed)
        yield f"generated-{size}", repo, opts.large_runs if size >= 1000 else opts.runs


def run_compared(opts: argparse.Namespace, trees: Sequence[Tree]) -> list[dict[str, Times]]:
    for tree in trees:
        tree.prepare()
    return [compare_repo(label, repo, runs, trees, opts) for label, repo, runs in repos(opts)]


if __name__ == "__main__":
    sys.exit(main())
