"""The catalog linter: facts whose shape already shows they cannot hold in a cluster.

Each built-in entry was checked against its chart at a tag (``checked``) and says where
each fact was seen (``evidence``); its monitoring selects something (a selector and a
port), its webhooks have both ports, its CRD groups have a source, and its version is the
one that was checked. (That alerts use only metrics the entry exports is checked in
test_catalog_alerts.py.)
"""

from __future__ import annotations

import datetime

import pytest

from infrawright.catalog import CatalogEntry, builtin_catalog

ENTRIES = sorted(builtin_catalog().entries)

# What the audit of 2026-12-03 could not check (helper sessions over stored copies of the
# charts' repositories, whose commits could not be tied to release tags: no entry has
# ``checked.at_tag``). Each list is exact: an entry leaves it once the fact is checked and
# its evidence recorded, and a test fails until it does. See the session notes.
#
#: Facts without evidence, by entry.
UNVERIFIED: dict[str, frozenset[str]] = {
    "cilium": frozenset({"provides"}),
    "envoy-gateway": frozenset({"provides"}),
    "external-dns": frozenset({"pss"}),
    "external-secrets": frozenset({"provides"}),
    "istio-base": frozenset({"provides"}),
    "kong": frozenset({"provides"}),
    "kyverno": frozenset({"provides", "pss"}),
    "linkerd-crds": frozenset({"provides"}),
    "longhorn": frozenset({"provides"}),
    "mariadb-operator": frozenset({"chart"}),
    "redis": frozenset({"provides"}),
    "snapshot-controller": frozenset({"provides", "pss"}),
    "strimzi-kafka-operator": frozenset({"chart"}),
    "tigera-operator": frozenset({"provides"}),
    "trivy-operator": frozenset({"chart", "provides"}),
    "vault": frozenset({"chart", "pss"}),
    "victoria-metrics-k8s-stack": frozenset({"metrics", "provides"}),
}
#: Entries whose chart version was not checked (no ``checked``, or files of another
#: version read).
UNCHECKED: frozenset[str] = frozenset(
    {"snapshot-controller", "tigera-operator", "victoria-metrics-k8s-stack"}
)


def entry_of(name: str) -> CatalogEntry:
    entry = builtin_catalog().get(name)
    assert entry is not None
    return entry


@pytest.mark.parametrize("name", ENTRIES)
def test_the_entry_records_the_check_against_its_chart(name: str) -> None:
    entry = entry_of(name)
    checked = entry.checked
    version_checked = checked is not None and (
        entry.chart is None or checked.version == entry.chart.version
    )
    if name in UNCHECKED:
        assert not version_checked, f"{name} is checked now: remove it from UNCHECKED"
        return
    assert checked is not None, f"{name}: no `checked` (version, tag, date, source)"
    assert version_checked, f"{name}: chart.version is not the version checked ({checked.version})"
    assert checked.tag.strip(), f"{name}: checked.tag is empty"
    assert checked.source.startswith("https://"), f"{name}: checked.source is not a URL"
    day = datetime.date.fromisoformat(checked.date)
    assert day <= datetime.date.today(), f"{name}: checked.date {checked.date} is in the future"


@pytest.mark.parametrize("name", ENTRIES)
def test_every_fact_has_evidence(name: str) -> None:
    entry = entry_of(name)
    for fact, urls in entry.evidence.items():
        assert urls, f"{name}: evidence.{fact} is empty"
        for url in urls:
            assert url.startswith("https://"), f"{name}: evidence.{fact}: {url!r} is not a URL"
    wanted = {"chart": entry.chart is not None, "provides": bool(entry.provides)}
    wanted |= {"webhooks": bool(entry.webhooks), "metrics": entry.metrics is not None}
    wanted |= {"pss": True}
    missing = {fact for fact, due in wanted.items() if due and fact not in entry.evidence}
    known = UNVERIFIED.get(name, frozenset())
    assert missing <= known, f"{name}: no evidence for {', '.join(sorted(missing - known))}"
    assert known <= missing, (
        f"{name}: {', '.join(sorted(known - missing))} now has evidence: remove it from UNVERIFIED"
    )


