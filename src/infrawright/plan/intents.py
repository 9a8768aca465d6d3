"""Requests about components that already exist: versions, values, removal, monitoring,
network policy and ordering fixes. Each parser returns operations or None (not mine).

The parsers are tried in a fixed order, most specific first, so "allow monitoring to
scrape ingress-nginx" is a network policy and "fix ordering for monitoring" an ordering fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from infrawright.catalog import Catalog
from infrawright.catalog.schema import Alert
from infrawright.errors import InfrawrightError
from infrawright.plan.facts import Component, RepoFacts
from infrawright.plan.matching import NotUnderstoodError, match_catalog
from infrawright.plan.model import (
    DNS_LABEL,
    AddMonitoring,
    AddNetworkPolicy,
    AlertChoice,
    FixOrdering,
    Operation,
    RemoveComponent,
    Repair,
    SetChartVersion,
    SetValues,
)
from infrawright.plan.slots import DURATION, duration, words_to_numbers

Parser = Callable[[str, Catalog, RepoFacts], tuple[Operation, ...] | None]

_VERSION = re.compile(r"\bv?\d+\.\d+(?:\.\d+)?(?:[-+][0-9a-z.-]+)?\b", re.IGNORECASE)
#: A range a HelmRelease can ask for: ``1.20.x``, ``1.x``, ``^1.2``, ``~1.2.3``,
#: ``>=1.2.0 <2.0.0`` (Masterminds/semver, as Flux reads them).
_RANGE = re.compile(
    r"(?<![\w.])(?:v?\d+(?:\.\d+)?\.[x*]|[~^]v?\d+(?:\.\d+){0,2}|"
    r">=?\s*v?\d+(?:\.\d+){0,2}(?:\s*,?\s*<=?\s*v?\d+(?:\.\d+){0,2})?)(?![\w.])",
    re.IGNORECASE,
)
_REMOVE = re.compile(
    r"\b(?:remove|delete|uninstall|decommission|drop|get rid of|tear down|purge)\b"
)
_BUMP = re.compile(
    r"\b(?:bump|upgrade|update|downgrade|move|pin|lock|roll\s+back|rollback)\b|\bversion\b"
)
#: "pin X to 1.2.3", "lock X at 1.2.3", "exactly 1.2.3", "=1.2.3": that version, not a
#: range that admits it.
_PIN = re.compile(r"\b(?:pin|pinned|lock|locked|exactly|exact)\b|(?<![<>=!])=\s*v?\d")
_SET = re.compile(
    r"\b(?:set|change|make|configure|increase|decrease|raise|lower)\b\s+(?P<what>.+?)"
    r"\s+(?:to|=|at)\s+(?P<value>\S+)",
    re.IGNORECASE,
)
_ORDER = re.compile(
    r"\b(?:order|ordering|dependson|depends on|dependencies|dependency)\b"
    r"|\bdepend on\b.*\binstall"
)
_FIX = re.compile(r"\b(?:fix|repair|correct|make sure|ensure|sort out|clean up)\b")
POLICY = re.compile(
    r"\b(?:ciliumnetworkpolicy|cilium network policy|network ?polic(?:y|ies)|cnp|netpol)\b"
    r"|\ballow\b.+\b(?:to|into)\b"
    r"|\b(?:let|permit)\s+(?:the\s+)?[a-z0-9-]+\s+(?:pods\s+)?(?:to\s+)?"
    r"(?:talk\s+to|connect\s+to|reach|access)\b"
)
_MONITOR = re.compile(
    r"\b(?:monitor|monitoring|alert|alerts|alerting|scrape|scraping|servicemonitor|"
    r"prometheusrule|metrics|notify|page me)\b"
)
_UNITS: dict[str, str] = {
    "days": r"(\d+)\s*(?:days?|d)\b",
    "hours": r"(\d+)\s*(?:hours?|h)\b",
    "minutes": r"(\d+)\s*(?:minutes?|mins?|m)\b",
    "percent": r"(\d+(?:\.\d+)?)\s*(?:%|percent)",
}


def mentioned(text: str, catalog: Catalog, facts: RepoFacts) -> Component | None:
    """The existing component a request talks about: by name, else by what it installs."""
    low = f" {text.lower()} "
    for name in sorted(facts.components, key=len, reverse=True):
        if re.search(rf"(?<![a-z0-9-]){re.escape(name)}(?![a-z0-9-])", low):
            return facts.components[name]
    entry = match_catalog(catalog, text)
    if entry is not None:
        return facts.by_catalog(entry.name)
    return None


def _need_component(text: str, catalog: Catalog, facts: RepoFacts, what: str) -> Component:
    found = mentioned(text, catalog, facts)
    if found is None:
        entry = match_catalog(catalog, text)
        where = facts.running_elsewhere(entry.name) if entry is not None else None
        if entry is None:
            detail = "no existing component is named in it"
        elif where is not None:
            detail = (
                f"{entry.name} runs here from {where}, outside the components folder "
                f"{facts.components_dir}/, which is the only place infrawright edits (set "
                "components_dir in .infrawright.toml, or edit that file)"
            )
        else:
            detail = (
                f"{entry.name} is not installed in this repository (install it first: "
                f'"install {entry.name}")'
            )
        raise NotUnderstoodError(
            f"request understood as {what}, but {detail}",
            hint="name the component as its folder is called; `infrawright graph` lists them",
        )
    return found


def parse_removal(text: str, catalog: Catalog, facts: RepoFacts) -> tuple[Operation, ...] | None:
    low = text.lower()
    if not _REMOVE.search(low) or POLICY.search(low):
        return None
    found = mentioned(text, catalog, facts)
    if found is None:
        entry = match_catalog(catalog, text)
        where = facts.running_elsewhere(entry.name) if entry else None
        if entry is not None and where is not None:  # it runs, only not as a component
            raise NotUnderstoodError(
                f"request understood as removing {entry.name}, but it runs here from "
                f"{where}, outside the components folder {facts.components_dir}/, which is "
                "the only place infrawright removes components from",
                hint=f"remove it by hand: {where} and the entry that lists it",
            )
        name = entry.name if entry else _first_label_after(low, _REMOVE)
        if name is None:
            return None
        # Already gone: the engine reports a no-op.
        return (RemoveComponent(component=name),)
    return (RemoveComponent(component=found.name),)


_UNMONITOR = re.compile(
    r"\b(?:stop|disable|remove|delete|drop|turn\s+off|switch\s+off|no\s+longer|uninstall|"
    r"get\s+rid\s+of)\b"
)
_MONITOR_WORDS = re.compile(
    r"\b(?:monitoring|monitor|monitored|metrics|scraping|scrape|scraped|alerts?|alerting)\b"
)


def parse_unmonitor(text: str, catalog: Catalog, facts: RepoFacts) -> tuple[Operation, ...] | None:
    """ "stop scraping kong", "disable monitoring for kong", "remove kong's monitoring":
    the component's ``<c>-monitoring`` component goes, not the component called
    monitoring nor nothing at all."""
    low = text.lower()
    if not _UNMONITOR.search(low) or not _MONITOR.search(_without_product_names(low, catalog)):
        return None
    subject = mentioned(_MONITOR_WORDS.sub(" ", low), catalog, facts)
    if subject is None:
        return None  # "remove monitoring": the component of that name, as parse_removal reads it
    target = subject.name if subject.name.endswith("-monitoring") else f"{subject.name}-monitoring"
    if target not in facts.components:
        raise NotUnderstoodError(
            f"request {text!r}: understood as removing the monitoring of {subject.name}, but "
            f"there is no component {target} to remove",
            hint=f"its monitors live elsewhere: remove them by hand, or remove {subject.name} "
            f'("remove {subject.name}")',
        )
    return (
        RemoveComponent(
            component=target,
            review=(f"{target} removed: its ServiceMonitor/PodMonitor and alerts go together",),
        ),
    )


def parse_version(text: str, catalog: Catalog, facts: RepoFacts) -> tuple[Operation, ...] | None:
    low = text.lower()
    if not _BUMP.search(low):
        return None
    ranged = _RANGE.search(text)
    versions = _VERSION.findall(text)
    latest = re.search(r"\blatest\b|\bnewest\b", low)
    if not versions and not latest and not ranged:
        return None
    found = _need_component(text, catalog, facts, "a chart version change")
    if ranged:
        wanted = " ".join(ranged.group(0).split())
        note = f"range {wanted} written as asked: Flux installs the newest version it admits"
        return (SetChartVersion(component=found.name, version=wanted, exact=True, review=(note,)),)
    if versions:
        version = versions[-1]
        version = "v" + version[1:] if version[:1] == "V" else version
        review: tuple[str, ...] = ()
    else:
        entry = catalog.get(found.catalog) if found.catalog else None
        if entry is None or entry.chart is None:
            raise InfrawrightError(
                f"{found.name}: no catalog entry knows its newest version",
                hint=f'give the version: "upgrade {found.name} to X.Y.Z"',
            )
        version = entry.chart.version
        review = (f"newest version the catalog knows for {entry.name}: {version}",)
    if found.version and found.version.startswith("v") and not version.startswith("v"):
        version = "v" + version
    exact = bool(_PIN.search(low)) and bool(versions)
    return (SetChartVersion(component=found.name, version=version, review=review, exact=exact),)


def parse_values(text: str, catalog: Catalog, facts: RepoFacts) -> tuple[Operation, ...] | None:
    match = _SET.search(text)
    if not match:
        return None
    found = _need_component(text, catalog, facts, "a values change")
    what, raw = match.group("what"), match.group("value").rstrip(".,;")
    spoken = DURATION.match(text[match.start("value") :])
    if spoken and not re.fullmatch(r"\d+[a-z]", raw, re.IGNORECASE):
        raw = duration(spoken).value
    elif re.fullmatch(r"\d+(?:ms|[smhdwy])", raw, re.IGNORECASE):
        raw = raw.lower()  # a duration: Prometheus reads only lower-case units
    what = _without_name(what, found.name)
    path = _values_path(what, found)
    if path is None and _KEY.fullmatch(what.strip()):
        # A key named outright that the release does not set yet ("replicaCount"); the
        # renderer's REVIEW note says it was not set before.
        path = what.strip()
    if path is None:
        raise InfrawrightError(
            f"{found.name}: no key in its HelmRelease values matches {what!r}",
            hint=f'name the key as a dotted path: "set {found.name} '
            f'prometheus.prometheusSpec.retention to 15d"',
        )
    return (SetValues(component=found.name, values={path: _scalar(raw)}),)


#: A values key named outright: camelCase or with an underscore ("replicaCount").
_KEY = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][A-Za-z0-9]*|_[A-Za-z0-9_]+)+")


def _without_name(what: str, name: str) -> str:
    """The words of a values change without the component's own name ("kong
    replicaCount" -> "replicaCount"; "kong's replicaCount" too)."""
    kept = [w for w in what.split() if w.lower().removesuffix("'s") != name.lower()]
    return " ".join(kept) or what


