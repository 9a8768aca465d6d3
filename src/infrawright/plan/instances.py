"""Requests for what an operator runs — a database, a cache, a broker — rather than the
operator itself: "Add a PostgreSQL cluster for strapi using CloudNativePG", "Create
HelmRelease for Redis caching".

Such a request becomes an ``add-instance`` operation (the operator's resource in a
component of its own, after the operator), preceded by installing the operator when the
repository does not run it yet. Only catalog entries whose instance has a known spec can
be asked for this way.
"""

from __future__ import annotations

import re

from msgspec import structs

from infrawright.catalog import CatalogEntry
from infrawright.errors import InfrawrightError
from infrawright.plan.facts import RepoFacts
from infrawright.plan.model import DNS_LABEL, AddHelmComponent, AddInstance, Operation

#: Words that ask for a running instance, not (only) the operator.
_INSTANCE_WORDS = re.compile(
    r"\b(?:cluster|instance|database|db|cache|caching|broker|queue|store|bucket|tenant|"
    r"server|for\s+[a-z0-9-]+)\b"
)
_OPERATOR_WORDS = re.compile(r"\b(?:operator|controller|crds?)\b")
_NAMED = re.compile(r"\b(?:named|called)\s+([a-z0-9][a-z0-9-]*)")
#: "for strapi", "for the shop app": who the instance is for (not "for object storage").
_FOR = re.compile(
    r"\bfor\s+(?:the\s+|my\s+|our\s+)?([a-z0-9][a-z0-9-]*)"
    r"(?=\s*(?:$|[,.;:!?]|\s+(?:using|with|via|in|on|and|app|application|service)\b))"
)


def wants_instance(text: str, entry: CatalogEntry) -> bool:
    """Does the request ask for what ``entry``'s operator runs? When it names what an
    instance serves (redis, postgresql) or an instance word (a cluster, a cache) — unless
    it asks for the operator by that word and names no instance."""
    inst = entry.instance
    if inst is None:
        return False
    low = text.lower()
    for own in sorted(_names(entry), key=len, reverse=True):  # "cloudnative-pg" is no "pg"
        if "-" in own:
            low = low.replace(own, " ")
    serves = any(re.search(rf"\b{re.escape(w)}\b", low) for w in inst.serves)
    instance_word = _INSTANCE_WORDS.search(low) is not None
    if _OPERATOR_WORDS.search(low) and not instance_word:
        return False
    wanted = serves or instance_word
    if wanted and (not inst.spec or not inst.version):
        why = " ".join(inst.notes) or "the catalog has no spec for it"
        raise InfrawrightError(
            f"the request asks for a {inst.kind} ({inst.group}) run by {entry.name}, which "
            f"infrawright cannot create yet: {why}",
            hint=f'to install only the operator, say "install {entry.name}"'
            + ("" if "operator" in entry.name else " (the operator)"),
        )
    return wanted


def instance_ops(
    text: str, entry: CatalogEntry, facts: RepoFacts, helm: AddHelmComponent
) -> tuple[Operation, ...]:
    """The operations that leave an instance of ``entry``'s resource running: the
    operator (``helm``, unless the repository runs it already) and the instance."""
    inst = entry.instance
    assert inst is not None
    low = text.lower()
    name = _instance_name(low, entry)
    held = facts.holding(inst.group, inst.kind)
    if held and not (_NAMED.search(low) or name != _base(entry)):
        # Never a second one of what the repository runs: the engine names it.
        operator = facts.by_catalog(entry.name)
        return (_instance(entry, held[0], held[0], operator.name if operator else held[0], ()),)
    if name in facts.components:
        raise InfrawrightError(
            f"a component named {name} exists already; the new {inst.kind} needs another name",
            hint=f'name it: "{text} named {name}-2"',
        )
    ops: list[Operation] = []
    running = facts.by_catalog(entry.name)
    if running is not None:
        after = running.name
    elif (where := facts.running_elsewhere(entry.name)) is not None:
        raise InfrawrightError(
            f"{entry.name} runs here from {where}, outside the components folder "
            f"{facts.components_dir}/; infrawright cannot order a new {inst.kind} after it",
            hint="set components_dir in .infrawright.toml to where it runs",
        )
    else:
        component = helm.component
        if component == name:  # the operator steps aside for what it runs
            component = entry.release_name or (entry.chart.name if entry.chart else "")
            if component in ("", name):
                component = f"{entry.name}-operator"
        review = tuple(r for r in helm.review if "nothing runs until" not in r)
        ops.append(structs.replace(helm, component=component, review=review))
        after = component
    notes = (
        *inst.notes,
        f"{inst.kind} {name} gets a component and namespace of its own, {name}, ordered "
        f"after {after} (the operator)",
    )
    ops.append(_instance(entry, name, name, after, notes))
    return tuple(ops)


def _instance(
    entry: CatalogEntry, component: str, name: str, after: str, notes: tuple[str, ...]
) -> AddInstance:
    inst = entry.instance
    assert inst is not None
    return AddInstance(
        component=component,
        namespace=component,
        operator=entry.name,
        after=after,
        api_version=f"{inst.group}/{inst.version}",
        kind=inst.kind,
        name=name,
        spec=dict(inst.spec),
        pss_level=inst.pss.level if inst.pss else "restricted",
        pss_reason=inst.pss.reason if inst.pss else "",
        review=notes,
    )


def _instance_name(low: str, entry: CatalogEntry) -> str:
    """``named X``; else ``<app>-<what it serves>`` for "... for <app>"; else what it
    serves."""
    inst = entry.instance
    assert inst is not None
    base = _base(entry)
    named = _NAMED.search(low)
    if named and DNS_LABEL.match(named.group(1)):
        return named.group(1)
    skip = {*inst.serves, *_words(entry), "caching", "cache", "the", "a", "an"}
    for match in _FOR.finditer(low):
        app = match.group(1)
        if app not in skip and DNS_LABEL.match(f"{app}-{base}"):
            return f"{app}-{base}"
    return base


def _base(entry: CatalogEntry) -> str:
    """The name of an instance nothing else names: what it serves."""
    inst = entry.instance
    assert inst is not None
    return inst.serves[0] if inst.serves else inst.kind.lower()


def _names(entry: CatalogEntry) -> set[str]:
    names = {entry.name.lower(), *(a.lower() for a in entry.aliases)}
    if entry.chart:
        names.add(entry.chart.name.lower())
    return names


def _words(entry: CatalogEntry) -> set[str]:
    return {w for n in _names(entry) for w in re.findall(r"[a-z0-9-]+", n)}
