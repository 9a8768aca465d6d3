"""Post-conditions: a change is written only when it is the one asked for.

Each test renders a real plan on a copy of the example, then spoils the change the way
a faulty renderer (or a planner's wrong guess) would: a value written to the wrong key,
a second installation of a chart, a fix left half done, an edit outside the request.
The validated tree still passes every rule, so only the post-conditions can catch it,
and when they do nothing is written.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLE, FIXTURES, copy_repo
from infrawright.change.implement import Outcome, settle
from infrawright.model.conventions import infer
from infrawright.model.loader import load_repo
from infrawright.plan.model import (
    AddHelmComponent,
    ChartRef,
    FixOrdering,
    Plan,
    RemoveComponent,
    SetChartVersion,
    SetValues,
)
from infrawright.render.draft import Draft
from infrawright.render.ops import render_plan
from infrawright.validate.engine import validate

RETENTION = "prometheus.prometheusSpec.retention"


def _settle(root: Path, plan: Plan, spoil: dict[str, tuple[str, str]] | None = None) -> Outcome:
    """Render ``plan`` on ``root``, replace text in the rendered files as ``spoil`` says
    (file -> (old, new)), then validate, check and write as implement does."""
    model = load_repo(root)
    before = validate(model)
    rendered = render_plan(Draft(before.analysis, infer(model)), plan)
    changes = rendered.changes
    for rel, (old, new) in (spoil or {}).items():
        data = changes.files.get(rel)
        text = data.decode() if data is not None else (root / rel).read_text()
        assert old in text, f"{old!r} not in {rel}"
        changes.write(rel, text.replace(old, new, 1))
    outcome = Outcome(plan.request, "no-op", plan, changes, noop=rendered.noop)
    outcome.added, outcome.depends, outcome.touched = (
        rendered.added,
        rendered.depends,
        rendered.touched,
    )
    return settle(model, before, outcome, crd_dirs=[])


def _clean(root: Path) -> bool:
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    )
    return status.stdout == ""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = copy_repo(EXAMPLE, tmp_path / "repo")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"],
        cwd=root,
        check=True,
    )
    return root


def _statements(outcome: Outcome, *, holding: bool) -> list[str]:
    return [c.statement for c in outcome.checks if c.holds is holding and not c.left]


def test_a_value_set_as_asked_holds_and_is_written(repo: Path) -> None:
    plan = Plan(request="t", ops=(SetValues(component="monitoring", values={RETENTION: "15d"}),))
    outcome = _settle(repo, plan)
    assert outcome.status == "applied", outcome.error
    assert f"kube-prometheus-stack: {RETENTION} is '15d'" in _statements(outcome, holding=True)
    assert "nothing changed beyond the components it names" in _statements(outcome, holding=True)
    assert not outcome.unmet
    assert "retention: 15d" in (repo / "namespaces/monitoring/helm-release.yaml").read_text()


def test_a_value_written_to_the_wrong_key_is_caught(repo: Path) -> None:
    plan = Plan(request="t", ops=(SetValues(component="monitoring", values={RETENTION: "15d"}),))
    spoil = {"namespaces/monitoring/helm-release.yaml": ("retention: 15d", "retentionPeriod: 15d")}
    outcome = _settle(repo, plan, spoil)
    assert outcome.status == "failed"
    assert [c.statement for c in outcome.unmet] == [f"kube-prometheus-stack: {RETENTION} is '15d'"]
    assert "it is None" in outcome.unmet[0].why
    assert "not what was asked for" in outcome.error
    assert _clean(repo), "nothing may be written"


def test_a_second_installation_of_a_chart_is_caught(repo: Path) -> None:
    # The example runs kube-prometheus-stack as `monitoring`: a plan that installs it
    # again under its chart's name validates, but is not what anyone wants.
    chart = ChartRef(
        name="kube-prometheus-stack",
        repository="https://prometheus-community.github.io/helm-charts",
        version="80.0.0",
    )
    op = AddHelmComponent(
        component="kps",
        namespace="kps",
        chart=chart,
        catalog="kube-prometheus-stack",
        monitoring=False,
    )
    outcome = _settle(repo, Plan(request="t", ops=(op,)))
    assert outcome.status == "failed"
    unmet = {c.statement: c.why for c in outcome.unmet}
    assert unmet == {
        "chart kube-prometheus-stack is installed once": "installed by kps, monitoring",
        # and by what it installs: two owners of one CRD group
        "CRD group monitoring.coreos.com has one provider": "provided by kps, monitoring",
    }
    assert _clean(repo)


def test_an_edit_outside_the_request_is_caught(repo: Path) -> None:
    plan = Plan(request="t", ops=(SetValues(component="monitoring", values={RETENTION: "15d"}),))
    release = (repo / "namespaces/kong/helm-release.yaml").read_text()
    assert "replicaCount" not in release
    spoil = {
        "namespaces/kong/helm-release.yaml": ("  values:\n", "  values:\n    replicaCount: 2\n")
    }
    outcome = _settle(repo, plan, spoil)
    assert outcome.status == "failed"
    assert [(c.statement, c.why) for c in outcome.unmet] == [
        ("nothing changed beyond the components it names", "kong renders other objects")
    ]
    assert _clean(repo)


def test_a_pin_must_be_exact(repo: Path) -> None:
    ok = _settle(
        repo,
        Plan(request="t", ops=(SetChartVersion(component="kong", version="2.52.0", exact=True),)),
    )
    assert ok.status == "applied", ok.error
    assert "kong is pinned to exactly 2.52.0" in _statements(ok, holding=True)


def test_a_range_where_a_pin_was_asked_is_caught(repo: Path) -> None:
    op = SetChartVersion(component="kong", version="2.52.0", exact=True)
    spoil = {"namespaces/kong/helm-release.yaml": ('version: "2.52.0"', 'version: "2.52.x"')}
    outcome = _settle(repo, Plan(request="t", ops=(op,)), spoil)
    assert outcome.status == "failed"
    assert [(c.statement, c.why) for c in outcome.unmet] == [
        ("kong is pinned to exactly 2.52.0", "it asks for '2.52.x'")
    ]
    assert _clean(repo)


def test_a_removal_holds(repo: Path) -> None:
    outcome = _settle(repo, Plan(request="t", ops=(RemoveComponent(component="kong"),)))
    assert outcome.status == "applied", outcome.error
    assert set(_statements(outcome, holding=True)) == {
        "no Flux Kustomization of kong remains",
        "nothing depends on kong",
        "no HelmRelease kong is applied any more",
        "no file of kong's folders remains",
        "nothing changed beyond the components it names",
    }


def test_a_fix_left_half_done_is_caught(tmp_path: Path) -> None:
    root = copy_repo(FIXTURES / "iw005-chart-servicemonitor-on", tmp_path / "repo")
    plan = Plan(request="t", ops=(FixOrdering(),))
    model = load_repo(root)
    before = validate(model)
    assert any(f.rule == "IW005" for f in before.findings)
    release = next(
        f.file for f in before.findings if f.rule == "IW005" and f.file.endswith(".yaml")
    )
    # The fix switches the chart's ServiceMonitor off; undo that in the change.
    outcome = _settle(root, plan, {release: ("enabled: false", "enabled: true")})
    assert outcome.status == "failed"
    assert [c.statement for c in outcome.unmet] == [
        "no ordering finding (IW003/IW004/IW005) with a mechanical fix remains in the repository"
    ]
    assert "IW005" in outcome.unmet[0].why


def test_a_finding_without_a_mechanical_fix_makes_the_change_partial(tmp_path: Path) -> None:
    root = copy_repo(FIXTURES / "iw003-parent-applies-provider", tmp_path / "repo")
    before = validate(load_repo(root))
    assert [f.fix for f in before.findings if f.rule == "IW003"] == [""]
    outcome = _settle(root, Plan(request="t", ops=(FixOrdering(),)))
    assert outcome.left, outcome.checks
    assert all(c.statement.startswith("IW003 at ") for c in outcome.left)
    assert not outcome.unmet