_REPAIR = re.compile(
    r"\b(?:fix|repair|clean\s+up|sort\s+out)\s+(?:what(?:'s|\s+is)\s+(?:broken|wrong)|"
    r"everything|it\s+all|all(?:\s+the)?(?:\s+(?:findings|problems|errors|issues))?|"
    r"the\s+(?:findings|problems|errors|issues|repo|repository|manifests))\b"
    r"|\bmake\s+(?:the\s+)?(?:manifests|repo|repository|it)\s+(?:valid|pass|green|clean)\b",
)


def parse_repair(text: str, catalog: Catalog, facts: RepoFacts) -> tuple[Operation, ...] | None:
    """ "Fix what's broken", "make the manifests valid": every mechanical fix at once."""
    low = text.lower()
    if not _REPAIR.search(low):
        return None
    scoped = mentioned(_REPAIR.sub(" ", low), catalog, facts)
    return (Repair(component=scoped.name if scoped else None),)


def parse_ordering(text: str, catalog: Catalog, facts: RepoFacts) -> tuple[Operation, ...] | None:
    low = text.lower()
    if not (_ORDER.search(low) and (_FIX.search(low) or "bootstrap" in low)):
        return None
    scoped = mentioned(text, catalog, facts)
    every = re.search(r"\b(?:every|all|each|any)\b", low)
    component = None if every or scoped is None else scoped.name
    return (FixOrdering(component=component),)


