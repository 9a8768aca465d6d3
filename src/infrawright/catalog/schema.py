"""Typed shape of one catalog entry (one YAML file per chart under ``catalog/charts/``).

The catalog is data, not code: every fact about a public chart that the validator or the
planner relies on (where the chart lives, which API groups it installs, which admission
webhooks it registers, how its ServiceMonitor is switched, which metrics it exports and
which alerts are worth writing on them, which Pod Security level its pods need) is written
down once here and checked against public sources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PssLevel = Literal["privileged", "baseline", "restricted"]
Category = Literal[
    "cni",
    "networking",
    "ingress",
    "service-mesh",
    "security",
    "policy",
    "secrets",
    "certificates",
    "observability",
    "databases",
    "caches",
    "messaging",
    "storage",
    "backup",
    "operations",
    "crds",
]
Severity = Literal["critical", "warning", "info"]
ParamValue = int | float | str

#: A parameter placeholder in an alert's expr or summary: ``{days}``. Only a bare lowercase
#: identifier between single braces counts, so PromQL label matchers (``{job="x"}``) and
#: Prometheus templating (``{{ $labels.name }}``) are never mistaken for one.
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]*)\}(?!\})")
#: A Prometheus duration as PrometheusRule ``for`` takes it: ``10m``, ``1h30m``, ``0s``.
DURATION = r"^(?:[0-9]+(?:ms|s|m|h|d|w|y))+$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChartSource(_Frozen):
    """Where the chart is published."""

    name: str = Field(description="chart name inside the repository")
    repository: str = Field(
        description="https:// Helm repository URL, or oci://registry/path (without the chart name)"
    )
    version: str = Field(description="latest stable chart version known, exact (no range)")


class ApiGroup(_Frozen):
    """CRDs a chart installs: one API group and the kinds in it."""

    group: str
    kinds: tuple[str, ...]


class Webhook(_Frozen):
    """An admission webhook the chart registers (validating or mutating)."""

    name: str = Field(description="webhook Service or configuration name")
    service_port: int = Field(description="port on the Service the API server calls")
    container_port: int = Field(
        description="port on the pod after Service translation (what Cilium policy sees)"
    )


class Alert(_Frozen):
    """One PrometheusRule alert for a chart, written on the metric names it really exports.

    ``expr`` and ``summary`` may hold ``{name}`` placeholders; each one is a key of
    ``params``, whose values are the defaults a request may override ("within 7 days").
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(
        pattern=r"^[A-Z][A-Za-z0-9]*$",
        description="PrometheusRule alert name in CamelCase, unique across the catalog",
    )
    keywords: tuple[str, ...] = Field(
        min_length=1, description="lowercase words or phrases a request uses for this alert"
    )
    expr: str = Field(description="PromQL on the chart's metric names, with {param} placeholders")
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="placeholder defaults, e.g. {'days': 21}"
    )
    for_: str = Field(alias="for", pattern=DURATION, description="PrometheusRule for, e.g. 10m")
    severity: Severity
    summary: str = Field(
        description="one-line summary; may use {{ $labels.x }} templating and {param} placeholders"
    )
    source: str = Field(
        description="URL where the metric names (or the upstream rule) were checked"
    )

    @model_validator(mode="after")
    def _placeholders_have_defaults(self) -> Alert:
        missing = sorted(self.placeholders() - set(self.params))
        if missing:
            raise ValueError(f"placeholders without a default in params: {', '.join(missing)}")
        return self

    def placeholders(self) -> set[str]:
        """The ``{name}`` placeholders used in expr and summary."""
        return set(PLACEHOLDER.findall(self.expr)) | set(PLACEHOLDER.findall(self.summary))

    def rendered(self, overrides: Mapping[str, ParamValue] | None = None) -> tuple[str, str]:
        """expr and summary with every placeholder filled in (defaults, then overrides)."""
        values = dict(self.params)
        unknown = sorted(set(overrides or {}) - set(values))
        if unknown:
            raise ValueError(f"{self.name} has no parameter {', '.join(unknown)}")
        values.update(overrides or {})

        def fill(text: str) -> str:
            return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)

        return fill(self.expr), fill(self.summary)


class Metrics(_Frozen):
    """How the chart exposes Prometheus metrics."""

    port: int | str = Field(description="metrics port number or named port on the Service")
    path: str = "/metrics"
    servicemonitor_values: tuple[str, ...] = Field(
        default=(),
        description="dotted values paths that switch the chart's own ServiceMonitor on (bool)",
    )
    selector: dict[str, str] = Field(
        default_factory=dict,
        description="labels on the metrics Service, for a hand-written ServiceMonitor",
    )
    port_name: str | None = Field(default=None, description="named port on that Service")
    metric_names: tuple[str, ...] = Field(
        default=(), description="real metric names, used for PrometheusRules"
    )
    alerts: tuple[Alert, ...] = Field(
        default=(), description="ready-made PrometheusRule alerts on those metric names"
    )


class Pss(_Frozen):
    """Pod Security Standards level the chart's namespace needs, and why."""

    level: PssLevel
    reason: str


class CatalogEntry(_Frozen):
    """One well-known chart (or CRD bundle) and the facts infrawright relies on."""

    name: str = Field(description="catalog key and default component name (DNS-1123 label)")
    aliases: tuple[str, ...] = Field(default=(), description="other words users type for it")
    category: Category
    description: str
    chart: ChartSource | None = Field(
        default=None, description="None for CRD bundles installed from plain manifests"
    )
    namespace: str = Field(description="namespace the chart is conventionally installed in")
    release_name: str | None = Field(
        default=None, description="conventional HelmRelease name when it differs from name"
    )
    provides: tuple[ApiGroup, ...] = ()
    crd_values: dict[str, object] = Field(
        default_factory=dict,
        description="values needed so the chart installs its CRDs (dotted path -> value)",
    )
    webhooks: tuple[Webhook, ...] = ()
    metrics: Metrics | None = None
    pss: Pss
    requires: tuple[str, ...] = Field(
        default=(), description="catalog names this chart needs installed first"
    )
    values: dict[str, object] = Field(
        default_factory=dict, description="values written into a new HelmRelease (dotted paths)"
    )
    review: tuple[str, ...] = Field(
        default=(), description="notes that become REVIEW comments when the chart is chosen"
    )
    sources: tuple[str, ...] = Field(description="public URLs the facts were checked against")
