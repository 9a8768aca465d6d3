"""The Plan: a public, versioned list of typed operations.

Every planner (the offline rule planner, an LLM, an MCP client) produces this and
nothing else; the engine renders it and the validator must pass before it is written.

The types are frozen dataclasses. A Plan from outside (an LLM's or an MCP client's JSON)
is read with :func:`parse_plan`, which checks every field against its type (see
:mod:`infrawright.catalog.convert`) and picks each operation's type by its ``op``;
:func:`plan_json` writes one back, and :func:`plan_schema` gives the JSON Schema of the
format. No model framework is loaded: defining the pydantic models this replaced cost
every ``implement`` about 0.15 s before any work began.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from infrawright.catalog.convert import EntryError, convert
from infrawright.catalog.schema import PssLevel

PLAN_VERSION: Literal[1] = 1
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
#: Field metadata: what the field means (shown in the JSON Schema).
DESCRIPTION = "description"


class PlanError(ValueError):
    """A Plan from outside that does not fit the format: where, and what is wrong."""


def dns_label(value: str) -> str:
    if not DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label (lowercase letters, digits and '-', "
            "at most 63, starting and ending with a letter or digit)"
        )
    return value


def _about(text: str) -> dict[str, str]:
    return {DESCRIPTION: text}


def _labels(op: object, *names: str) -> None:
    for name in names:
        dns_label(getattr(op, name))


@dataclass(frozen=True, kw_only=True)
class _Op:
    review: tuple[str, ...] = field(default=(), metadata=_about("assumptions, as REVIEW notes"))


@dataclass(frozen=True, kw_only=True)
class ChartRef:
    """A chart and where it comes from."""

    name: str
    repository: str = field(metadata=_about("https:// Helm repository or oci:// registry path"))
    version: str = field(metadata=_about("exact chart version; the repo's pin style is applied"))


@dataclass(frozen=True, kw_only=True)
class AddHelmComponent(_Op):
    """A new component installed from a Helm chart, with its Flux Kustomization."""

    op: Literal["add-helm-component"] = "add-helm-component"
    component: str
    namespace: str
    chart: ChartRef
    catalog: str | None = field(default=None, metadata=_about("catalog entry the facts came from"))
    release_name: str | None = None
    values: dict[str, Any] = field(default_factory=dict, metadata=_about("dotted path -> value"))
    pss_level: PssLevel = "restricted"
    pss_reason: str = ""
    monitoring: bool = field(
        default=True, metadata=_about("add <component>-monitoring if possible")
    )

    def __post_init__(self) -> None:
        _labels(self, "component", "namespace")


@dataclass(frozen=True, kw_only=True)
class AddPlainComponent(_Op):
    """A new component folder (namespace + kustomization) with its Flux Kustomization."""

    op: Literal["add-plain-component"] = "add-plain-component"
    component: str
    namespace: str
    pss_level: PssLevel = "restricted"
    pss_reason: str = "no workloads yet; tighten or relax when the first one lands"

    def __post_init__(self) -> None:
        _labels(self, "component", "namespace")


@dataclass(frozen=True, kw_only=True)
class SetChartVersion(_Op):
    """Move an existing HelmRelease to another chart version (only that line changes)."""

    op: Literal["set-chart-version"] = "set-chart-version"
    component: str
    version: str = field(metadata=_about("exact chart version; the repo's pin style is applied"))


@dataclass(frozen=True, kw_only=True)
class SetValues(_Op):
    """Change Helm values of an existing component's HelmRelease, editing keys in place."""

    op: Literal["set-values"] = "set-values"
    component: str
    values: dict[str, Any] = field(metadata=_about("dotted path under spec.values -> value"))


@dataclass(frozen=True, kw_only=True)
class RemoveComponent(_Op):
    """Remove a component: its folders, its Kustomizations and every dependsOn on them."""

    op: Literal["remove-component"] = "remove-component"
    component: str


@dataclass(frozen=True, kw_only=True)
class AlertChoice:
    """One catalog alert and the parameters the request gave it."""

    name: str
    params: dict[str, int | float | str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class AddMonitoring(_Op):
    """ServiceMonitor and/or PrometheusRule for an existing component, in <c>-monitoring."""

    op: Literal["add-monitoring"] = "add-monitoring"
    component: str
    service_monitor: bool = True
    alerts: tuple[AlertChoice, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AddNetworkPolicy(_Op):
    """A CiliumNetworkPolicy in a component (created when it does not exist yet)."""

    op: Literal["add-network-policy"] = "add-network-policy"
    component: str
    namespace: str
    name: str
    allow_from_namespaces: tuple[str, ...] = ()
    allow_from_entities: tuple[str, ...] = ()
    ports: tuple[int | str, ...] = ()

    def __post_init__(self) -> None:
        _labels(self, "component", "namespace", "name")


@dataclass(frozen=True, kw_only=True)
class FixOrdering(_Op):
    """Repair IW003/IW004/IW005 findings: dependsOn, monitoring split, chart ServiceMonitors."""

    op: Literal["fix-ordering"] = "fix-ordering"
    component: str | None = field(default=None, metadata=_about("only this component; None: all"))


Operation = (
    AddHelmComponent
    | AddPlainComponent
    | SetChartVersion
    | SetValues
    | RemoveComponent
    | AddMonitoring
    | AddNetworkPolicy
    | FixOrdering
)

#: Each operation type by the value of its ``op`` field.
OPERATIONS: dict[str, type[Any]] = {
    cls.op: cls
    for cls in (
        AddHelmComponent,
        AddPlainComponent,
        SetChartVersion,
        SetValues,
        RemoveComponent,
        AddMonitoring,
        AddNetworkPolicy,
        FixOrdering,
    )
}


def subject(op: Operation) -> str:
    """What an operation is about, for progress lines."""
    return op.component or "every component"


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What a planner proposes for one request."""

    version: Literal[1] = PLAN_VERSION
    request: str
    ops: tuple[Operation, ...]
    notes: tuple[str, ...] = ()


def parse_plan(data: object) -> Plan:
    """A Plan from JSON-like data, every field checked; each operation's type is the one
    its ``op`` names. Raises :class:`PlanError` saying where the first problem is."""
    if not isinstance(data, Mapping):
        raise PlanError("a Plan is a JSON object with request and ops")
    ops = data.get("ops")
    if not isinstance(ops, list | tuple):
        raise PlanError("ops: Input should be a list" if "ops" in data else "ops: Field required")
    parsed = []
    for i, item in enumerate(ops):
        kind = item.get("op") if isinstance(item, Mapping) else None
        cls = OPERATIONS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            known = ", ".join(repr(k) for k in OPERATIONS)
            raise PlanError(f"ops.{i}.op: Input should be one of {known}")
        try:
            parsed.append(convert(cls, item))
        except EntryError as exc:
            where = ".".join(str(p) for p in ("ops", i, *exc.loc))
            raise PlanError(f"{where}: {exc.msg}") from None
    try:
        return convert(Plan, {**data, "ops": parsed})
    except EntryError as exc:
        raise PlanError(str(exc)) from None


def plan_json(plan: Plan | Operation) -> dict[str, Any]:
    """A Plan (or one operation) as JSON data: what :func:`parse_plan` reads back."""
    return cast(dict[str, Any], _json(dataclasses.asdict(plan)))


def _json(value: object) -> object:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def plan_schema() -> dict[str, Any]:
    """JSON Schema of the Plan format (``infrawright plan-schema``)."""
    from infrawright.plan.jsonschema import schema_of

    return schema_of(Plan, discriminated={"ops": ("op", OPERATIONS)})
