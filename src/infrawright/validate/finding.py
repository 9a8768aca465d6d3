"""Findings are data: what is wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from infrawright.repo.documents import Document

#: Mechanical fixes a finding can name (``Finding.fix``): what a repair operation does.
FIXES = {
    "depends-on": "add the missing dependsOn",
    "move-monitors": "move monitoring objects into <component>-monitoring",
    "chart-monitor-off": "switch the chart's ServiceMonitor off and write one apart",
    "remove-workaround": "remove the banned HelmRelease setting",
    "duration": "write the duration in Go form (10 minutes -> 10m)",
}


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
    #: The Flux Kustomizations the finding is about (a consumer and its provider, ...):
    #: what an operation scoped to a component compares with.
    concerns: tuple[str, ...] = ()
    #: The mechanical fix that removes it (see :data:`FIXES`), or "" when it needs a person.
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["concerns"], data["fix"]
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
        concerns: tuple[str, ...] = (),
        fix: str = "",
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
            concerns=concerns,
            fix=fix,
        )
