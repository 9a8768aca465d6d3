"""The implement pipeline: request -> Plan -> Changeset -> validated -> applied -> report.

Nothing is written unless the changed tree, built and checked in a scratch copy, adds no
finding to the ones the repository already has.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from infrawright.apply import apply_atomically, apply_changes, safe_target
from infrawright.model.repo import RepoModel
from infrawright.plan.model import Plan, subject
from infrawright.progress import phase
from infrawright.recreate import recreate_reasons
from infrawright.render.changeset import Changeset
from infrawright.render.edits import render_plan
from infrawright.render.engine import Renderer
from infrawright.repo.conventions import infer
from infrawright.repo.loader import with_changes
from infrawright.scratch import ScratchCopy, background_copy
from infrawright.sessions import SessionStore
from infrawright.validate.engine import ValidationResult, validate
from infrawright.validate.finding import Finding
from infrawright.vcs import dirty

Status = Literal["applied", "dry-run", "no-op", "failed"]
Progress = Callable[[str], None]


@dataclass
class Outcome:
    """Everything the report needs."""

    request: str
    status: Status
    plan: Plan | None
    changes: Changeset = field(default_factory=Changeset)
    created: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    layers: dict[str, int | None] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    depends: dict[str, list[str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    recreate_reasons: list[str] = field(default_factory=list)
    recreate_command: str = ""
    noop: list[str] = field(default_factory=list)
    diff: str = ""
    error: str = ""
    session: str = ""

    @property
    def passed(self) -> bool:
        return not self.new_findings

    def to_json(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": self.status,
            "files": {"created": self.created, "modified": self.modified, "deleted": self.deleted},
            "review": [
                {"file": r.file, "line": r.line, "note": r.note} for r in self.changes.reviews
            ],
            "layers": self.layers,
            "validation": {
                "passed": self.passed,
                "findings": [f.to_dict() for f in self.new_findings],
                "fixed": [f.to_dict() for f in self.fixed],
                "existing_findings": [f.to_dict() for f in self.findings],
            },
            "recreate": {
                "required": bool(self.recreate_reasons),
                "reasons": self.recreate_reasons,
                "command": self.recreate_command if self.recreate_reasons else "",
            },
            "session": self.session,
            "diff": self.diff,
            "error": self.error,
            "notes": self.changes.messages + self.noop,
        }


def _key(f: Finding) -> tuple[str, str, str]:
    return (f.rule, f.file, f.message)


def validate_in_scratch(
    model: RepoModel,
    changes: Changeset,
    crd_dirs: list[Path],
    before: ValidationResult | None = None,
    copy: ScratchCopy | None = None,
) -> tuple[RepoModel, ValidationResult]:
    """Copy the repository (or use ``copy``, started earlier), apply the change there,
    load and validate the copy.

    Only the changed files are parsed again, and builds of ``before`` that no changed
    file can affect are reused; every rule and schema check still runs on the whole
    changed tree.
    """
    with background_copy(model.root) if copy is None else nullcontext(copy) as ready:
        scratch = ready.path()
        apply_changes(scratch, changes)
        with phase("changed files parsed"):
            after = with_changes(model, scratch, changes.files)
        reuse = before.analysis.builds if before is not None else None
        result = validate(after, crd_dirs=crd_dirs, reuse=reuse, changed=set(changes.files))
        return after, result


def implement(
    model: RepoModel,
    plan: Plan,
    *,
    dry_run: bool = False,
    crd_dirs: list[Path] | None = None,
    progress: Progress | None = None,
    record: Callable[[Changeset], str] | None = None,
    copy: ScratchCopy | None = None,
) -> Outcome:
    """Render, validate and (unless ``dry_run``) apply a Plan.

    ``record`` is called with the validated change just before it is written and returns
    the id of the session that remembers it (see :mod:`infrawright.sessions`). ``copy``
    is the copy to validate the change in, when the caller started it already.
    """
    say = progress or (lambda _msg: None)
    if copy is not None:
        return _implement(model, plan, copy, dry_run, crd_dirs or [], say, record)
    # The copy is made while the repository is validated, and removed without waiting.
    with background_copy(model.root, detach_removal=True) as made:
        return _implement(model, plan, made, dry_run, crd_dirs or [], say, record)


def _implement(
    model: RepoModel,
    plan: Plan,
    copy: ScratchCopy,
    dry_run: bool,
    crd_dirs: list[Path],
    say: Progress,
    record: Callable[[Changeset], str] | None,
) -> Outcome:
    say("Loading repository patterns...")
    before = validate(model, crd_dirs=crd_dirs)
    with phase("conventions"):
        conventions = infer(model)
    renderer = Renderer(before.analysis, conventions)
    for op in plan.ops:
        say(f"Implementing {subject(op)}...")
    with phase("render"):
        rendered = render_plan(renderer, plan)
    changes = rendered.changes
    outcome = Outcome(plan.request, "no-op", plan, changes, noop=rendered.noop)
    outcome.added = rendered.added
    outcome.depends = rendered.depends
    return settle(
        model,
        before,
        outcome,
        crd_dirs=crd_dirs,
        dry_run=dry_run,
        record=record,
        say=say,
        copy=copy,
    )


def settle(
    model: RepoModel,
    before: ValidationResult,
    outcome: Outcome,
    *,
    crd_dirs: list[Path],
    dry_run: bool = False,
    record: Callable[[Changeset], str] | None = None,
    say: Progress | None = None,
    copy: ScratchCopy | None = None,
) -> Outcome:
    """Validate ``outcome.changes`` against the repository's findings ``before``, then
    write it unless it adds a finding or ``dry_run``. Every front end ends here."""
    say = say or (lambda _msg: None)
    changes = outcome.changes
    outcome.findings = list(before.findings)
    outcome.layers = {k: v for k, v in before.analysis.graph.layers.items()}
    outcome.recreate_command = model.config.recreate_command
    if changes.is_empty():
        return outcome
    for rel in changes.files:
        safe_target(model.root, rel)
    outcome.created = changes.created(model.root)
    outcome.modified = changes.modified(model.root)
    outcome.deleted = changes.deleted()
    say("Validating with kustomize build and the repository's rules...")
    _after, result = validate_in_scratch(model, changes, crd_dirs, before, copy)
    known = {_key(f) for f in before.findings}
    outcome.new_findings = [f for f in result.findings if _key(f) not in known]
    remaining = {_key(f) for f in result.findings}
    outcome.fixed = [f for f in before.findings if _key(f) not in remaining]
    outcome.layers = {k: v for k, v in result.analysis.graph.layers.items()}
    with phase("recreate check"):
        reasons = recreate_reasons(before.analysis, result.analysis, changes.files)
    outcome.recreate_reasons = reasons
    with phase("diff"):
        outcome.diff = changes.diff(model.root) if dry_run else ""
    if outcome.new_findings:
        outcome.status = "failed"
        outcome.error = f"the change adds {len(outcome.new_findings)} finding(s); nothing written"
        return outcome
    if dry_run:
        outcome.status = "dry-run"
        return outcome
    edited = dirty(model.root, [*outcome.modified, *outcome.deleted])
    if edited:
        outcome.changes.messages.append(
            "your uncommitted edits in these files were kept (the change was made on the "
            f"files as they are on disk): {', '.join(edited)}"
        )
    if record is not None:
        outcome.session = record(changes)
    with phase("write"):
        apply_atomically(model.root, changes)
    if outcome.session:
        try:
            SessionStore(model.root).mark_applied(outcome.session)
        except OSError as exc:  # the change is written; only its record lags behind
            outcome.changes.messages.append(
                f"session {outcome.session} could not be marked applied ({exc.strerror}); "
                "undo and continue will not offer it"
            )
    outcome.status = "applied"
    return outcome
