"""Decisions a user gives after seeing a result ("use valkey instead of redis"), applied
on top of the plan for the original request.

The rule planner understands: product/chart choice, PSS level, namespace name, monitoring
on/off, and chart version. Anything else is kept and reported, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import cast

from msgspec import structs

from infrawright.catalog import Catalog
from infrawright.catalog.schema import PssLevel
from infrawright.plan.matching import match_catalog
from infrawright.plan.model import (
    DNS_LABEL,
    AddHelmComponent,
    AddInstance,
    AddPlainComponent,
    ChartRef,
    Operation,
    Plan,
    SetChartVersion,
)
from infrawright.plan.rules import helm_op

_INSTEAD = re.compile(
    r"\b(?:use|switch to|prefer|go with|pick|choose)\s+(?P<new>.+?)(?:\s+instead(?:\s+of\s+.+)?)?$"
)
_PSS = re.compile(r"\b(privileged|baseline|restricted)\b")
_NAMESPACE = re.compile(
    r"\bnamespace\s+(?:to\s+|called\s+|named\s+|=\s*)?(?P<ns>[a-z0-9][a-z0-9-]*)"
    r"|\bin(?:to)?\s+(?:the\s+)?(?P<ns2>[a-z0-9][a-z0-9-]*)\s+namespace\b"
)
_NO_MONITORING = re.compile(r"\b(?:no|without|skip|disable|drop|don't|do not)\b[^.]*\bmonitoring\b")
_MONITORING = re.compile(r"\b(?:with|enable|add|keep)\b[^.]*\bmonitoring\b")
_CLAUSES = re.compile(r"\s*(?:[,;]|\band\b|\bbut\b)\s*")
_VERSION = re.compile(r"\bv?\d+\.\d+\.\d+(?:[-+][0-9a-z.-]+)?\b", re.IGNORECASE)


@dataclass
class Applied:
    """The plan after the decisions, and what was (not) understood."""

    plan: Plan
    understood: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)


def apply_decisions(plan: Plan, decisions: list[str], catalog: Catalog) -> Applied:
    """Apply each decision in order to every operation it concerns."""
    ops: list[Operation] = list(plan.ops)
    out = Applied(plan)
    clauses = [c for d in decisions for c in _CLAUSES.split(" ".join(d.split())) if c.strip()]
    for clause in clauses:
        text = clause.strip()
        low = text.lower()
        before = list(ops)
        ops = _replace_product(ops, low, catalog)
        ops = [_pss(op, low) for op in ops]
        # what serves (the instance, when there is one) is what "put it in X" moves
        served = [op for op in ops if isinstance(op, AddInstance)]
        ops = [_namespace(op, low) if not served or op in served else op for op in ops]
        ops = [_monitoring(op, low) for op in ops]
        ops = [_version(op, text) for op in ops]
        if ops != before or _recognised(low, catalog):
            ops = [_note(op, f"decision: {text}") for op in ops]
            out.understood.append(text)
        else:
            out.recorded.append(text)
    out.plan = Plan(request=plan.request, ops=tuple(ops), notes=plan.notes)
    return out


def _recognised(low: str, catalog: Catalog) -> bool:
    """A clause the planner understands even when it changes nothing (already so)."""
    product = _INSTEAD.search(low)
    if product and match_catalog(catalog, product.group("new")) is not None:
        return True
    patterns = (_PSS, _NAMESPACE, _NO_MONITORING, _MONITORING, _VERSION)
    return any(p.search(low) for p in patterns)


def _note(op: Operation, note: str) -> Operation:
    return structs.replace(op, review=(*op.review, note))


def _replace_product(ops: list[Operation], low: str, catalog: Catalog) -> list[Operation]:
    """ "use valkey instead": each chart install becomes one of the chosen chart, and the
    instances of the operator it replaces go with it."""
    match = _INSTEAD.search(low)
    entry = match_catalog(catalog, match.group("new")) if match else None
    if entry is None or entry.chart is None:
        return ops
    replaced = {
        op.catalog for op in ops if isinstance(op, AddHelmComponent) and op.catalog != entry.name
    }
    if not replaced:
        return ops
    out: list[Operation] = []
    for op in ops:
        if isinstance(op, AddInstance) and op.operator in replaced:
            continue
        out.append(
            helm_op(entry) if isinstance(op, AddHelmComponent) and op.catalog in replaced else op
        )
    return out


def _pss(op: Operation, low: str) -> Operation:
    match = _PSS.search(low)
    if not match or not isinstance(op, AddHelmComponent | AddPlainComponent | AddInstance):
        return op
    level = cast(PssLevel, match.group(1))  # the pattern names only the three levels
    if level == op.pss_level:
        return op
    return structs.replace(op, pss_level=level, pss_reason="chosen by the user")


def _namespace(op: Operation, low: str) -> Operation:
    match = _NAMESPACE.search(low)
    if not match or not isinstance(op, AddHelmComponent | AddPlainComponent | AddInstance):
        return op
    name = match.group("ns") or match.group("ns2")
    if not name or not DNS_LABEL.match(name) or name == op.namespace:
        return op
    return structs.replace(op, namespace=name)


def _monitoring(op: Operation, low: str) -> Operation:
    if not isinstance(op, AddHelmComponent):
        return op
    if _NO_MONITORING.search(low):
        return structs.replace(op, monitoring=False) if op.monitoring else op
    if _MONITORING.search(low):
        return structs.replace(op, monitoring=True) if not op.monitoring else op
    return op


def _version(op: Operation, text: str) -> Operation:
    match = _VERSION.search(text)
    if not match:
        return op
    version = match.group(0)
    if isinstance(op, AddHelmComponent) and op.chart.version != version:
        chart = ChartRef(name=op.chart.name, repository=op.chart.repository, version=version)
        return structs.replace(op, chart=chart)
    if isinstance(op, SetChartVersion) and op.version != version:
        return structs.replace(op, version=version)
    return op
