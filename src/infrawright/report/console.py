"""Where reports are printed: rich on a terminal (colours, progress bars), plain text
everywhere else.

Reports are written as rich markup (``[bold]...[/bold]``, text passed through
``escape``). Off a terminal rich prints that markup without styles; :class:`Plain` does
the same without loading rich, which costs every start of the tool about 15 ms. Both
print exactly the same characters: tags dropped, escaped brackets kept, and the control
characters rich removes (bell, backspace, vertical tab, form feed, carriage return)
removed.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.console import Console

#: A markup tag, with the backslashes before it (rich's own pattern).
TAG = re.compile(r"(\\*)\[([a-z#/@][^[]*?)]")
#: Control characters rich strips from printed text.
CONTROL = str.maketrans("", "", "\a\b\v\f\r")


class Printer(Protocol):
    """What the reports need of a console (rich's Console has it)."""

    @property
    def is_terminal(self) -> bool: ...

    def print(
        self, text: str = "", *, markup: bool | None = None, highlight: bool | None = None
    ) -> None: ...


def escape(text: str) -> str:
    """``text`` safe inside markup (what rich's ``escape`` gives): a backslash before
    anything that looks like a tag, the backslashes already there doubled, and a lone
    backslash at the end doubled so it cannot escape a tag that follows."""

    def one(match: re.Match[str]) -> str:
        backslashes = match.group(1)
        return f"{backslashes}{backslashes}\\[{match.group(2)}]"

    out = TAG.sub(one, text)
    if out.endswith("\\") and not out.endswith("\\\\"):
        return out + "\\"
    return out


def plain_text(markup: str) -> str:
    """``markup`` as rich prints it without styles: tags dropped; an escaped tag (an odd
    number of backslashes before it) kept as text; the backslashes before a tag halved;
    and in the text between tags, ``\\[`` printed as ``[``."""
    out = []
    position = 0
    for match in TAG.finditer(markup):
        start, end = match.span()
        out.append(markup[position:start].replace("\\[", "["))
        backslashes, escaped = divmod(len(match.group(1)), 2)
        out.append("\\" * backslashes)
        if escaped:
            out.append(f"[{match.group(2)}]")
        position = end
    out.append(markup[position:].replace("\\[", "["))
    return "".join(out)


class Plain:
    """Prints reports as plain text to ``stream`` (resolved at each print, so a stream
    replaced later, as tests capture output, is the one written to)."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr

    @property
    def stream(self) -> TextIO:
        return sys.stderr if self._stderr else sys.stdout

    @property
    def is_terminal(self) -> bool:
        return False

    def print(
        self, text: str = "", *, markup: bool | None = None, highlight: bool | None = None
    ) -> None:
        shown = text if markup is False else plain_text(text)
        self.stream.write(shown.translate(CONTROL) + "\n")


def wants_rich(stream: TextIO) -> bool:
    """Colours or bars are possible: a terminal, or colours forced (rich's FORCE_COLOR
    and TTY_COMPATIBLE)."""
    if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1":
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console(stderr: bool = False) -> Printer:
    """A console for stdout (or stderr): rich when it can show more than text."""
    stream = sys.stderr if stderr else sys.stdout
    if not wants_rich(stream):
        return Plain(stderr)
    return rich_console(stderr)


def rich_console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)
