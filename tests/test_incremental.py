"""The shortcuts that make big repositories fast give exactly what the long way gives.

Pieces of a big generated build, parsed files kept between runs, files parsed again
only where they changed, forked parsing, the hard-linked scratch copy: each is compared
with the plain way on the same input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE, copy_repo
from infrawright.build import split
from infrawright.build.batch import folder_key, recent_builds
from infrawright.build.builds import Build, build_all
from infrawright.build.kustomize import Kustomize
from infrawright.change.apply import apply_changes
from infrawright.change.scratch import scratch_copy
from infrawright.model.loader import load_repo, with_changes
from infrawright.model.repo import RepoModel
from infrawright.render.changeset import Changeset
from infrawright.repo import snapshot
from infrawright.repo.documents import YamlFile, parse_bytes, read_bytes
from infrawright.repo.listing import DIR, FILE, LINK, patched, scan
from infrawright.repo.segments import reparse, split_documents, split_lines

CLUSTER = "clusters/local-kube"


def config_maps(count: int, start: int = 0) -> str:
    return "".join(
        f"---\n# setting {i}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        f"  name: setting-{i:04d}\n  namespace: flux-system\ndata:\n  value: '{i}'\n"
        for i in range(start, start + count)
    )


@pytest.fixture
def big_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example with 300 more objects in its cluster folder, which Flux builds
    without a kustomization file: big enough to be built in pieces."""
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    (repo / CLUSTER / "settings.yaml").write_text(config_maps(300))
    return repo


def flux_system(builds: list[Build]) -> Build:
    return next(b for b in builds if b.kustomization.name == "flux-system")


def as_set(build: Build) -> list[tuple[str, int, str]]:
    return sorted((o.file, o.line, repr(o.data)) for o in build.objects)


