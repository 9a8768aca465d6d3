"""The public Plan format: what the planners write, what :func:`parse_plan` reads, and the
JSON Schema planners are given all agree; a bad Plan is refused with where and why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conftest import EXAMPLE, copy_repo
from infrawright.catalog import builtin_catalog
from infrawright.errors import InfrawrightError
from infrawright.model.loader import load_repo
from infrawright.plan.facts import RepoFacts
from infrawright.plan.model import (
    OPERATIONS,
    AddPlainComponent,
    Plan,
    PlanError,
    parse_plan,
    plan_json,
    plan_schema,
)
from infrawright.plan.rules import plan_request

REQUESTS = [
    "Create HelmRelease for Redis caching",
    "we need metallb",
    "install cert-manager 1.15.0",
    "add monitoring for kong",
    "remove kong",
    "create namespace team-a with baseline pss",
    "allow ingress from kong to postgres on port 5432",
    "fix the ordering",
]


@pytest.fixture(scope="module")
def plans() -> list[Plan]:
    facts = RepoFacts.from_model(load_repo(EXAMPLE))
    out = []
    for text in REQUESTS:
        try:
            out.append(plan_request(text, builtin_catalog(), facts=facts))
        except InfrawrightError:  # a request the planner refuses is not a Plan
            continue
    assert len(out) >= 5
    return out


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = plan_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_planners_plans_fit_the_schema_and_read_back_equal(
    plans: list[Plan], validator: Draft202012Validator
) -> None:
    kinds: set[str] = set()
    for plan in plans:
        data = plan_json(plan)
        assert list(validator.iter_errors(data)) == []
        assert parse_plan(data) == plan
        kinds.update(op.op for op in plan.ops)
    assert len(kinds) >= 4


def test_the_schema_names_every_operation() -> None:
    schema = plan_schema()
    assert set(schema["$defs"]) >= {cls.__name__ for cls in OPERATIONS.values()}
    helm = schema["$defs"]["AddHelmComponent"]
    assert helm["required"][0] == "op"
    assert helm["additionalProperties"] is False
    assert helm["properties"]["chart"] == {"$ref": "#/$defs/ChartRef"}
    repository = schema["$defs"]["ChartRef"]["properties"]["repository"]
    assert repository == {
        "type": "string",
        "description": "https:// Helm repository or oci:// registry path",
    }


def _plain_op(**changes: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"op": "add-plain-component", "component": "team-a", "namespace": "a"}
    op.update(changes)
    return {"request": "r", "ops": [op]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ops": []}, "request: required field missing"),
        ({"request": "r"}, "ops: required field missing"),
        ({"request": "r", "ops": [{"component": "a"}]}, "ops.0.op: should be one of"),
        (
            {"request": "r", "ops": [{"op": "launch-rockets"}]},
            "ops.0.op: should be one of 'add-helm",
        ),
        (_plain_op(colour="red"), "ops.0.colour: unknown field"),
        (_plain_op(component="Team_A"), "ops.0: 'Team_A' is not a DNS-1123 label"),
        (_plain_op(pss_level="lax"), "ops.0.pss_level: Invalid enum value 'lax'"),
        (_plain_op(namespace=5), "ops.0.namespace: Expected `str`, got `int`"),
        ({**_plain_op(), "version": 2}, "version: Invalid enum value 2"),
        ([], "a Plan is a JSON object"),
    ],
)
def test_a_bad_plan_is_refused_saying_where(
    data: object, message: str, validator: Draft202012Validator
) -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan(data)
    assert message in str(caught.value)
    if message != "ops.0: 'Team_A' is not a DNS-1123 label":  # a check the schema lacks
        assert list(validator.iter_errors(data)), "the schema lets it through"


def test_a_good_plan_by_hand_is_read() -> None:
    plan = parse_plan(_plain_op(review=["guessed the namespace"]))
    assert plan.ops == (
        AddPlainComponent(component="team-a", namespace="a", review=("guessed the namespace",)),
    )


def test_the_rule_planner_implements_without_loading_pydantic(tmp_path: Path) -> None:
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    code = (
        "import sys\n"
        "from infrawright.cli.app import run\n"
        f"code = run(['implement', '--repo', {str(repo)!r}, '--dry-run', 'we need metallb'])\n"
        "assert code == 0, code\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
