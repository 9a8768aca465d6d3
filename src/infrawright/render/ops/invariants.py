"""What must hold after any change, planned or not.

A Plan's operations state their own post-conditions. A change written file by file (a
model's ``write_file`` + ``finish``, a script through the tools) has no operations to
state them, so the request's own meaning cannot be checked; what any change must keep
still can: nothing the repository runs gets a second installation. One set of CRDs owned
by two installations breaks a cluster whatever the charts are called, so the check is on
the CRD groups each Kustomization provides (from the catalog's facts on its
HelmReleases and from the CustomResourceDefinitions it applies), not on folder or chart
names. A group that already had several providers before the change may keep them.
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.render.ops.base import Check, Settled, check


def invariants(settled: Settled) -> Iterator[Check]:
    """A check per CRD group whose providers the change touched: it has no more
    providers than before (at most one, unless there were several already)."""
    before, after = settled.before.index, settled.after.index
    groups = {p.group for p in after.provisions}
    for group in sorted(groups):
        now, then = after.providers_of(group), before.providers_of(group)
        if now == then:
            continue
        yield check(
            f"CRD group {group} has one provider",
            len(now) <= max(1, len(then)),
            f"provided by {', '.join(now)}"
            + (f"; before the change by {', '.join(then)}" if then else ""),
        )