def test_a_big_generated_folder_is_built_in_pieces_with_the_same_result(
    big_folder: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_repo(big_folder)
    ks = next(k for k in model.kustomizations if k.name == "flux-system")
    from infrawright.build.builds import split_plan

    plan = split_plan(model, ks)
    assert plan is not None and len(plan[1]) >= 3, "300 documents make several pieces"
    pieced = flux_system(build_all(model, kustomize))
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    monkeypatch.setattr(split, "SPLIT_MIN_DOCS", 10**9)  # the same folder, built whole
    whole = flux_system(build_all(model, kustomize))
    assert pieced.error is None and whole.error is None
    assert len(pieced.objects) == len(whole.objects) > 300
    assert as_set(pieced) == as_set(whole)
    in_order = [(o.file, o.line, o.index, repr(o.data)) for o in pieced.objects]
    assert in_order == [(o.file, o.line, o.index, repr(o.data)) for o in whole.objects]
    settings = [o for o in pieced.objects if o.file == f"{CLUSTER}/settings.yaml"]
    assert {o.line for o in settings} == {d.line for d in model.files[settings[0].file].documents}


def test_the_same_object_in_two_pieces_gets_kustomizes_own_error(
    big_folder: Path, kustomize: Kustomize
) -> None:
    settings = big_folder / CLUSTER / "settings.yaml"
    settings.write_text(settings.read_text() + config_maps(1, start=3))  # setting-0003 again
    build = flux_system(build_all(load_repo(big_folder), kustomize))
    assert build.error is not None
    assert "setting-0003" in build.error and "already registered" in build.error


def test_one_changed_document_builds_one_piece_again(
    big_folder: Path, kustomize: Kustomize, tmp_path: Path
) -> None:
    pieces = tmp_path / "cache" / "pieces"
    build_all(load_repo(big_folder), kustomize)
    first = set(pieces.iterdir())
    settings = big_folder / CLUSTER / "settings.yaml"
    settings.write_text(settings.read_text().replace("value: '150'", "value: 'changed'"))
    again = flux_system(build_all(load_repo(big_folder), kustomize))
    assert len(set(pieces.iterdir()) - first) == 1
    changed = [o for o in again.objects if o.name == "setting-0150"]
    assert changed[0].data["data"] == {"value": "changed"}


EDITS: dict[str, Any] = {
    "append": lambda text: text + config_maps(2, start=900),
    "prepend": lambda text: config_maps(1, start=901) + text,
    "insert in the middle": lambda text: text.replace(
        "---\n# setting 20\n", config_maps(3, start=950) + "---\n# setting 20\n"
    ),
    "edit a value": lambda text: text.replace("value: '7'", "value: 'seven'"),
    "delete a document": lambda text: text.replace(config_maps(1, start=11), ""),
    "a comment-only document": lambda text: text.replace(
        "---\n# setting 5\n", "---\n# nothing here\n---\n# setting 5\n"
    ),
    "no marker before the first document": lambda text: text.removeprefix("---\n"),
}


@pytest.mark.parametrize("edit", EDITS)
def test_reparsing_the_changed_documents_equals_parsing_the_file(edit: str) -> None:
    old_text = config_maps(40)
    new_text = EDITS[edit](old_text)
    assert new_text != old_text
    old = parse_bytes(old_text.encode(), "f.yaml")
    got = reparse(old, old_text.encode(), new_text.encode())
    want = parse_bytes(new_text.encode(), "f.yaml")
    assert got is not None
    assert got.style == want.style
    assert [(d.line, d.index, d.data) for d in got.documents] == [
        (d.line, d.index, d.data) for d in want.documents
    ]


def test_reparse_declines_what_it_cannot_cut() -> None:
    text = config_maps(3)
    old = parse_bytes(text.encode(), "f.yaml")
    assert reparse(old, text.encode(), b"%YAML 1.2\n" + text.encode()) is None
    assert split_documents(b"a: 1\n...\nb: 2\n") is None
    broken = text + "---\nkey: [unclosed\n"
    assert reparse(old, text.encode(), broken.encode()) is None  # then parse it all


def files_of(model: RepoModel) -> dict[str, Any]:
    return {
        rel: (
            [(d.line, d.index, d.data) for d in f.documents],
            f.problem,
            f.sops,
        )
        for rel, f in model.files.items()
    }


def test_parsed_files_kept_between_runs_equal_a_fresh_parse(
    example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    cold = load_repo(example_copy)
    warm = load_repo(example_copy)
    assert list((tmp_path / "cache" / "parsed").iterdir()), "the parse was kept"
    assert files_of(warm) == files_of(cold)
    assert [ks.key for ks in warm.kustomizations] == [ks.key for ks in cold.kustomizations]
    kong = example_copy / "namespaces/kong/namespace.yaml"
    kong.write_text(kong.read_text().replace("name: kong", "name: kong-renamed", 1))
    edited = load_repo(example_copy)
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    assert files_of(edited) == files_of(load_repo(example_copy))
    assert edited.files["namespaces/kong/namespace.yaml"].objects[0].name == "kong-renamed"


def test_files_parsed_by_forked_workers_equal_files_parsed_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = [
        (p.relative_to(EXAMPLE).as_posix(), p.read_bytes()) for p in sorted(EXAMPLE.rglob("*.yaml"))
    ]
    here = snapshot.parse_many(items)
    monkeypatch.setattr(snapshot, "PARALLEL_MIN_FILES", 1)
    forked = snapshot.parse_many(items)
    assert forked == here
    assert [rel for rel, _entry in forked] == [rel for rel, _data in items]


def test_a_changed_model_equals_loading_the_changed_tree(example_copy: Path) -> None:
    model = load_repo(example_copy)
    cluster_file = f"{CLUSTER}/infrastructure.yaml"
    old = (example_copy / cluster_file).read_bytes()
    changes = Changeset()
    changes.files[cluster_file] = old + config_maps(60).encode()  # big enough to reparse
    changes.files["namespaces/new/namespace.yaml"] = (
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: new\n"
    )
    changes.files["namespaces/kong/namespace.yaml"] = None
    with scratch_copy(example_copy) as scratch:
        apply_changes(scratch, changes)
        derived = with_changes(model, scratch, changes.files)
        loaded = load_repo(scratch, cluster=model.cluster, config=model.config)
        assert list(derived.files) == list(loaded.files), "same files, same order"
        assert files_of(derived) == files_of(loaded)
        assert [ks.key for ks in derived.kustomizations] == [ks.key for ks in loaded.kustomizations]
        assert derived.components == loaded.components


def test_the_scratch_copy_never_writes_into_the_repository(example_copy: Path) -> None:
    target = example_copy / f"{CLUSTER}/infrastructure.yaml"
    before = target.read_bytes()
    with scratch_copy(example_copy) as scratch:
        changes = Changeset()
        changes.files[f"{CLUSTER}/infrastructure.yaml"] = before + b"# changed\n"
        changes.files["namespaces/kong/namespace.yaml"] = None
        apply_changes(scratch, changes)
        assert (scratch / f"{CLUSTER}/infrastructure.yaml").read_bytes().endswith(b"# changed\n")
    assert target.read_bytes() == before
    assert (example_copy / "namespaces/kong/namespace.yaml").is_file()
    assert not scratch.exists()
    assert not (example_copy / ".infrawright").exists(), "nothing made in the repository"


def test_reparse_is_used_for_a_big_changed_file(example_copy: Path) -> None:
    """with_changes reuses the unchanged documents' data (the same objects)."""
    settings = example_copy / CLUSTER / "settings.yaml"
    settings.write_text(config_maps(80))
    model = load_repo(example_copy)
    rel = f"{CLUSTER}/settings.yaml"
    changes = {rel: settings.read_bytes() + config_maps(1, start=500).encode()}
    with scratch_copy(example_copy) as scratch:
        derived = with_changes(model, scratch, changes)
    old: YamlFile = model.files[rel]
    new = derived.files[rel]
    assert len(new.documents) == 81
    assert new.documents[0].data is old.documents[0].data
    assert new.documents[-1].data["metadata"]["name"] == "setting-0500"


def listing(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.mark.parametrize("with_cp", [True, False], ids=["cp -al", "python"])
def test_both_ways_of_copying_give_the_same_hard_linked_tree(
    example_copy: Path, monkeypatch: pytest.MonkeyPatch, with_cp: bool
) -> None:
    if not with_cp:
        monkeypatch.setenv("PATH", "")  # no cp: the copy is made by a thread
    with scratch_copy(example_copy) as scratch:
        assert listing(scratch) == listing(example_copy)
        assert not (scratch / ".git").exists()
        one = "clusters/local-kube/infrastructure.yaml"
        assert (scratch / one).stat().st_ino == (example_copy / one).stat().st_ino


def test_a_detached_removal_still_removes_the_copy(example_copy: Path) -> None:
    import time

    from infrawright.change.scratch import background_copy

    with background_copy(example_copy, detach_removal=True, lasting=False) as copy:
        folder = copy.path()
        assert folder.is_dir()
    for _ in range(100):
        if not folder.parent.exists():
            break
        time.sleep(0.05)
    assert not folder.parent.exists()


def settle_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of its own in which files just written are trusted by their signature at
    once (no clock tick to wait for); returns its folder."""
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(snapshot, "SETTLED_NS", 0)
    return cache_dir


def _record_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Watch which files the loader reads from disk (the real reader still reads them)."""
    seen: list[str] = []
    real = read_bytes

    def reading(path: Path, rel: str) -> tuple[bytes | None, object]:
        seen.append(rel)
        return real(path, rel)

    monkeypatch.setattr(snapshot, "read_bytes", reading)
    return seen


def test_a_settled_unchanged_file_is_not_read_again(
    example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settle_now(tmp_path, monkeypatch)  # the copy was just made: trust it now
    cold = load_repo(example_copy)
    reads = _record_reads(monkeypatch)
    warm = load_repo(example_copy)
    assert reads == []
    assert files_of(warm) == files_of(cold)


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(
    example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settle_now(tmp_path, monkeypatch)
    load_repo(example_copy)
    kong = example_copy / "namespaces/kong/namespace.yaml"
    before = kong.stat()
    text = kong.read_text()
    kong.write_text(text.replace("name: kong", "name: gnok", 1))  # same length
    os.utime(kong, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert kong.stat().st_size == before.st_size
    reads = _record_reads(monkeypatch)
    edited = load_repo(example_copy)
    assert reads == ["namespaces/kong/namespace.yaml"]  # its change time moved
    assert edited.files["namespaces/kong/namespace.yaml"].objects[0].name == "gnok"


def test_a_file_changed_just_before_it_was_read_is_read_again(
    example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(snapshot, "SETTLED_NS", 3_600_000_000_000)  # a clock tick of an hour
    load_repo(example_copy)  # every file changed within the tick: none is trusted
    reads = _record_reads(monkeypatch)
    load_repo(example_copy)
    assert len(reads) == len(list(example_copy.rglob("*.yaml")))


def test_builds_from_the_recent_builds_entry_equal_builds_without_a_cache(
    example_copy: Path, tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    build_all(load_repo(example_copy), kustomize)
    redis = example_copy / "namespaces/kong/helm-release.yaml"
    redis.write_text(redis.read_text() + "# edited\n")
    model = load_repo(example_copy)
    recent = recent_builds(model, kustomize)
    assert recent, "the first full run kept its builds together"
    warm = build_all(model, kustomize)
    recent_after = recent_builds(model, kustomize)
    assert len(recent_after) == len(recent)  # the edited build replaced its old entry
    assert recent_after.keys() != recent.keys()
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    cold = build_all(load_repo(example_copy), kustomize)
    assert [as_data(b) for b in warm] == [as_data(b) for b in cold]


def as_data(build: Build) -> list[tuple[str, int, Any]]:
    """Objects with their data as values (a cached object takes its source's key order)."""
    return sorted(((o.file, o.line, o.data) for o in build.objects), key=lambda t: t[:2])


def test_the_walks_folder_listings_equal_listing_each_folder_now(example_copy: Path) -> None:
    (example_copy / "namespaces/kong/.hidden").mkdir()
    (example_copy / "namespaces/kong/link.yaml").symlink_to("namespace.yaml")
    (example_copy / "namespaces/kong/notes.txt").write_text("not yaml\n")
    model = load_repo(example_copy)
    assert "namespaces/kong" in model.listed
    for folder, listing in model.listed.items():
        assert listing == scan(str(example_copy / folder)), folder
    kong = dict(model.listed["namespaces/kong"])
    assert kong["link.yaml"] == FILE | LINK
    assert kong[".hidden"] == DIR
    assert kong["notes.txt"] == FILE
    assert "namespaces/kong/.hidden" not in model.listed, "hidden folders are not walked"
    assert model.listings.get("namespaces/kong/.hidden") == ()  # listed on demand


def test_a_changed_model_lists_the_folders_the_change_created(example_copy: Path) -> None:
    model = load_repo(example_copy)
    new = "namespaces/redis/kustomization.yaml"
    scratch = copy_repo(example_copy, example_copy.parent / "scratch")
    (scratch / "namespaces/redis").mkdir()
    body = b"resources: []\n"
    (scratch / new).write_bytes(body)
    changed = with_changes(model, scratch, {new: body})
    assert "redis" in dict(changed.listings.get("namespaces"))
    assert dict(changed.listings.get("namespaces/redis")) == {"kustomization.yaml": FILE}
    assert changed.listed["namespaces/kong"] == model.listed["namespaces/kong"]  # kept


@pytest.mark.parametrize(
    "change",
    ["new component", "file deleted", "folder emptied", "nested new folder", "hidden folder"],
)
def test_patched_listings_are_the_listings_of_the_tree_with_the_change_written(
    example_copy: Path, tmp_path: Path, change: str
) -> None:
    """What a model of a changed copy knows of its folders (worked out from the walk and
    the change) is what listing the copy with the change written gives."""
    model = load_repo(example_copy)
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    by_change: dict[str, dict[str, bytes | None]] = {
        "new component": {
            "namespaces/redis/kustomization.yaml": b"resources: [helm-release.yaml]\n",
            "namespaces/redis/helm-release.yaml": body,
            "clusters/local-kube/infrastructure.yaml": body,
        },
        "file deleted": {"namespaces/kong/helm-release.yaml": None},
        "folder emptied": {
            f"namespaces/postgres/{p.name}": None
            for p in (example_copy / "namespaces/postgres").iterdir()
        },
        "nested new folder": {"namespaces/kong/extra/deep/cm.yaml": body},
        "hidden folder": {"namespaces/kong/.drafts/cm.yaml": body},
    }
    changes = by_change[change]
    copy = copy_repo(example_copy, tmp_path / "copy")
    apply_changes(copy, Changeset(files=changes))
    listed = patched(model.listed, model.root, changes)
    folders = {rel for rel in changes for rel in [rel.rsplit("/", 1)[0]]}
    folders |= {"/".join(f.split("/")[:n]) or "." for f in folders for n in range(4)}
    for folder in sorted(folders):
        on_disk = copy / folder
        if on_disk.is_dir():
            assert listed[folder] == scan(str(on_disk)), folder
        else:
            assert folder not in listed, folder
    kept = {f for f in model.listed if f not in folders}
    assert all(listed[f] == model.listed[f] for f in kept)


def test_a_folder_holding_a_symlink_gets_no_build_cache_key(
    example_copy: Path, kustomize: Kustomize
) -> None:
    (example_copy / "namespaces/kong/extra.yaml").symlink_to("namespace.yaml")
    model = load_repo(example_copy)
    kong = next(ks for ks in model.kustomizations if ks.name == "kong")
    assert folder_key(model, kustomize, kong, "namespaces/kong") is None
    cilium = next(ks for ks in model.kustomizations if ks.name == "cilium")
    assert folder_key(model, kustomize, cilium, "namespaces/cilium") is not None


@pytest.mark.parametrize(
    ("changed_s", "now_s", "trusted"),
    [
        (100.5, 100.55, False),  # within a tick of a fine clock
        (100.5, 100.7, True),
        (100.0, 101.5, False),  # whole seconds: the file system may keep no fraction
        (100.0, 103.5, True),
    ],
)
def test_only_files_changed_more_than_a_clock_tick_ago_are_trusted(
    changed_s: float, now_s: float, trusted: bool
) -> None:
    assert snapshot.settled_at(round(changed_s * 1e9), round(now_s * 1e9)) is trusted


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"a: 1\n",
        b"---\na: 1\n---\nb: 2\n",
        b"a: 1\n---\nb: 2\n--- # comment\nc: 3\n---",
        b"a: |\n  ---not a marker\n----\n---\tx: 1\r\n---\r\ny: 2\r\n",
        b"a: 1\n---b: 2\n--- \n",
        b"a: 1\r---\rb: 2\r",  # lone carriage returns: cut line by line
        b"a: 1\n...\n",
        b"%YAML 1.2\n---\na: 1\n",
        b"\xff\xfe",
        config_maps(40).encode(),
    ],
)
def test_cutting_with_a_pattern_equals_cutting_line_by_line(raw: bytes) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert split_documents(raw) is None
        return
    assert split_documents(raw) == split_lines(raw)


def _affected_the_long_way(build: Build, changed: list[str]) -> bool:
    """The rule of ``affected`` for an unchanged Kustomization, written plainly."""
    folder = build.folder or ""
    origins = {o.file for o in build.objects}
    for path in changed:
        if folder in ("", ".") or path == folder or path.startswith(folder + "/"):
            return True
        if path in origins:
            return True
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if any(o.startswith(parent + "/") for o in origins):
            return True
    return False


@pytest.mark.parametrize(
    "changed",
    [
        [],
        ["namespaces/redis/helm-release.yaml"],
        ["namespaces/kong/new.yaml"],
        ["namespaces/kong"],
        ["namespaces/kong-monitoring/rules.yaml"],
        ["shared/values.yaml"],
        ["top.yaml", "clusters/local-kube/infrastructure.yaml"],
        ["namespaces/kong/cilium-network-policies/extra.yaml"],
        ["namespaces/kongx/a.yaml"],
    ],
)
def test_affected_equals_the_plain_rule(changed: list[str]) -> None:
    from infrawright.model.flux import FluxKustomization
    from infrawright.repo.documents import Document
    from infrawright.validate.engine import Changes, affected

    spec = {"path": "./namespaces/kong"}
    doc = Document(
        "c.yaml",
        1,
        0,
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "kong"},
            "spec": spec,
        },
    )
    ks = FluxKustomization.parse_doc(doc)
    objects = (
        Document("namespaces/kong/helm-release.yaml", 1, 0, {"kind": "HelmRelease"}),
        Document("shared/deep/values.yaml", 1, 0, {"kind": "ConfigMap"}),
    )
    for folder in ["namespaces/kong", "namespaces", ".", "other"]:
        build = Build(ks, folder, objects=objects)
        assert affected(build, ks, Changes.of(changed)) == _affected_the_long_way(build, changed), (
            folder,
            changed,
        )


def test_builds_started_early_together_equal_builds_without_a_cache(
    example_copy: Path, tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two edited components are built early, in one kustomize batch."""
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    build_all(load_repo(example_copy), kustomize)
    for name in ("kong", "cilium"):
        release = example_copy / f"namespaces/{name}/helm-release.yaml"
        release.write_text(release.read_text() + "# edited\n")
    model = load_repo(example_copy)
    assert sorted(model.fresh_files) == [
        "namespaces/cilium/helm-release.yaml",
        "namespaces/kong/helm-release.yaml",
    ]
    warm = build_all(model, kustomize)
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    cold = build_all(load_repo(example_copy), kustomize)
    assert [as_data(b) for b in warm] == [as_data(b) for b in cold]
    assert all(b.key for b in warm if b.kustomization.name in ("kong", "cilium"))


def _parsed_entries(cache_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (cache_dir / "parsed").iterdir()}


def test_an_edit_stores_only_the_changed_entries(
    example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = settle_now(tmp_path, monkeypatch)
    load_repo(example_copy)
    load_repo(example_copy)  # now with every signature settled
    before = _parsed_entries(cache_dir)
    full = max(before, key=lambda name: len(before[name]))
    kong = example_copy / "namespaces/kong/namespace.yaml"
    kong.write_text(kong.read_text().replace("name: kong", "name: kong-renamed", 1))
    load_repo(example_copy)
    after = _parsed_entries(cache_dir)
    assert after[full] == before[full], "the full store is not written again"
    edited = load_repo(example_copy)
    assert edited.files["namespaces/kong/namespace.yaml"].objects[0].name == "kong-renamed"
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    assert files_of(edited) == files_of(load_repo(example_copy))


def test_changes_stored_against_another_full_store_are_ignored(
    example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import marshal

    cache_dir = settle_now(tmp_path, monkeypatch)
    load_repo(example_copy)
    changes = next(p for p in (cache_dir / "parsed").iterdir() if "-changes" in p.name)
    rel = "namespaces/kong/namespace.yaml"
    real = load_repo(example_copy).files[rel]
    sig = snapshot.signature((example_copy / rel).stat())  # would be trusted if applied
    lie = (b"x" * 16, False, None, [(1, 0, {"kind": "Lie"})], (None, ()), sig)
    changes.write_bytes(marshal.dumps(("another-store", {rel: lie})))
    assert load_repo(example_copy).files[rel].documents == real.documents


def test_rules_run_while_kustomize_builds_give_the_same_findings(
    example_copy: Path, tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real kustomize behind a pause, so the edited component is still building when
    the cache lookups end and the model-only rules (IW001, IW002, IW010) run meanwhile."""
    from dataclasses import replace

    from infrawright.progress import observe
    from infrawright.validate.engine import validate

    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    slow = tmp_path / "slow-kustomize"
    real = " ".join(f"'{part}'" for part in kustomize.argv)
    slow.write_text(f'#!/bin/sh\nsleep 1\nexec {real} "$@"\n')
    slow.chmod(0o755)
    paused = replace(kustomize, argv=(str(slow),))
    validate(load_repo(example_copy), tool=paused)
    release = example_copy / "namespaces/kong/helm-release.yaml"
    release.write_text(release.read_text() + "# edited\n")
    (example_copy / "namespaces/kong/orphan.yaml").write_text("kind: ConfigMap\n")
    with observe() as recorded:
        meanwhile = validate(load_repo(example_copy), tool=paused)
    assert "rules that need no build" in [name for name, _s, _n in recorded.summary()]
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    plain = validate(load_repo(example_copy), tool=kustomize)
    assert meanwhile.findings == plain.findings
    assert any(f.rule == "IW010" for f in plain.findings)


def test_a_hard_link_made_to_a_file_is_not_taken_for_an_edit(
    example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mirror implement validates in links every file, which moves their change
    times; they are not read again for that. An edit with the modification time put
    back is still seen (its change time moved, the number of links did not)."""
    settle_now(tmp_path, monkeypatch)
    load_repo(example_copy)
    links = tmp_path / "links"
    links.mkdir()
    for n, path in enumerate(sorted(example_copy.rglob("*.yaml"))):
        os.link(path, links / f"{n}.yaml")
    reads = _record_reads(monkeypatch)
    load_repo(example_copy)
    assert reads == []
