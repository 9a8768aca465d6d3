"""The implement pipeline: request -> Plan -> Changeset -> validated -> applied -> report.

Nothing is written unless the changed tree, built and checked in a scratch copy, adds no
finding to the ones the repository already has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from infrawright.build.batch import cache_folder
from infrawright.change.apply import apply_atomically, apply_changes, safe_target
from infrawright.change.recreate import recreate_reasons
from infrawright.change.scratch import ScratchCopy, background_copy, link_folders, partial_copy
from infrawright.change.sessions import SessionStore
from infrawright.change.vcs import dirty
from infrawright.model.conventions import infer
from infrawright.model.loader import with_changes
from infrawright.model.repo import PathProblem, RepoModel
from infrawright.plan.model import Plan, subject
from infrawright.progress import phase
from infrawright.render.changeset import Changeset, Review
from infrawright.render.draft import Draft, Rendered
from infrawright.render.ops import Check, Settled, postconditions, render_plan
from infrawright.render.ops.invariants import invariants
from infrawright.repo.listing import LINK, scan
from infrawright.validate.engine import ValidationResult, kept_builds, validate
from infrawright.validate.finding import Finding

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
    #: With several clusters: each cluster's layers (``layers`` is the first one's).
    cluster_layers: dict[str, dict[str, int | None]] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    depends: dict[str, list[str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    recreate_reasons: list[str] = field(default_factory=list)
    recreate_command: str = ""
    noop: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    built_by: dict[str, str] = field(default_factory=dict)
    #: The post-conditions of the plan's operations, checked on the validated tree.
    checks: list[Check] = field(default_factory=list)
    diff: str = ""
    error: str = ""
    session: str = ""

    @property
    def passed(self) -> bool:
        return not self.new_findings

    @property
    def unmet(self) -> list[Check]:
        """Post-conditions that do not hold and should have (the change is wrong)."""
        return [c for c in self.checks if not c.holds and not c.left]

    @property
    def hand_written(self) -> bool:
        """A change written file by file, with no Plan: what the request meant was not
        checked, only that it validates and keeps what any change must keep."""
        return self.plan is None and not self.changes.is_empty()

    @property
    def left(self) -> list[Check]:
        """What the change could not do mechanically: an applied (or dry-run) change with
        something left is partial, and the report lists what."""
        return [c for c in self.checks if c.left]

    def to_json(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": self.status,
            "files": {"created": self.created, "modified": self.modified, "deleted": self.deleted},
            "review": [
                {"file": r.file, "line": r.line, "note": r.note} for r in self.changes.reviews
            ],
            "layers": self.layers,
            **({"cluster_layers": self.cluster_layers} if self.cluster_layers else {}),
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
            "postconditions": [c.to_dict() for c in self.checks],
            "request_checked": not self.hand_written,
            "session": self.session,
            "diff": self.diff,
            "error": self.error,
            "notes": [*(self.plan.notes if self.plan else ()), *self.changes.messages, *self.noop],
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
    """Apply the change in a copy of the repository (``copy``, started earlier, else one
    made now), load and validate the copy.

    Only the changed files are parsed again, and builds of ``before`` that no changed
    file can affect are reused; every rule and schema check still runs on the whole
    changed tree. With ``before`` and no ``copy``, the copy holds only the folders the
    builds left to do read (see :func:`_validate_in_part`) when that is enough.
    """
    if copy is None and before is not None:
        done = _validate_in_part(model, changes, crd_dirs, before)
        if done is not None:
            return done
    with background_copy(model.root) if copy is None else nullcontext(copy) as ready:
        scratch = ready.path()
        apply_changes(scratch, changes)
        with phase("changed files parsed"):
            after = with_changes(model, scratch, changes.files)
        reuse = before.analysis.builds if before is not None else None
        result = validate(after, crd_dirs=crd_dirs, reuse=reuse, changed=set(changes.files))
        return after, result


def partial_copy_possible(model: RepoModel) -> bool:
    """Can a change to ``model`` be validated in a partial copy? Not when validating it
    asked the file system for more than its files and folder listings, nor when it holds
    a symlink (a partial copy would resolve it differently)."""
    if model.looked_up:
        return False
    return not any(flags & LINK for listing in model.listed.values() for _n, flags in listing)


def _listed_as_made(after: RepoModel, scratch: Path, folders: list[str]) -> bool:
    """Does every folder under ``folders`` in the partial copy hold what the changed
    model's listings say (the listings its build cache keys are made from)?"""
    for rel, listing in after.listed.items():
        inside = any(rel == f or rel.startswith(f + "/") for f in folders)
        if inside and scan(str(scratch / rel)) != listing:
            return False
    return True