#: "allow ingress from kong to postgres", "allow traffic from kong into postgres".
_ALLOW_FROM = re.compile(
    r"\ballow\s+(?:(?:ingress|traffic|connections?|access|requests)\s+)?from\s+(?:the\s+)?"
    r"(?P<src>[a-z0-9-]+)\s+(?:to|into)\s+(?:the\s+)?(?P<dst>[a-z0-9-]+)"
)
#: "allow kong to reach the postgres database", "let kong talk to postgres".
_ALLOW_TO = re.compile(
    r"\b(?:allow|let|permit)\s+(?:the\s+)?(?P<src>[a-z0-9-]+)\s+(?:pods\s+)?(?:to\s+)?"
    r"(?:(?:reach|access|call|query|scrape|talk\s+to|connect\s+to|send\s+(?:traffic\s+)?to)\s+)?"
    r"(?:the\s+)?(?P<dst>[a-z0-9-]+)"
)
#: "on port 5432", "ports 80 and 443".
_PORTS = re.compile(r"\bports?\s+((?:\d{1,5}\b(?:\s*(?:,|and|&)\s*)?)+)")


def _policy_party(name: str, catalog: Catalog, facts: RepoFacts) -> Component | None:
    """The component a policy request names: by name or what it installs, else the one
    component in namespace ``name`` (a Flux Kustomization known as ``name/<ks>``)."""
    found = facts.components.get(name) or mentioned(name, catalog, facts)
    if found is None:
        owners = [c for c in facts.components.values() if _namespace_of(c) == name]
        if len(owners) > 1:
            raise NotUnderstoodError(
                f"namespace {name} belongs to several components: "
                f"{', '.join(sorted(c.name for c in owners))}",
                hint="name the component the policy is for",
            )
        found = owners[0] if owners else None
    return found


