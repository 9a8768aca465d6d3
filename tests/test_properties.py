"""Property tests: the loader never raises, edits never touch other documents, the planner
answers every request with a Plan or a clear refusal, rendered components validate."""

from __future__ import annotations

import functools
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE, SHARED, copy_repo
from infrawright.catalog import builtin_catalog
from infrawright.change.implement import implement
from infrawright.errors import InfrawrightError
from infrawright.model.loader import load_repo
from infrawright.plan.facts import RepoFacts
from infrawright.plan.model import Plan, parse_plan, plan_json
from infrawright.plan.rules import helm_op, plan_request
from infrawright.render.splice import document_spans, set_scalar
from infrawright.repo.documents import parse_text
from infrawright.validate.engine import validate

KEYS = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)
SCALARS = st.one_of(
    st.integers(-1000, 1000),
    st.booleans(),
    st.text(alphabet=string.ascii_letters + string.digits + " .-_:/", max_size=20),
)
DOCS = st.dictionaries(KEYS, SCALARS, min_size=1, max_size=6)


def render(docs: list[dict[str, Any]]) -> str:
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)


@given(st.lists(DOCS, min_size=1, max_size=5), st.data())
@settings(max_examples=200, deadline=None)
def test_an_edit_leaves_every_other_document_byte_identical(
    docs: list[dict[str, Any]], data: st.DataObject
) -> None:
    text = render(docs)
    target = data.draw(st.integers(0, len(docs) - 1))
    key = data.draw(st.sampled_from(sorted(docs[target])))
    value = data.draw(SCALARS)
    new = set_scalar(text, target, (key,), value)
    old_spans, new_spans = document_spans(text), document_spans(new)
    assert len(old_spans) == len(new_spans) == len(docs)
    for i, ((a, b), (c, d)) in enumerate(zip(old_spans, new_spans, strict=True)):
        if i != target:
            assert text[a:b] == new[c:d]
    edited = list(yaml.safe_load_all(new))
    assert edited[target][key] == value
    assert [d for i, d in enumerate(edited) if i != target] == [
        d for i, d in enumerate(docs) if i != target
    ]


@given(st.lists(DOCS, min_size=1, max_size=5))
@settings(max_examples=100, deadline=None)
def test_untouched_text_round_trips(docs: list[dict[str, Any]]) -> None:
    """Setting a value to what it already is changes no byte."""
    text = render(docs)
    key = sorted(docs[0])[0]
    assert set_scalar(text, 0, (key,), docs[0][key]) == text


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_loader_never_raises(text: str) -> None:
    parsed = parse_text(text, "fuzz.yaml")
    assert parsed.problem is None or parsed.problem.message


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_loader_never_raises_on_bytes(raw: bytes) -> None:
    parsed = parse_text(raw.decode("utf-8", errors="replace"), "fuzz.yaml")
    assert parsed.problem is None or parsed.problem.message


@functools.cache
def example_facts() -> RepoFacts:
    return RepoFacts.from_model(load_repo(EXAMPLE))


WORDS = st.sampled_from(
    [
        "install",
        "add",
        "remove",
        "upgrade",
        "set",
        "to",
        "monitoring",
        "alert",
        "allow",
        "scrape",
        "fix",
        "ordering",
        "cert-manager",
        "kong",
        "metallb",
        "redis",
        "valkey",
        "namespace",
        "component",
        "policy",
        "1.2.3",
        "15d",
        "../x",
        "the",
        "for",
        "when",
        "within",
        "7",
        "days",
        ";",
        "&&",
        "$(",
        "`",
    ]
)


@given(st.one_of(st.text(max_size=120), st.lists(WORDS, max_size=12).map(" ".join)))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_planner_answers_with_a_plan_or_a_clear_refusal(text: str) -> None:
    try:
        plan = plan_request(text, builtin_catalog(), facts=example_facts())
    except InfrawrightError as exc:
        assert exc.message
        return
    assert isinstance(plan, Plan) and plan.ops
    assert parse_plan(plan_json(plan)) == plan  # the public format round-trips


CHARTS = sorted(e.name for e in builtin_catalog().entries.values() if e.chart is not None)


@given(st.sampled_from(CHARTS))
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_rendered_catalog_component_validates(tmp_path: Path, name: str) -> None:
    """Any catalog chart, rendered into the example, builds and adds no finding."""
    entry = builtin_catalog().get(name)
    assert entry is not None
    root = tmp_path / name
    if root.exists():
        pytest.skip("hypothesis repeated an example")
    model = load_repo(copy_repo(EXAMPLE, root))
    crds = [SHARED / "crds"] if (SHARED / "crds").is_dir() else []
    outcome = implement(
        model, Plan(request=name, ops=(helm_op(entry),)), dry_run=True, crd_dirs=crds
    )
    if outcome.status == "no-op":  # already in the example (cert-manager, cilium, ...)
        return
    runs = {c.catalog for c in RepoFacts.from_model(model).components.values()}
    if entry.name in runs:  # under another name (kube-prometheus-stack as monitoring)
        assert outcome.status == "failed"
        chart = entry.chart.name if entry.chart else name
        assert f"chart {chart} is installed once" in [c.statement for c in outcome.unmet]
        return
    index = validate(model).analysis.index
    owned = sorted(g.group for g in entry.provides if index.providers_of(g.group))
    if owned:  # another chart here owns its CRDs (prometheus-operator-crds)
        assert outcome.status == "failed"
        unmet = [c.statement for c in outcome.unmet]
        assert [f"CRD group {g} has one provider" for g in owned] == unmet
        return
    assert outcome.status == "dry-run", [f.to_dict() for f in outcome.new_findings]
