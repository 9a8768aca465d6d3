"""CEL validation rules of CRD schemas (validate/cel.py): where rules sit, defaults,
what is not evaluated and why, messages and field paths."""

from __future__ import annotations

from typing import Any

import pytest

from infrawright.validate import cel


def _schema(**spec: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"spec": {"type": "object", **spec}}}


def _rules(*rules: dict[str, str], **extra: Any) -> dict[str, Any]:
    return _schema(**{"x-kubernetes-validations": list(rules)}, **extra)


CHART = {
    "rule": "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",
    "message": "either chart or chartRef must be set",
}


def _outcome(schema: dict[str, Any], data: dict[str, Any]) -> cel.Outcome:
    outcome = cel.Outcome()
    cel.check(schema, data, outcome)
    return outcome


@pytest.mark.parametrize(
    ("spec", "violated"),
    [
        ({"chart": {}, "chartRef": {}}, True),
        ({"chart": {}}, False),
        ({"chartRef": {}}, False),
        ({}, True),
    ],
)
def test_the_helmrelease_chart_rule(spec: dict[str, Any], violated: bool) -> None:
    outcome = _outcome(_rules(CHART), {"spec": spec})
    assert outcome.evaluated == 1
    assert [v.message for v in outcome.violations] == (
        ["either chart or chartRef must be set"] if violated else []
    )


def test_violation_names_the_path_and_the_fields_it_tests() -> None:
    (v,) = _outcome(_rules(CHART), {"spec": {"chart": {}, "chartRef": {}, "values": {}}}).violations
    assert cel.dotted(v.path) == "spec"
    assert [cel.dotted(p) for p in v.present] == ["spec.chart", "spec.chartRef"]
    assert v.rule == CHART["rule"]


def test_rules_on_list_items_and_map_values_run_for_each() -> None:
    item = {"type": "object", "x-kubernetes-validations": [{"rule": "self.n > 0"}]}
    schema = _schema(
        properties={
            "list": {"type": "array", "items": item},
            "map": {"type": "object", "additionalProperties": item},
        }
    )
    data = {"spec": {"list": [{"n": 1}, {"n": 0}], "map": {"a": {"n": -1}, "b": {"n": 2}}}}
    outcome = _outcome(schema, data)
    assert outcome.evaluated == 4
    assert [cel.dotted(v.path) for v in outcome.violations] == ["spec.list[1]", "spec.map.a"]
    assert outcome.violations[0].message == "failed rule: self.n > 0"


def test_defaults_are_applied_before_the_rules_run() -> None:
    schema = _rules(
        {"rule": "self.provider == 'generic' || has(self.serviceAccountName)"},
        properties={"provider": {"type": "string", "default": "generic"}},
    )
    data: dict[str, Any] = {"spec": {}}
    assert _outcome(schema, data).violations == []
    assert data == {"spec": {}}  # the object itself is not changed
    presence = _rules(
        {"rule": "has(self.provider)"},
        properties={"provider": {"type": "string", "default": "generic"}, "other": {}},
    )
    assert _outcome(presence, data).violations == []
    assert len(_outcome(_rules({"rule": "has(self.other)"}), data).violations) == 1


def test_what_is_not_evaluated_is_counted_never_a_violation() -> None:
    schema = _rules(
        {"rule": "self.replicas >= oldSelf.replicas"},
        {"rule": "quantity(self.memory).isGreaterThan(quantity('1Gi'))"},
        {"rule": "self.missing == 'x'"},
        {"rule": "self.name.lowerAscii() == 'a'"},
    )
    outcome = _outcome(schema, {"spec": {"replicas": 1, "memory": "2Gi", "name": "B"}})
    assert dict(outcome.skipped) == {
        "transition rule (uses oldSelf)": 1,
        "unsupported function 'quantity'": 1,
        "evaluation error on the object": 1,
    }
    assert outcome.evaluated == 1  # lowerAscii: the strings extension is there
    assert [v.rule for v in outcome.violations] == ["self.name.lowerAscii() == 'a'"]


def test_message_expression_and_field_path() -> None:
    schema = _rules(
        {
            "rule": "self.min <= self.max",
            "message": "plain",
            "messageExpression": "'min ' + string(self.min) + ' is above max ' + string(self.max)",
            "fieldPath": ".max",
        }
    )
    (v,) = _outcome(schema, {"spec": {"min": 5, "max": 2}}).violations
    assert v.message == "min 5 is above max 2"
    assert v.path == ("spec", "max")


def test_a_rule_reading_fields_only_gets_those_and_the_same_answer() -> None:
    """Only the fields a rule reads are converted (spec.values can be big); a rule that
    reads self whole gets it whole."""
    big = {"values": {str(i): list(range(50)) for i in range(200)}, "chart": {}}
    assert _outcome(_rules(CHART), {"spec": big}).violations == []
    whole = _rules({"rule": "size(self) == 2"})
    assert _outcome(whole, {"spec": big}).violations == []
    assert len(_outcome(whole, {"spec": {"a": 1}}).violations) == 1


def test_programs_are_compiled_once_per_expression() -> None:
    first = cel.compiled("self.a == 1")
    assert cel.compiled("self.a == 1") is first
    assert cel.compiled("self.a ==") == "expression the CEL library cannot compile"