def _policy_folder(name: str, component: Component, facts: RepoFacts) -> None:
    """Refuse a policy into a component that has no folder of its own (a Flux
    Kustomization known as ``namespace/name``)."""
    if "/" in component.name:
        raise NotUnderstoodError(
            f"{name} is deployed by the Flux Kustomization {component.name}, not from a "
            "component folder; infrawright writes network policies into component folders "
            f"({facts.components_dir}/<component>/)",
            hint="add the CiliumNetworkPolicy to that Kustomization's folder yourself, or "
            "set components_dir in .infrawright.toml to where this repository keeps them",
        )


def _namespace_of(component: Component) -> str:
    """The namespace a component's pods run in: its own, else the first part of a
    ``namespace/name`` label, else its name."""
    return component.namespace or component.name.split("/", 1)[0]


def parse_policy(text: str, catalog: Catalog, facts: RepoFacts) -> tuple[Operation, ...] | None:
    low = text.lower()
    if not POLICY.search(low):
        return None
    allow = _ALLOW_FROM.search(low) or _ALLOW_TO.search(low)
    if allow:
        src_name, dst_name = allow.group("src"), allow.group("dst")
        dst = _policy_party(dst_name, catalog, facts)
        where = facts.outside.get(dst_name)
        if dst is None and where is not None:
            raise NotUnderstoodError(
                f"request understood as a network policy into {dst_name}, which runs here "
                f"from {where}, outside the components folder {facts.components_dir}/; "
                "infrawright adds network policies only to component folders",
                hint="add the CiliumNetworkPolicy beside that file yourself, or set "
                "components_dir in .infrawright.toml",
            )
        if dst is None:
            raise NotUnderstoodError(
                f"request understood as a network policy, but {dst_name} is not a component "
                "of this repository",
                hint="name the component the traffic goes to as its folder is called",
            )
        _policy_folder(dst_name, dst, facts)
        src = _policy_party(src_name, catalog, facts)
        src_ns = _namespace_of(src) if src else src_name
        ports: tuple[int | str, ...] = ()
        entry = catalog.get(dst.catalog) if dst.catalog else None
        scrape = re.search(r"\bscrap", low) is not None
        if scrape and entry is not None and entry.metrics is not None:
            ports = (entry.metrics.port,)
        listed = _PORTS.search(low)
        asked = [int(n) for n in re.findall(r"\d+", listed.group(1))] if listed else []
        if asked:
            ports = tuple(asked)
        review: tuple[str, ...] = (
            f"{src_ns} pods may reach {dst.name} on "
            f"{', '.join(map(str, ports)) if ports else 'every port'}",
        )
        if scrape and not ports:
            review += (f"the metrics port of {dst.name} is not in the catalog: add it",)
        return (
            AddNetworkPolicy(
                component=dst.name,
                namespace=dst.namespace or dst.name,
                name=f"allow-{src_name}" + ("-scrape" if scrape else ""),
                allow_from_namespaces=(src_ns,),
                ports=ports,
                review=review,
            ),
        )
    # The policy words are the intent, not a component (one may be called "network").
    found = mentioned(POLICY.sub(" ", low), catalog, facts)
    name = found.name if found else _namespace_named(low)
    if name is None:
        return None
    if found is None:  # a namespace: the policy goes into the component that owns it
        found = _policy_party(name, catalog, facts)
    if found is not None:
        _policy_folder(found.name, found, facts)
    namespace = (found.namespace or found.name) if found else name
    name = found.name if found else name
    return (
        AddNetworkPolicy(
            component=name,
            namespace=namespace,
            name="default",
            allow_from_namespaces=(namespace,),
            review=(
                f"default policy for {namespace}: traffic inside the namespace, DNS and the "
                "API server are allowed; add rules for what else it talks to",
            ),
        ),
    )


