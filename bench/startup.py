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
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    CACHE_ENV,
    PROJECT,
    Stats,
    code_note,
    example_repo,
    machine_note,
    own_cache,
    run_checked,
    say,
    table,
)

#: How each command is started: the console scripts' entry points, called from ``-c`` so
#: that ``PYTHONPATH`` picks the tree (an installed console script would import the
#: installed package).
INFRAWRIGHT = (
    "import sys; from infrawright.cli.app import main; sys.argv[0] = 'infrawright'; main()"
)
IMPLEMENT = (
    "import sys; from infrawright.cli.app import implement_main; "
    "sys.argv[0] = 'implement-infra'; implement_main()"
)
PLANNER_START = (
    "from infrawright.plan.rules import plan_request; "
    "from infrawright.catalog import builtin_catalog; builtin_catalog()"
)


@dataclass(frozen=True)
class Tree:
    """One version of infrawright: where its ``src`` is and its own warm cache."""

    label: str
    src: Path
    cache: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.src), CACHE_ENV: str(self.cache)}


def commands(repo: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "infrawright --version": [py, "-c", INFRAWRIGHT, "--version"],
        "validate (example)": [py, "-c", INFRAWRIGHT, "validate", "--repo", str(repo)],
        "implement --dry-run (example)": [
            py,
            "-c",
            IMPLEMENT,
            "--dry-run",
            "--repo",
            str(repo),
            "we need metallb",
        ],
        "implement start (planner + catalog)": [py, "-c", PLANNER_START],
    }


def check_tree(tree: Tree) -> None:
    """The tree's own package is the one imported (not the installed one)."""
    probe = [sys.executable, "-c", "import infrawright; print(infrawright.__file__)"]
    found = subprocess.run(probe, capture_output=True, text=True, env=tree.env(), check=True)
    if not Path(found.stdout.strip()).resolve().is_relative_to(tree.src.resolve()):
        raise SystemExit(f"{tree.label}: imports {found.stdout.strip()}, not {tree.src}")


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
        trees = [Tree("this checkout", PROJECT / "src", scratch / "cache-this")]
        if args.against:
            checkout = scratch / "against"
            run_checked(
                ["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(checkout),
                 args.against]
            )  # fmt: skip
            trees.append(Tree(args.against, checkout / "src", scratch / "cache-against"))
        try:
            return _measure(trees, scratch, args.runs, start_load)
        finally:
            if args.against:
                subprocess.run(
                    ["git", "-C", str(PROJECT), "worktree", "remove", "--force",
                     str(scratch / "against")],
                    check=False,
                )  # fmt: skip


def _measure(trees: list[Tree], scratch: Path, runs: int, start_load: float) -> int:
    repo = example_repo(scratch)
    cmds = commands(repo)
    for tree in trees:
        check_tree(tree)
        compileall.compile_dir(str(tree.src / "infrawright"), quiet=1)
        tree.cache.mkdir()
        say(f"{tree.label}: warming its cache")
        for argv in cmds.values():
            time_once(argv, tree.env())
    times: dict[tuple[str, str], list[float]] = {}
    for run in range(runs):
        say(f"run {run + 1}/{runs}")
        for name, argv in cmds.items():
            for tree in trees if run % 2 == 0 else reversed(trees):
                times.setdefault((name, tree.label), []).append(time_once(argv, tree.env()))
    headers = ["command", *(t.label for t in trees)]
    if len(trees) == 2:
        headers.append("difference")
    rows = []
    for name in cmds:
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
