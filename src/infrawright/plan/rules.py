"""The default planner: understands requests by rules and the chart catalog, offline.

It never asks: every choice it makes on the user's behalf becomes a REVIEW note on the
operation. A request it cannot map to an operation raises :class:`NotUnderstoodError`, which
says what was understood and gives example phrasings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec
from msgspec import structs

from infrawright.catalog import Catalog, CatalogEntry
from infrawright.errors import InfrawrightError
from infrawright.plan.charturl import chart_in_text
from infrawright.plan.coverage import refuse_unaccounted
from infrawright.plan.facts import RepoFacts
from infrawright.plan.instances import instance_ops, wants_instance
from infrawright.plan.intents import PARSERS, POLICY
from infrawright.plan.matching import NotUnderstoodError, does_already, match_catalog, match_how
from infrawright.plan.model import (
    DNS_LABEL,
    AddHelmComponent,
    AddInstance,
    AddNetworkPolicy,
    AddPlainComponent,
    ChartRef,
    Operation,
    Plan,
    SetChartVersion,
    SetValues,
)
from infrawright.plan.products import (
    GENERIC,
    mentions,
    refuse_unknown_product,
    split_products,
)
from infrawright.plan.slots import (
    RETENTION_KEYS,
    Duration,
    Slots,
    read_slots,
    refuse_unknown_markers,
)

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

    The slots (namespace, clusters, monitoring on/off, values in words) are read first and
    a meaning-changing word outside them refuses the request; a list of products becomes
    one operation per product, in the order given. Requests about existing components
    (versions, values, removal, monitoring, network policy, ordering) are tried before new
    components from the catalog or --chart.
    """
    text = " ".join(request.split())
    if not text:
        raise NotUnderstoodError("the request is empty", hint=_examples())
    facts = facts or RepoFacts()
    slots = read_slots(text, facts.clusters, _product_words(catalog, facts))
    refuse_unknown_markers(text, slots)
    rest = slots.rest
    if slots.namespace and POLICY.search(rest.lower()) and " allow " not in f" {rest.lower()} ":
        rest = f"{rest} for {slots.namespace} namespace"
    notes: list[str] = []
    ops: list[Operation] = []
    named = chart_in_text(rest) if chart is None else None
    if named is not None:  # the chart's address in the request: --chart in words
        chart = ChartOption(named.repository, named.chart, named.version)
        op = _custom_chart(named.rest, chart, match_catalog(catalog, named.chart))
        if named.name != op.component:
            op = structs.replace(op, component=named.name, namespace=named.name)
        ops = [op]
    elif chart is not None:
        ops = [_custom_chart(rest, chart, match_catalog(catalog, rest))]
    elif slots.retention is not None and not _meaningful(rest):
        ops = [_retention_op(text, slots.retention, catalog, facts, None)]
    else:
        subs = split_products(rest, catalog, facts)
        for sub in subs:
            plan = _plan_one(sub, catalog, facts)
            ops += [op for op in plan.ops if op not in ops]
            notes += [n for n in plan.notes if n not in notes]
        versions = [op for op in ops if isinstance(op, SetChartVersion)]
        if len(subs) > 1 and len(versions) > 1:
            raise NotUnderstoodError(
                f"request {text!r}: one version for {len(versions)} charts "
                f"({', '.join(op.component for op in versions)}); each chart has versions of "
                "its own",
                hint=f'one request per chart: "upgrade {versions[0].component} to '
                f'{versions[0].version}"',
            )
        if slots.retention is not None:
            ops = _with_retention(text, ops, slots.retention, catalog, facts)
    ops = [_apply_slots(text, op, slots, facts) for op in ops]
    refuse_uncovered(text, rest, ops, catalog, facts)
    if slots.replicas:
        ops = [_replicas(text, op, slots.replicas, facts) for op in ops]
    if slots.clusters:
        notes.append(f"for cluster(s) {', '.join(slots.clusters)}, as the request says")
    return Plan(request=text, ops=tuple(ops), notes=tuple(notes), clusters=slots.clusters)


