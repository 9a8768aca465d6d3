"""A request is matched to what it names: the product before a description of what
another does, a namespace to the component that owns it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.catalog import builtin_catalog
from infrawright.errors import InfrawrightError
from infrawright.model.loader import load_repo
from infrawright.plan.facts import RepoFacts
from infrawright.plan.matching import NotUnderstoodError, match_catalog
from infrawright.plan.model import AddNetworkPolicy
from infrawright.plan.rules import plan_request


@pytest.mark.parametrize(
    ("request_text", "entry"),
    [
        # "object storage" (an alias of rook-ceph) is longer than "minio", but the user
        # named MinIO.
        ("Add MinIO for S3-compatible object storage", "minio-operator"),
        ("add object storage", "rook-ceph"),  # only the description: its entry
        ("install ceph", "rook-ceph"),
        ("we need metallb", "metallb"),
        ("Set Prometheus retention to 15d", "kube-prometheus-stack"),
    ],
)
def test_the_named_product_wins(request_text: str, entry: str) -> None:
    found = match_catalog(builtin_catalog(), request_text)
    assert found is not None and found.name == entry


def test_a_policy_for_a_namespace_goes_into_the_component_that_owns_it(tmp_path: Path) -> None:
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    folder = repo / "namespaces" / "netcorp-app"
    folder.mkdir()
    (folder / "namespace.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: netcorp\n"
    )
    (folder / "kustomization.yaml").write_text("resources:\n  - namespace.yaml\n")
    facts = RepoFacts.from_model(load_repo(repo))
    plan = plan_request(
        "Add CiliumNetworkPolicy for netcorp namespace", builtin_catalog(), facts=facts
    )
    [op] = plan.ops
    assert isinstance(op, AddNetworkPolicy)
    assert (op.component, op.namespace) == ("netcorp-app", "netcorp")


def test_a_chart_running_outside_the_components_folder_is_not_installed_again(
    tmp_path: Path,
) -> None:
    """A HelmRelease of metallb in platform/ (a layout infrawright does not edit yet): a
    request for metallb installs no second copy, and a change to it says where it runs
    rather than that it is not installed."""
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    (repo / "platform").mkdir()
    (repo / "platform" / "metallb.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata:\n  name: metallb\n  namespace: metallb-system\n"
        "spec:\n  interval: 1h\n  chart:\n    spec:\n      chart: metallb\n"
        "      sourceRef:\n        kind: HelmRepository\n        name: metallb\n"
    )
    facts = RepoFacts.from_model(load_repo(repo))
    with pytest.raises(InfrawrightError) as installed:
        plan_request("we need metallb", builtin_catalog(), facts=facts)
    assert installed.value.message == (
        "metallb already runs here (platform/metallb.yaml); nothing installed"
    )
    with pytest.raises(NotUnderstoodError) as changed:
        plan_request("set metallb speaker.logLevel to debug", builtin_catalog(), facts=facts)
    assert "metallb runs here from platform/metallb.yaml, outside the components folder" in (
        changed.value.message
    )