def _validate_in_part(
    model: RepoModel, changes: Changeset, crd_dirs: list[Path], before: ValidationResult
) -> tuple[RepoModel, ValidationResult] | None:
    """Validate the change in a copy that holds only the folders of the Kustomizations to
    build again, with the change written; every other file is read from the repository
    itself (:meth:`RepoModel.source_root`) and every folder is known from the walk's
    listings. Making that copy costs a few links instead of one per file of the
    repository. None when it cannot be trusted to give what a full copy gives: a build
    to do reads outside its folder, the copy would miss a symlink or a changed CRD
    folder, or the rules asked the file system for anything (then a full copy is used)."""
    if not partial_copy_possible(model):
        return None
    written = changes.files
    for rel in model.config.crd_dirs:
        if any(path.startswith(rel.strip("/") + "/") for path in written):
            return None
    with partial_copy(model.root) as scratch:
        with phase("changed files parsed"):
            after = with_changes(model, scratch, written)
        kept = kept_builds(after, before.analysis.builds, written)
        folders = []
        for ks in after.kustomizations:
            if after.label(ks) in kept or not after.is_local(ks):
                continue
            if isinstance(after.resolve(ks), PathProblem):
                continue  # not built: nothing to read
            folder = cache_folder(after, ks)
            if folder is None:
                return None
            folders.append(folder)
        if not link_folders(model.root, scratch, folders):
            return None
        apply_changes(scratch, changes)
        if not _listed_as_made(after, scratch, folders):
            return None  # never build (and cache) what the model does not describe
        # The builds kept are already sorted out: nothing of them needs checking again.
        result = validate(after, crd_dirs=crd_dirs, reuse=kept, changed=())
        if after.looked_up:
            return None
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
    others: Sequence[RepoModel] = (),
) -> Outcome:
    """Render, validate and (unless ``dry_run``) apply a Plan.

    ``record`` is called with the validated change just before it is written and returns
    the id of the session that remembers it (see :mod:`infrawright.change.sessions`). ``copy``
    is the copy to validate the change in, when the caller started it already.
    ``others``: the same repository read for the other clusters the change goes to; the
    plan is rendered for each (into one change) and the change validated in each.
    """
    say = progress or (lambda _msg: None)
    return _implement(model, plan, copy, dry_run, crd_dirs or [], say, record, others)


def _implement(
    model: RepoModel,
    plan: Plan,
    copy: ScratchCopy | None,
    dry_run: bool,
    crd_dirs: list[Path],
    say: Progress,
    record: Callable[[Changeset], str] | None,
    others: Sequence[RepoModel],
) -> Outcome:
    say("Loading repository patterns...")
    before = validate(model, crd_dirs=crd_dirs)
    also = [(other, validate(other, crd_dirs=crd_dirs)) for other in others]
    args = (before, dry_run, crd_dirs, say, record, also)
    if copy is not None or partial_copy_possible(model):
        return _render_and_settle(model, plan, copy, *args)
    # A full copy it will be: made while the change is rendered, removed without waiting.
    with background_copy(model.root, detach_removal=True) as made:
        return _render_and_settle(model, plan, made, *args)


