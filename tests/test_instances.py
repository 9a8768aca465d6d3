"""What an operator runs, asked for as such: the instance in a component of its own,
after the operator (installed first when absent), or the right refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.catalog import builtin_catalog
from infrawright.cli.app import run
from infrawright.errors import ExitCode, InfrawrightError
from infrawright.model.loader import load_repo
from infrawright.plan.facts import RepoFacts
from infrawright.plan.model import AddHelmComponent, AddInstance
from infrawright.plan.rules import plan_request


@pytest.fixture(scope="module")
def facts() -> RepoFacts:
    return RepoFacts.from_model(load_repo(EXAMPLE))


def _plan(request: str, facts: RepoFacts) -> list[tuple[str, str, str]]:
    plan = plan_request(request, builtin_catalog(), facts=facts)
    return [
        (op.op, op.component or "", op.after if isinstance(op, AddInstance) else "")
        for op in plan.ops
    ]


PLANS = [
    # The operator is absent: installed first (under its chart's name, so that the
    # instance can have the plain one), then what it runs.
    (
        "Create HelmRelease for Redis caching",
        [("add-helm-component", "redis-operator", ""), ("add-instance", "redis", "redis-operator")],
    ),
    (
        "install redis",
        [("add-helm-component", "redis-operator", ""), ("add-instance", "redis", "redis-operator")],
    ),
    # The example runs CloudNativePG as cloudnative-pg: only the instance, after it.
    (
        "Add a PostgreSQL cluster for strapi using CloudNativePG",
        [("add-instance", "strapi-postgresql", "cloudnative-pg")],
    ),
    (
        "we need a RabbitMQ broker",
        [
            ("add-helm-component", "rabbitmq-cluster-operator", ""),
            ("add-instance", "rabbitmq", "rabbitmq-cluster-operator"),
        ],
    ),
    (
        "add a mariadb database for wordpress",
        [
            ("add-helm-component", "mariadb-operator", ""),
            ("add-instance", "wordpress-mariadb", "mariadb-operator"),
        ],
    ),
    (
        "add a MariaDB database named shop-db",
        [
            ("add-helm-component", "mariadb-operator", ""),
            ("add-instance", "shop-db", "mariadb-operator"),
        ],
    ),
    # The operator alone, by its name or by saying so.
    ("install the redis operator", [("add-helm-component", "redis", "")]),
    ("install cloudnative-pg", [("add-helm-component", "cloudnative-pg", "")]),
    # A Cluster runs in postgres already: no second one unless it is for something.
    ("install postgres", [("add-instance", "postgres", "cloudnative-pg")]),
]


@pytest.mark.parametrize(("request_text", "expected"), PLANS)
def test_requests_for_what_an_operator_runs(
    request_text: str, expected: list[tuple[str, str, str]], facts: RepoFacts
) -> None:
    assert _plan(request_text, facts) == expected


def test_an_instance_the_catalog_cannot_create_is_refused(facts: RepoFacts) -> None:
    with pytest.raises(InfrawrightError) as err:
        plan_request("add a kafka cluster", builtin_catalog(), facts=facts)
    assert "KafkaNodePool" in err.value.message
    assert err.value.hint is not None and "install strimzi-kafka-operator" in err.value.hint


def test_redis_caching_ends_with_a_running_redis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_repo(EXAMPLE, tmp_path / "repo")
    code = run(["implement", "--repo", str(root), "--json", "Create HelmRelease for Redis caching"])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err + out
    report = json.loads(out)
    assert report["status"] == "applied"
    redis = (root / "namespaces/redis/redis.yaml").read_text()
    assert "kind: Redis\n" in redis and "apiVersion: redis.redis.opstreelabs.in/v1beta2" in redis
    statements = {c["statement"]: c["holds"] for c in report["postconditions"]}
    assert statements["Redis redis is applied by redis in namespace redis"] is True
    assert statements["redis depends on redis-operator"] is True
    assert statements["operator redis is installed once"] is True
    assert all(statements.values()), statements
    cluster = (root / "clusters/local-kube/infrastructure.yaml").read_text()
    block = cluster.split("name: redis\n", 1)[1].split("---", 1)[0]
    assert "- name: redis-operator" in block


def test_no_second_instance_of_what_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_repo(EXAMPLE, tmp_path / "repo")
    code = run(["implement", "--repo", str(root), "--json", "install postgres"])
    out, _err = capsys.readouterr()
    assert code == ExitCode.OK
    report = json.loads(out)
    assert report["status"] == "no-op"
    assert "a Cluster runs here already, in component postgres" in report["notes"]
    assert not (root / "namespaces/postgresql").exists()


def test_the_operator_review_note_is_not_kept_when_the_instance_is_made(facts: RepoFacts) -> None:
    plan = plan_request("install redis", builtin_catalog(), facts=facts)
    helm = plan.ops[0]
    assert isinstance(helm, AddHelmComponent)
    assert not any("nothing runs until" in r for r in helm.review)
