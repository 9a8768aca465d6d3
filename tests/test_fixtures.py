"""Every fixture repo gives exactly the findings its README and expected.json promise."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, SHARED, shared_path
from infrawright.cli.app import run

SCENARIOS = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())
#: Scenarios whose findings need the upstream CRD schemas (the rest run anywhere).
NEEDS_SCHEMAS = {"iw013-schema-violation", "iw014-cel-violation"}


def test_there_is_a_broken_fixture_per_rule() -> None:
    rules = {name.split("-")[0].upper() for name in SCENARIOS if name.startswith("iw")}
    assert rules == {f"IW{n:03d}" for n in range(16)}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fixture_findings(scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = FIXTURES / scenario
    expected = json.loads((repo / "expected.json").read_text(encoding="utf-8"))
    assert (repo / "README.md").is_file()
    crd_args: list[str] = []
    if scenario in NEEDS_SCHEMAS:
        crd_args = ["--crd-dir", str(shared_path("crds"))]
    elif (SHARED / "crds").is_dir():
        crd_args = ["--crd-dir", str(SHARED / "crds")]
    code = run(["validate", "--repo", str(repo), *crd_args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == expected["exit_code"], err or out
    if code == 2:
        assert "error:" in err and out == ""
        assert "Traceback" not in err
        return
    report = json.loads(out)
    got = {(f["rule"], f["file"]) for f in report["findings"]}
    want = {(f["rule"], f["file"]) for f in expected["findings"]}
    assert got == want
    for item in expected["findings"]:
        key = (item["rule"], item["file"])
        match = [f for f in report["findings"] if (f["rule"], f["file"]) == key]
        if "severity" in item:
            assert {f["severity"] for f in match} == {item["severity"]}
        if "resource" in item:
            assert item["resource"] in {f["resource"] for f in match}
    for finding in report["findings"]:
        assert finding["message"] and finding["hint"]
