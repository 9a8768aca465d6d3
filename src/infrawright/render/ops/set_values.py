"""set-values: change Helm values of an existing component's HelmRelease.

Each key is edited in place (comments and the rest of the file keep their bytes); a key
that was not set before gets a REVIEW note.

Must hold afterwards: the component's built HelmRelease has every value asked for;
nothing else changed.
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.model.flux import dotted_get
from infrawright.plan.model import SetValues
from infrawright.render.draft import Draft, Rendered, is_object, setting
from infrawright.render.ops.base import Check, Operation, Settled, check


def render(draft: Draft, op: SetValues) -> None:
    release, _entry = draft.release_of(op.component)
    for dotted, value in sorted(op.values.items()):
        current = dotted_get(release.values, dotted)
        if current == value:
            draft.noop(f"{release.name}: {dotted} is already {value!r}")
            continue
        keys = ("spec", "values", *dotted.split("."))
        comment = None
        if current is None:
            comment = f"REVIEW: {dotted} was not set before; check the chart's values"
            draft.review(release.doc.file, comment[8:])
        draft.edit_doc(
            release.doc.file, is_object("HelmRelease", release.name), setting(keys, value, comment)
        )
        draft.note(f"{release.name}: {dotted}: {current!r} -> {value!r}")


def holds(op: SetValues, settled: Settled) -> Iterator[Check]:
    releases = [r for label, r in settled.releases() if label.rsplit("/", 1)[-1] == op.component]
    if not releases:
        yield check(f"{op.component} has a HelmRelease", False, "none in its build")
        return
    release = releases[0]
    for dotted, value in sorted(op.values.items()):
        got = dotted_get(release.values, dotted)
        yield check(f"{release.name}: {dotted} is {value!r}", got == value, f"it is {got!r}")


def scope(op: SetValues, _rendered: Rendered) -> set[str]:
    return {op.component}


OPERATION = Operation(SetValues, render, holds, scope)
