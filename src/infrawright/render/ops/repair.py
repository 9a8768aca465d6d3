"""repair: "fix what's broken". Every finding with one mechanical fix is fixed — the
ordering fixes of fix-ordering (dependsOn, monitoring split, chart ServiceMonitors), a
banned HelmRelease setting removed (IW006), a duration written in words put in Go form
(IW013: ``10 minutes`` -> ``10m``) — and the rest are listed as left for a person.

Must hold afterwards: no finding with one of those fixes remains in scope; what remains
without one makes the change partial, never "complete".
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.model.flux import DURATION_FIELDS, HelmRelease
from infrawright.plan.model import FixOrdering, Repair
from infrawright.render.draft import Draft, Edit, Rendered, is_object, setting
from infrawright.render.ops import fix_ordering
from infrawright.render.ops.base import Check, Operation, Settled
from infrawright.render.splice import delete_key
from infrawright.repo.documents import Document
from infrawright.validate.formats import bad_durations, normalised
from infrawright.validate.rules.iw006_banned_workarounds import banned_in_spec

#: The mechanical fixes this operation makes (see ``Finding.fix``).
FIXES = fix_ordering.FIXES | frozenset({"remove-workaround", "duration"})


def render(draft: Draft, op: Repair) -> None:
    before = len(draft.changes.messages) + len(draft.out.noop)
    fix_ordering.render(draft, FixOrdering(component=op.component))
    draft.out.noop[:] = [n for n in draft.out.noop if "no ordering problem" not in n]
    for rel, parsed in sorted(draft.model.files.items()):
        if op.component is not None and draft.model.component_of(rel) not in (
            op.component,
            f"{op.component}-monitoring",
        ):
            continue
        for doc in parsed.objects:
            _remove_workarounds(draft, rel, doc)
            _normalise_durations(draft, rel, doc)
    if len(draft.changes.messages) + len(draft.out.noop) == before:
        draft.noop(f"nothing to repair in {op.component or 'the repository'}")


def _remove_workarounds(draft: Draft, rel: str, doc: Document) -> None:
    if doc.kind != "HelmRelease":
        return
    release = HelmRelease.parse_doc(doc)
    for path, banned in banned_in_spec(doc.spec):
        keys: tuple[str | int, ...] = tuple(path.split("."))
        draft.edit_doc(rel, is_object("HelmRelease", release.name), _deleting(keys))
        draft.note(f"HelmRelease {release.name}: {banned} removed ({rel})")
        draft.out.touched.add(_owner(draft, rel))


def _normalise_durations(draft: Draft, rel: str, doc: Document) -> None:
    if (doc.group, doc.kind) not in DURATION_FIELDS:
        return
    for bad in bad_durations(doc):
        value = normalised(bad.value, bad.units)
        if value is None:
            continue
        draft.edit_doc(rel, is_object(doc.kind, doc.name), setting(bad.keys, value))
        draft.note(f"{doc.kind} {doc.name}: {bad.path}: {bad.value!r} -> {value} ({rel})")
        draft.out.touched.add(_owner(draft, rel))
        if doc.kind == "Kustomization":
            draft.out.touched.add(doc.name)


def _deleting(keys: tuple[str | int, ...]) -> Edit:
    return lambda text, i: delete_key(text, i, keys)


def _owner(draft: Draft, rel: str) -> str:
    return draft.model.component_of(rel) or rel


def holds(op: Repair, settled: Settled) -> Iterator[Check]:
    where = op.component or "the repository"
    remaining = [
        f
        for f in settled.findings_after
        if op.component is None or fix_ordering.in_scope(op.component, f.concerns or (f.file,))
    ]
    return fix_ordering.repaired(
        f"no finding with a mechanical fix remains in {where}", remaining, FIXES
    )


def scope(op: Repair, rendered: Rendered) -> set[str]:
    return fix_ordering.scope(FixOrdering(component=op.component), rendered)


OPERATION = Operation(Repair, render, holds, scope)
