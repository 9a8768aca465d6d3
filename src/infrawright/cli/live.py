"""Progress bars on a terminal, and the per-phase timings ``--verbose`` prints.

The bar is drawn on stderr only when it is a terminal, the output is for people (not
``--format json``/``--json``) and no CI is detected; everywhere else nothing extra is
printed, so logs and pipes stay clean.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, TypeGuard

from infrawright.progress import Phase, Run, observe
from infrawright.report.console import Printer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

#: Environment variables CI services set (GitHub Actions, GitLab, Jenkins, ...).
CI_VARS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "TF_BUILD")


def bar_wanted(err: Printer, machine_output: bool) -> bool:
    if machine_output or not err.is_terminal or os.environ.get("TERM") == "dumb":
        return False
    return not any(os.environ.get(name) for name in CI_VARS)


class Bars:
    """One bar per running phase; a finished phase's bar goes away."""

    def __init__(self, err: Console) -> None:
        # imported here: only a terminal draws bars, and the import costs every command
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self._tasks: dict[int, TaskID] = {}

    def started(self, phase: Phase) -> None:
        self._tasks[id(phase)] = self.progress.add_task(phase.name, total=phase.total)

    def advanced(self, phase: Phase) -> None:
        task = self._tasks.get(id(phase))
        if task is not None:
            self.progress.update(task, completed=phase.done)

    def finished(self, phase: Phase) -> None:
        task = self._tasks.pop(id(phase), None)
        if task is not None:
            self.progress.remove_task(task)


def _is_rich(err: Printer) -> TypeGuard[Console]:
    from rich.console import Console

    return isinstance(err, Console)


@contextmanager
def live(err: Printer, *, machine_output: bool, verbose: bool) -> Iterator[Run]:
    """Observe the phases of the work inside: a bar when wanted, timings when verbose."""
    bars = Bars(err) if bar_wanted(err, machine_output) and _is_rich(err) else None
    start = time.perf_counter()
    with observe(bars) as run:
        try:
            with bars.progress if bars is not None else nullcontext():
                yield run
        finally:
            if verbose:
                print_timings(run, time.perf_counter() - start, err)


def print_timings(run: Run, total: float, err: Printer) -> None:
    """Seconds per phase (a phase that ran more than once is summed) and in all."""
    rows = run.summary()
    width = max([len(name) for name, _s, _u in rows] + [len("total")])
    err.print("timings:", markup=False)
    for name, seconds, units in rows:
        count = f"  ({units:,})" if units is not None else ""
        err.print(f"  {name:<{width}}  {seconds:7.3f} s{count}", markup=False, highlight=False)
    err.print(f"  {'total':<{width}}  {total:7.3f} s", markup=False, highlight=False)
