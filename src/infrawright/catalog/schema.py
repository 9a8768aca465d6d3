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
from typing import Annotated, Literal

import msgspec

from infrawright.typed import Frozen

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

# Every entry type is a frozen, keyword-only Struct: entries are shared by the whole
# process (builtin_catalog() is cached), so nothing may change them after loading. Build
# them from data with ``infrawright.typed.read``, which checks the types; the keyword
# constructors check nothing but Alert's placeholders.


class ChartSource(Frozen, frozen=True, kw_only=True):
    """Where the chart is published."""

    #: The chart's name in its repository.
    name: str
    #: Helm repository URL (https://...) or OCI location (oci://registry/path), without
    #: the chart name.
    repository: str
    #: Newest stable chart version we know of, pinned exactly (never a range).
    version: str


class ApiGroup(Frozen, frozen=True, kw_only=True):
    """CRDs a chart installs: one API group and the kinds in it."""

    group: str
    kinds: tuple[str, ...]


class Webhook(Frozen, frozen=True, kw_only=True):
    """An admission webhook the chart registers (validating or mutating)."""

    #: Name of the webhook's Service or of its webhook configuration.
    name: str
    #: Service port the API server connects to.
    service_port: int
    #: Pod port the Service forwards to; this is the port Cilium policy has to allow.
    container_port: int


class Alert(Frozen, frozen=True, kw_only=True):
    """One PrometheusRule alert for a chart, written on the metric names it really exports.

    ``expr`` and ``summary`` may hold ``{name}`` placeholders; each one is a key of
    ``params``, whose values are the defaults a request may override ("within 7 days").
    """

    #: CamelCase alert name, unique in the whole catalog.
    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Za-z0-9]*$")]
    #: Lowercase words or phrases by which a request asks for this alert (at least one).
    keywords: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)]
    #: PromQL over the chart's own metric names; may contain {param} placeholders.
    expr: str
    #: Default value of each placeholder, such as {"days": 21}.
    params: dict[str, ParamValue] = msgspec.field(default_factory=dict)
    #: The rule's ``for`` duration (``10m``); written ``for`` in the data, as in a
    #: PrometheusRule.
    for_: Annotated[str, msgspec.Meta(pattern=DURATION)] = msgspec.field(name="for")
    severity: Severity
    #: Single-line summary; Prometheus templating ({{ $labels.x }}) and {param}
    #: placeholders are both allowed.
    summary: str
    #: URL of the page where the metric names (or the upstream rule) were verified.
    source: str

    def __post_init__(self) -> None:
        missing = sorted(self.placeholders() - set(self.params))
        if missing:
            raise ValueError(f"placeholders without a default in params: {', '.join(missing)}")

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


class Metrics(Frozen, frozen=True, kw_only=True):
    """How the chart exposes Prometheus metrics, and what a new component scrapes."""

    #: What the chart renders to scrape: a metrics Service (a ServiceMonitor selects it) or
    #: only pods with a metrics port (a PodMonitor selects them).
    scrape: Literal["service", "pods"] = "service"
    #: The metrics port, as a number or a port name.
    port: int | str
    path: str = "/metrics"
    #: Dotted values paths that turn on the chart's own ServiceMonitor or PodMonitor.
    servicemonitor_values: tuple[str, ...] = ()
    #: What happens to the chart's own monitors on a new component: "off" (switched off,
    #: infrawright writes its own in <component>-monitoring) or "keep" (the chart monitors
    #: itself as it intends; nothing is switched off or written).
    chart_monitors: Literal["off", "keep"] = "off"
    #: Values that keep the metrics Service (or the pods' metrics port) rendered while the
    #: chart's own monitor is off, as dotted path -> value (``metrics.service.enabled``).
    service_values: dict[str, object] = msgspec.field(default_factory=dict)
    #: Labels of the metrics Service (scrape: service) or of the pods (scrape: pods).
    selector: dict[str, str] = msgspec.field(default_factory=dict)
    #: Name of the metrics port on that Service, or of the pods' container port.
    port_name: str | None = None
    #: The metric names the chart really exports; PrometheusRules are written on them.
    metric_names: tuple[str, ...] = ()
    #: Ready-to-use PrometheusRule alerts over those metric names.
    alerts: tuple[Alert, ...] = ()