@pytest.mark.parametrize("name", ENTRIES)
def test_monitoring_selects_something(name: str) -> None:
    metrics = entry_of(name).metrics
    if metrics is None or metrics.chart_monitors == "keep":
        return
    assert metrics.selector, f"{name}: metrics.selector is empty: a monitor would select nothing"
    assert metrics.port_name or metrics.port, f"{name}: metrics has neither port_name nor port"
    if metrics.scrape == "pods":
        assert metrics.port_name or isinstance(metrics.port, int), (
            f"{name}: a PodMonitor needs the container port's name or number"
        )
    for path in metrics.service_values:
        assert path not in metrics.servicemonitor_values, (
            f"{name}: {path} both keeps the metrics Service and is the chart's monitor switch"
        )


@pytest.mark.parametrize("name", ENTRIES)
def test_webhooks_have_both_ports(name: str) -> None:
    for hook in entry_of(name).webhooks:
        for port in (hook.service_port, hook.container_port):
            assert 0 < port < 65536, f"{name}: webhook {hook.name} has port {port}"


@pytest.mark.parametrize("name", ENTRIES)
def test_crd_groups_have_a_source(name: str) -> None:
    entry = entry_of(name)
    for group in entry.provides:
        assert group.kinds, f"{name}: {group.group} lists no kinds"
        assert len(set(group.kinds)) == len(group.kinds), f"{name}: {group.group}: kinds twice"


#: Words two entries' instances both serve, with the entry that wins and why. A request
#: with such a word and no product named gets the winner; naming the product picks it.
SHARED_SERVES: dict[str, tuple[frozenset[str], str, str]] = {
    "postgresql": (
        frozenset({"cloudnative-pg", "postgres-operator"}),
        "cloudnative-pg",
        "its instance has a verified spec and a restricted PSS level; the Zalando entry has none",
    ),
    "postgres": (
        frozenset({"cloudnative-pg", "postgres-operator"}),
        "cloudnative-pg",
        "the same two operators as 'postgresql'",
    ),
}
INSTANCE_ENTRIES = [name for name in ENTRIES if entry_of(name).instance is not None]


@pytest.mark.parametrize("name", INSTANCE_ENTRIES)
def test_an_instance_with_a_spec_says_what_it_is_and_where_that_was_seen(name: str) -> None:
    instance = entry_of(name).instance
    assert instance is not None
    for note in instance.notes:  # the renderer writes the REVIEW: itself
        assert not note.upper().startswith("REVIEW"), f"{name}: note {note[:30]!r}..."
    if not instance.spec:
        assert instance.notes, f"{name}: instance.spec is empty and no note says why"
        return
    assert instance.version, f"{name}: instance.spec is set but instance.version is empty"
    assert instance.serves, f"{name}: instance.spec is set but instance.serves is empty"
    assert instance.pss is not None, f"{name}: instance.spec is set but instance.pss is missing"
    assert instance.notes, f"{name}: instance.spec is set but no REVIEW note names its choices"
    assert instance.evidence, f"{name}: instance.spec is set but instance.evidence is empty"
    for url in instance.evidence:
        assert url.startswith("https://"), f"{name}: instance.evidence {url!r} is not a URL"
    for word in instance.serves:
        assert word == word.lower().strip(), f"{name}: instance.serves {word!r} is not lower case"


def test_no_word_is_served_by_two_entries_unless_the_table_says_which_wins() -> None:
    servers: dict[str, set[str]] = {}
    for name in INSTANCE_ENTRIES:
        instance = entry_of(name).instance
        assert instance is not None
        for word in instance.serves:
            servers.setdefault(word, set()).add(name)
    shared = {word: frozenset(names) for word, names in servers.items() if len(names) > 1}
    for word, names in shared.items():
        assert word in SHARED_SERVES, (
            f"'{word}' is served by {', '.join(sorted(names))}: add it to SHARED_SERVES with "
            "the entry that wins and why, or drop it from all but one entry"
        )
        listed, winner, reason = SHARED_SERVES[word]
        assert listed == names, (
            f"SHARED_SERVES['{word}'] lists {sorted(listed)}, not {sorted(names)}"
        )
        assert winner in names and reason, (
            f"SHARED_SERVES['{word}']: winner {winner} is not a server"
        )
        winning = entry_of(winner).instance
        assert winning is not None and winning.spec, f"'{word}': the winner {winner} has no spec"
    stale = set(SHARED_SERVES) - set(shared)
    assert not stale, f"SHARED_SERVES lists words no longer shared: {', '.join(sorted(stale))}"
