"""Phases are timed for --verbose and drawn as bars only where a person is watching."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from conftest import EXAMPLE
from infrawright.cli.app import run
from infrawright.cli.live import CI_VARS, Bars, bar_wanted
from infrawright.model.loader import load_repo
from infrawright.progress import observe, phase
from infrawright.validate.engine import validate
from infrawright.validate.rules import RULES


def test_loading_and_validating_record_their_phases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An empty cache: with the findings of an earlier run of the same files the rules
    # would not run at all.
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    with observe() as recorded:
        model = load_repo(EXAMPLE)
        validate(model)
    names = [name for name, _seconds, _units in recorded.summary()]
    assert names[:2] == ["find YAML files", "read and parse"]
    for wanted in (
        "repository model",
        "build cache lookups",
        "kustomize builds",
        "CRD index and graph",
        "rules",
    ):
        assert wanted in names
    units = {name: n for name, _s, n in recorded.summary()}
    assert units["read and parse"] == len(model.files)
    assert units["rules"] == len(RULES)
    assert all(seconds >= 0 for _n, seconds, _u in recorded.summary())


def test_a_phase_outside_an_observer_costs_nothing_and_records_nothing() -> None:
    with phase("alone", total=2) as step:
        step.advance(2)
    assert step.done == 0  # nobody is observing: nothing is counted
    with observe() as recorded, phase("watched", total=2) as step:
        step.advance()
        step.advance()
    assert step.done == 2
    assert [p.name for p in recorded.phases] == ["watched"]


def test_verbose_prints_timings_on_stderr_and_keeps_json_clean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    assert run(["validate", "--repo", str(EXAMPLE), "--format", "json", "-v"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)  # stdout is only the report
    assert "timings:" in err and "kustomize builds" in err and "total" in err
    assert run(["validate", "--repo", str(EXAMPLE), "--format", "json"]) == 0
    _out, err = capsys.readouterr()
    assert "timings:" not in err


def terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=100)


def test_bars_only_for_people_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert bar_wanted(terminal(), machine_output=False)
    assert not bar_wanted(terminal(), machine_output=True)  # --format json, --json
    assert not bar_wanted(Console(file=io.StringIO(), force_terminal=False), False)
    monkeypatch.setenv("CI", "true")
    assert not bar_wanted(terminal(), machine_output=False)


def test_a_bar_shows_the_phase_and_its_count() -> None:
    console = terminal()
    bars = Bars(console)
    with bars.progress, observe(bars), phase("kustomize builds", total=4) as step:
        step.advance(3)
        bars.progress.refresh()
        drawn = console.file.getvalue()  # type: ignore[attr-defined]
    assert "kustomize builds" in drawn and "3/4" in drawn
    assert not bars.progress.tasks, "a finished phase's bar is removed"
