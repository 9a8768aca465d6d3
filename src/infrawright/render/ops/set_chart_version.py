"""set-chart-version: move an existing HelmRelease to another chart version.

Only the version line changes, written in the repository's pin style (``1.20.x``), or
exactly as asked when the request pins it.

Must hold afterwards: the component's built HelmRelease asks for exactly that version
(a pin) or a range that admits it; nothing else changed.
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.errors import InfrawrightError
from infrawright.model.conventions import pin_as, version_style
from infrawright.model.versions import admits, is_exactly
from infrawright.plan.model import SetChartVersion
from infrawright.render.draft import Draft, Rendered, is_object
from infrawright.render.ops.base import Check, Operation, Settled, check
from infrawright.render.splice import set_scalar


def render(draft: Draft, op: SetChartVersion) -> None:
    release, _entry = draft.release_of(op.component)
    current = release.version
    if current is None:
        raise InfrawrightError(
            f"{release.doc.file}: HelmRelease {release.name} has no spec.chart.spec.version "
            "(an OCIRepository chartRef keeps it in the OCIRepository's spec.ref)",
            hint="change the tag in the OCIRepository",
        )
    if op.exact:
        wanted = ("v" if current.startswith("v") else "") + op.version.lstrip("v")
    else:
        wanted = _pin_like(current, op.version)
    if wanted == current:
        what = "pinned to" if op.exact else f"at {current}, which admits"
        draft.noop(f"{release.name} is already {what} {op.version}")
        return
    draft.edit_doc(
        release.doc.file,
        is_object("HelmRelease", release.name),
        lambda text, i: set_scalar(text, i, ("spec", "chart", "spec", "version"), wanted),
    )
    draft.note(f"{release.name}: chart version {current} -> {wanted}")
    for note in op.review:
        draft.review(release.doc.file, note)


def _pin_like(current: str, version: str) -> str:
    """``version`` written the way ``current`` is pinned (exact, ``1.x`` or ``1.2.x``)."""
    prefix = "v" if current.startswith("v") else ""
    return pin_as(prefix + version.lstrip("v"), version_style(current))


def holds(op: SetChartVersion, settled: Settled) -> Iterator[Check]:
    releases = [r for label, r in settled.releases() if _belongs(label, op.component)]
    if not releases:
        yield check(f"{op.component} has a HelmRelease", False, "none in its build")
        return
    for release in releases:
        got = release.version or ""
        if op.exact:
            yield check(
                f"{release.name} is pinned to exactly {op.version}",
                is_exactly(got, op.version),
                f"it asks for {got!r}",
            )
        else:
            yield check(
                f"{release.name}'s chart version admits {op.version}",
                admits(got, op.version),
                f"it asks for {got!r}",
            )


def _belongs(label: str, component: str) -> bool:
    return label.rsplit("/", 1)[-1] == component


def scope(op: SetChartVersion, _rendered: Rendered) -> set[str]:
    return {op.component}


OPERATION = Operation(SetChartVersion, render, holds, scope)
