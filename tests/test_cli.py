"""The command line: formats, snapshots, exit codes, messages for bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE, FIXTURES, SHARED, TESTS, copy_repo
from infrawright.cli.app import run
from infrawright.errors import ExitCode

SNAPSHOTS = TESTS / "snapshots"


def _normalise(text: str) -> str:
    """Versions of the tools installed, and where ../shared is, are not the output's."""
    text = re.sub(r"kustomize v\d+\.\d+\.\d+", "kustomize vX", text)
    text = re.sub(r"Kubernetes \d+\.\d+", "Kubernetes X", text)
    return text.replace(str(SHARED), "<shared>")


def _snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    text = _normalise(text)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 once"
    assert text == path.read_text(encoding="utf-8")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report_snapshot(capsys: pytest.CaptureFixture[str], crds: Path) -> None:
    repo = FIXTURES / "iw003-missing-crd-dependency"
    code, out, _ = cli(capsys, "validate", "--repo", str(repo), "--crd-dir", str(crds))
    assert code == ExitCode.FINDINGS
    _snapshot("validate-iw003.txt", out)


def test_json_report_snapshot(capsys: pytest.CaptureFixture[str], crds: Path) -> None:
    repo = FIXTURES / "iw006-banned-fields"
    code, out, _ = cli(
        capsys, "validate", "--repo", str(repo), "--crd-dir", str(crds), "--format", "json"
    )
    assert code == ExitCode.FINDINGS
    data = json.loads(out)
    data["kustomize"]["version"] = "vX"
    data["kustomize"]["source"] = "-"
    _snapshot("validate-iw006.json", json.dumps(data, indent=2) + "\n")


def test_findings_have_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        capsys,
        "validate",
        "--repo",
        str(FIXTURES / "iw008-webhook-without-cnp"),
        "--format",
        "json",
    )
    assert code == ExitCode.FINDINGS
    finding = json.loads(out)["findings"][0]
    assert list(finding) == ["rule", "severity", "file", "line", "resource", "message", "hint"]
    assert finding["rule"] == "IW008" and finding["severity"] == "error"
    assert finding["file"] == "namespaces/cert-manager/helm-release.yaml"
    assert isinstance(finding["line"], int) and finding["line"] >= 1
    assert "10250" in finding["hint"]


def test_sarif_and_github_formats(capsys: pytest.CaptureFixture[str]) -> None:
    repo = str(FIXTURES / "iw005-chart-servicemonitor-on")
    code, out, _ = cli(capsys, "validate", "--repo", repo, "--format", "sarif")
    assert code == ExitCode.FINDINGS
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["IW005"]
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] > 1
    code, out, _ = cli(capsys, "validate", "--repo", repo, "--format", "github")
    assert out.startswith("::error file=namespaces/cert-manager/helm-release.yaml,line=")
    assert "title=IW005::" in out


def test_output_file_gets_format_and_terminal_gets_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.sarif"
    repo = str(FIXTURES / "iw007-namespace-without-pss")
    code, out, _ = cli(
        capsys, "validate", "--repo", repo, "--format", "sarif", "--output", str(target)
    )
    assert code == ExitCode.FINDINGS
    assert json.loads(target.read_text())["runs"][0]["results"][0]["ruleId"] == "IW007"
    assert "error IW007" in out


def test_disable_and_strict(capsys: pytest.CaptureFixture[str]) -> None:
    repo = str(FIXTURES / "iw010-orphan-file")
    assert cli(capsys, "validate", "--repo", repo)[0] == ExitCode.OK
    assert cli(capsys, "validate", "--repo", repo, "--strict")[0] == ExitCode.FINDINGS
    assert cli(capsys, "validate", "--repo", repo, "--strict", "--disable", "IW010")[0] == 0
    code, _, err = cli(capsys, "validate", "--repo", repo, "--disable", "IW999")
    assert code == ExitCode.USAGE and "IW999" in err


def test_config_file_switches_flat_layout_rules_off(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = copy_repo(FIXTURES / "iw001-overlays", tmp_path / "r")
    assert cli(capsys, "validate", "--repo", str(repo))[0] == ExitCode.FINDINGS
    (repo / ".infrawright.toml").write_text("flat_layout = false\n")
    assert cli(capsys, "validate", "--repo", str(repo))[0] == ExitCode.OK


def test_bad_config_key_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = copy_repo(FIXTURES / "clean", tmp_path / "r")
    (repo / ".infrawright.toml").write_text("flat_layuot = false\n")
    code, _, err = cli(capsys, "validate", "--repo", str(repo))
    assert code == ExitCode.USAGE
    assert ".infrawright.toml: unknown config key(s): flat_layuot" in err


def test_graph_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "graph", "--repo", str(EXAMPLE))
    assert code == 0
    assert out.splitlines()[0] == "Layer 0: cilium, flux-system"
    assert "cert-manager-config (-> cert-manager*, cilium)" in out
    code, out, _ = cli(capsys, "graph", "--repo", str(EXAMPLE), "--format", "json")
    data = json.loads(out)
    assert data["layers"]["cilium"] == 0 and data["layers"]["cert-manager-config"] == 2
    assert {"from": "cert-manager-config", "to": "cert-manager", "crd": True} in data["edges"]
    assert {"from": "cert-manager-config", "to": "cilium", "crd": False} in data["edges"]
    for fmt, marker in (("mermaid", "flowchart BT"), ("dot", "digraph dependsOn")):
        code, out, _ = cli(capsys, "graph", "--repo", str(EXAMPLE), "--format", fmt)
        assert code == 0 and out.startswith(marker)


