"""Findings are data: what is wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from infrawright.repo.documents import Document


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem. ``file`` is relative to the repository; ``line`` is 1-based."""

    file: str
    line: int | None
    rule: str
    severity: Severity
    resource: str | None
    message: str
    hint: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        order = ("rule", "severity", "file", "line", "resource", "message", "hint")
        return {k: data[k] for k in order}

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line or 0, self.rule, self.message)


@dataclass(frozen=True)
class Rule:
    """A rule's identity; each rule module defines one as ``RULE``."""

    id: str
    title: str
    severity: Severity
    flat_layout: bool = False
    #: A house convention (see :mod:`infrawright.model.profile`): runs under the house
    #: profile, or when the config's ``house_rules`` names it.
    house: bool = False
    #: Whether the rule looks at built objects, the CRD index or the graph. A rule that
    #: reads only the repository model can run while kustomize is still building.
    needs_builds: bool = True

    def at(
        self,
        doc: Document | None,
        message: str,
        hint: str,
        *,
        file: str | None = None,
        line: int | None = None,
        resource: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule, located at ``doc`` unless file/line say otherwise."""
        return Finding(
            file=file if file is not None else (doc.file if doc else ""),
            line=line if line is not None else (doc.line if doc and doc.line else None),
            rule=self.id,
            severity=severity or self.severity,
            resource=resource if resource is not None else (doc.resource if doc else None),
            message=message,
            hint=hint,
        )
