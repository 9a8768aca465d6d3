"""Catalog alerts: PromQL on real metric names, well-formed, unique and fillable."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from infrawright.catalog import builtin_catalog
from infrawright.catalog.schema import Alert, CatalogEntry
from infrawright.typed import DataError, read

ENTRIES = sorted(builtin_catalog().entries.values(), key=lambda e: e.name)
ALERTS = [(e, a) for e in ENTRIES if e.metrics for a in e.metrics.alerts]

#: Series every alert may use although no chart exports them: Prometheus' own ``up``, and
#: the kube-apiserver's APIService availability gauge (kubernetes-mixin KubeAggregatedAPIDown),
#: which is the only place an aggregated API such as metrics.k8s.io reports being unavailable.
CLUSTER_METRICS = frozenset({"up", "aggregator_unavailable_apiservice"})

#: PromQL functions and aggregation operators (a name followed by "(").
FUNCTIONS = frozenset(
    [
        "abs",
        "absent",
        "absent_over_time",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atanh",
        "avg",
        "avg_over_time",
        "bottomk",
        "ceil",
        "changes",
        "clamp",
        "clamp_max",
        "clamp_min",
        "cos",
        "cosh",
        "count",
        "count_over_time",
        "count_values",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "deg",
        "delta",
        "deriv",
        "double_exponential_smoothing",
        "exp",
        "floor",
        "group",
        "histogram_avg",
        "histogram_count",
        "histogram_fraction",
        "histogram_quantile",
        "histogram_stddev",
        "histogram_stdvar",
        "histogram_sum",
        "holt_winters",
        "hour",
        "idelta",
        "increase",
        "irate",
        "label_join",
        "label_replace",
        "last_over_time",
        "limitk",
        "limit_ratio",
        "ln",
        "log10",
        "log2",
        "mad_over_time",
        "max",
        "max_over_time",
        "min",
        "min_over_time",
        "minute",
        "month",
        "pi",
        "predict_linear",
        "present_over_time",
        "quantile",
        "quantile_over_time",
        "rad",
        "rate",
        "resets",
        "round",
        "scalar",
        "sgn",
        "sin",
        "sinh",
        "sort",
        "sort_by_label",
        "sort_by_label_desc",
        "sort_desc",
        "sqrt",
        "stddev",
        "stddev_over_time",
        "stdvar",
        "stdvar_over_time",
        "sum",
        "sum_over_time",
        "tan",
        "tanh",
        "time",
        "timestamp",
        "topk",
        "vector",
        "year",
    ]
)
KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
    | {"by", "without", "on", "ignoring", "group_left", "group_right"}
)
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
IDENT = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
DURATION = re.compile(r"^(?:[0-9]+(?:ms|s|m|h|d|w|y))+$")
CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]*)\}(?!\})")


def promql_names(expr: str) -> tuple[set[str], set[str]]:
    """The metric names and the function names in a (rendered) PromQL expression, roughly.

    Strings, label matchers, range selectors and grouping label lists are dropped first, so
    what is left is metric names, functions, keywords and numbers.
    """
    text = STRING.sub('""', expr)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)
    text = GROUPING.sub(" ", text)
    metrics: set[str] = set()
    functions: set[str] = set()
    for match in IDENT.finditer(text):
        word, call = match.group(1), match.group(2)
        if call:
            functions.add(word)
        elif word not in KEYWORDS:
            metrics.add(word)
    return metrics, functions


def balanced(expr: str) -> bool:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for char in STRING.sub('""', expr):
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack


def alert_problems(entry: CatalogEntry, alert: Alert) -> list[str]:
    """Everything wrong with one alert of one entry (empty when it is fine)."""
    problems: list[str] = []
    exported = set(entry.metrics.metric_names) if entry.metrics else set()
    expr, summary = alert.rendered()
    metrics, functions = promql_names(expr)
    for name in sorted(metrics - exported - CLUSTER_METRICS):
        problems.append(f"{alert.name}: {name} is not in {entry.name}'s metric_names")
    for name in sorted(functions - FUNCTIONS):
        problems.append(f"{alert.name}: {name}() is not a PromQL function")
    if not metrics:
        problems.append(f"{alert.name}: expr uses no metric at all")
    if not balanced(expr):
        problems.append(f"{alert.name}: unbalanced brackets in {expr!r}")
    used = set(PLACEHOLDER.findall(alert.expr)) | set(PLACEHOLDER.findall(alert.summary))
    for name in sorted(used - set(alert.params)):
        problems.append(f"{alert.name}: placeholder {{{name}}} has no default in params")
    for name in sorted(set(alert.params) - used):
        problems.append(f"{alert.name}: parameter {name} is used nowhere")
    if PLACEHOLDER.search(expr) or PLACEHOLDER.search(summary):
        problems.append(f"{alert.name}: a placeholder is left after rendering")
    if not CAMEL.match(alert.name):
        problems.append(f"{alert.name}: name is not CamelCase")
    if not DURATION.match(alert.for_):
        problems.append(f"{alert.name}: for {alert.for_!r} is not a Prometheus duration")
    if not alert.keywords:
        problems.append(f"{alert.name}: no keywords")
    for word in alert.keywords:
        if not word or word != word.strip() or word != word.lower():
            problems.append(f"{alert.name}: keyword {word!r} is not lowercase and trimmed")
    if len(set(alert.keywords)) != len(alert.keywords):
        problems.append(f"{alert.name}: duplicate keywords")
    if not alert.summary.strip() or "\n" in alert.summary:
        problems.append(f"{alert.name}: summary must be one line")
    if not alert.source.startswith("https://"):
        problems.append(f"{alert.name}: source is not an https URL")
    elif alert.source not in entry.sources:
        problems.append(f"{alert.name}: source {alert.source} is not in {entry.name}'s sources")
    return problems


def make_alert(**changes: Any) -> Alert:
    data: dict[str, Any] = {
        "name": "ExampleDown",
        "keywords": ["down"],
        "expr": 'example_up{job="{job}"} == 0',
        "params": {"job": "example"},
        "for": "5m",
        "severity": "critical",
        "summary": "{{ $labels.instance }} of {job} is down",
        "source": "https://example.com/metrics",
    }
    data.update(changes)
    return read(Alert, data)


def make_entry(alert: Alert, metric_names: tuple[str, ...] = ("example_up",)) -> CatalogEntry:
    return read(
        CatalogEntry,
        {
            "name": "example",
            "category": "operations",
            "description": "test entry",
            "namespace": "example",
            "metrics": {"port": 8080, "metric_names": metric_names, "alerts": [alert]},
            "pss": {"level": "restricted", "reason": "test"},
            "sources": ["https://example.com/metrics"],
        },
    )


@pytest.mark.parametrize(("entry", "alert"), ALERTS, ids=lambda x: x.name)
def test_alert_is_well_formed(entry: CatalogEntry, alert: Alert) -> None:
    assert alert_problems(entry, alert) == []


def test_alert_names_are_unique_across_the_catalog() -> None:
    names = [a.name for _, a in ALERTS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entries_with_metrics_name_them(entry: CatalogEntry) -> None:
    if entry.metrics is not None:
        assert entry.metrics.metric_names, f"{entry.name} has metrics but no metric_names"
        assert len(set(entry.metrics.metric_names)) == len(entry.metrics.metric_names)


def test_the_requested_components_have_alerts() -> None:
    wanted = {
        "cert-manager",
        "metrics-server",
        "ingress-nginx",
        "traefik",
        "cloudnative-pg",
        "external-secrets",
        "velero",
        "longhorn",
        "cilium",
        "metallb",
        "kyverno",
        "valkey",
        "loki",
        "external-dns",
    }
    with_alerts = {e.name for e, _ in ALERTS}
    assert wanted <= with_alerts, sorted(wanted - with_alerts)
    kps = builtin_catalog().get("kube-prometheus-stack")
    assert kps is not None and kps.metrics is not None and not kps.metrics.alerts


def test_cert_manager_expiry_alert_takes_the_days_from_a_request() -> None:
    entry = builtin_catalog().get("cert-manager")
    assert entry is not None and entry.metrics is not None
    alert = next(a for a in entry.metrics.alerts if "expiring" in a.keywords)
    expr, summary = alert.rendered({"days": 7})
    assert "certmanager_certificate_expiration_timestamp_seconds" in expr
    assert "7 * 86400" in expr and "7 days" in summary
    assert "{{ $labels.name }}" in summary


def test_promql_names_finds_metrics_not_labels_functions_or_durations() -> None:
    expr = (
        'sum by (ingress) (rate(nginx_requests{status=~"5..",job="a b"}[5m] offset 1h))'
        " / on (ingress) group_left sum without (pod) (rate(nginx_requests[5m]))"
        ' > 0.05 and absent(up{job="x"} == 1) or vector(1e3) unless time() - foo:bar_total'
    )
    metrics, functions = promql_names(expr)
    assert metrics == {"nginx_requests", "up", "foo:bar_total"}
    assert functions == {"sum", "rate", "absent", "vector", "time"}


@pytest.mark.parametrize(
    ("changes", "metric_names", "problem"),
    [
        ({"expr": "example_down == 1"}, ("example_up",), "example_down is not in"),
        ({"expr": "rate_of(example_up[5m]) > 0"}, ("example_up",), "rate_of() is not a PromQL"),
        ({"expr": "time() > 0"}, ("example_up",), "uses no metric"),
        ({"expr": "sum(rate(example_up[5m]) > 0"}, ("example_up",), "unbalanced"),
        ({"params": {"job": "example", "days": 3}}, ("example_up",), "days is used nowhere"),
        ({"keywords": ["Down"]}, ("example_up",), "not lowercase"),
        ({"keywords": ["down", "down"]}, ("example_up",), "duplicate keywords"),
        ({"summary": "two\nlines {job}"}, ("example_up",), "one line"),
        ({"source": "https://example.com/other"}, ("example_up",), "is not in example's sources"),
    ],
)
def test_alert_problems_catches_mistakes(
    changes: dict[str, Any], metric_names: tuple[str, ...], problem: str
) -> None:
    alert = make_alert(**changes)
    problems = alert_problems(make_entry(alert, metric_names), alert)
    assert any(problem in p for p in problems), problems


def test_a_good_alert_has_no_problems() -> None:
    alert = make_alert()
    assert alert_problems(make_entry(alert), alert) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"summary": "{{ $labels.instance }} expires in {days} days"},
        {"name": "exampleDown"},
        {"name": "Example_Down"},
        {"for": "10 minutes"},
        {"severity": "page"},
        {"keywords": []},
        {"unknown": 1},
    ],
)
def test_schema_rejects_bad_alerts(changes: dict[str, Any]) -> None:
    with pytest.raises(DataError):
        make_alert(**changes)


def test_for_is_the_data_name_of_for_and_rendering_rejects_unknown_params() -> None:
    by_alias = make_alert()
    by_name = Alert(
        name="ExampleDown",
        keywords=("down",),
        expr=by_alias.expr,
        params={"job": "example"},
        for_="5m",
        severity="critical",
        summary=by_alias.summary,
        source=by_alias.source,
    )
    assert by_name == by_alias
    as_named = msgspec.structs.asdict(by_alias)  # keyed by attribute: "for_", not "for"
    assert as_named["for_"] == "5m" and "for" not in as_named
    as_data = msgspec.to_builtins(by_alias)  # keyed as in the data: "for"
    assert as_data["for"] == "5m" and "for_" not in as_data
    assert read(Alert, as_data) == by_alias
    assert by_alias.rendered({"job": "other"})[0] == 'example_up{job="other"} == 0'
    with pytest.raises(ValueError, match="no parameter days"):
        by_alias.rendered({"days": 7})
