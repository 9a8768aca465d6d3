"""Golden files: what ``implement`` writes for a few requests, byte for byte.

Each request in :data:`REQUESTS` is implemented (applied, not a dry run) on a fresh scratch
copy of ``examples/local-kube``. Every file it creates is compared with
``tests/golden/<slug>/<repo-relative path>``. The cluster file
(``clusters/local-kube/infrastructure.yaml``) is the one file a new component modifies, and
only by appending: its golden file holds **only the appended part** (from the first
``---`` added), and the test checks that the original bytes are kept in front of it. That
way a change to the example's own Kustomizations does not touch every golden file.

The same request is run on a second fresh copy (another path), and both runs must write
identical bytes: output is deterministic and does not depend on where the repository is.

Regenerate the golden files after an intended change to the output, then review the diff
(``git diff tests/golden``) by eye before committing::

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_golden.py
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLE, SHARED, TESTS, copy_repo
from infrawright.change.implement import implement
from infrawright.model.loader import load_repo
from infrawright.plan.rules import plan_request

GOLDEN = TESTS / "golden"
CLUSTER_FILE = "clusters/local-kube/infrastructure.yaml"
CRD_DIRS = [SHARED / "crds"] if (SHARED / "crds").is_dir() else []
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

REQUESTS = (
    "Create HelmRelease for Redis caching",
    "install external-dns",
    "we need metallb",
    "install kyverno",
    "Add new component team-a with Flux Kustomization",
)


def slug(request: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", request.lower()).strip("-")


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def implement_on_copy(dest: Path, request: str) -> Written:
    """Apply ``request`` to a fresh copy at ``dest``; what it wrote (cluster file: appended)."""
    root = copy_repo(EXAMPLE, dest)
    before = tree(root)
    model = load_repo(root)
    outcome = implement(model, plan_request(request, model.catalog), crd_dirs=CRD_DIRS)
    assert outcome.status == "applied", (
        outcome.error,
        [(f.rule, f.file, f.message) for f in outcome.new_findings],
    )
    after = tree(root)
    changed = sorted(p for p in after if before.get(p) != after[p])
    assert sorted(before) == sorted(p for p in after if p not in outcome.created)
    assert changed == sorted(outcome.created + outcome.modified)
    assert outcome.modified == [CLUSTER_FILE]
    written = {p: after[p] for p in changed}
    old = before[CLUSTER_FILE]
    assert written[CLUSTER_FILE].startswith(old), "existing Kustomizations are kept byte for byte"
    written[CLUSTER_FILE] = written[CLUSTER_FILE][len(old) :]
    return written


Written = dict[str, bytes]


class Runs(dict[str, tuple[Written, Written]]):
    """Per request, computed on first use: what two runs on two fresh copies wrote."""

    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        super().__init__()
        self.tmp = tmp

    def __missing__(self, request: str) -> tuple[Written, Written]:
        first = implement_on_copy(self.tmp.mktemp("golden") / "repo", request)
        second = implement_on_copy(self.tmp.mktemp("again") / "scratch", request)
        self[request] = (first, second)
        return first, second


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(tmp_path_factory)


def read_golden(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("request_text", REQUESTS, ids=[slug(r) for r in REQUESTS])
def test_golden(request_text: str, runs: Runs) -> None:
    written, _ = runs[request_text]
    folder = GOLDEN / slug(request_text)
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        for rel, data in written.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
    assert folder.is_dir(), f"no golden files in {folder}; run with UPDATE_GOLDEN=1 once"
    golden = read_golden(folder)
    assert sorted(written) == sorted(golden), "other files written than the golden ones"
    for rel in sorted(golden):
        assert written[rel].decode("utf-8") == golden[rel].decode("utf-8"), rel
        assert written[rel] == golden[rel], rel  # e.g. line endings, trailing whitespace


@pytest.mark.parametrize("request_text", REQUESTS, ids=[slug(r) for r in REQUESTS])
def test_deterministic(request_text: str, runs: Runs) -> None:
    first, second = runs[request_text]
    assert sorted(first) == sorted(second)
    for rel in sorted(first):
        assert first[rel] == second[rel], rel


def test_golden_has_no_stale_folders() -> None:
    """Every folder in tests/golden belongs to a request (a renamed request leaves none)."""
    folders = {p.name for p in GOLDEN.iterdir() if p.is_dir()}
    assert folders == {slug(r) for r in REQUESTS}