def parse_monitoring(text: str, catalog: Catalog, facts: RepoFacts) -> tuple[Operation, ...] | None:
    low = text.lower()
    if not _MONITOR.search(_without_product_names(low, catalog)):
        return None  # "metrics-server" names a chart, not monitoring
    # "monitoring" is the intent here, not the component of that name.
    subject_text = re.sub(r"\b(?:monitoring|monitor|metrics|alerts?|alerting)\b", " ", low)
    found = mentioned(subject_text, catalog, facts) or _by_alert_words(low, catalog, facts)
    if found is None:
        found = _need_component(subject_text, catalog, facts, "monitoring for a component")
    entry = catalog.get(found.catalog) if found.catalog else None
    alerts = entry.metrics.alerts if entry is not None and entry.metrics is not None else ()
    picked = [a for a in alerts if any(_has_word(low, k) for k in a.keywords)]
    wants_alert = picked or re.search(
        r"\balert|\bnotify|\bpage me|\bprometheusrule|\bwhen\b|\bwhenever\b", low
    )
    chosen: list[AlertChoice] = []
    review: list[str] = []
    condition = _CONDITION.search(low)
    if wants_alert and not picked and alerts and condition:
        # "alert when it is down": a condition no catalog alert is about is not "every
        # alert"; name what is known instead.
        known = "; ".join(f"{a.name} ({', '.join(a.keywords[:3])})" for a in alerts)
        raise NotUnderstoodError(
            f"request {text!r}: no alert of {found.name} in the catalog is about "
            f"{condition.group(0).strip()!r}; nothing is planned",
            hint=f"the catalog's alerts for {found.name}: {known}; name one of them, or add "
            "the alert to its catalog entry (metrics.alerts in .infrawright.toml)",
        )
    if wants_alert:
        if not picked and alerts:
            picked = list(alerts)
            review.append(
                f"no alert of {found.name} named in the request: every catalog alert chosen "
                f"({', '.join(a.name for a in picked)})"
            )
        chosen = [AlertChoice(name=a.name, params=_params(low, a)) for a in picked]
        for alert, choice in zip(picked, chosen, strict=True):
            for param, default in alert.params.items():
                if param not in choice.params:
                    review.append(
                        f"{alert.name}: {param} = {default}, the catalog default (the request "
                        "gives no value)"
                    )
        if not alerts:
            raise InfrawrightError(
                f"{found.name}: the catalog knows no alert for it"
                + ("" if entry else " (its chart is not in the catalog)"),
                hint="add alerts under metrics.alerts of its catalog entry in .infrawright.toml",
            )
    return (AddMonitoring(component=found.name, alerts=tuple(chosen), review=tuple(review)),)


#: What an alert should fire on, in the request's words ("when it is down").
_CONDITION = re.compile(r"\b(?:when|whenever|if|once|as\s+soon\s+as)\b\s+[^,.;]*[a-z][^,.;]*")


PARSERS: tuple[Parser, ...] = (
    parse_unmonitor,
    parse_removal,
    parse_repair,
    parse_ordering,
    parse_policy,
    parse_version,
    parse_values,
    parse_monitoring,
)


