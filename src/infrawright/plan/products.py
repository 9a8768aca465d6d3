"""Products a request names: several of them ("install A, B and C"), and names the
catalog does not know ("install frobnicator"), which are refused rather than replaced by an
entry that matched a capability word.

A product name is told from ordinary words by its place and its vocabulary: the object of
an install verb ("install X", "add the X chart", "we need X", "Create HelmRelease for X"),
or the word before "chart"/"operator"; it is unknown when it is no catalog name, alias or
chart, no component of the repository, and no word the catalog uses to describe anything
(or it is hyphenated or holds a digit, which ordinary words do not).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass

from infrawright.catalog import Catalog
from infrawright.plan.facts import RepoFacts
from infrawright.plan.matching import NotUnderstoodError

_POLITE = (
    r"^(?:(?:could|can|would|will)\s+you\s+(?:please\s+)?|please\s+|kindly\s+|pls\s+|"
    r"(?:hey|hi|ok|okay)\s*,?\s+|i'd\s+like\s+(?:you\s+)?to\s+|i\s+would\s+like\s+"
    r"(?:you\s+)?to\s+|(?:i|we)\s+want\s+(?:you\s+)?to\s+|let's\s+|lets\s+|"
    r"go\s+ahead\s+and\s+|also\s+)*"
)
INSTALL = re.compile(
    _POLITE + r"(?P<verb>install|add|deploy|set\s+up|setup|create|provision|roll\s+out|"
    r"bring\s+in|(?:we|i)\s+(?:need|want|require)|need|get|give\s+(?:me|us))\b\s*(?P<obj>.*)$",
    re.IGNORECASE,
)
_CLAUSE = re.compile(
    r"\s(?:for|as|with|to|in|into|on|using|via|so|that|which|because|from|please|"
    r"named|called|running|providing|offering)\b|[.;:!?]",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"\s*(?:,\s*and\b|,|\band\b|&|\bplus\b|\bas\s+well\s+as\b)\s*", re.I)
_LEADING = frozenset(
    [
        "the",
        "a",
        "an",
        "new",
        "some",
        "me",
        "us",
        "our",
        "my",
        "please",
        "also",
        "another",
        "second",
        "additional",
        "2nd",
        "extra",
        "fresh",
        "simple",
        "helmrelease",
        "helmreleases",
        "helm",
        "release",
        "releases",
        "chart",
        "charts",
    ]
)
_TRAILING = frozenset(
    [
        "chart",
        "charts",
        "helm",
        "helmrelease",
        "release",
        "operator",
        "operators",
        "controller",
        "app",
        "deployment",
        "instance",
    ]
)
#: Words in an install's object that are not product names.
GENERIC = frozenset(
    [
        "component",
        "components",
        "namespace",
        "namespaces",
        "app",
        "apps",
        "application",
        "service",
        "services",
        "operator",
        "controller",
        "monitoring",
        "monitor",
        "alert",
        "alerts",
        "alerting",
        "network",
        "policy",
        "policies",
        "ciliumnetworkpolicy",
        "cnp",
        "netpol",
        "something",
        "anything",
        "support",
        "flux",
        "kustomization",
        "kustomizations",
        "it",
        "this",
        "that",
        "them",
        "one",
        "thing",
        "stuff",
        "tool",
        "way",
        "new",
        "helmrelease",
        "chart",
        "servicemonitor",
        "prometheusrule",
        "podmonitor",
        "dependson",
        "dependency",
        "dependencies",
        "ordering",
        "order",
        "rule",
        "rules",
        "label",
        "labels",
        "value",
        "values",
    ]
)


@dataclass(frozen=True)
class Mention:
    """Where a request names a product: a catalog entry (or an existing component)."""

    start: int
    end: int
    name: str


def mentions(text: str, catalog: Catalog, facts: RepoFacts) -> list[Mention]:
    """Every product the text names, left to right, longest phrase first where they
    overlap: catalog names, aliases and chart names, and component names."""
    found: list[tuple[int, int, str]] = []
    for phrase, name in _phrases(catalog, tuple(sorted(facts.components))):
        for m in _phrase_pattern(phrase).finditer(text):
            found.append((m.start(), m.end(), name))
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    kept: list[Mention] = []
    for start, end, name in found:
        if all(end <= k.start or start >= k.end for k in kept):
            kept.append(Mention(start, end, name))
    return sorted(kept, key=lambda k: k.start)


_GAP = re.compile(
    r"\s*(?:(?:helm\s+)?(?:charts?|operators?|controllers?))?"
    r"\s*(?:,\s*and|,|and|&|plus|as\s+well\s+as)\s+(?:the\s+|also\s+)?",
    re.IGNORECASE,
)


def split_products(text: str, catalog: Catalog, facts: RepoFacts) -> list[str]:
    """One request per product when ``text`` lists several ("install A, B and C" ->
    "install A", "install B", "install C"), in the order given; else ``[text]``."""
    found = mentions(text, catalog, facts)
    best: list[Mention] = []
    run: list[Mention] = []
    for m in found:
        if run and _GAP.fullmatch(text[run[-1].end : m.start]):
            run.append(m)
        else:
            run = [m]
        if len(run) > len(best):
            best = list(run)
    if len(best) < 2 or len({m.name for m in best}) < 2:
        return [text]
    head, tail = text[: best[0].start], text[best[-1].end :]
    return [head + text[m.start : m.end] + tail for m in best]


def refuse_unknown_product(text: str, catalog: Catalog, facts: RepoFacts) -> None:
    """Raise :class:`NotUnderstoodError` when ``text`` asks to install a product the
    catalog does not know, naming it, the nearest entries and the ``--chart`` form."""
    word = unknown_product(text, catalog, facts)
    if word is None:
        return
    near = nearest(word, catalog)
    raise NotUnderstoodError(
        f"request {text!r}: understood as installing {word!r}, which is not in the chart "
        "catalog; nothing else is installed in its place"
        + (f" (nearest catalog entries: {', '.join(near)})" if near else ""),
        hint=f'give its chart: implement-infra --chart URL/CHART --version V "install {word}"'
        + (f", or ask for one of {', '.join(near)}" if near else ""),
    )


def unknown_product(text: str, catalog: Catalog, facts: RepoFacts) -> str | None:
    """The product name in ``text``'s product position that nothing knows, if any."""
    for item in _object_items(text) + _before_chart(text):
        tokens = item.split()
        while tokens and tokens[0] in _LEADING:
            tokens.pop(0)
        while tokens and tokens[-1] in _TRAILING:
            tokens.pop()
        if not tokens:
            continue
        head = tokens[0]
        if head in GENERIC or _known(" ".join(tokens), catalog, facts):
            continue
        looks_named = bool(re.search(r"[-0-9]", head))
        if looks_named or head not in _vocabulary(catalog):
            return head
    return None