def refuse_uncovered(
    text: str, rest: str, ops: list[Operation], catalog: Catalog, facts: RepoFacts
) -> None:
    """Every product the request names is in the plan: "install metallb and remove kong"
    is not "remove kong" (one request may hold one kind of change only)."""
    said: set[str] = set()
    for op in ops:
        said |= set(_strings(msgspec.to_builtins(op)))
    for m in mentions(rest, catalog, facts):
        phrase = rest[m.start : m.end].lower()
        entry = catalog.get(m.name)
        if phrase in GENERIC or (entry is not None and not _names_product(phrase, entry)):
            continue  # "operator", "a database": words that describe, not name
        running = facts.by_catalog(m.name) if entry is not None else None
        names = {m.name, *([running.name] if running else [])}
        if entry is not None and entry.instance is not None:
            names.add(entry.instance.kind)
        if names & said or any(m.name in s for s in said):
            continue
        understood = "; ".join(f"{op.op} {getattr(op, 'component', '')}".strip() for op in ops)
        raise NotUnderstoodError(
            f"request {text!r}: it names {m.name}, which the plan ({understood or 'nothing'}) "
            "does not cover; nothing is planned rather than leaving it out",
            hint="one kind of change per request: make them one after another",
        )


def _names_product(phrase: str, entry: CatalogEntry) -> bool:
    """Is ``phrase`` a name of ``entry`` (its name, its chart's, or an alias made of
    those: "cnpg" no, "cloudnative-pg" yes) rather than a description ("database")?"""
    parts = {entry.name, *entry.name.split("-")}
    if entry.chart is not None:
        parts |= {entry.chart.name, *entry.chart.name.split("-")}
    words = re.findall(r"[a-z0-9]+", phrase)
    return phrase in parts or phrase.replace(" ", "-") in parts or any(w in parts for w in words)


def _strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list | tuple):
        return [s for v in data for s in _strings(v)]
    return []


#: Categories whose entries do one job a cluster has once: a second ingress or gateway
#: controller, CNI, service mesh or admission policy engine is not what "we need an
#: ingress controller" asks for when one runs.
ROLES = frozenset({"ingress", "cni", "service-mesh", "policy"})


def same_role(text: str, entry: CatalogEntry, catalog: Catalog, facts: RepoFacts) -> Plan | None:
    """A request that describes what it wants ("an ingress controller") rather than
    naming a product does not get a second one of those: when a component runs a catalog
    entry that does what the words describe (kong: "kong ingress controller"), or one of
    the same role (:data:`ROLES`: envoy-gateway is an ingress controller too), the plan
    is that component, which exists (nothing to do), and a note says why."""
    how = match_how(catalog, text)
    phrase = how[1] if how is not None and how[0] is entry else None
    if phrase is None:
        return None

    def does(other: CatalogEntry | None) -> bool:
        if other is None or other is entry or other.chart is None:
            return False
        return does_already(other, phrase) or (
            other.category == entry.category and entry.category in ROLES
        )

    for comp in sorted(facts.components.values(), key=lambda c: c.name):
        other = catalog.get(comp.catalog) if comp.catalog else None
        if other is None or not does(other):
            continue
        note = (
            f"the request asks for {phrase!r}: component {comp.name} runs {other.name}, which "
            f'is one, so nothing is installed; to add {entry.name} beside it, say "install '
            f'{entry.name}"'
        )
        op = structs.replace(helm_op(other), component=comp.name, review=(note,))
        return Plan(request=text, ops=(op,), notes=(note,))
    for name, where in sorted(facts.elsewhere.items()):
        if does(catalog.get(name)):
            raise InfrawrightError(
                f"request {text!r}: asks for {phrase!r}, and {name} runs here ({where}), which "
                "is one; nothing installed",
                hint=f'to add {entry.name} beside it, name it: "install {entry.name}"',
            )
    return None


#: Words that ask for one more copy of what runs already.
_SECOND = re.compile(r"\b(?:another|second|extra|additional|one more|2nd)\b")


