"""Exit codes and the small exception tree the CLI maps onto them.

Exceptions mean "cannot go on"; problems found in a repository are findings, not
exceptions. The CLI edge catches :class:`InfrawrightError` and prints its message without
a traceback; anything else is an internal error (exit 3).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, named once and used everywhere."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    INTERNAL = 3


class InfrawrightError(Exception):
    """An error the user can act on. ``exit_code`` says how the CLI ends."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(InfrawrightError):
    """Bad command-line input."""


class RepoLoadError(InfrawrightError):
    """The repository cannot be loaded at all (nothing to validate)."""


class ToolMissingError(InfrawrightError):
    """A required external tool (kustomize) is not available."""


class RefusedError(InfrawrightError):
    """A change that would break the repository; nothing is written."""

    exit_code = ExitCode.FINDINGS