def _without_product_names(low: str, catalog: Catalog) -> str:
    """``low`` with the catalog's hyphenated names taken out (``metrics-server``,
    ``kube-prometheus-stack``): words of a name are not words of the request."""
    names = {
        n.lower()
        for e in catalog.entries.values()
        for n in (e.name, *e.aliases, *([e.chart.name] if e.chart else []))
        if "-" in n
    }
    for name in sorted(names, key=len, reverse=True):
        low = re.sub(rf"(?<![a-z0-9-]){re.escape(name)}(?![a-z0-9-])", " ", low)
    return low


def _by_alert_words(low: str, catalog: Catalog, facts: RepoFacts) -> Component | None:
    """The installed component one of whose catalog alerts the request describes
    ("page me if a TLS certificate expires" -> cert-manager), when exactly one fits."""
    words = set(re.findall(r"[a-z]+", low))
    scores: list[tuple[int, str]] = []
    for comp in facts.components.values():
        entry = catalog.get(comp.catalog) if comp.catalog else None
        if entry is None or entry.metrics is None:
            continue
        best = 0
        for alert in entry.metrics.alerts:
            named = {w.lower() for w in re.findall(r"[A-Z][a-z]+", alert.name)}
            keyed = {k for k in alert.keywords if _has_word(low, k)}
            best = max(best, len(words & named) + len(keyed))
        if best >= 2:
            scores.append((best, comp.name))
    scores.sort(reverse=True)
    if not scores or (len(scores) > 1 and scores[0][0] == scores[1][0]):
        return None
    return facts.components[scores[0][1]]


def _has_word(low: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}", low) is not None


def _params(low: str, alert: Alert) -> dict[str, int | float | str]:
    low = words_to_numbers(low)
    out: dict[str, int | float | str] = {}
    for name, default in alert.params.items():
        pattern = _UNITS.get(name)
        if pattern is None or isinstance(default, str):
            continue
        match = re.search(pattern, low)
        if match:
            number = float(match.group(1))
            out[name] = int(number) if number.is_integer() else number
    return out


def _values_path(what: str, comp: Component) -> str | None:
    """A dotted path under spec.values: given outright, or the existing key whose name
    matches the request's words best (the last word must match the key's last part)."""
    words: list[str] = [w for w in re.findall(r"[a-z0-9.]+", what.lower()) if w not in _FILLER]
    dotted: list[str] = [
        w for w in re.findall(r"[A-Za-z0-9_.-]+", what) if "." in w and not _VERSION.fullmatch(w)
    ]
    if dotted:
        return dotted[0].strip(".")
    leaves = list(_leaves(comp.values))
    best: tuple[int, str] | None = None
    for path in leaves:
        parts = path.lower().split(".")
        if not words or not parts[-1].startswith(words[-1].rstrip("s")):
            continue
        score = sum(1 for w in words if any(w in p for p in parts))
        if best is None or score > best[0]:
            best = (score, path)
    return str(best[1]) if best else None


_FILLER = frozenset({"the", "a", "an", "of", "for", "its", "on", "in", "value"})


def _leaves(values: Any, prefix: str = "") -> list[str]:
    if not isinstance(values, dict):
        return [prefix] if prefix else []
    out: list[str] = []
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out += _leaves(value, path) if isinstance(value, dict) else [path]
    return out


def _scalar(raw: str) -> Any:
    low = raw.lower()
    if low in ("true", "yes", "on", "enabled"):
        return True
    if low in ("false", "no", "off", "disabled"):
        return False
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw.strip("\"'")


def _first_label_after(low: str, pattern: re.Pattern[str]) -> str | None:
    match = pattern.search(low)
    if not match:
        return None
    for word in low[match.end() :].split():
        word = word.strip(".,;:'\"")
        if word in ("the", "component", "chart", "helmrelease", "app"):
            continue
        return word if DNS_LABEL.match(word) else None
    return None


def _namespace_named(low: str) -> str | None:
    match = re.search(r"\bfor\s+(?:the\s+)?([a-z0-9][a-z0-9-]*)\s+(?:namespace|component)", low)
    if not match:
        match = re.search(r"\b(?:namespace|component)\s+([a-z0-9][a-z0-9-]*)", low)
    return str(match.group(1)) if match and DNS_LABEL.match(match.group(1)) else None
