"""The Plan: a public, versioned list of typed operations.

Every planner (the offline rule planner, an LLM, an MCP client) produces this and
nothing else; the engine renders it and the validator must pass before it is written.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from infrawright.catalog.schema import PssLevel

PLAN_VERSION: Literal[1] = 1
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def dns_label(value: str) -> str:
    if not DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label (lowercase letters, digits and '-', "
            "at most 63, starting and ending with a letter or digit)"
        )
    return value


class _Op(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    review: tuple[str, ...] = Field(default=(), description="assumptions, as REVIEW notes")


class ChartRef(BaseModel):
    """A chart and where it comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    repository: str = Field(description="https:// Helm repository or oci:// registry path")
    version: str = Field(description="exact chart version; the repo's pin style is applied")


class AddHelmComponent(_Op):
    """A new component installed from a Helm chart, with its Flux Kustomization."""

    op: Literal["add-helm-component"] = "add-helm-component"
    component: str
    namespace: str
    chart: ChartRef
    catalog: str | None = Field(default=None, description="catalog entry the facts came from")
    release_name: str | None = None
    values: dict[str, Any] = Field(default_factory=dict, description="dotted path -> value")
    pss_level: PssLevel = "restricted"
    pss_reason: str = ""
    monitoring: bool = Field(default=True, description="add <component>-monitoring if possible")

    _label = field_validator("component", "namespace")(dns_label)


class AddPlainComponent(_Op):
    """A new component folder (namespace + kustomization) with its Flux Kustomization."""

    op: Literal["add-plain-component"] = "add-plain-component"
    component: str
    namespace: str
    pss_level: PssLevel = "restricted"
    pss_reason: str = "no workloads yet; tighten or relax when the first one lands"

    _label = field_validator("component", "namespace")(dns_label)


class SetChartVersion(_Op):
    """Move an existing HelmRelease to another chart version (only that line changes)."""

    op: Literal["set-chart-version"] = "set-chart-version"
    component: str
    version: str = Field(description="exact chart version; the repo's pin style is applied")


class SetValues(_Op):
    """Change Helm values of an existing component's HelmRelease, editing keys in place."""

    op: Literal["set-values"] = "set-values"
    component: str
    values: dict[str, Any] = Field(description="dotted path under spec.values -> value")


class RemoveComponent(_Op):
    """Remove a component: its folders, its Kustomizations and every dependsOn on them."""

    op: Literal["remove-component"] = "remove-component"
    component: str


class AlertChoice(BaseModel):
    """One catalog alert and the parameters the request gave it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, int | float | str] = Field(default_factory=dict)


class AddMonitoring(_Op):
    """ServiceMonitor and/or PrometheusRule for an existing component, in <c>-monitoring."""

    op: Literal["add-monitoring"] = "add-monitoring"
    component: str
    service_monitor: bool = True
    alerts: tuple[AlertChoice, ...] = ()


class AddNetworkPolicy(_Op):
    """A CiliumNetworkPolicy in a component (created when it does not exist yet)."""

    op: Literal["add-network-policy"] = "add-network-policy"
    component: str
    namespace: str
    name: str
    allow_from_namespaces: tuple[str, ...] = ()
    allow_from_entities: tuple[str, ...] = ()
    ports: tuple[int | str, ...] = ()

    _label = field_validator("component", "namespace", "name")(dns_label)


class FixOrdering(_Op):
    """Repair IW003/IW004/IW005 findings: dependsOn, monitoring split, chart ServiceMonitors."""

    op: Literal["fix-ordering"] = "fix-ordering"
    component: str | None = Field(default=None, description="only this component; None: all")


Operation = Annotated[
    AddHelmComponent
    | AddPlainComponent
    | SetChartVersion
    | SetValues
    | RemoveComponent
    | AddMonitoring
    | AddNetworkPolicy
    | FixOrdering,
    Field(discriminator="op"),
]


def subject(op: Operation) -> str:
    """What an operation is about, for progress lines."""
    return op.component or "every component"


class Plan(BaseModel):
    """What a planner proposes for one request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = PLAN_VERSION
    request: str
    ops: tuple[Operation, ...]
    notes: tuple[str, ...] = ()


def plan_schema() -> dict[str, Any]:
    """JSON Schema of the Plan format (``infrawright plan-schema``)."""
    return Plan.model_json_schema()
