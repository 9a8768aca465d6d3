"""Start-up cost of infrawright's commands, this checkout beside another revision.

    .venv/bin/python bench/startup.py [--against REV] [--runs 20]

Times, in new processes of this interpreter, on a committed scratch copy of
``examples/local-kube`` with a warm cache (one untimed run per tree fills it):

* ``infrawright --version``;
* ``infrawright validate`` of the example;
* ``implement-infra --dry-run "we need metallb"`` on the example;
* the start of ``implement-infra``: a process that imports the rule planner and reads
  the chart catalog (the types a Plan and a catalog entry are read into), then exits.

With ``--against REV`` the same is timed for that revision of this repository (checked
out with ``git worktree`` in a temporary folder, run through ``PYTHONPATH``), runs of the
two trees interleaved so that a slow moment of the machine hits both. Both trees are
byte-compiled before timing. Results (median, min–max, and the difference of the
medians) go to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchlib import (
    Stats,
    code_note,
    example_repo,
    machine_note,
    own_cache,
    say,
    table,
)
from trees import Tree, checked_out, this_tree


def commands(repo: Path, tree: Tree) -> dict[str, list[str]]:
    return {
        "infrawright --version": tree.infrawright("--version"),
        "validate (example)": tree.infrawright("validate", "--repo", str(repo)),
        "implement --dry-run (example)": tree.implement(
            "--dry-run", "--repo", str(repo), "we need metallb"
        ),
        "implement start (planner + catalog)": [sys.executable, "-c", PLANNER_START],
    }


#: What the start of ``implement-infra`` imports and reads.
PLANNER_START = (
    "from infrawright.plan.rules import plan_request; "
    "from infrawright.catalog import builtin_catalog; builtin_catalog()"
)


def time_once(argv: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # validate exits 1 when it reports findings
        tail = (proc.stdout + proc.stderr).decode(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{tail}")
    return elapsed


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def cell(stats: Stats) -> str:
    return f"{ms(stats.median)} ({ms(min(stats.times))}–{ms(max(stats.times))})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REV", help="also time this git revision")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command and tree")
    args = parser.parse_args(argv)
    own_cache()
    start_load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="infrawright-bench-") as tmp:
        scratch = Path(tmp)
        if not args.against:
            return _measure([this_tree()], scratch, args.runs, start_load)
        with checked_out(args.against, scratch) as other:
            return _measure([this_tree(), other], scratch, args.runs, start_load)


def _measure(trees: list[Tree], scratch: Path, runs: int, start_load: float) -> int:
    repo = example_repo(scratch)
    caches = {t.label: scratch / f"cache-{i}" for i, t in enumerate(trees)}
    for tree in trees:
        tree.prepare()
        caches[tree.label].mkdir()
        say(f"{tree.label}: warming its cache")
        for argv in commands(repo, tree).values():
            time_once(argv, tree.env(caches[tree.label]))
    times: dict[tuple[str, str], list[float]] = {}
    names = list(commands(repo, trees[0]))
    for run in range(runs):
        say(f"run {run + 1}/{runs}")
        for name in names:
            for tree in trees if run % 2 == 0 else reversed(trees):
                argv = commands(repo, tree)[name]
                elapsed = time_once(argv, tree.env(caches[tree.label]))
                times.setdefault((name, tree.label), []).append(elapsed)
    headers = ["command", *(t.label for t in trees)]
    if len(trees) == 2:
        headers.append("difference")
    rows = []
    for name in names:
        stats = [Stats(tuple(times[(name, t.label)])) for t in trees]
        row = [name, *(cell(s) for s in stats)]
        if len(stats) == 2:
            row.append(f"{(stats[0].median - stats[1].median) * 1000:+.0f} ms")
        rows.append(row)
    print(table(headers, rows))
    print(f"\n{runs} runs per cell, warm cache; {code_note()}")
    print(machine_note(start_load))
    shutil.rmtree(repo, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