class Pss(Frozen, frozen=True, kw_only=True):
    """Pod Security Standards level the chart's namespace needs, and why."""

    level: PssLevel
    reason: str


#: The facts an entry's evidence is recorded for.
Fact = Literal[
    "chart", "version", "provides", "crd_values", "webhooks", "metrics", "alerts", "pss", "values"
]
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class Checked(Frozen, frozen=True, kw_only=True):
    """Where and when the entry's facts were last checked against the chart itself."""

    #: The chart version checked; the entry's ``chart.version``.
    version: str
    #: The git tag (or ref) of the chart's source for that version, e.g. ``v1.19.5``.
    tag: str
    #: The day of the check, ``YYYY-MM-DD`` (quoted in YAML).
    date: Annotated[str, msgspec.Meta(pattern=DATE)]
    #: URL of the chart's source at that tag (templates, values.yaml, crds/).
    source: str
    #: True only when the files read were that tag's own; false when they were stored
    #: copies at commits not tied to the tag (the facts may be older or newer).
    at_tag: bool = False
    #: The commit the chart's files were read at, when it is known.
    commit: str | None = None


class Instance(Frozen, frozen=True, kw_only=True):
    """The resource an operator runs its workload from: installing the chart alone serves
    nothing until one exists (a PostgreSQL ``Cluster``, a ``RedisReplication``).

    With ``version`` and ``spec`` set, infrawright can create one ("add a PostgreSQL
    cluster for strapi"): ``spec`` is the smallest spec the CRD admits at the chart's
    version that runs something useful, every chosen value named in ``notes``."""

    group: str
    kind: str
    #: The served API version of ``kind`` at the chart's version (``v1``, ``v1beta2``).
    version: str = ""
    #: What a running instance serves, in words users type ("postgresql", "redis").
    serves: tuple[str, ...] = ()
    #: The spec a new instance gets; fields the CRD requires included.
    spec: dict[str, object] = msgspec.field(default_factory=dict)
    #: The instance's own namespace needs this Pod Security level (its pods, not the
    #: operator's).
    pss: Pss | None = None
    #: REVIEW notes: every value of ``spec`` that was a choice, and what to check.
    notes: tuple[str, ...] = ()
    #: URLs (the CRD at the chart's version, the operator's docs) that show the above.
    evidence: tuple[str, ...] = ()


class CatalogEntry(Frozen, frozen=True, kw_only=True):
    """One well-known chart (or CRD bundle) and the facts infrawright relies on."""

    #: Key in the catalog, also the default component name (a DNS-1123 label).
    name: str
    #: Other names users may type for this chart.
    aliases: tuple[str, ...] = ()
    category: Category
    description: str
    #: Where the chart is published; None for CRD bundles applied as plain manifests.
    chart: ChartSource | None = None
    #: The namespace the chart is usually installed into.
    namespace: str
    #: The usual HelmRelease name, when it is not ``name``.
    release_name: str | None = None
    provides: tuple[ApiGroup, ...] = ()
    #: Values the chart needs to install its CRDs, as dotted path -> value.
    crd_values: dict[str, object] = msgspec.field(default_factory=dict)
    webhooks: tuple[Webhook, ...] = ()
    metrics: Metrics | None = None
    pss: Pss
    #: Catalog names that must be installed before this chart.
    requires: tuple[str, ...] = ()
    #: Values written into a newly created HelmRelease, as dotted path -> value.
    values: dict[str, object] = msgspec.field(default_factory=dict)
    #: Notes turned into REVIEW comments when this chart is picked.
    review: tuple[str, ...] = ()
    #: Public URLs the facts above were checked against.
    sources: tuple[str, ...]
    #: The check against the chart's own source at a tag (required for the built-in
    #: catalog, see tests/test_catalog_lint.py).
    checked: Checked | None = None
    #: For each fact, the URLs (at ``checked.tag``) that show it.
    evidence: dict[Fact, tuple[str, ...]] = msgspec.field(default_factory=dict)
    #: For an operator: the resource that runs the workload, requested separately.
    instance: Instance | None = None
    #: For an archived project: the maintained alternative, named in a REVIEW note.
    archived: str | None = None
