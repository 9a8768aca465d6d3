"""The lasting mirror: an exact hard-linked copy after every sync, never a write into
the repository, one run at a time, and removed when long unused."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.change import mirror
from infrawright.change.apply import apply_changes
from infrawright.change.scratch import MIRROR_PREFIX, MIRROR_UNUSED_S, MirrorCopy, background_copy
from infrawright.render.changeset import Changeset


def shape(root: Path) -> dict[str, object]:
    """Every entry under ``root`` (ignored folders left out): a folder, a symlink and its
    target, or a file and its inode."""
    out: dict[str, object] = {}
    for here, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in mirror.IGNORED]
        for name in [*dirs, *files]:
            path = Path(here) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", str(path.readlink()))
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = ("file", path.stat().st_ino)
    return out


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    (root / "a/b/c").mkdir(parents=True)
    (root / "a/b/c/deep.yaml").write_text("deep: 1\n")
    (root / "a/one.yaml").write_text("one: 1\n")
    (root / "empty").mkdir()
    (root / "a/link.yaml").symlink_to("one.yaml")
    (root / "folder-link").symlink_to("a/b")
    (root / ".git/objects").mkdir(parents=True)
    (root / ".git/objects/x").write_text("object\n")
    (root / "a/node_modules").mkdir()
    (root / "a/node_modules/m.js").write_text("//\n")
    return root


def test_a_sync_makes_an_exact_hard_linked_mirror(tree: Path, tmp_path: Path) -> None:
    target = tmp_path / "mirror"
    mirror.sync(str(tree), str(target))
    assert shape(target) == shape(tree)
    assert not (target / ".git").exists()
    assert not (target / "a/node_modules").exists()
    assert mirror.sync(str(tree), str(target)) == 0, "in step: nothing to do"


def test_a_sync_follows_every_kind_of_change(tree: Path, tmp_path: Path) -> None:
    target = tmp_path / "mirror"
    mirror.sync(str(tree), str(target))
    (tree / "a/one.yaml").unlink()
    (tree / "a/one.yaml").write_text("one: 2\n")  # a new file (inode) in its place
    (tree / "a/b/c/deep.yaml").unlink()
    (tree / "empty").rmdir()
    (tree / "empty").write_text("now a file\n")
    (tree / "a/link.yaml").unlink()
    (tree / "a/link.yaml").symlink_to("b/c")
    (tree / "new/inner").mkdir(parents=True)
    (tree / "new/inner/n.yaml").write_text("n: 1\n")
    (target / "stray.yaml").write_text("only in the mirror\n")
    (target / "a/b/c/deep.yaml").unlink()
    (target / "a/b/c/deep.yaml").mkdir()  # a folder where the source has nothing
    assert mirror.sync(str(tree), str(target)) > 0
    assert shape(target) == shape(tree)
    assert (target / "a/one.yaml").read_text() == "one: 2\n"


def test_a_change_applied_in_the_mirror_never_reaches_the_repository(
    example_copy: Path,
) -> None:
    before = {p: p.read_bytes() for p in example_copy.rglob("*.yaml")}
    with background_copy(example_copy) as copy:
        scratch = copy.path()
        changes = Changeset()
        changes.files["clusters/local-kube/infrastructure.yaml"] = b"changed: true\n"
        changes.files["namespaces/kong/namespace.yaml"] = None
        changes.files["namespaces/new/namespace.yaml"] = b"new: true\n"
        apply_changes(scratch, changes)
        assert (scratch / "clusters/local-kube/infrastructure.yaml").read_bytes() == (
            b"changed: true\n"
        )
    assert {p: p.read_bytes() for p in example_copy.rglob("*.yaml")} == before
    with background_copy(example_copy) as again:
        assert again.path() == scratch, "the same mirror, kept between runs"
        assert shape(scratch) == shape(example_copy), "brought back in step"


def test_one_run_at_a_time_uses_the_mirror_the_next_gets_a_new_copy(
    example_copy: Path,
) -> None:
    with background_copy(example_copy) as first:
        assert isinstance(first, MirrorCopy)
        with background_copy(example_copy) as second:
            assert not isinstance(second, MirrorCopy)
            assert second.path() != first.path()
            assert shape(second.path()) == shape(first.path())
        assert not second.path().exists(), "a new copy goes when its run ends"
    with background_copy(example_copy) as third:
        assert isinstance(third, MirrorCopy), "free again"


def test_without_the_cache_there_is_no_mirror(
    example_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    with background_copy(example_copy) as copy:
        assert not isinstance(copy, MirrorCopy)


def test_a_mirror_unused_for_a_week_is_removed(tmp_path: Path) -> None:
    one = copy_repo(EXAMPLE, tmp_path / "one")
    two = copy_repo(EXAMPLE, tmp_path / "two")
    with background_copy(one) as copy:
        old = copy.path().parent
    assert old.name.startswith(MIRROR_PREFIX)
    week_ago = time.time() - MIRROR_UNUSED_S - 60
    os.utime(old, (week_ago, week_ago))
    with background_copy(two) as copy:
        assert copy.path().parent != old
    assert not old.exists()
