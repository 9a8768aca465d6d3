"""Requests end to end: plan, implement, remember; continue with a decision; undo.

The CLI and other front ends (an MCP server, an LLM agent) call these; they hold the
repository lock while they write and record every applied change as a session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from infrawright.change.apply import apply_atomically, recover
from infrawright.change.implement import Outcome, Progress, implement
from infrawright.change.scratch import ScratchCopy
from infrawright.change.sessions import Session, SessionStore, repo_lock
from infrawright.errors import InfrawrightError
from infrawright.model.loader import load_repo
from infrawright.model.repo import RepoModel
from infrawright.plan.decisions import apply_decisions
from infrawright.plan.facts import RepoFacts
from infrawright.plan.model import Plan, plan_json
from infrawright.plan.rules import ChartOption, plan_request
from infrawright.progress import phase
from infrawright.render.changeset import Changeset

Planner = Callable[[str, RepoModel], Plan]


def recover_unfinished(root: Path, progress: Progress | None = None) -> list[str]:
    """Roll back a write a crashed run left half done (call before loading the repo)."""
    if not (root / ".infrawright" / "journal").exists():
        return []
    with repo_lock(root):
        restored = recover(root)
    if restored and progress:
        progress(f"rolled back an unfinished earlier write: {', '.join(restored)}")
    return restored


def rule_planner(chart: ChartOption | None = None) -> Planner:
    def plan(text: str, model: RepoModel) -> Plan:
        return plan_request(text, model.catalog, chart=chart, facts=RepoFacts.from_model(model))

    return plan


def run_request(
    model: RepoModel,
    request: str,
    *,
    planner: Planner | None = None,
    decisions: list[str] | None = None,
    dry_run: bool = False,
    crd_dirs: list[Path] | None = None,
    progress: Progress | None = None,
    parent: str | None = None,
    copy: ScratchCopy | None = None,
    others: Sequence[RepoModel] = (),
) -> Outcome:
    """Plan a request (with decisions applied), implement it, record the session.
    ``copy``: the copy to validate the change in, started by the caller; ``others``: the
    repository read for the other clusters the change goes to."""
    planner = planner or rule_planner()
    with phase("plan"):
        plan = planner(request, model)
    if plan.clusters and others:  # the clusters the request names, of those read
        chosen = [m for m in (model, *others) if m.cluster in plan.clusters]
        if chosen:
            model, others = chosen[0], chosen[1:]
    elif others:  # named none: every cluster where components are deployed
        deployed = [m for m in (model, *others) if _runs_components(m)]
        if deployed:
            model, others = deployed[0], deployed[1:]
    notes: list[str] = []
    if decisions:
        applied = apply_decisions(plan, decisions, model.catalog)
        plan = applied.plan
        notes = [
            f"decision recorded, not understood by the rule planner: {d}" for d in applied.recorded
        ]
    store = SessionStore(model.root)

    def record(changes: Changeset) -> str:
        session = store.record(
            changes,
            request=request,
            plan=plan_json(plan),
            decisions=list(decisions or []),
            parent=parent,
            notes=notes,
        )
        return session.id

    if dry_run:
        outcome = implement(
            model,
            plan,
            dry_run=True,
            crd_dirs=crd_dirs,
            progress=progress,
            copy=copy,
            others=others,
        )
    else:
        with repo_lock(model.root):
            outcome = implement(
                model,
                plan,
                crd_dirs=crd_dirs,
                progress=progress,
                record=record,
                copy=copy,
                others=others,
            )
    outcome.changes.messages.extend(notes)
    return outcome


def _runs_components(model: RepoModel) -> bool:
    """Does the cluster ``model`` was read for deploy any Helm component?"""
    from infrawright.model.layout import infer_layout

    found = infer_layout(model).cluster(model.cluster)
    return found is not None and bool(found.components)


def continue_session(
    root: Path,
    decision: str,
    *,
    session_id: str | None = None,
    cluster: str | None = None,
    config_file: Path | None = None,
    crd_dirs: list[Path] | None = None,
    progress: Progress | None = None,
) -> tuple[Outcome, Session]:
    """Redo a session's request with one more decision, replacing what it wrote.

    The previous result is reverted first; if the new result fails validation, the
    previous one is put back, so the repository never ends between the two.
    """
    recover_unfinished(root, progress)
    store = SessionStore(root)
    previous = store.get(session_id)
    if previous.planner != "rules":
        raise InfrawrightError(
            f"session {previous.id} was made by the {previous.planner} planner; continue "
            "re-runs the rule planner, which would not reproduce it",
            hint="undo it, then run the request again with the decision in its words",
        )
    if previous.status != "applied":
        raise InfrawrightError(
            f"session {previous.id} is {previous.status}; only an applied session continues",
            hint="`infrawright sessions` lists them",
        )
    with repo_lock(root):
        kept = {
            rel: (root / rel).read_bytes() if (root / rel).is_file() else None
            for rel in previous.files
        }
        store.revert(previous)
    model = load_repo(root, cluster=cluster, config_file=config_file)
    try:
        outcome = run_request(
            model,
            previous.request,
            decisions=[*previous.decisions, decision],
            crd_dirs=crd_dirs,
            progress=progress,
            parent=previous.id,
        )
    except BaseException:
        _restore(root, kept)
        raise
    if outcome.status == "applied":
        previous.status = "superseded"
        store.save(previous)
    elif outcome.status == "failed":
        _restore(root, kept)
    else:  # no-op: the decision changed nothing, keep the previous result as it was
        _restore(root, kept)
        outcome.session = previous.id
    return outcome, previous


def _restore(root: Path, kept: dict[str, bytes | None]) -> None:
    with repo_lock(root):
        apply_atomically(root, Changeset(files=dict(kept)))


def undo_session(root: Path, session_id: str | None = None) -> tuple[Session, Changeset]:
    """Revert an applied session whose files are still as it left them."""
    recover_unfinished(root)
    store = SessionStore(root)
    session = store.get(session_id)
    if session.status != "applied":
        raise InfrawrightError(
            f"session {session.id} is {session.status}, not applied; nothing to undo"
        )
    with repo_lock(root):
        reverted = store.revert(session)
        session.status = "undone"
        store.save(session)
    return session, reverted
