"""Every word of an install request is accounted for, or the request is refused.

The rule planner reads "install metallb" as a new component. Read loosely, it would also
read "install metallb with 3 replicas", "add metallb in HA mode", "upgrade kong" or "set
up backups for the postgres database" that way, and drop what makes them different: a
change that validates and is not the one asked for. So once the slots (namespace,
clusters, monitoring, versions, values in words) are out and no other family of requests
matched, an install is planned only when what is left is an install verb, the product
and words that ask for nothing more:

- the *head* (the verb and its object up to the first clause) may hold only the
  product's own words (its name, aliases, what its instance serves), articles, and words
  for the kind of thing asked for ("chart", "operator", "cluster", "database");
- a clause that says what it is for or how to name it ("for strapi", "as a cache",
  "using CloudNativePG", "named orders", "so that ...") is read elsewhere or asks for
  nothing;
- a clause that qualifies the install ("with ...", "in ...", "to ...", "on ...") may
  hold only such words too: "with 3 replicas" or "in HA mode" are refused, naming the
  words, rather than installed without them.

A request that does not begin with an install verb and is more than a product name
("upgrade kong", "scale kong to 3", "enable tls for kong") is refused the same way.
"""

from __future__ import annotations

import re

from infrawright.catalog import CatalogEntry
from infrawright.plan.matching import NotUnderstoodError
from infrawright.plan.products import _ENGLISH, _LEADING, _POLITE, _TRAILING, GENERIC, INSTALL

_WORD = re.compile(r"[a-z0-9][a-z0-9'+.-]*")
#: Clauses that say what an install is for or what to call it: they ask for nothing the
#: install leaves out (a name is read by the instance planner).
_FREE = frozenset(
    [
        "for",
        "as",
        "using",
        "via",
        "so",
        "that",
        "which",
        "because",
        "from",
        "named",
        "called",
        "running",
        "providing",
        "offering",
        "please",
    ]
)
#: Where a clause starts: a free one, or one that qualifies the install ("with", "in",
#: "into", "to", "on", or after punctuation), whose words must be accounted for.
_CLAUSE = re.compile(
    r"(\s(?:" + "|".join(sorted(_FREE)) + r"|with|in|into|to|on)\b|[.;:!?])", re.IGNORECASE
)
#: Words that name the kind of thing asked for, or fill a sentence.
_KINDS = frozenset(
    [
        "cluster",
        "clusters",
        "instance",
        "instances",
        "database",
        "databases",
        "db",
        "dbs",
        "cache",
        "caching",
        "broker",
        "brokers",
        "queue",
        "queues",
        "store",
        "storage",
        "bucket",
        "buckets",
        "tenant",
        "tenants",
        "server",
        "servers",
        "stack",
        "system",
        "setup",
        "engine",
        "backend",
        "platform",
        "mesh",
        "gateway",
        "proxy",
        "crd",
        "crds",
        "too",
        "as",
        "well",
        "pls",
        "thanks",
        "thank",
        "now",
        "today",
        "asap",
        "quickly",
        "here",
        "there",
        "it",
        "repo",
        "repository",
        "please",
        "should",
        "must",
        "can",
        "could",
        "would",
        "will",
        "let's",
        "lets",
        "go",
        "ahead",
        "run",
        "running",
        "also",
        "just",
        "kindly",
        "i",
        "we",
        "you",
        "need",
        "needs",
        "want",
        "wants",
        "require",
        "requires",
        "like",
        "love",
        "have",
        "has",
        "got",
        "get",
    ]
)


_BUMP = re.compile(r"\b(?:bump|upgrade|update|downgrade|roll\s+back|rollback|pin|lock)\b")


