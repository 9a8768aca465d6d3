"""A Changeset: the exact bytes a change writes, and the REVIEW notes in them."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Review:
    """A REVIEW note: where it is written and what it says."""

    file: str
    line: int | None
    note: str


@dataclass
class Changeset:
    """New file contents by repo-relative path (``None`` deletes), plus notes."""

    files: dict[str, bytes | None] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def write(self, path: str, text: str) -> None:
        self.files[path] = text.encode("utf-8")

    def created(self, root: Path) -> list[str]:
        return sorted(p for p, b in self.files.items() if b is not None and not (root / p).exists())

    def modified(self, root: Path) -> list[str]:
        return sorted(p for p, b in self.files.items() if b is not None and (root / p).exists())

    def deleted(self) -> list[str]:
        return sorted(p for p, b in self.files.items() if b is None)

    def is_empty(self) -> bool:
        return not self.files

    def diff(self, root: Path) -> str:
        """Unified diff of the change against the tree at ``root``."""
        chunks: list[str] = []
        for path in sorted(self.files):
            old_path = root / path
            old = old_path.read_text(encoding="utf-8") if old_path.is_file() else ""
            new_bytes = self.files[path]
            new = new_bytes.decode("utf-8") if new_bytes is not None else ""
            chunks.extend(
                unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    f"a/{path}" if old_path.is_file() else "/dev/null",
                    f"b/{path}" if new_bytes is not None else "/dev/null",
                )
            )
        return "".join(chunks)

    def locate_reviews(self) -> None:
        """Fill in the line of each REVIEW note from the rendered text."""
        located: list[Review] = []
        for review in self.reviews:
            data = self.files.get(review.file)
            line = review.line
            if data is not None and line is None:
                for number, text in enumerate(data.decode("utf-8").splitlines(), start=1):
                    if "REVIEW:" in text and review.note[:40] in text:
                        line = number
                        break
            located.append(Review(review.file, line, review.note))
        self.reviews = located


CONTEXT = 3
_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def unified_diff(old: list[str], new: list[str], fromfile: str, tofile: str) -> list[str]:
    """``difflib.unified_diff`` of two texts, made quick for a small change in a big file
    (a cluster file of a thousand Kustomizations): the lines both share at the start and
    at the end, beyond the context lines, are left out of the comparison, and the hunk
    line numbers are moved back by what was left out at the start."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[-1 - end] == new[-1 - end]:
        end += 1
    skip = max(0, start - CONTEXT)
    keep_end = max(0, end - CONTEXT)
    lines = list(
        difflib.unified_diff(
            old[skip : len(old) - keep_end],
            new[skip : len(new) - keep_end],
            fromfile=fromfile,
            tofile=tofile,
            n=CONTEXT,
        )
    )
    if skip:
        lines = [_moved(line, skip) if line.startswith("@@") else line for line in lines]
    return lines


def _moved(header: str, by: int) -> str:
    def shift(m: re.Match[str]) -> str:
        old_start, new_start = int(m.group(1)) + by, int(m.group(3)) + by
        return f"@@ -{old_start}{m.group(2) or ''} +{new_start}{m.group(4) or ''} @@"

    return _HUNK.sub(shift, header, count=1)
