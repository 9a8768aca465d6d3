"""A change written file by file (a model's write_file + finish, or a script through the
tools) has no Plan: it is never reported "Complete", and what any change must keep is
still checked on the validated tree (no CRD group gets a second provider)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo, crd_manifest
from infrawright.agents.tools import Tools
from infrawright.report.console import Plain
from infrawright.report.implement import print_outcome

CLUSTER = "clusters/local-kube/infrastructure.yaml"

NAMESPACE = """apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
"""

#: A CRD of the group cilium.io, which the example's cilium component provides already.
SECOND_CILIUM_CRD = crd_manifest("cilium.io", "Widget")


def kustomization(*resources: str) -> str:
    listed = "".join(f"  - {r}\n" for r in resources)
    return f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{listed}"


def flux_ks(name: str) -> str:
    return f"""---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  dependsOn:
    - name: cilium
  interval: 10m
  path: ./namespaces/{name}
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


@pytest.fixture
def tools(tmp_path: Path) -> Tools:
    return Tools(copy_repo(EXAMPLE, tmp_path / "repo"))


def text_report(tools: Tools, capsys: pytest.CaptureFixture[str]) -> str:
    assert tools.last_outcome is not None
    capsys.readouterr()
    print_outcome(tools.last_outcome, Plain())
    return capsys.readouterr().out


def stage(tools: Tools, folder: str, files: dict[str, str]) -> None:
    for name, content in files.items():
        ok, answer = tools.call("write_file", {"path": f"{folder}/{name}", "content": content})
        assert ok, answer
    cluster = (tools.root / CLUSTER).read_text() + flux_ks(Path(folder).name)
    ok, answer = tools.call("write_file", {"path": CLUSTER, "content": cluster})
    assert ok, answer


def test_a_hand_written_change_is_applied_but_never_called_complete(
    tools: Tools, capsys: pytest.CaptureFixture[str]
) -> None:
    stage(
        tools,
        "namespaces/team-a",
        {"namespace.yaml": NAMESPACE, "kustomization.yaml": kustomization("namespace.yaml")},
    )
    ok, report = tools.call("finish", {"summary": "a namespace for team-a"})
    assert ok and report["status"] == "applied", report
    assert report["request_checked"] is False
    assert (tools.root / "namespaces/team-a/namespace.yaml").read_text() == NAMESPACE
    text = text_report(tools, capsys)
    assert "Complete" not in text
    assert "Hand-written change applied; the request itself was not checked" in text
    assert "not checked: that these files do what the request asked" in text


def test_a_planned_change_still_says_complete(
    tools: Tools, capsys: pytest.CaptureFixture[str]
) -> None:
    ok, report = tools.call("implement", {"request": "we need metallb"})
    assert ok and report["status"] == "applied", report
    assert report["request_checked"] is True
    assert "Infrastructure Implementation Complete" in text_report(tools, capsys)


def test_a_second_provider_of_a_crd_group_is_refused_and_nothing_written(tools: Tools) -> None:
    before = (tools.root / CLUSTER).read_bytes()
    stage(
        tools,
        "namespaces/widgets",
        {"crd.yaml": SECOND_CILIUM_CRD, "kustomization.yaml": kustomization("crd.yaml")},
    )
    ok, report = tools.call("finish", {"summary": "widgets"})
    assert ok and report["status"] == "failed", report
    failed = [c for c in report["postconditions"] if not c["holds"]]
    assert [c["statement"] for c in failed] == ["CRD group cilium.io has one provider"]
    assert failed[0]["why"] == "provided by cilium, widgets; before the change by cilium"
    assert "not what was asked for" in report["error"]
    assert not (tools.root / "namespaces/widgets").exists()
    assert (tools.root / CLUSTER).read_bytes() == before
    assert json.dumps(report)  # the answer a model gets is plain JSON
