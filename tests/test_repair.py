"""'Fix what's broken': every finding with one mechanical fix is fixed in one change, the
rest are listed and the result is partial (exit 1), never "Complete"."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.cli.app import run
from infrawright.errors import ExitCode
from infrawright.model.loader import load_repo
from infrawright.validate.engine import validate

KONG = "namespaces/kong/helm-release.yaml"
CLUSTER = "clusters/local-kube/infrastructure.yaml"


def _replace(root: Path, rel: str, old: str, new: str) -> None:
    text = (root / rel).read_text()
    assert old in text, (rel, old)
    (root / rel).write_text(text.replace(old, new, 1))


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """The example with a banned workaround, a duration in words and a monitor inside
    its component: three findings, each with a mechanical fix."""
    root = copy_repo(EXAMPLE, tmp_path / "repo")
    _replace(root, KONG, "  install:\n", "  install:\n    force: true\n")
    _replace(
        root,
        CLUSTER,
        "  interval: 10m\n  path: ./namespaces/kong\n",
        "  interval: 10 minutes\n  path: ./namespaces/kong\n",
    )
    mon = root / "namespaces/kong-monitoring"
    (mon / "servicemonitor.yaml").rename(root / "namespaces/kong/servicemonitor.yaml")
    _replace(root, "namespaces/kong-monitoring/kustomization.yaml", "  - servicemonitor.yaml\n", "")
    _replace(
        root,
        "namespaces/kong/kustomization.yaml",
        "resources:\n",
        "resources:\n  - servicemonitor.yaml\n",
    )
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def _rules(root: Path) -> list[tuple[str, str]]:
    return sorted((f.rule, f.fix) for f in validate(load_repo(root)).findings)


def test_every_mechanical_fix_in_one_change(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _rules(broken) == [
        ("IW003", "depends-on"),
        ("IW004", "move-monitors"),
        ("IW006", "remove-workaround"),
        ("IW013", "duration"),
    ]
    code = run(["implement", "--repo", str(broken), "--json", "fix what's broken"])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err + out
    report = json.loads(out)
    assert report["status"] == "applied"
    assert _rules(broken) == []
    assert "force: true" not in (broken / KONG).read_text()
    assert "interval: 10m\n  path: ./namespaces/kong" in (broken / CLUSTER).read_text()
    assert (broken / "namespaces/kong-monitoring/servicemonitor.yaml").is_file()
    checks = {c["statement"]: c["holds"] for c in report["postconditions"]}
    assert checks["no finding with a mechanical fix remains in the repository"] is True


def test_what_has_no_mechanical_fix_is_left_and_partial(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A duration with no unit: nobody but its author knows what 5 meant.
    _replace(broken, CLUSTER, "  interval: 10 minutes\n", "  interval: 5\n")
    code = run(["implement", "--repo", str(broken), "--json", "make the manifests valid"])
    out, err = capsys.readouterr()
    assert code == ExitCode.FINDINGS, err
    assert "Partial: 1 thing(s) left for you" in err
    report = json.loads(out)
    left = [c for c in report["postconditions"] if c["left"]]
    assert [c["statement"].split(" at ")[0] for c in left] == ["IW013"]
    assert "is not a duration" in left[0]["why"]
    assert _rules(broken) == [("IW013", "")]  # the rest was fixed and written