def _render_and_settle(
    model: RepoModel,
    plan: Plan,
    copy: ScratchCopy | None,
    before: ValidationResult,
    dry_run: bool,
    crd_dirs: list[Path],
    say: Progress,
    record: Callable[[Changeset], str] | None,
    also: Sequence[tuple[RepoModel, ValidationResult]],
) -> Outcome:
    with phase("conventions"):
        conventions = infer(model)
    draft = Draft(before.analysis, conventions)
    for op in plan.ops:
        say(f"Implementing {subject(op)}...")
    with phase("render"):
        rendered = render_plan(draft, plan)
        for other, other_before in also:  # one change for every cluster it goes to
            say(f"Implementing for cluster {other.cluster}...")
            render_plan(Draft(other_before.analysis, infer(other), out=rendered), plan)
        if also:  # what every cluster's part says once
            names = ", ".join(str(m.cluster) for m in (model, *(o for o, _ in also)))
            first = next(iter(sorted(rendered.changes.files)), None)
            if first is not None:
                rendered.changes.reviews.append(
                    Review(
                        first,
                        None,
                        f"the change goes to clusters {names}, as the request says"
                        if plan.clusters
                        else f"the change goes to every cluster that deploys components: "
                        f"{names} (narrow it with --cluster)",
                    )
                )
            rendered.changes.messages[:] = list(dict.fromkeys(rendered.changes.messages))
            rendered.changes.reviews[:] = list(dict.fromkeys(rendered.changes.reviews))
            rendered.noop[:] = list(dict.fromkeys(rendered.noop))
    changes = rendered.changes
    outcome = Outcome(plan.request, "no-op", plan, changes, noop=rendered.noop)
    outcome.added = rendered.added
    outcome.depends = rendered.depends
    outcome.touched = rendered.touched
    outcome.built_by = rendered.built_by
    return settle(
        model,
        before,
        outcome,
        crd_dirs=crd_dirs,
        dry_run=dry_run,
        record=record,
        say=say,
        copy=copy,
        also=also,
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
    also: Sequence[tuple[RepoModel, ValidationResult]] = (),
) -> Outcome:
    """Validate ``outcome.changes`` against the repository's findings ``before`` (and
    against each other cluster's of ``also``), check the plan's post-conditions, then
    write it unless it adds a finding, a post-condition fails, or ``dry_run``. Every
    front end ends here."""
    say = say or (lambda _msg: None)
    changes = outcome.changes
    outcome.findings = list(before.findings)
    outcome.layers = {k: v for k, v in before.analysis.graph.layers.items()}
    outcome.recreate_command = model.config.recreate_command
    if changes.is_empty():
        if outcome.plan is not None:  # nothing to do must be true as well
            outcome.checks = _checked(outcome.plan, before, before, outcome)
            if also:
                outcome.checks = _in_cluster(model, outcome.checks)
            for other, other_before in also:
                checks = _checked(outcome.plan, other_before, other_before, outcome)
                outcome.checks.extend(_in_cluster(other, checks))
            if outcome.unmet:
                outcome.status = "failed"
                outcome.error = _not_asked(outcome)
        return outcome
    for rel in changes.files:
        safe_target(model.root, rel)
    outcome.created = changes.created(model.root)
    outcome.modified = changes.modified(model.root)
    outcome.deleted = changes.deleted()
    say("Validating with kustomize build and the repository's rules...")
    _after, result = validate_in_scratch(model, changes, crd_dirs, before, copy)
    with phase("post-conditions"):
        outcome.checks = _checked(outcome.plan, before, result, outcome)
    known = {_key(f) for f in before.findings}
    outcome.new_findings = [f for f in result.findings if _key(f) not in known]
    remaining = {_key(f) for f in result.findings}
    outcome.fixed = [f for f in before.findings if _key(f) not in remaining]
    outcome.layers = {k: v for k, v in result.analysis.graph.layers.items()}
    with phase("recreate check"):
        reasons = recreate_reasons(before.analysis, result.analysis, changes.files)
    outcome.recreate_reasons = reasons
    if also:
        outcome.checks = _in_cluster(model, outcome.checks)
        outcome.recreate_reasons = [f"cluster {model.cluster}: {r}" for r in reasons]
        outcome.cluster_layers[str(model.cluster)] = dict(outcome.layers)
    for other, other_before in also:
        _validate_in_cluster(other, other_before, outcome, crd_dirs, say)
    with phase("diff"):
        outcome.diff = changes.diff(model.root) if dry_run else ""
    if outcome.new_findings:
        outcome.status = "failed"
        outcome.error = f"the change adds {len(outcome.new_findings)} finding(s); nothing written"
        return outcome
    if outcome.unmet:
        outcome.status = "failed"
        outcome.error = _not_asked(outcome)
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


def _validate_in_cluster(
    model: RepoModel,
    before: ValidationResult,
    outcome: Outcome,
    crd_dirs: list[Path],
    say: Progress,
) -> None:
    """The change validated and checked in one more cluster it goes to: its new findings,
    post-conditions and recreate reasons join the outcome's, each naming the cluster."""
    say(f"Validating in cluster {model.cluster}...")
    _after, result = validate_in_scratch(model, outcome.changes, crd_dirs, before)
    known = {_key(f) for f in before.findings}
    outcome.new_findings.extend(
        replace(f, message=f"[cluster {model.cluster}] {f.message}")
        for f in result.findings
        if _key(f) not in known
    )
    outcome.checks.extend(_in_cluster(model, _checked(outcome.plan, before, result, outcome)))
    reasons = recreate_reasons(before.analysis, result.analysis, outcome.changes.files)
    outcome.recreate_reasons.extend(f"cluster {model.cluster}: {r}" for r in reasons)
    outcome.cluster_layers[str(model.cluster)] = dict(result.analysis.graph.layers)


def _in_cluster(model: RepoModel, checks: Sequence[Check]) -> list[Check]:
    """Checks of one cluster of several, saying which."""
    return [replace(c, statement=f"cluster {model.cluster}: {c.statement}") for c in checks]


def _not_asked(outcome: Outcome) -> str:
    what = "; ".join(f"{c.statement}: {c.why}" for c in outcome.unmet)
    return f"the result is not what was asked for ({what}); nothing written"


def _checked(
    plan: Plan | None, before: ValidationResult, after: ValidationResult, outcome: Outcome
) -> list[Check]:
    """The plan's post-conditions on the validated tree; for a change written without a
    plan, what any change must keep (:func:`invariants`)."""
    rendered = Rendered(
        outcome.changes,
        outcome.added,
        outcome.depends,
        outcome.noop,
        outcome.touched,
        outcome.built_by,
    )
    settled = Settled(
        before.analysis, after.analysis, before.findings, after.findings, outcome.changes, rendered
    )
    return postconditions(plan, settled) if plan is not None else list(invariants(settled))
