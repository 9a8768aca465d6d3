"""Instructions, not seconds: ``infrawright validate`` of this checkout beside REV (issue 14).

    .venv/bin/python bench/instructions.py --against REV [--size 1000] [--seed 0]
                                           [--changes 2] [--cold]

On a 2-core machine the wall-clock medians of bench/validate.py move by 20% from one
run to the next, more than the 10% a change may cost. ``valgrind --tool=callgrind``
counts the instructions a process executes: the same code on the same inputs gives the
same count whatever else the machine is doing. This script counts, for each tree, on the
same generated repository:

- warm, nothing changed: a copy P of the repository, a cache C filled by an untimed
  validate of P (outside valgrind), then validate of P with a copy of C;
- warm, one component changed: one HelmRelease of P given a new value (the same
  component for both trees; ``--changes`` of them, one after another, each on a fresh
  copy of C);
- cold (``--cold``): a new, empty cache. Slow: every build's Python side runs under
  valgrind (about 50 times slower).

Only infrawright's own process is counted: the kustomize children it starts
(``--trace-children=no``) are the same builds for both trees; the report says how many
each run started. Needs valgrind (Debian's package); prints one table and how much this
checkout executes more (+) or less (-) than REV.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    CACHE_ENV,
    change_component,
    fresh_copy,
    generated_repo,
    machine_note,
    own_cache,
    say,
    table,
    warm_cache,
)
from trees import Tree, checked_out, this_tree

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")
_BUILT = re.compile(r"kustomize builds\s+[0-9.]+ s\s+\((\d[\d,]*)\)")

WARM = "warm, nothing changed"
CHANGED = "warm, one component changed"
COLD = "cold: empty cache"


@dataclass(frozen=True)
class Count:
    instructions: int
    builds: int  # kustomize builds the run started (from ``-v``)


def counted(tree: Tree, repo: Path, cache: Path) -> Count:
    """Instructions of one ``validate --repo REPO -v`` of ``tree`` under callgrind, with
    ``cache`` as its cache directory."""
    with tempfile.TemporaryDirectory(prefix="callgrind-") as out:
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--trace-children=no",
            f"--callgrind-out-file={out}/callgrind.out",
            *tree.infrawright("validate", "--repo", str(repo), "-v"),
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, env=tree.env(cache))
    found = _COLLECTED.search(proc.stderr)
    if proc.returncode not in (0, 1) or found is None:
        raise SystemExit(f"{tree.label}: validate under callgrind failed:\n{proc.stderr[-3000:]}")
    built = _BUILT.search(proc.stderr)
    return Count(int(found.group(1)), int(built.group(1).replace(",", "")) if built else 0)


def count_tree(tree: Tree, base: Path, opts: argparse.Namespace) -> dict[str, list[Count]]:
    out: dict[str, list[Count]] = {}
    scratch: Path = opts.scratch
    if opts.cold:
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
        say(f"{tree.label}: cold")
        out[COLD] = [counted(tree, base, cache)]
        shutil.rmtree(cache)
    copy = fresh_copy(base, scratch)
    argv = tree.infrawright("validate", "--repo", str(copy))
    filled = warm_cache(copy, scratch, [], argv, tree.env())
    try:
        for state in (WARM, *([CHANGED] * opts.changes)):
            if state == CHANGED:
                name = change_component(copy, len(out.get(CHANGED, [])), opts.seed)
                say(f"{tree.label}: changed {name}")
            else:
                say(f"{tree.label}: {state}")
            cache = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
            shutil.copytree(filled, cache, dirs_exist_ok=True)
            out.setdefault(state, []).append(counted(tree, copy, cache))
            shutil.rmtree(cache)
    finally:
        shutil.rmtree(copy.parent)
        shutil.rmtree(filled)
    return out


def report(label: str, mine: dict[str, list[Count]], other: dict[str, list[Count]]) -> str:
    rows = []
    for state in (COLD, WARM, CHANGED):
        for i, (a, b) in enumerate(zip(mine.get(state, []), other.get(state, []), strict=True)):
            delta = (a.instructions - b.instructions) / b.instructions
            rows.append(
                [
                    state + (f" #{i + 1}" if state == CHANGED else ""),
                    f"{a.instructions / 1e9:.3f} G ({a.builds} builds)",
                    f"{b.instructions / 1e9:.3f} G ({b.builds} builds)",
                    f"{delta:+.1%}",
                ]
            )
    return table(["run", "this checkout", label, "this vs other"], rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", required=True)
    parser.add_argument("--size", type=int, default=1000, help="components (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--changes", type=int, default=2, help="changed runs (default 2)")
    parser.add_argument("--cold", action="store_true", help="also count a cold run (slow)")
    opts = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    own_cache()
    start_load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="infrawright-instructions-") as scratch:
        opts.scratch = Path(scratch)
        base = generated_repo(opts.scratch, opts.size, opts.seed)
        mine_tree = this_tree()
        mine_tree.prepare()
        with checked_out(opts.against, opts.scratch) as other_tree:
            other_tree.prepare()
            other = count_tree(other_tree, base, opts)
            mine = count_tree(mine_tree, base, opts)
    print(f"validate of generated-{opts.size}, instructions of infrawright's own process:")
    print(report(opts.against, mine, other))
    print(machine_note(start_load) + " (instruction counts do not depend on it)")
    os.environ.pop(CACHE_ENV, None)


if __name__ == "__main__":
    main()
