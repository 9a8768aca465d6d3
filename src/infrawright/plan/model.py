"""The Plan: a public, versioned list of typed operations.

Every planner (the offline rule planner, an LLM, an MCP client) produces this and
nothing else; the engine renders it and the validator must pass before it is written.

The types are frozen msgspec Structs; an operation is known by its ``op`` tag. A Plan
from outside (an LLM's or an MCP client's JSON) is read with :func:`parse_plan`, which
checks every field against its type and says where the first problem is;
:func:`plan_json` writes one back, and :func:`plan_schema` gives the JSON Schema of the
format, made by msgspec from the same declarations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, cast

import msgspec

from infrawright.catalog.schema import PssLevel
from infrawright.typed import DataError, Frozen, read

PLAN_VERSION: Literal[1] = 1
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class PlanError(ValueError):
    """A Plan from outside that does not fit the format: where, and what is wrong."""


def dns_label(value: str) -> str:
    if not DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label (lowercase letters, digits and '-', "
            "at most 63, starting and ending with a letter or digit)"
        )
    return value


def _labels(op: object, *names: str) -> None:
    for name in names:
        dns_label(getattr(op, name))


def _about(text: str) -> msgspec.Meta:
    """What a field means, shown in the JSON Schema."""
    return msgspec.Meta(description=text)


class _Op(Frozen, frozen=True, kw_only=True, tag_field="op"):
    #: The operation's tag in the data (``add-helm-component``); each type sets it.
    op: ClassVar[str]
    review: Annotated[tuple[str, ...], _about("assumptions, as REVIEW notes")] = ()


class ChartRef(Frozen, frozen=True, kw_only=True):
    """A chart and where it comes from."""

    name: str
    repository: Annotated[str, _about("https:// Helm repository or oci:// registry path")]
    version: Annotated[str, _about("exact chart version; the repo's pin style is applied")]


class AddHelmComponent(_Op, frozen=True, kw_only=True, tag="add-helm-component"):
    """A new component installed from a Helm chart, with its Flux Kustomization."""

    op = "add-helm-component"
    component: str
    namespace: str
    chart: ChartRef
    catalog: Annotated[str | None, _about("catalog entry the facts came from")] = None
    release_name: str | None = None
    values: Annotated[dict[str, Any], _about("dotted path -> value")] = msgspec.field(
        default_factory=dict
    )
    pss_level: PssLevel = "restricted"
    pss_reason: str = ""
    monitoring: Annotated[bool, _about("add <component>-monitoring if possible")] = True
    cluster_values: Annotated[
        dict[str, dict[str, Any]],
        _about("cluster -> dotted path -> value, for that cluster only (its overlay)"),
    ] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        _labels(self, "component", "namespace")


class AddPlainComponent(_Op, frozen=True, kw_only=True, tag="add-plain-component"):
    """A new component folder (namespace + kustomization) with its Flux Kustomization."""

    op = "add-plain-component"
    component: str
    namespace: str
    pss_level: PssLevel = "restricted"
    pss_reason: str = "no workloads yet; tighten or relax when the first one lands"

    def __post_init__(self) -> None:
        _labels(self, "component", "namespace")


class SetChartVersion(_Op, frozen=True, kw_only=True, tag="set-chart-version"):
    """Move an existing HelmRelease to another chart version (only that line changes)."""

    op = "set-chart-version"
    component: str
    version: Annotated[str, _about("exact chart version; the repo's pin style is applied")]
    exact: Annotated[
        bool, _about("pin: write this very version, not the repo's range style (1.2.x)")
    ] = False


class SetValues(_Op, frozen=True, kw_only=True, tag="set-values"):
    """Change Helm values of an existing component's HelmRelease, editing keys in place."""

    op = "set-values"
    component: str
    values: Annotated[dict[str, Any], _about("dotted path under spec.values -> value")]


class RemoveComponent(_Op, frozen=True, kw_only=True, tag="remove-component"):
    """Remove a component: its folders, its Kustomizations and every dependsOn on them."""

    op = "remove-component"
    component: str


class AlertChoice(Frozen, frozen=True, kw_only=True):
    """One catalog alert and the parameters the request gave it."""

    name: str
    params: dict[str, int | float | str] = msgspec.field(default_factory=dict)


