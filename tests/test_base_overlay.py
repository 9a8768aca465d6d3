"""The base/overlay fixture: one planted failure of each kind that takes down a Flux
apply (issue 14, point 7), exactly those reported; fixed, the repository is clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, copy_repo, shared_path
from infrawright.cli.app import run

FIXTURE = FIXTURES / "flux-base-overlay"

#: (cluster, rule, file, line, a key part of the message)
PLANTED = {
    (
        "staging",
        "IW000",
        "apps/staging/kustomization.yaml",
        6,
        "patches.0.path names 'podinfo-value.yaml', which does not exist; "
        "did you mean 'podinfo-values.yaml'?",
    ),
    (
        "production",
        "IW000",
        "infrastructure/production/kustomization.yaml",
        5,
        "resources.1 names 'kube-state-metrics.yml', which does not exist; "
        "did you mean 'kube-state-metrics.yaml'?",
    ),
    (
        "staging",
        "IW015",
        "infrastructure/staging/kustomization.yaml",
        7,
        "patches[0] targets HelmRelease named 'metric-server', which no resource of this "
        "kustomization is",
    ),
    (
        "production",
        "IW013",
        "clusters/production/apps.yaml",
        9,
        "spec.interval: '10 minutes' is not a duration (Go form, e.g. 1h, 10m, 30s)",
    ),
    (
        "staging",
        "IW014",
        "infrastructure/staging/kube-state-metrics.yaml",
        20,
        "spec: either chart or chartRef must be set (set here: spec.chart, spec.chartRef)",
    ),
}


def _validate(
    repo: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    code = run(["validate", "--repo", str(repo), "--format", "json", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def _found(report: dict[str, Any]) -> set[tuple[str, str, str, int]]:
    return {(f["cluster"], f["rule"], f["file"], f["line"]) for f in report["findings"]}


def _check_planted(code: int, report: dict[str, Any]) -> None:
    assert code == 1
    assert _found(report) == {p[:4] for p in PLANTED}
    for cluster, rule, file, line, words in PLANTED:
        (finding,) = [
            f
            for f in report["findings"]
            if (f["cluster"], f["rule"], f["file"], f["line"]) == (cluster, rule, file, line)
        ]
        assert words in finding["message"]
        assert finding["severity"] == ("warning" if rule == "IW015" else "error")


def test_planted_failures_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The fixture's own CRD stand-in (crds/) is the schema source: no --crd-dir."""
    repo = copy_repo(FIXTURE, tmp_path / "repo")
    code, report = _validate(repo, capsys)
    _check_planted(code, report)
    assert report["cel"] == {"evaluated": 3, "not_evaluated": {}}


def test_planted_failures_with_upstream_crds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crds = shared_path("crds")
    repo = copy_repo(FIXTURE, tmp_path / "repo")
    code, report = _validate(repo, capsys, "--crd-dir", str(crds))
    _check_planted(code, report)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_fixed_it_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = copy_repo(FIXTURE, tmp_path / "repo")
    _edit(repo / "apps/staging/kustomization.yaml", "podinfo-value.yaml", "podinfo-values.yaml")
    _edit(
        repo / "infrastructure/production/kustomization.yaml",
        "kube-state-metrics.yml",
        "kube-state-metrics.yaml",
    )
    _edit(repo / "infrastructure/staging/kustomization.yaml", "metric-server", "metrics-server")
    _edit(repo / "clusters/production/apps.yaml", "10 minutes", "10m")
    chart = (
        "  chart:\n    spec:\n      chart: kube-state-metrics\n      sourceRef:\n"
        "        kind: HelmRepository\n        name: prometheus-community\n"
    )
    _edit(repo / "infrastructure/staging/kube-state-metrics.yaml", chart, "")
    code, report = _validate(repo, capsys)
    assert report["findings"] == []
    assert code == 0
    assert report["summary"]["built"] == report["summary"]["kustomizations"] == 6


def test_a_patch_naming_nothing_fails_the_build_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A strategic-merge patch without a target that names no resource: kustomize
    fails, and IW000 names the patch entry's line and what it names."""
    repo = copy_repo(FIXTURE, tmp_path / "repo")
    with (repo / "apps/production/kustomization.yaml").open("a", encoding="utf-8") as fh:
        fh.write(
            "  - patch: |-\n"
            "      apiVersion: helm.toolkit.fluxcd.io/v2\n"
            "      kind: HelmRelease\n"
            "      metadata: {name: podinfoo, namespace: podinfo}\n"
            "      spec: {suspend: true}\n"
        )
    code, report = _validate(repo, capsys)
    assert code == 1
    (finding,) = [
        f for f in report["findings"] if f["file"] == "apps/production/kustomization.yaml"
    ]
    assert (finding["rule"], finding["line"], finding["cluster"]) == ("IW000", 10, "production")
    assert "patches.1 patches HelmRelease podinfo/podinfoo, which no resource" in finding["message"]


def test_a_flux_patch_target_naming_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """spec.patches of a Flux Kustomization: its target is matched against the build."""
    repo = copy_repo(FIXTURE, tmp_path / "repo")
    with (repo / "clusters/production/infrastructure.yaml").open("a", encoding="utf-8") as fh:
        fh.write(
            "  patches:\n"
            "    - target: {kind: HelmRelease, name: metrics-server}\n"
            "      patch: &suspend |\n"
            "        - op: add\n"
            "          path: /spec/suspend\n"
            "          value: false\n"
            "    - target: {kind: HelmRelease, name: kube-state-metric$}\n"
            "      patch: *suspend\n"
        )
    _edit(
        repo / "infrastructure/production/kustomization.yaml",
        "kube-state-metrics.yml",
        "kube-state-metrics.yaml",
    )
    code, report = _validate(repo, capsys)
    flux = [f for f in report["findings"] if f["file"] == "clusters/production/infrastructure.yaml"]
    assert [(f["rule"], f["line"]) for f in flux] == [("IW015", 22)]
    assert "spec.patches[1] targets HelmRelease named 'kube-state-metric$'" in flux[0]["message"]
    assert code == 1  # the planted IW013 and IW000 of staging are still there
