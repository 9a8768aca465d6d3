"""The build time limit: ``validate --build-timeout SECONDS`` and config ``build_timeout``.

A build that runs longer is stopped and reported as an IW000 finding that names the
folder, its kustomization file, how many documents it holds and what to do. The folder
here has a generator, so it cannot be built in pieces; a limit far below kustomize's
start-up time makes every build run out of time quickly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.build.builds import build_all
from infrawright.build.kustomize import Kustomize, run_build
from infrawright.cli.app import run
from infrawright.errors import ExitCode, UsageError
from infrawright.model.loader import load_repo
from infrawright.repo.config import load_config

FLUX_KS = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: generated
  namespace: flux-system
spec:
  interval: 10m
  path: ./namespaces/generated
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    root = copy_repo(EXAMPLE, tmp_path / "repo")
    folder = root / "namespaces" / "generated"
    folder.mkdir()
    (folder / "settings.yaml").write_text(
        "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s-{n}\ndata:\n  v: '{n}'\n"
            for n in range(3)
        )
    )
    (folder / "kustomization.yaml").write_text(
        "resources:\n  - settings.yaml\nconfigMapGenerator:\n  - name: gen\n    literals: [a=b]\n"
    )
    cluster = root / "clusters" / "local-kube" / "infrastructure.yaml"
    cluster.write_text(cluster.read_text() + FLUX_KS)
    return root


MESSAGE = (
    "kustomize build of namespaces/generated/kustomization.yaml (3 documents) "
    "timed out after 0.001 s"
)


def test_a_build_over_the_limit_is_a_finding_that_says_what_to_do(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["validate", "--repo", str(repo), "--build-timeout", "0.001", "--format", "json"])
    out, _err = capsys.readouterr()
    assert code == ExitCode.FINDINGS
    assert MESSAGE in out
    assert "raise the limit (`--build-timeout SECONDS`, config `build_timeout`)" in out
    assert '"file": "namespaces/generated/kustomization.yaml"' in out


def test_the_config_sets_the_limit_and_the_flag_overrides_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".infrawright.toml").write_text("build_timeout = 0.001\n")
    assert load_config(repo).build_timeout == 0.001
    assert run(["validate", "--repo", str(repo), "--format", "json"]) == ExitCode.FINDINGS
    assert MESSAGE in capsys.readouterr().out
    code = run(["validate", "--repo", str(repo), "--build-timeout", "300", "--format", "json"])
    out, _err = capsys.readouterr()
    assert code == ExitCode.OK, out
    assert "timed out" not in out


@pytest.mark.parametrize("value", ["0", "-5", "soon", "inf", "nan"])
def test_a_bad_flag_value_is_a_usage_error(
    value: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["validate", "--repo", str(repo), f"--build-timeout={value}"])
    _out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert f"--build-timeout: {value!r} is not a build time limit" in err
    assert "give a positive number of seconds" in err


@pytest.mark.parametrize("value", ["0", "-1", '"300"', "true"])
def test_a_bad_config_value_is_a_usage_error(value: str, repo: Path) -> None:
    (repo / ".infrawright.toml").write_text(f"build_timeout = {value}\n")
    with pytest.raises(UsageError, match=r"\.infrawright\.toml build_timeout: .* is not a build"):
        load_config(repo)


def test_the_tool_carries_its_limit_to_every_build(repo: Path, kustomize: Kustomize) -> None:
    quick = kustomize.with_timeout(0.001)
    assert quick.describe() == kustomize.describe(), "the limit is not part of cache keys"
    result = run_build(quick, repo / "namespaces" / "generated")
    assert result.timed_out and result.error == "timed out after 0.001 s"
    model = load_repo(repo)
    ks = next(k for k in model.kustomizations if k.name == "generated")
    (build,) = build_all(model, quick, only=[ks])
    assert build.timed_out and build.error == MESSAGE
    (build,) = build_all(model, kustomize, only=[ks])
    assert not build.timed_out and build.error is None and len(build.objects) == 4
