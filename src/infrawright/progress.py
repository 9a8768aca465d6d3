"""Phases of long work: timed for ``--verbose``, shown as a progress bar on a terminal.

Library code marks its phases with :func:`phase` and reports work done with
:meth:`Phase.advance`; it never prints. What happens with that is up to whoever called
:func:`observe` (the CLI): a :class:`Run` records how long each phase took, and an
optional :class:`Display` draws them. Without an observer a phase costs next to nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol


class Display(Protocol):
    """Something that shows phases as they happen (a progress bar)."""

    def started(self, phase: Phase) -> None: ...

    def advanced(self, phase: Phase) -> None: ...

    def finished(self, phase: Phase) -> None: ...


@dataclass
class Phase:
    """One named step; ``total`` units of work when known, ``done`` so far."""

    name: str
    total: int | None = None
    done: int = 0
    seconds: float = 0.0
    _run: Run | None = field(default=None, repr=False)

    def advance(self, units: int = 1) -> None:
        """Record ``units`` of work done (safe from worker threads)."""
        run = self._run
        if run is None:
            return
        with run.lock:
            self.done += units
        if run.display is not None:
            run.display.advanced(self)


@dataclass
class Run:
    """The phases of one command, in the order they started."""

    display: Display | None = None
    phases: list[Phase] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def summary(self) -> list[tuple[str, float, int | None]]:
        """(phase, seconds, units) per phase; a phase that ran twice is summed."""
        order: list[str] = []
        seconds: dict[str, float] = {}
        units: dict[str, int | None] = {}
        for p in self.phases:
            if p.name not in seconds:
                order.append(p.name)
                seconds[p.name] = 0.0
                units[p.name] = None
            seconds[p.name] += p.seconds
            if p.total is not None:
                units[p.name] = (units[p.name] or 0) + p.total
        return [(name, seconds[name], units[name]) for name in order]


_CURRENT: ContextVar[Run | None] = ContextVar("infrawright_progress", default=None)


@contextmanager
def observe(display: Display | None = None) -> Iterator[Run]:
    """Record (and show, with ``display``) every phase started inside."""
    run = Run(display)
    token = _CURRENT.set(run)
    try:
        yield run
    finally:
        _CURRENT.reset(token)


@contextmanager
def phase(name: str, total: int | None = None) -> Iterator[Phase]:
    """Time a step of work; ``total`` units when the amount is known up front."""
    run = _CURRENT.get()
    current = Phase(name, total, _run=run)
    if run is None:
        yield current
        return
    with run.lock:
        run.phases.append(current)
    if run.display is not None:
        run.display.started(current)
    start = time.perf_counter()
    try:
        yield current
    finally:
        current.seconds = time.perf_counter() - start
        if run.display is not None:
            run.display.finished(current)