def nearest(word: str, catalog: Catalog) -> list[str]:
    """Up to three catalog entries whose name or alias is closest to ``word``."""
    by_phrase: dict[str, str] = {}
    for entry in catalog.entries.values():
        by_phrase.setdefault(entry.name, entry.name)
        for alias in entry.aliases:
            by_phrase.setdefault(alias.lower(), entry.name)
    out: list[str] = []
    for phrase in difflib.get_close_matches(word, list(by_phrase), n=8, cutoff=0.5):
        if by_phrase[phrase] not in out:
            out.append(by_phrase[phrase])
    return out[:3]


def _object_items(text: str) -> list[str]:
    m = INSTALL.match(text.strip())
    if not m:
        return []
    obj = m.group("obj").lower()
    cut = _CLAUSE.search(" " + obj)
    head = (" " + obj)[: cut.start()] if cut else obj
    items = [i.strip() for i in _SEPARATOR.split(head) if i.strip()]
    leading = [t for t in head.split() if t not in _LEADING]
    if not leading and cut and cut.group(0).strip().lower() == "for":
        # "Create HelmRelease for X": the product follows "for".
        return _object_items("install " + obj[cut.end() - 1 :])
    return items


def _before_chart(text: str) -> list[str]:
    return [
        m.group(1)
        for m in re.finditer(
            r"\b([a-z0-9][a-z0-9.-]*)\s+(?:helm\s+)?(?:chart|operator)\b", text.lower()
        )
    ]


def _known(item: str, catalog: Catalog, facts: RepoFacts) -> bool:
    head = item.split()[0]
    if head in facts.components:
        return True
    return any(
        _phrase_pattern(phrase).search(item) and item.find(phrase.split()[0]) == 0
        for phrase, _ in _phrases(catalog, ())
    )


@functools.cache
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = r"[\s-]?".join(re.escape(w) for w in re.split(r"[\s-]+", phrase))
    return re.compile(rf"(?<![a-z0-9-]){words}(?![a-z0-9-])", re.IGNORECASE)


def _phrases(catalog: Catalog, components: tuple[str, ...]) -> list[tuple[str, str]]:
    out = [(c.lower(), c) for c in components]
    for entry in catalog.entries.values():
        out.append((entry.name, entry.name))
        if entry.chart is not None:
            out.append((entry.chart.name.lower(), entry.name))
        out += [(a.lower(), entry.name) for a in entry.aliases]
    return out


_VOCABULARY: dict[int, tuple[Catalog, frozenset[str]]] = {}


def _vocabulary(catalog: Catalog) -> frozenset[str]:
    """Every word the catalog uses (names, aliases, descriptions), and plain English."""
    kept = _VOCABULARY.get(id(catalog))
    if kept is not None and kept[0] is catalog:
        return kept[1]
    words: set[str] = set(GENERIC)
    for entry in catalog.entries.values():
        for text in (entry.name, entry.description, entry.category, *entry.aliases):
            words |= set(re.findall(r"[a-z]+", text.lower()))
    vocabulary = frozenset(words | _ENGLISH)
    _VOCABULARY[id(catalog)] = (catalog, vocabulary)
    return vocabulary


_ENGLISH = frozenset(
    [
        "a",
        "an",
        "the",
        "some",
        "any",
        "new",
        "our",
        "my",
        "your",
        "their",
        "its",
        "for",
        "to",
        "of",
        "in",
        "on",
        "with",
        "and",
        "or",
        "me",
        "us",
        "something",
        "better",
        "good",
        "small",
        "simple",
        "proper",
        "basic",
        "default",
        "extra",
        "more",
    ]
)
