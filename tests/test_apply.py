"""The write is all or nothing: journal, rollback on error, recovery after a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.change.apply import COMMITTED, JOURNAL, apply_atomically, recover
from infrawright.cli.app import run
from infrawright.errors import ExitCode, InfrawrightError
from infrawright.render.changeset import Changeset


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and ".infrawright" not in p.parts
    }


def test_applied_change_leaves_no_journal(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("old\n")
    apply_atomically(
        tmp_path, Changeset({"a.yaml": b"new\n", "dir/b.yaml": b"b\n", "gone.yaml": None})
    )
    assert tree(tmp_path) == {"a.yaml": b"new\n", "dir/b.yaml": b"b\n"}
    assert not (tmp_path / JOURNAL).exists()


def test_failure_half_way_puts_everything_back(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("old a\n")
    (tmp_path / "m.yaml").write_text("old m\n")
    (tmp_path / "z.yaml").mkdir()  # a folder where a file must go: the last rename fails
    before = tree(tmp_path)
    changes = Changeset(
        {"a.yaml": b"new a\n", "m.yaml": None, "n/new.yaml": b"x\n", "z.yaml": b"boom\n"}
    )
    with pytest.raises(OSError):
        apply_atomically(tmp_path, changes)
    assert tree(tmp_path) == before
    assert not (tmp_path / "n").exists()
    assert not (tmp_path / JOURNAL).exists()


def crashed_journal(root: Path) -> dict[str, bytes]:
    """The state a run killed between two renames leaves: backups, manifest, half the
    files written."""
    (root / "a.yaml").write_text("old a\n")
    (root / "b.yaml").write_text("old b\n")
    before = tree(root)
    journal = root / JOURNAL
    (journal / "before").mkdir(parents=True)
    (journal / "before" / "a.yaml").write_text("old a\n")
    (journal / "before" / "b.yaml").write_text("old b\n")
    manifest = {"a.yaml": True, "b.yaml": True, "c/new.yaml": False}
    (journal / "manifest.json").write_text(json.dumps(manifest))
    (root / "a.yaml").write_text("new a\n")  # written before the crash
    (root / "c").mkdir()
    (root / "c/new.yaml").write_text("new\n")
    return before


def test_recover_after_a_crash(tmp_path: Path) -> None:
    before = crashed_journal(tmp_path)
    assert recover(tmp_path) == ["a.yaml", "b.yaml", "c/new.yaml"]
    assert tree(tmp_path) == before
    assert not (tmp_path / JOURNAL).exists()
    assert recover(tmp_path) == []


def test_journal_without_manifest_means_nothing_was_written(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a\n")
    (tmp_path / JOURNAL / "before").mkdir(parents=True)
    assert recover(tmp_path) == []
    assert tree(tmp_path) == {"a.yaml": b"a\n"}
    assert not (tmp_path / JOURNAL).exists()


def test_unreadable_manifest_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / JOURNAL).mkdir(parents=True)
    (tmp_path / JOURNAL / "manifest.json").write_text("{not json")
    with pytest.raises(InfrawrightError) as err:
        recover(tmp_path)
    assert "manifest.json" in err.value.message


def test_implement_rolls_back_a_crashed_run_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    cluster = repo / "clusters/local-kube/infrastructure.yaml"
    original = cluster.read_bytes()
    journal = repo / JOURNAL
    (journal / "before/clusters/local-kube").mkdir(parents=True)
    (journal / "before/clusters/local-kube/infrastructure.yaml").write_bytes(original)
    (journal / "manifest.json").write_text(
        json.dumps({"clusters/local-kube/infrastructure.yaml": True})
    )
    cluster.write_bytes(original + b"---\n# half of a crashed write\n")
    code = run(["implement", "--repo", str(repo), "--dry-run", "we need metallb"])
    _out, err = capsys.readouterr()
    # A dry run writes nothing, so it leaves the journal for a real run.
    assert code == ExitCode.OK and journal.exists()
    code = run(["implement", "--repo", str(repo), "we need metallb"])
    _out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "rolled back an unfinished earlier write" in err
    assert not journal.exists()
    assert b"half of a crashed write" not in cluster.read_bytes()
    assert cluster.read_bytes().startswith(original)


def test_after_the_commit_marker_recovery_rolls_forward(tmp_path: Path) -> None:
    before = crashed_journal(tmp_path)
    (tmp_path / "b.yaml").write_text("new b\n")  # every rename done ...
    (tmp_path / JOURNAL / COMMITTED).write_text("done\n")  # ... and marked so
    planned = tree(tmp_path)
    assert planned != before
    assert recover(tmp_path) == []
    assert tree(tmp_path) == planned
    assert not (tmp_path / JOURNAL).exists()


def _lines(n: int, tag: str = "line") -> list[str]:
    return [f"{tag} {i}\n" for i in range(n)]


BIG = _lines(400)


@pytest.mark.parametrize(
    "new",
    [
        BIG[:200] + _lines(5, "new") + BIG[200:],  # an insertion in the middle
        BIG[:1] + BIG[2:],  # a deletion near the start
        [*BIG[:-2], "changed\n", *BIG[-1:]],  # a change near the end
        _lines(2, "first") + BIG,  # at the very start
        BIG + _lines(2, "last"),  # at the very end
        [*BIG[:100], "a\n", *BIG[101:300], "b\n", *BIG[301:]],  # two places
        BIG,  # nothing
        [],  # everything deleted
    ],
)
def test_the_quick_diff_equals_difflib(new: list[str]) -> None:
    import difflib

    from infrawright.render.changeset import unified_diff

    expected = list(difflib.unified_diff(BIG, new, fromfile="a/f", tofile="b/f"))
    assert unified_diff(BIG, new, "a/f", "b/f") == expected
    assert unified_diff([], new, "a/f", "b/f") == list(
        difflib.unified_diff([], new, fromfile="a/f", tofile="b/f")
    )
