"""Slots: the parts of a request that qualify what it asks for, read case-insensitively.

A slot is a phrase the planner understands on top of the operation itself: the namespace
("into namespace cache", "in the cache namespace"), the clusters ("on staging", "in
production and staging", "on the staging cluster"), monitoring switched off ("without
monitoring", "but skip the monitoring part", "no alerts") or on ("with monitoring"), and
values said in words ("hold metrics for two weeks" -> the chart's retention key, ``14d``).

:func:`read_slots` takes them out of the request, so the operation parsers see only what
is left, and remembers where they were: :func:`refuse_unknown_markers` then refuses a
request in which a word that changes the meaning ("but", "except", "unless", "not", ...)
is not part of a slot it understood, rather than dropping what follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from infrawright.plan.matching import NotUnderstoodError

#: Words that change what a request means; a request is refused when one of them is not
#: inside a slot the planner understood.
MARKERS = re.compile(
    r"\b(?:but|except|unless|without|not|only|instead|rather\s+than|other\s+than|"
    r"apart\s+from|excluding|never|no|don't|dont|do\s+not|nor|if\s+not)\b",
    re.IGNORECASE,
)

_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "ninety": 90,
}
_NUMBER = r"(?:\d+|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
#: "two weeks", "30 days", "15d", "a fortnight", "one month".
DURATION = re.compile(
    rf"\b(?P<n>{_NUMBER})\s*-?\s*(?P<unit>fortnights?|weeks?|w|days?|d|hours?|h|months?|"
    r"years?|y)\b",
    re.IGNORECASE,
)
_DAYS_PER = {"w": 7, "week": 7, "fortnight": 14}

#: Environment names taken for clusters without the word "cluster" ("on staging").
ENVIRONMENTS = frozenset(
    {
        "staging",
        "stage",
        "production",
        "prod",
        "dev",
        "development",
        "test",
        "testing",
        "qa",
        "uat",
        "preprod",
        "pre-prod",
        "sandbox",
        "demo",
    }
)

#: A cluster name; never an article or determiner ("on the cluster" names none).
_NOT_A_NAME = r"(?:the|a|an|this|that|our|my|your|its|their|each|every|all|any)\b"
_NAME = rf"(?!{_NOT_A_NAME})[a-z0-9][a-z0-9-]*"
#: Words in a cluster's place that name none ("to the cluster", "on every cluster").
_NOT_NAMES = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "our",
        "my",
        "your",
        "every",
        "each",
        "all",
        "any",
        "same",
        "one",
    ]
)
_NAMES = rf"(?P<names>{_NAME}(?:\s*(?:,|&|\band\b|,\s*and\b)\s*{_NAME})*)"
_ON = r"(?:(?:but\s+)?only\s+)?\b(?:on|in|to|onto|across|for)\s+(?:both\s+)?(?:the\s+)?"
_CLUSTER_FORMS = (
    # "on the staging cluster", "in production and staging clusters"
    re.compile(rf"{_ON}{_NAMES}\s+clusters?\b", re.IGNORECASE),
    # "on cluster staging", "to clusters staging and production"
    re.compile(rf"{_ON}clusters?\s+(?:called\s+|named\s+)?{_NAMES}", re.IGNORECASE),
    # "on staging", "in production and staging": environment or known cluster names only
    re.compile(rf"{_ON}{_NAMES}(?=\s*(?:$|[.,;!?]|\b(?:to|and|with|please|too)\b))", re.IGNORECASE),
)
#: "in its own namespace": what infrawright does anyway (a namespace of its name).
_OWN_NAMESPACE = re.compile(r"\b(?:in|into)\s+(?:its|their|a)\s+own\s+namespace\b", re.I)
_NAMESPACE_FORMS = (
    re.compile(
        r"\b(?:in|into|to|under|inside)\s+(?:the\s+|a\s+|its\s+own\s+)?(?:namespace|ns)\s+"
        r"(?:called\s+|named\s+)?(?P<ns>[a-z0-9_][a-z0-9_.-]*[a-z0-9_]|[a-z0-9])",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:in|into|to|under|inside)\s+(?:the\s+|a\s+|its\s+own\s+)?(?P<ns>[a-z0-9_][a-z0-9_.-]*)\s+"
        r"(?:namespace|ns)\b",
        re.IGNORECASE,
    ),
)
_MONITORING_WORDS = r"(?:monitoring|alerts?|alerting|metrics|servicemonitors?|prometheus\s+rules?)"
_MONITORING_OFF = re.compile(
    r"(?:,\s*)?(?:\b(?:but|and)\s+)?(?:please\s+)?"
    r"\b(?:without|with\s+no|no\s+need\s+for|no|skip(?:ping)?|drop(?:ping)?|leave\s+out|"
    r"leaving\s+out|omit(?:ting)?|exclude|excluding|disable|disabling|don't\s+add|"
    r"do\s+not\s+add|don't\s+set\s+up|do\s+not\s+set\s+up|not)\s+"
    rf"(?:any\s+|the\s+|its\s+)?{_MONITORING_WORDS}"
    r"(?:\s+(?:part|bit|stuff|side|piece|setup|for\s+now|yet))*"
    r"(?:\s+(?:please|for\s+now))?",
    re.IGNORECASE,
)
_MONITORING_ON = re.compile(
    r"\b(?:with|including|plus|and\s+add)\s+(?:its\s+|the\s+)?(?:monitoring|metrics|"
    r"a\s+servicemonitor|servicemonitors?)\b(?!\s+for\b)",
    re.IGNORECASE,
)
_RETENTION = (
    re.compile(
        r"\b(?:keep|keeping|hold|holding|retain|retaining|store|storing|save)\s+"
        r"(?:the\s+|our\s+|all\s+)?(?:prometheus\s+)?(?:metrics|metric\s+data|samples|"
        r"time\s+series)\s+(?:data\s+)?(?:for\s+)?(?:(?:at\s+least|up\s+to)\s+)?"
        rf"(?P<d>{DURATION.pattern[2:-2]})\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?:with\s+)?(?:a\s+)?(?P<d>{DURATION.pattern[2:-2]})\b\s+(?:of\s+)?"
        r"(?:metrics?\s+|prometheus\s+)?retention\b",
        re.IGNORECASE,
    ),
)
#: The values key holding how long a chart keeps metrics, per catalog entry.
RETENTION_KEYS = {"kube-prometheus-stack": "prometheus.prometheusSpec.retention"}


@dataclass(frozen=True)
class Duration:
    """A duration in the ``15d`` form Prometheus reads, and the assumption made for it."""

    value: str
    note: str | None = None


def number(word: str) -> int | None:
    """``12`` or ``twelve`` as 12; None for anything else."""
    low = word.lower()
    return int(low) if low.isdigit() else _NUMBERS.get(low)


def duration(match: re.Match[str]) -> Duration:
    """A :data:`DURATION` match as ``14d`` ("two weeks"), ``12h``, ``1y``; a month is
    30 days, said in a note."""
    n = number(match.group("n")) or 0
    unit = match.group("unit").lower().rstrip("s") or "d"
    if unit in _DAYS_PER:
        return Duration(f"{n * _DAYS_PER[unit]}d")
    if unit in ("day", "d"):
        return Duration(f"{n}d")
    if unit in ("hour", "h"):
        return Duration(f"{n}h")
    if unit in ("year", "y"):
        return Duration(f"{n}y")
    return Duration(f"{n * 30}d", f"{match.group(0)} read as {n * 30} days (30 a month)")


def words_to_numbers(low: str) -> str:
    """Numbers in words and weeks as days, for parameters: "within two weeks" ->
    "within 14 days", "seven days" -> "7 days"."""

    def week(m: re.Match[str]) -> str:
        return f"{duration(m).value[:-1]} days"

    low = re.sub(
        rf"\b(?P<n>{_NUMBER})\s*-?\s*(?P<unit>weeks?|fortnights?)\b", week, low, flags=re.I
    )
    words = "|".join(k for k in _NUMBERS if k not in ("a", "an"))
    low = re.sub(rf"\b({words})\b", lambda m: str(_NUMBERS[m.group(1).lower()]), low)
    return re.sub(r"\ban?\s+(day|hour|minute)\b", r"1 \1", low)


#: "2 replicas in staging", "and 4 in production": a count for one cluster.
_PER_CLUSTER = re.compile(
    rf"\b(?P<n>{_NUMBER})\s+(?:(?P<what>replicas?|instances?|pods?|copies)\s+)?"
    r"(?:in|on|for)\s+(?:the\s+)?(?P<cluster>[a-z0-9][a-z0-9-]*)(?:\s+cluster)?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Slots:
    """What :func:`read_slots` understood, and the request without it."""

    rest: str
    namespace: str | None = None
    clusters: tuple[str, ...] = ()
    monitoring: bool | None = None
    retention: Duration | None = None
    spans: tuple[tuple[int, int], ...] = ()
    #: Cluster names the request gives that the repository does not have.
    unknown_clusters: tuple[str, ...] = ()
    known_clusters: tuple[str, ...] = ()
    #: Replicas per cluster ("2 replicas in staging and 4 in production").
    replicas: tuple[tuple[str, int], ...] = ()


def read_slots(text: str, clusters: Iterable[str] = (), products: Iterable[str] = ()) -> Slots:
    """Take the slots out of ``text``. ``clusters`` are the repository's cluster names
    (empty: not known); ``products`` words that name catalog entries, never clusters."""
    known = {c.lower() for c in clusters}
    not_clusters = {p.lower() for p in products}
    spans: list[tuple[int, int]] = []
    found: dict[str, object] = {}

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in spans)

    for pattern in _RETENTION:
        for m in pattern.finditer(text):
            if free(*m.span()) and "retention" not in found:
                found["retention"] = duration(m)
                spans.append(m.span())
    for m in _MONITORING_OFF.finditer(text):
        if free(*m.span()):
            found["monitoring"] = False
            spans.append(m.span())
    for m in _MONITORING_ON.finditer(text):
        if free(*m.span()) and "monitoring" not in found:
            found["monitoring"] = True
            spans.append(m.span())
    for m in _OWN_NAMESPACE.finditer(text):  # the default: a namespace named after it
        spans.append(m.span())
    for pattern in _NAMESPACE_FORMS:
        for m in pattern.finditer(text):
            if free(*m.span()) and "namespace" not in found:
                found["namespace"] = m.group("ns").lower()
                spans.append(m.span())
    replicas: list[tuple[str, int]] = []
    counted = [m for m in _PER_CLUSTER.finditer(text) if free(*m.span())]
    if any(m.group("what") for m in counted):  # at least one says what it counts
        for m in counted:
            cluster, n = m.group("cluster").lower(), number(m.group("n"))
            if n is not None and (cluster in known or (not known and cluster in ENVIRONMENTS)):
                replicas.append((cluster, n))
                spans.append(m.span())
    names: list[str] = [c for c, _n in replicas]
    for i, pattern in enumerate(_CLUSTER_FORMS):
        for m in pattern.finditer(text):
            if not free(*m.span()):
                continue
            got = [n.lower() for n in re.split(r"\s*(?:,|&|\band\b)\s*", m.group("names")) if n]
            if i == 2 and not all(n in known or n in ENVIRONMENTS for n in got):
                continue
            if m.group(0).lower().lstrip().startswith("for") and i == 2:
                continue  # "for dev" names an app as often as a cluster
            if any(n in not_clusters or n in _NOT_NAMES for n in got):
                continue  # "to the cluster", "on every cluster": no cluster named
            names += [n for n in got if n not in names]
            spans.append(m.span())
    unknown = tuple(n for n in names if known and n not in known)
    rest = text
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    rest = " ".join(rest.split()).strip(" ,;")
    return Slots(
        rest=rest,
        namespace=found.get("namespace"),  # type: ignore[arg-type]
        clusters=tuple(names),
        monitoring=found.get("monitoring"),  # type: ignore[arg-type]
        retention=found.get("retention"),  # type: ignore[arg-type]
        spans=tuple(sorted(spans)),
        unknown_clusters=unknown,
        known_clusters=tuple(sorted(known)),
        replicas=tuple(replicas),
    )


def refuse_unknown_markers(text: str, slots: Slots) -> None:
    """Raise :class:`NotUnderstoodError` when a meaning-changing word of ``text`` is not
    inside a slot that was understood, naming it and the words after it; then when a
    cluster it names is not one of the repository's."""
    left: list[str] = []
    for m in MARKERS.finditer(text):
        if any(s <= m.start() < e for s, e in slots.spans):
            continue
        after = re.split(r"[.,;!?]", text[m.end() :], maxsplit=1)[0].split()[:5]
        left.append(" ".join([m.group(0), *after]))
    if left:
        quoted = "; ".join(f"{w!r}" for w in left)
        raise NotUnderstoodError(
            f"request {text!r}: {quoted} would change what is asked, and the planner does not "
            "understand it; nothing is planned rather than doing something else",
            hint="leave those words out and make the change in two steps, or write the plan "
            "yourself (`infrawright plan-schema`); understood qualifiers: "
            '"into namespace X", "on staging", "without monitoring", "pin to =1.2.3"',
        )
    if slots.unknown_clusters:
        raise NotUnderstoodError(
            f"request {text!r}: cluster {', '.join(slots.unknown_clusters)} is not in this "
            f"repository (its clusters: {', '.join(slots.known_clusters)})",
            hint="name a cluster as `infrawright validate` names it (a folder under "
            "clusters/, else the last segment of the folder its Flux entry point syncs)",
        )