def test_graph_prints_cycles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "graph", "--repo", str(FIXTURES / "iw009-cycle"))
    assert code == 0
    assert re.search(r"Cycle \(no layer\): (cert-manager -> cilium -> cert-manager)", out)


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "explain", "iw003")
    assert code == 0
    assert out.startswith("IW003:")
    assert "Bad::" in out and "Good::" in out and "Default severity: error" in out
    code, out, _ = cli(capsys, "explain")
    assert len(out.splitlines()) == 16
    code, _, err = cli(capsys, "explain", "IW404")
    assert code == ExitCode.USAGE and "unknown rule" in err


def test_version_and_doctor_name_the_kustomize(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--version")
    assert code == 0 and out.startswith("infrawright ")
    assert re.search(r"kustomize v?\d+\.\d+", out)
    code, out, _ = cli(capsys, "doctor")
    assert code == 0 and "kustomize:" in out and "catalog:" in out


def test_no_repo_anywhere_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    os.environ.pop("INFRA_ROOT", None)
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)
        code, _, err = cli(capsys, "validate")
    finally:
        os.chdir(cwd)
    assert code == ExitCode.USAGE
    assert "not inside a git repository" in err


def test_infra_root_is_used(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRA_ROOT", str(FIXTURES / "clean"))
    assert cli(capsys, "validate")[0] == ExitCode.OK


def test_not_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "validate", "--repo", str(tmp_path / "nope"))
    assert code == ExitCode.USAGE and "not a directory" in err


def test_missing_cluster_folder_names_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cli(capsys, "validate", "--repo", str(EXAMPLE), "--cluster", "prod")
    assert code == ExitCode.USAGE
    assert "no cluster 'prod' in this repository (known: local-kube)" in err


def test_symlink_out_of_the_repo_is_reported_not_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n")
    repo = copy_repo(FIXTURES / "clean", tmp_path / "r")
    (repo / "namespaces" / "cilium" / "linked.yaml").symlink_to(outside)
    code, out, _ = cli(capsys, "validate", "--repo", str(repo), "--format", "json")
    assert code == ExitCode.FINDINGS
    findings = json.loads(out)["findings"]
    assert [(f["rule"], f["file"]) for f in findings] == [
        ("IW000", "namespaces/cilium/linked.yaml")
    ]
    assert "outside the repository" in findings[0]["message"]


def test_missing_cluster_file_with_kustomizations_elsewhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = copy_repo(FIXTURES / "clean", tmp_path / "r")
    moved = repo / "clusters" / "test" / "apps.yaml"
    shutil.move(repo / "clusters" / "test" / "infrastructure.yaml", moved)
    code, out, _ = cli(capsys, "validate", "--repo", str(repo), "--format", "json")
    assert code == ExitCode.FINDINGS
    rules = {(f["rule"], f["file"]) for f in json.loads(out)["findings"]}
    assert rules == {("IW002", "clusters/test/apps.yaml")}


def test_llm_planner_without_a_key_says_which_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from conftest import EXAMPLE, copy_repo

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    code, _, err = cli(
        capsys, "implement", "--repo", str(repo), "--planner", "llm", "install cert-manager"
    )
    assert code == ExitCode.USAGE and "ANTHROPIC_API_KEY" in err
    assert "Traceback" not in err


def test_the_console_script_flushes_all_output_before_its_quick_exit(tmp_path: Path) -> None:
    """main() ends the process with os._exit: everything written must still arrive, and
    the exit code must be the command's."""
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    script = "from infrawright.cli.app import main; main()"
    ok = subprocess.run(
        [sys.executable, "-c", script, "validate", "--repo", str(repo), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == int(ExitCode.OK), ok.stderr
    assert json.loads(ok.stdout)["findings"] == []
    bad = subprocess.run(
        [sys.executable, "-c", script, "validate", "--repo", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == int(ExitCode.USAGE)
    assert "not a directory" in bad.stderr


def test_a_reader_that_goes_away_ends_the_run_quietly() -> None:
    """`infrawright explain | head -0`: no error message, and nothing claims a rollback."""
    import subprocess
    import sys

    code = "import sys; from infrawright.cli.app import main; main(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "explain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""