def _plan_one(text: str, catalog: Catalog, facts: RepoFacts) -> Plan:
    """One operation (or an operator and its instance) for a request naming one product."""
    entry = match_catalog(catalog, text)
    for parse in PARSERS:
        try:
            ops = parse(text, catalog, facts)
        except ValueError as error:  # an operation the Plan's own checks refuse
            raise NotUnderstoodError(
                f"request {text!r}: {error}",
                hint="name components by their folder names, or write the plan yourself "
                "(`infrawright plan-schema`)",
            ) from error
        if ops:
            return Plan(request=text, ops=ops)
    refuse_unknown_product(text, catalog, facts)
    if entry is not None and entry.chart is not None:
        running = facts.by_catalog(entry.name)
        refuse_unaccounted(text, entry, running.name if running else None)
        fulfilled = same_role(text, entry, catalog, facts) if running is None else None
        if fulfilled is not None:
            return fulfilled
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
        if running is not None and _SECOND.search(text.lower()):
            raise InfrawrightError(
                f"request {text!r}: {entry.name} runs here already (component "
                f"{running.name}); infrawright never installs a second copy of it",
                hint=f'to change it, ask for the change ("set {running.name} <key> to '
                f'<value>"), or edit its component {running.name}',
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


_FILLER = frozenset(
    [
        "please",
        "could",
        "can",
        "would",
        "you",
        "we",
        "i",
        "also",
        "and",
        "then",
        "too",
        "thanks",
        "thank",
        "the",
        "our",
        "a",
        "an",
        "just",
        "kindly",
        "ok",
        "okay",
        "want",
        "wants",
        "like",
        "i'd",
        "to",
        "have",
        "need",
    ]
)


def _meaningful(rest: str) -> bool:
    """Does what is left of a request, once its slots are out, ask for anything?"""
    return any(w not in _FILLER for w in re.findall(r"[a-z0-9'-]+", rest.lower()))


def _product_words(catalog: Catalog, facts: RepoFacts) -> set[str]:
    words = {n.lower() for n in facts.components}
    for entry in catalog.entries.values():
        words.add(entry.name)
        words |= {a.lower() for a in entry.aliases if " " not in a}
    return words


def _retention_op(
    text: str, retention: Duration, catalog: Catalog, facts: RepoFacts, comp: str | None
) -> SetValues:
    """SetValues of the retention key of the chart that keeps metrics."""
    hits = [
        (c, RETENTION_KEYS[c.catalog])
        for c in facts.components.values()
        if c.catalog in RETENTION_KEYS and (comp is None or c.name == comp)
    ]
    if not hits:
        raise NotUnderstoodError(
            f"request {text!r}: understood as how long metrics are kept ({retention.value}), "
            f"but no component runs a chart whose retention infrawright knows "
            f"({', '.join(sorted(RETENTION_KEYS))})",
            hint='install one first ("install kube-prometheus-stack"), or name the key: '
            '"set COMPONENT KEY to 14d"',
        )
    if len(hits) > 1:
        raise NotUnderstoodError(
            f"request {text!r}: several components keep metrics "
            f"({', '.join(sorted(c.name for c, _ in hits))})",
            hint="name the component the retention is for",
        )
    component, key = hits[0]
    review = (f"{key} = {retention.value}, from the request's words",)
    return SetValues(
        component=component.name,
        values={key: retention.value},
        review=review + ((retention.note,) if retention.note else ()),
    )


def _with_retention(
    text: str, ops: list[Operation], retention: Duration, catalog: Catalog, facts: RepoFacts
) -> list[Operation]:
    """Retention in words on top of other operations: into a new chart's values when the
    request installs the chart that keeps metrics, else a values change of its own."""
    out: list[Operation] = []
    merged = False
    for op in ops:
        if isinstance(op, AddHelmComponent) and op.catalog in RETENTION_KEYS:
            key = RETENTION_KEYS[op.catalog]
            op = structs.replace(
                op,
                values={**op.values, key: retention.value},
                review=(*op.review, f"{key} = {retention.value}, from the request's words"),
            )
            merged = True
        out.append(op)
    if not merged:
        out.append(_retention_op(text, retention, catalog, facts, None))
    return out


def _replicas(
    text: str, op: Operation, replicas: tuple[tuple[str, int], ...], facts: RepoFacts
) -> Operation:
    """Replicas per cluster, into the new component's per-cluster values: the key the
    repository's other components set (``replicaCount``), named in a REVIEW note."""
    if not isinstance(op, AddHelmComponent) or op.component in facts.components:
        raise NotUnderstoodError(
            f"request {text!r}: replicas per cluster apply to a new chart only",
            hint="set a value of an existing component in one request per cluster",
        )
    key = "replicaCount"
    users = sorted(c.name for c in facts.components.values() if key in c.values)
    seen = f"the key {', '.join(users)} set here" if users else "the key most charts use"
    note = (
        f"{key} per cluster ({', '.join(f'{c}: {n}' for c, n in replicas)}): {seen}; "
        "check the chart's values"
    )
    values = {cluster: {key: n} for cluster, n in replicas}
    return structs.replace(op, cluster_values=values, review=(*op.review, note))


def _apply_slots(text: str, op: Operation, slots: Slots, facts: RepoFacts) -> Operation:
    """The namespace and monitoring slots on one operation; refused where they do not fit
    (fail closed: a qualifier is never dropped)."""
    if slots.namespace is not None:
        op = _namespace(text, op, slots.namespace, facts)
    if slots.monitoring is not None:
        if isinstance(op, AddHelmComponent) and op.component not in facts.components:
            if not slots.monitoring:
                op = structs.replace(
                    op,
                    monitoring=False,
                    review=(
                        *op.review,
                        f"no {op.component}-monitoring: the request asked for none",
                    ),
                )
        elif isinstance(op, AddHelmComponent | AddInstance) and op.component in facts.components:
            if not slots.monitoring:  # "disable monitoring for kong": not a no-op
                raise NotUnderstoodError(
                    f"request {text!r}: {op.component} runs already, and switching its "
                    "monitoring off is not what an install does; nothing is planned",
                    hint=f'to remove its monitoring, say "remove the monitoring of {op.component}"',
                )
        elif isinstance(op, AddHelmComponent | AddInstance) or slots.monitoring:
            pass  # the operator's own monitoring is the helm op's; "with monitoring": default
        else:
            raise NotUnderstoodError(
                f"request {text!r}: monitoring switched off does not apply to {op.op} of "
                f"{op.component or 'every component'}",
                hint="leave out the monitoring words, or ask for a new chart without monitoring",
            )
    return op


def _namespace(text: str, op: Operation, namespace: str, facts: RepoFacts) -> Operation:
    if not DNS_LABEL.match(namespace):
        raise NotUnderstoodError(
            f"request {text!r}: {namespace!r} is not a valid namespace name",
            hint="a namespace is a DNS label: lowercase letters, digits and '-'",
        )
    new = isinstance(op, AddHelmComponent | AddPlainComponent | AddInstance) and (
        op.component not in facts.components
    )
    if new and isinstance(op, AddHelmComponent | AddPlainComponent | AddInstance):
        if op.namespace == namespace:
            return op
        note = f"namespace {namespace} taken from the request (the default was {op.namespace})"
        return structs.replace(op, namespace=namespace, review=(*op.review, note))
    component = op.component
    existing = facts.components.get(component) if component else None
    actual = (existing.namespace or existing.name) if existing else None
    if isinstance(op, AddNetworkPolicy):
        actual = op.namespace
    if actual != namespace:
        raise NotUnderstoodError(
            f"request {text!r}: namespace {namespace} given, but {op.op} concerns "
            f"{component or 'every component'}"
            + (f", which runs in namespace {actual}" if actual else ""),
            hint="leave the namespace out, or name the component that runs in it",
        )
    return op


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
