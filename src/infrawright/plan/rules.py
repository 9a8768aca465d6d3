"""The default planner: understands requests by rules and the chart catalog, offline.

It never asks: every choice it makes on the user's behalf becomes a REVIEW note on the
operation. A request it cannot map to an operation raises :class:`NotUnderstoodError`, which
says what was understood and gives example phrasings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from msgspec import structs

from infrawright.catalog import Catalog, CatalogEntry
from infrawright.errors import InfrawrightError
from infrawright.plan.facts import RepoFacts
from infrawright.plan.instances import instance_ops, wants_instance
from infrawright.plan.intents import PARSERS
from infrawright.plan.matching import NotUnderstoodError, match_catalog
from infrawright.plan.model import DNS_LABEL, AddHelmComponent, AddPlainComponent, ChartRef, Plan

__all__ = ["ChartOption", "NotUnderstoodError", "helm_op", "match_catalog", "plan_request"]

EXAMPLES = (
    '"Create HelmRelease for Redis caching"',
    '"install cert-manager"',
    '"we need metallb"',
    '"Add new component team-a with Flux Kustomization"',
    '"Add CiliumNetworkPolicy for new-service namespace"',
    '"allow monitoring to scrape ingress-nginx"',
    '"Fix bootstrap ordering for monitoring dependencies"',
    '"alert when cert-manager certificates expire within 7 days"',
    '"upgrade cert-manager to v1.19.2"',
    '"set Prometheus retention to 15d"',
    '"remove metallb"',
    '--chart https://charts.example.com/foo --version 1.2.3 "install foo" (charts not in '
    "the catalog)",
)
_PLAIN_COMPONENT = re.compile(
    r"\b(?:new\s+)?(?:component|namespace)\s+(?:called\s+|named\s+)?([a-z0-9][a-z0-9-]*)"
)


@dataclass(frozen=True)
class ChartOption:
    """``--chart REPO_URL/CHART`` or ``oci://REGISTRY/PATH/CHART`` with ``--version``."""

    repository: str
    name: str
    version: str

    @classmethod
    def parse(cls, chart: str, version: str | None) -> ChartOption:
        if not version:
            raise InfrawrightError(
                "--chart needs --version: infrawright pins every chart it writes",
                hint="look the version up with `helm search repo` or the chart's page",
            )
        if "/" not in chart or not chart.startswith(("https://", "http://", "oci://")):
            raise InfrawrightError(
                f"--chart {chart!r}: expected REPO_URL/CHART or oci://REGISTRY/PATH/CHART",
                hint="e.g. --chart https://charts.jetstack.io/cert-manager",
            )
        repository, name = chart.rstrip("/").rsplit("/", 1)
        return cls(repository, name, version)


def plan_request(
    request: str,
    catalog: Catalog,
    *,
    chart: ChartOption | None = None,
    facts: RepoFacts | None = None,
) -> Plan:
    """Map a request to a Plan, or raise :class:`NotUnderstoodError`.

    Requests about existing components (versions, values, removal, monitoring, network
    policy, ordering) are tried first; then new components from the catalog or --chart.
    """
    text = " ".join(request.split())
    if not text:
        raise NotUnderstoodError("the request is empty", hint=_examples())
    facts = facts or RepoFacts()
    entry = match_catalog(catalog, text)
    if chart is not None:
        return Plan(request=text, ops=(_custom_chart(text, chart, entry),))
    for parse in PARSERS:
        ops = parse(text, catalog, facts)
        if ops:
            return Plan(request=text, ops=ops)
    if entry is not None and entry.chart is not None and wants_instance(text, entry):
        return Plan(request=text, ops=instance_ops(text, entry, facts, helm_op(entry)))
    if entry is not None and entry.chart is not None:
        running = facts.by_catalog(entry.name)
        where = facts.running_elsewhere(entry.name)
        if running is None and where is not None:
            raise InfrawrightError(
                f"{entry.name} already runs here ({where}); nothing installed",
                hint=f"infrawright never installs a second copy; to change it, edit {where}",
            )
        if running is not None and running.name != entry.name:
            # Never a second copy of what the repository runs, whatever its folder is
            # called: the engine reports the component that runs it, and changes nothing.
            note = f"{entry.name} already runs here as component {running.name}"
            op = structs.replace(helm_op(entry), component=running.name, review=(note,))
            return Plan(request=text, ops=(op,), notes=(note,))
        return Plan(request=text, ops=(helm_op(entry),))
    plain = _PLAIN_COMPONENT.search(text.lower())
    if plain and DNS_LABEL.match(plain.group(1)):
        name = plain.group(1)
        return Plan(
            request=text,
            ops=(
                AddPlainComponent(
                    component=name,
                    namespace=name,
                    review=(
                        f"namespace {name} gets PSS level restricted until its workloads are known",
                    ),
                ),
            ),
        )
    understood = (
        f"it names {entry.name}, which is installed from plain manifests, not a chart"
        if entry is not None
        else "no chart from the catalog and no component name were found in it"
    )
    raise NotUnderstoodError(
        f"request not understood: {text!r}: {understood}",
        hint=_examples(),
    )


def helm_op(entry: CatalogEntry) -> AddHelmComponent:
    assert entry.chart is not None
    review = list(entry.review)
    if entry.instance is not None:
        review.append(
            f"{entry.name} is an operator: nothing runs until a {entry.instance.kind} "
            f"({entry.instance.group}) is created for it"
        )
    if entry.archived:
        review.append(
            f"{entry.name} is archived upstream; a maintained alternative is {entry.archived}"
        )
    return AddHelmComponent(
        component=entry.name,
        namespace=entry.namespace,
        catalog=entry.name,
        chart=ChartRef(
            name=entry.chart.name, repository=entry.chart.repository, version=entry.chart.version
        ),
        release_name=entry.release_name,
        values={**entry.crd_values, **entry.values},
        pss_level=entry.pss.level,
        pss_reason=entry.pss.reason,
        review=tuple(review),
    )


def _custom_chart(text: str, chart: ChartOption, entry: CatalogEntry | None) -> AddHelmComponent:
    if entry is not None and entry.chart is not None and entry.chart.name == chart.name:
        base = helm_op(entry)
        return structs.replace(
            base,
            chart=ChartRef(name=chart.name, repository=chart.repository, version=chart.version),
        )
    name = re.sub(r"[^a-z0-9-]", "-", chart.name.lower()).strip("-")[:63] or "component"
    return AddHelmComponent(
        component=name,
        namespace=name,
        chart=ChartRef(name=chart.name, repository=chart.repository, version=chart.version),
        pss_level="baseline",
        pss_reason="chart not in the catalog; baseline is a cautious default",
        monitoring=False,
        review=(
            f"chart {chart.name} is not in the catalog: no CRDs, webhooks or metrics are "
            "known for it; check its values and add a catalog entry in .infrawright.toml",
            f"PSS level baseline chosen without knowing what {chart.name}'s pods need",
        ),
    )


def _examples() -> str:
    return "try one of: " + "; ".join(EXAMPLES)
