"""Operations, one module each: what it renders and what must hold once it is done.

:data:`OPERATIONS` is the registry, by the operation's ``op`` tag (as the Plan names
it). :func:`render_plan` renders a Plan through one :class:`Draft`;
:func:`postconditions` checks every operation's post-conditions on the validated tree.
"""

from __future__ import annotations

from typing import Any

from infrawright.plan.model import Plan
from infrawright.render.draft import Draft, Rendered
from infrawright.render.ops import (
    add_helm_component,
    add_instance,
    add_monitoring,
    add_network_policy,
    add_plain_component,
    fix_ordering,
    remove_component,
    repair,
    set_chart_version,
    set_values,
)
from infrawright.render.ops.base import Check, Operation, Settled, unchanged_elsewhere

OPERATIONS: dict[str, Operation[Any]] = {
    module.OPERATION.kind.op: module.OPERATION
    for module in (
        add_helm_component,
        add_plain_component,
        set_chart_version,
        set_values,
        remove_component,
        add_monitoring,
        add_network_policy,
        add_instance,
        fix_ordering,
        repair,
    )
}


def render_plan(draft: Draft, plan: Plan) -> Rendered:
    """Render every operation of a plan, in order, into ``draft``."""
    for op in plan.ops:
        OPERATIONS[op.op].render(draft, op)
    draft.changes.locate_reviews()
    return draft.out


def postconditions(plan: Plan, settled: Settled) -> list[Check]:
    """Every post-condition of every operation of ``plan``, on the validated tree; and
    that nothing changed beyond what the operations name."""
    checks: list[Check] = []
    scope: set[str] = set()
    for op in plan.ops:
        operation = OPERATIONS[op.op]
        checks.extend(operation.holds(op, settled))
        scope |= operation.scope(op, settled.rendered)
    checks.append(unchanged_elsewhere(scope, settled))
    return checks


__all__ = ["OPERATIONS", "Check", "Settled", "postconditions", "render_plan"]