class AddMonitoring(_Op, frozen=True, kw_only=True, tag="add-monitoring"):
    """ServiceMonitor and/or PrometheusRule for an existing component, in <c>-monitoring."""

    op = "add-monitoring"
    component: str
    service_monitor: bool = True
    alerts: tuple[AlertChoice, ...] = ()


class AddNetworkPolicy(_Op, frozen=True, kw_only=True, tag="add-network-policy"):
    """A CiliumNetworkPolicy in a component (created when it does not exist yet)."""

    op = "add-network-policy"
    component: str
    namespace: str
    name: str
    allow_from_namespaces: tuple[str, ...] = ()
    allow_from_entities: tuple[str, ...] = ()
    ports: tuple[int | str, ...] = ()

    def __post_init__(self) -> None:
        _labels(self, "component", "namespace", "name")


class AddInstance(_Op, frozen=True, kw_only=True, tag="add-instance"):
    """An instance of an operator's resource (a PostgreSQL ``Cluster``, a ``Redis``) in a
    component of its own, whose Kustomization depends on the operator's."""

    op = "add-instance"
    component: str
    namespace: str
    operator: Annotated[str, _about("catalog entry of the operator")]
    after: Annotated[str, _about("the Flux Kustomization that installs the operator")]
    api_version: Annotated[str, _about("group/version of the instance's kind")]
    kind: str
    name: str
    spec: dict[str, Any] = msgspec.field(default_factory=dict)
    pss_level: PssLevel = "restricted"
    pss_reason: str = ""

    def __post_init__(self) -> None:
        _labels(self, "component", "namespace", "after")


class FixOrdering(_Op, frozen=True, kw_only=True, tag="fix-ordering"):
    """Repair IW003/IW004/IW005 findings: dependsOn, monitoring split, chart ServiceMonitors."""

    op = "fix-ordering"
    component: Annotated[str | None, _about("only this component; None: all")] = None


class Repair(_Op, frozen=True, kw_only=True, tag="repair"):
    """Fix every finding that has one mechanical fix (dependsOn, monitoring split, chart
    ServiceMonitors, banned HelmRelease settings, durations in words); list the rest."""

    op = "repair"
    component: Annotated[str | None, _about("only this component; None: all")] = None


Operation = (
    AddHelmComponent
    | AddPlainComponent
    | SetChartVersion
    | SetValues
    | RemoveComponent
    | AddMonitoring
    | AddNetworkPolicy
    | AddInstance
    | FixOrdering
    | Repair
)

#: Each operation type by the value of its ``op`` tag.
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
        AddInstance,
        FixOrdering,
        Repair,
    )
}


def subject(op: Operation) -> str:
    """What an operation is about, for progress lines."""
    return op.component or "every component"


class Plan(Frozen, frozen=True, kw_only=True):
    """What a planner proposes for one request."""

    version: Literal[1] = PLAN_VERSION
    request: str
    ops: tuple[Operation, ...]
    notes: tuple[str, ...] = ()
    clusters: Annotated[
        tuple[str, ...], _about("clusters the request is for (as validate names them); ()=all")
    ] = ()


def parse_plan(data: object) -> Plan:
    """A Plan from JSON-like data, every field checked; each operation's type is the one
    its ``op`` names. Raises :class:`PlanError` saying where the first problem is."""
    if not isinstance(data, Mapping):
        raise PlanError("a Plan is a JSON object with request and ops")
    ops = data.get("ops")
    for i, item in enumerate(ops if isinstance(ops, list | tuple) else ()):
        kind = item.get("op") if isinstance(item, Mapping) else None
        if not isinstance(kind, str) or kind not in OPERATIONS:
            known = ", ".join(repr(k) for k in OPERATIONS)
            raise PlanError(f"ops.{i}.op: should be one of {known}")
    try:
        return read(Plan, data)
    except DataError as exc:
        raise PlanError(str(exc)) from None


def plan_json(plan: Plan | Operation) -> dict[str, Any]:
    """A Plan (or one operation) as JSON data: what :func:`parse_plan` reads back."""
    return cast(dict[str, Any], msgspec.json.decode(msgspec.json.encode(plan)))


def plan_schema() -> dict[str, Any]:
    """JSON Schema of the Plan format (``infrawright plan-schema``)."""
    schema = msgspec.json.schema(Plan)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
