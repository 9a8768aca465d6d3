"""The on-disk cache only saves time: same answers, fresh when inputs change, ignorable."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from conftest import crd_manifest
from infrawright import cache
from infrawright.validate.schema import SchemaStore


def widget(size_type: str) -> str:
    return crd_manifest("example.com", "Widget", {"size": {"type": size_type}})


def store_for(folder: Path) -> SchemaStore:
    store = SchemaStore()
    store.add_dir(folder)
    return store


def size_type(store: SchemaStore) -> str:
    schema = store.schemas[("example.com", "v1", "Widget")]
    return str(schema["properties"]["spec"]["properties"]["size"]["type"])


def test_crd_schemas_come_back_from_disk_and_follow_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    crds = tmp_path / "crds"
    crds.mkdir()
    (crds / "widget.yaml").write_text(widget("integer"))
    assert size_type(store_for(crds)) == "integer"
    assert list((tmp_path / "cache" / "crds").glob(f"*{cache.SUFFIX}"))
    (crds / "widget.yaml").write_text(widget("string"))  # new size and mtime: new key
    assert size_type(store_for(crds)) == "string"


def test_cache_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    cache.store("kind", "abc", {"x": 1})
    assert cache.load("kind", "abc") is None
    assert not (tmp_path / "cache").exists()


def test_unwritable_cache_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(blocker))
    cache.store("kind", "abc", {"x": 1})  # no exception
    assert cache.load("kind", "abc") is None


def test_corrupt_entry_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path))
    (tmp_path / "kind").mkdir()
    (tmp_path / "kind" / f"abc{cache.SUFFIX}").write_bytes(b"\xfb{half")
    assert cache.load("kind", "abc") is None


def test_values_come_back_exactly_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """YAML can give integer keys and dates; a cache hit must equal the parse."""
    import datetime

    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path))
    value = [{"ports": {80: "http", 443: True}, "ratio": 0.5, "none": None}]
    cache.store("kind", "exact", value)
    assert cache.load("kind", "exact") == value
    cache.store("kind", "dated", {"when": datetime.date(2024, 1, 1)})
    assert cache.load("kind", "dated") is None


def test_cached_validation_equals_uncached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same report cold, warm, and with --no-cache; a changed file is rebuilt."""
    from conftest import EXAMPLE, copy_repo
    from infrawright.cli.app import run

    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    # --no-cache sets INFRAWRIGHT_CACHE=off in this process. Set through the monkeypatch
    # first, so that it is put back as it was afterwards instead of leaking "off".
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "on")
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    reports = []
    for args in ([], [], ["--no-cache"]):
        assert run([*args, "validate", "--repo", str(repo), "--format", "json"]) == 0
        reports.append(capsys.readouterr().out)
        monkeypatch.setenv("INFRAWRIGHT_CACHE", "on")
    assert reports[0] == reports[1] == reports[2]
    assert list((tmp_path / "cache" / "builds").glob(f"*{cache.SUFFIX}"))
    ns = repo / "namespaces/kong/namespace.yaml"
    ns.write_text(ns.read_text().replace("pod-security.kubernetes.io/enforce:", "x-enforce:"))
    assert run(["validate", "--repo", str(repo), "--format", "json"]) == 1
    assert "IW007" in capsys.readouterr().out  # the edited folder was built again


def test_unused_entries_are_pruned_once_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import time

    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("INFRAWRIGHT_CACHE", raising=False)
    cache.store("kind", "old", [1])
    cache.store("kind", "used", [2])
    cache.store("kind", "new", [3])
    month_ago = time.time() - 31 * 24 * 3600
    for name in ("old", "used"):
        os.utime(tmp_path / "kind" / f"{name}{cache.SUFFIX}", (month_ago, month_ago))
    assert cache.load("kind", "used") == [2]  # a hit marks the entry as in use
    assert cache.prune() == 1
    assert cache.load("kind", "old") is None
    assert cache.load("kind", "used") == [2] and cache.load("kind", "new") == [3]
    os.utime(tmp_path / "kind" / f"new{cache.SUFFIX}", (month_ago, month_ago))
    assert cache.prune() == 0, "pruned at most once a day"
    assert cache.size() == (2, sum(p.stat().st_size for p in (tmp_path / "kind").iterdir()))


def test_quick_keys_depend_on_values_not_on_which_objects_hold_them() -> None:
    shared = "namespaces/redis/helm-release.yaml"
    one = cache.quick_key("build", {"path": shared}, [(shared, "ab")])
    two = cache.quick_key(
        "build",
        {"path": "namespaces/redis/" + "helm-release.yaml"},
        [("namespaces/redis/helm" + "-release.yaml", "a" + "b")],
    )
    assert one == two
    assert cache.quick_key("build", {"path": shared}, [(shared, "ac")]) != one
    when = datetime.date(2026, 1, 1)  # marshal cannot hold it: the slower key is used
    assert cache.quick_key("x", when) == cache.key("x", when)
