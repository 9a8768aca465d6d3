"""Two versions of infrawright side by side: this checkout and another git revision.

A benchmark that compares revisions runs each one in new processes of this interpreter
with ``PYTHONPATH`` pointing at the tree's ``src`` (an installed console script would
import the installed package), so both share the interpreter, the dependencies and the
machine's state; runs of the trees are interleaved by the caller.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchlib import CACHE_ENV, PROJECT, run_checked

#: The console scripts' entry points, called from ``-c`` so that ``PYTHONPATH`` picks the
#: tree.
INFRAWRIGHT = (
    "import sys; from infrawright.cli.app import main; sys.argv[0] = 'infrawright'; main()"
)
IMPLEMENT = (
    "import sys; from infrawright.cli.app import implement_main; "
    "sys.argv[0] = 'implement-infra'; implement_main()"
)


@dataclass(frozen=True)
class Tree:
    """One version of infrawright: its label and where its ``src`` is."""

    label: str
    src: Path

    def env(self, cache: Path | None = None) -> dict[str, str]:
        """The environment of a child that runs this tree (with ``cache`` as its cache
        directory, else the one the benchmark set in this process)."""
        env = {**os.environ, "PYTHONPATH": str(self.src)}
        if cache is not None:
            env[CACHE_ENV] = str(cache)
        return env

    def infrawright(self, *args: str) -> list[str]:
        return [sys.executable, "-c", INFRAWRIGHT, *args]

    def implement(self, *args: str) -> list[str]:
        return [sys.executable, "-c", IMPLEMENT, *args]

    def prepare(self) -> None:
        """Check that the tree's own package is the one imported, and byte-compile it as
        an install would."""
        probe = [sys.executable, "-c", "import infrawright; print(infrawright.__file__)"]
        found = subprocess.run(probe, capture_output=True, text=True, env=self.env(), check=True)
        if not Path(found.stdout.strip()).resolve().is_relative_to(self.src.resolve()):
            raise SystemExit(f"{self.label}: imports {found.stdout.strip()}, not {self.src}")
        compileall.compile_dir(str(self.src / "infrawright"), quiet=1)


def this_tree() -> Tree:
    return Tree("this checkout", PROJECT / "src")


@contextmanager
def checked_out(rev: str, scratch: Path) -> Iterator[Tree]:
    """``rev`` of this repository checked out with ``git worktree`` under ``scratch``
    for the duration of the block, then removed."""
    checkout = scratch / "against"
    run_checked(["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(checkout), rev])
    try:
        yield Tree(rev, checkout / "src")
    finally:
        subprocess.run(
            ["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(checkout)],
            check=False,
        )
