"""Plain output off a terminal prints what rich would, without loading rich."""

from __future__ import annotations

import io
import random
import sys

import pytest
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape as rich_escape

from infrawright.report.console import Plain, console, escape, plain_text

#: Characters that make markup interesting. Left out: ``:`` (rich turns ``:a:`` into an
#: emoji, which Plain does not) and tab (rich expands tabs, Plain keeps them).
ALPHABET = ["[", "]", "\\", "a", "B", "/", " ", "x", "\r", "\x1b", "dim", "[/]", "#", "@", "="]
ALPHABET += ["\n", "é", "\x00", "\a", "[bold]", "[/bold]"]


def _rich(markup: str, use_markup: bool) -> str:
    out = io.StringIO()
    Console(file=out, highlight=False, soft_wrap=True).print(markup, markup=use_markup)
    return out.getvalue()


def _plain(markup: str, use_markup: bool, capsys: pytest.CaptureFixture[str]) -> str:
    Plain().print(markup, markup=use_markup)
    return capsys.readouterr().out


def test_escape_is_riches() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 10)))
        assert escape(text) == rich_escape(text), repr(text)


def test_plain_prints_the_characters_rich_prints(capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(11)
    compared = 0
    for _ in range(1500):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 10)))
        for markup, use_markup in (
            (text, False),
            (f"p [bold]{escape(text)}[/bold] q", True),
            (f"{escape(text)} [dim]\\[{escape(text)}][/dim]", True),
            (text, True),
        ):
            try:
                expected = _rich(markup, use_markup)
            except MarkupError:  # markup rich refuses (unbalanced tags)
                continue
            assert _plain(markup, use_markup, capsys) == expected, repr(markup)
            compared += 1
    assert compared > 3000


def test_the_known_differences_are_emoji_codes_and_tabs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert plain_text("[bold]spec.values:a:b[/bold]\tx") == "spec.values:a:b\tx"
    assert _rich("spec.values:a:b", True) != "spec.values:a:b\n"  # rich makes an emoji
    assert _plain("spec.values:a:b", True, capsys) == "spec.values:a:b\n"


def test_a_pipe_gets_plain_and_forced_colour_gets_rich(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert isinstance(console(), Plain)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert isinstance(console(), Console)