def refuse_unaccounted(text: str, entry: CatalogEntry, running: str | None = None) -> None:
    """Raise :class:`NotUnderstoodError` when ``text``, read as installing ``entry``,
    holds words that would be dropped (see the module docstring). ``running``: the
    component that runs ``entry`` already, if one does (the request then asks to change
    it, in words the planner does not read)."""
    left = unaccounted(text, entry)
    if not left:
        return
    quoted = ", ".join(f"{w!r}" for w in left)
    if running is not None:
        newest = f" (the catalog's newest: {entry.chart.version})" if entry.chart else ""
        how = (
            f'give the version: "upgrade {running} to X.Y.Z" or "upgrade {running} to '
            f'latest"{newest}'
            if _BUMP.search(text.lower())
            else f'name the value: "set {running} <key> to <value>"'
        )
        raise NotUnderstoodError(
            f"request {text!r}: {entry.name} runs here already (component {running}), and "
            f"{quoted} is not a change the planner understands; nothing is planned",
            hint=f"{how}, or write the plan yourself (`infrawright plan-schema`)",
        )
    if any(w in _OTHER_CHANGES for phrase in left for w in _WORD.findall(phrase)):
        raise NotUnderstoodError(
            f"request {text!r}: {quoted} is a change to {entry.name}, which is not installed "
            "here; nothing is planned",
            hint=f'install it first ("install {entry.name}"), then ask for that change',
        )
    raise NotUnderstoodError(
        f"request {text!r}: understood as installing {entry.name}, but {quoted} asks for "
        "something an install does not do; nothing is planned rather than leaving it out",
        hint=f'install it alone ("install {entry.name}"), then change it in a second '
        f'request ("set {entry.name} <key> to <value>"), or write the plan yourself '
        "(`infrawright plan-schema`)",
    )


def unaccounted(text: str, entry: CatalogEntry) -> list[str]:
    """The phrases of ``text`` an install of ``entry`` would leave out, in order."""
    low = " ".join(text.lower().split())
    own = _own_words(entry)
    m = INSTALL.match(low)
    if m is None:
        polite = re.match(_POLITE, low)
        body = low[polite.end() if polite else 0 :]
        words = _WORD.findall(body)
        if not words or all(_fine(w, own) for w in words):
            return []  # "metallb", "keda pls", "need vault"
        return [body.strip(" .!?")]
    segments = _CLAUSE.split(f" {m.group('obj')}")
    left: list[str] = []
    for i in range(0, len(segments), 2):
        marker = segments[i - 1].strip() if i else ""
        if marker in _FREE:
            continue
        if any(not _fine(w, own) for w in _WORD.findall(segments[i])):
            left.append(f"{marker} {segments[i].strip()}".strip(" .;:!?"))
    return left


#: Words that ask for another kind of change ("a network policy for metallb", "alerts
#: for metallb"): in an install they are not filler, unless they name the product.
_OTHER_CHANGES = frozenset(
    [
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


def _fine(word: str, own: frozenset[str]) -> bool:
    word = word.strip("'.")
    if word in own:
        return True
    if word in _OTHER_CHANGES:
        return False
    return (
        word in _LEADING
        or word in _TRAILING
        or word in GENERIC
        or word in _ENGLISH
        or word in _KINDS
    )


def _own_words(entry: CatalogEntry) -> frozenset[str]:
    """The words that name ``entry``: its name and chart, their parts, its aliases, its
    category and what its instance is and serves."""
    words: set[str] = {entry.name, entry.category, *entry.name.split("-")}
    phrases = [*entry.aliases, entry.name.replace("-", " ")]
    if entry.chart is not None:
        words |= {entry.chart.name, *entry.chart.name.split("-")}
    if entry.release_name:
        words.add(entry.release_name)
    if entry.instance is not None:
        words |= {entry.instance.kind.lower(), entry.instance.group.split(".")[0]}
        phrases += list(entry.instance.serves)
    for phrase in phrases:
        low = phrase.lower()
        words |= set(_WORD.findall(low)) | {low.replace(" ", "-"), low.replace(" ", "")}
        words |= {w.rstrip("s") for w in _WORD.findall(low)} | {w + "s" for w in _WORD.findall(low)}
    return frozenset(words)
