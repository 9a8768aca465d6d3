"""The implement pipeline: request -> Plan -> Changeset -> validated -> applied -> report.

Nothing is written unless the changed tree, built and checked in a scratch copy, adds no
finding to the ones the repository already has.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from infrawright.sessions import STATE_DIR, SessionStore
from infrawright.validate.engine import ValidationResult, validate
from infrawright.validate.finding import Finding
from infrawright.vcs import dirty

Status = Literal["applied", "dry-run", "no-op", "failed"]
Progress = Callable[[str], None]
IGNORED = shutil.ignore_patterns(".git", ".infrawright", ".venv", "node_modules")


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
) -> tuple[RepoModel, ValidationResult]:
    """Copy the repository, apply the change there, load and validate the copy.

    Only the changed files are parsed again, and builds of ``before`` that no changed
    file can affect are reused; every rule and schema check still runs on the whole
    changed tree.
    """
    with scratch_copy(model.root) as scratch:
        apply_changes(scratch, changes)
        with phase("changed files parsed"):
            after = with_changes(model, scratch, changes.files)
        reuse = before.analysis.builds if before is not None else None
        result = validate(after, crd_dirs=crd_dirs, reuse=reuse, changed=set(changes.files))
        return after, result


@contextmanager
def scratch_copy(root: Path) -> Iterator[Path]:
    """A throwaway copy of the repository. Its files are hard links where the copy can
    live on the repository's file system: making it is then cheap, and safe because a
    change is only ever written by replacing a file, never into it. That place is the
    system's temporary folder when it is on the same file system, else ``.infrawright/``
    when the repository already has one (nothing new is made in the repository for a
    copy); anywhere else the files are copied."""
    with phase("scratch copy"):
        tmp = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=_scratch_parent(root)))
        scratch = tmp / "repo"
        try:
            shutil.copytree(root, scratch, symlinks=True, ignore=IGNORED, copy_function=_link)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    try:
        yield scratch
    finally:
        with phase("scratch copy removed"):
            shutil.rmtree(tmp, ignore_errors=True)


def _scratch_parent(root: Path) -> Path | None:
    """Where to make a scratch copy of ``root`` (None: the system's temporary folder)."""
    try:
        device = root.stat().st_dev
        if Path(tempfile.gettempdir()).stat().st_dev == device:
            return None
        state = root / STATE_DIR
        if state.is_dir() and state.stat().st_dev == device:
            _remove_stale(state)
            return state
    except OSError:
        pass
    return None


SCRATCH_PREFIX = "infrawright-scratch-"
#: A scratch copy older than this was left by a run that was killed.
STALE_AFTER_S = 3600


def _remove_stale(base: Path) -> None:
    now = time.time()
    for old in base.glob(f"{SCRATCH_PREFIX}*"):
        try:
            if now - old.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def _link(src: str, dst: str) -> object:
    try:
        os.link(src, dst)
        return dst
    except OSError:
        return shutil.copy2(src, dst)


def implement(
    model: RepoModel,
    plan: Plan,
    *,
    dry_run: bool = False,
    crd_dirs: list[Path] | None = None,
    progress: Progress | None = None,
    record: Callable[[Changeset], str] | None = None,
) -> Outcome:
    """Render, validate and (unless ``dry_run``) apply a Plan.

    ``record`` is called with the validated change just before it is written and returns
    the id of the session that remembers it (see :mod:`infrawright.sessions`).
    """
    say = progress or (lambda _msg: None)
    crd_dirs = crd_dirs or []
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
        model, before, outcome, crd_dirs=crd_dirs, dry_run=dry_run, record=record, say=say
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
    _after, result = validate_in_scratch(model, changes, crd_dirs, before)
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
