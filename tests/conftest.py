"""Shared test helpers: fixture repos, the shared CRDs, a real kustomize, a CLI runner."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infrawright.build.kustomize import Kustomize, find_kustomize

TESTS = Path(__file__).resolve().parent
# Tests never read or fill the user's cache; theirs is removed when the run ends.
_CACHE = tempfile.mkdtemp(prefix="infrawright-test-cache-")
os.environ["INFRAWRIGHT_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
PROJECT = TESTS.parent
FIXTURES = TESTS / "testdata" / "repos"
EXAMPLE = PROJECT / "examples" / "local-kube"
SHARED = PROJECT.parent / "shared"


def shared_path(name: str) -> Path:
    """A folder of ../shared, or skip: CI provides it, a user's fresh clone may not."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} not found: CI provides ../shared ({name}); a plain clone does not")
    return path


@pytest.fixture(scope="session")
def crds() -> Path:
    return shared_path("crds")


@pytest.fixture(scope="session")
def kustomize() -> Kustomize:
    """The real kustomize; fails loudly (not skips) when there is none."""
    return find_kustomize()


def copy_repo(src: Path, dest: Path) -> Path:
    """Copy a fixture repo into ``dest`` and make it a git repository."""
    shutil.copytree(src, dest, symlinks=True)
    subprocess.run(["git", "init", "-q", str(dest)], check=True)
    return dest


def crd_manifest(group: str, kind: str, spec_properties: dict[str, Any] | None = None) -> str:
    """A namespaced CustomResourceDefinition of ``kind`` in ``group``, version v1, whose
    schema is an object with these ``spec`` properties (none: any object)."""
    schema: dict[str, Any] = {"type": "object"}
    if spec_properties is not None:
        schema["properties"] = {"spec": {"type": "object", "properties": spec_properties}}
    plural = kind.lower() + "s"
    manifest = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }
    return yaml.safe_dump(manifest, sort_keys=False)


@pytest.fixture
def example_copy(tmp_path: Path) -> Iterator[Path]:
    yield copy_repo(EXAMPLE, tmp_path / "repo")


# A plain component team-a, written by hand through the tools (tests of tools and LLM).
KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml
"""
FLUX_KS = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: team-a
  namespace: flux-system
spec:
  dependsOn:
    - name: cilium
  interval: 10m
  path: ./namespaces/team-a
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
  wait: true
  timeout: 10m
"""


@pytest.fixture(autouse=True)
def _no_model_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches a real model: with a key in the environment, ``--planner auto``
    would send a request the rule planner refuses to it."""
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
