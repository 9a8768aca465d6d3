"""add-plain-component: a new component folder (Namespace and kustomization.yaml) with
its Flux Kustomization, for workloads to come.

Must hold afterwards: the Kustomization exists and builds, and its Namespace is applied
by it (unless another component already creates that namespace); nothing else changed.
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.plan.model import AddPlainComponent
from infrawright.render.draft import Draft, Rendered
from infrawright.render.ops.base import Check, Operation, Settled, check
from infrawright.render.shapes import BUILT_IN_NAMESPACES, plain_component


def render(draft: Draft, op: AddPlainComponent) -> None:
    if op.component in draft.ks_names() or op.component in draft.model.components:
        draft.noop(f"component {op.component} already exists")
        return
    plain_component(draft, op)


def holds(op: AddPlainComponent, settled: Settled) -> Iterator[Check]:
    c = op.component
    if c in {ks.name for ks in settled.before.model.kustomizations}:
        yield check(f"component {c} already exists", True)
        return
    build = settled.build(c)
    yield check(
        f"Flux Kustomization {c} exists and builds",
        build is not None and build.error is None,
        f"no build of {c} in the changed tree",
    )
    if op.namespace in BUILT_IN_NAMESPACES:
        return
    owners = [
        label
        for label, b in settled.after.builds.items()
        if any(o.kind == "Namespace" and o.name == op.namespace for o in b.objects)
    ]
    yield check(
        f"namespace {op.namespace} is created once",
        len(owners) == 1,
        f"created by {', '.join(sorted(owners)) or 'nothing'}",
    )


def scope(op: AddPlainComponent, _rendered: Rendered) -> set[str]:
    return {op.component}


OPERATION = Operation(AddPlainComponent, render, holds, scope)
