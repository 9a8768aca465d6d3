"""Parsed YAML files kept between runs, so an unchanged file is not parsed again.

Parsing is most of the time it takes to read a big repository (7,000 files: about a
second). After a read, what every file parsed to is stored in the user's cache (one entry
per repository folder, plus one for what changed since it was last written in full, so
an edit costs a small write) with a hash of the file's bytes and its ``stat`` signature
(device, inode, size, modification and change times). The next read trusts a file whose
signature is unchanged without reading it, as git trusts its index; any other file is read
and hashed, and its stored parse reused when the hash matches. Changed, new and unreadable
files are parsed as usual. A parse the cache cannot hold (YAML timestamps become dates)
is parsed again each time.

The change time (``st_ctime``) cannot be set by a program and moves on every write,
rename or chmod, and on every hard link made to the file or removed; a change time that
moved together with the number of links is not taken for an edit. A signature is only
stored for a file whose change time is older than the read by more than the file
system's clock tick (:data:`SETTLED_NS`, or :data:`COARSE_SETTLED_NS` where times are
whole seconds), so a write in the same tick as the read (the "racy" case) can never be
mistaken for no change: such a file is simply read again next time. (A network file
system whose clock runs behind this machine's by more than that could still hide such a
write; ``--no-cache`` reads everything.)
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from infrawright import cache
from infrawright.repo.documents import (
    ParseProblem,
    Style,
    YamlFile,
    fields_of,
    from_fields,
    parse_bytes,
    read_bytes,
    yaml_file,
)

#: Bump when what a parse produces changes (the loader, the Document fields).
FORMAT = 6

#: A file whose status changed less than this long before it was read is not trusted by
#: its ``stat`` signature next time: file times come from a clock that ticks every few
#: milliseconds.
SETTLED_NS = 100_000_000
#: The same for file systems that keep whole seconds (a change time with no fraction).
COARSE_SETTLED_NS = 3_000_000_000

Signature = tuple[int, int, int, int, int, int]
Entry = tuple[bytes, bool, Any, list[dict[str, Any]], Style, Signature | None]


def _freeze(digest: bytes, parsed: YamlFile) -> Entry:
    problem = parsed.problem
    frozen_problem = (problem.line, problem.message) if problem else None
    docs = [fields_of(d) for d in parsed.documents]
    return (digest, parsed.sops, frozen_problem, docs, parsed.style, None)


def signature(st: os.stat_result) -> Signature:
    """What identifies one version of a file without reading it: device, inode, size,
    modification and change times, and the number of links to it."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_nlink)


def unchanged(old: Signature, new: Signature) -> bool:
    """Is the file as it was when ``old`` was taken? The same device, inode, size and
    modification time, and the same change time, unless the change time moved with the
    number of links (a hard link made or removed, as the mirror implement validates in
    does: that changes nothing in the file)."""
    return old[:4] == new[:4] and (old[4] == new[4] or old[5] != new[5])


def _signed(entry: Entry, sig: Signature | None) -> Entry:
    digest, sops, problem, docs, style, _old = entry
    return (digest, sops, problem, docs, style, sig)


def settled_at(changed_ns: int, now_ns: int) -> bool:
    """Can a file last changed at ``changed_ns`` and read at ``now_ns`` be trusted by its
    signature later? Only when any later change must get a later change time."""
    coarse = changed_ns % 1_000_000_000 == 0
    return changed_ns < now_ns - (COARSE_SETTLED_NS if coarse else SETTLED_NS)


def _thaw(rel: str, entry: Entry, fresh: bool = False) -> YamlFile:
    digest, sops, problem, docs, style, _sig = entry
    return yaml_file(
        rel,
        tuple(from_fields(fields) for fields in docs),
        ParseProblem(rel, problem[0], problem[1]) if problem else None,
        sops,
        digest.hex(),
        fresh,
        style,
    )


def file_digest(raw: bytes) -> bytes:
    """The hash files are known by (here and in build cache keys)."""
    return hashlib.blake2b(raw, digest_size=16).digest()


def _key(root: Path) -> str:
    return cache.key("parsed", FORMAT, os.path.realpath(root), yaml.__version__)


def _storable(token: str, entries: dict[str, Entry]) -> bytes | None:
    try:
        return marshal.dumps((token, entries))
    except ValueError:
        keep = {}
        for rel, entry in entries.items():
            try:
                marshal.dumps(entry)
            except ValueError:
                continue
            keep[rel] = entry
        try:
            return marshal.dumps((token, keep))
        except ValueError:
            return None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cycle collector while building many small objects that hold no cycles:
    it would otherwise walk them all again and again (a third of a warm read)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_files(root: Path, paths: Sequence[str]) -> dict[str, YamlFile]:
    """Every file of ``paths`` (under ``root``) parsed, by repository-relative path."""
    with paused_gc():
        return _read_files(root, paths)


def _read_files(root: Path, paths: Sequence[str]) -> dict[str, YamlFile]:
    key = _key(root)
    token, base, known = _stored(key)
    order: list[str] = []
    failed: dict[str, YamlFile] = {}
    entries: dict[str, Entry] = {}
    todo: list[tuple[str, bytes]] = []
    settled: dict[str, Signature] = {}
    prefix = str(root).rstrip(os.sep) + os.sep
    now = time.time_ns()
    for name in paths:
        rel = (
            name[len(prefix) :].replace(os.sep, "/")
            if name.startswith(prefix)
            else Path(name).relative_to(root).as_posix()
        )
        order.append(rel)
        entry = known.get(rel)
        try:
            st = os.stat(name)
        except OSError:
            st = None
        sig = signature(st) if st is not None else None
        old_sig = entry[5] if entry is not None else None
        if entry is not None and sig is not None and old_sig is not None:
            if old_sig == sig:
                entries[rel] = entry  # unchanged since it was read: not read again
                continue
            if unchanged(old_sig, sig):  # only linked or unlinked since
                entries[rel] = _signed(entry, sig)
                continue
        raw, problem = read_bytes(Path(name), rel)
        if raw is None:
            failed[rel] = YamlFile(rel, problem=problem)
            continue
        if st is not None and sig is not None and settled_at(st.st_ctime_ns, now):
            settled[rel] = sig
        digest = file_digest(raw)
        if entry is not None and entry[0] == digest:
            entries[rel] = _signed(entry, settled.get(rel))
        else:
            todo.append((rel, raw))
    for rel, entry in parse_many(todo):
        entries[rel] = _signed(entry, settled.get(rel))
    fresh = {rel for rel, _raw in todo}
    files = {
        rel: _thaw(rel, entries[rel], rel in fresh) if rel in entries else failed[rel]
        for rel in order
    }
    if entries != known and cache.enabled():
        _store(key, token, base, entries)
    return files


#: The entries that differ from the last full store are kept on their own (a small write
#: after an edit) until they are more than this share of all entries.
DELTA_SHARE = 0.05


def _stored(key: str) -> tuple[str, dict[str, Entry], dict[str, Entry]]:
    """The last full store (its token and entries) and the entries known now: the full
    store with the changes stored since applied. Changes made against another full store
    (another run replaced it) are ignored; an entry is always checked before it is used."""
    stored = cache.load("parsed", key)
    if not (isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[1], dict)):
        return "", {}, {}
    token, base = stored
    known = dict(base)
    delta = cache.load("parsed", key + "-changes")
    if isinstance(delta, tuple) and len(delta) == 2 and delta[0] == token:
        for rel, entry in delta[1].items():
            if entry is None:
                known.pop(rel, None)
            else:
                known[rel] = entry
    return str(token), base, known


def _store(key: str, token: str, base: dict[str, Entry], entries: dict[str, Entry]) -> None:
    changes: dict[str, Entry | None] = {
        rel: entry for rel, entry in entries.items() if base.get(rel) is not entry
    }
    changes.update((rel, None) for rel in base if rel not in entries)
    if token and len(changes) <= max(100, DELTA_SHARE * len(entries)):
        try:
            cache.store_bytes("parsed", key + "-changes", marshal.dumps((token, changes)))
            return
        except ValueError:
            pass  # something marshal cannot hold: stored in full below, without it
    fresh_token = os.urandom(8).hex()
    blob = _storable(fresh_token, entries)
    if blob is not None:
        cache.store_bytes("parsed", key, blob)
        cache.store_bytes("parsed", key + "-changes", marshal.dumps((fresh_token, {})))


def _parse_chunk(items: Sequence[tuple[str, bytes]]) -> list[tuple[str, Entry]]:
    return [(rel, _freeze(file_digest(raw), parse_bytes(raw, rel))) for rel, raw in items]


#: Fewer files than this to parse are parsed here; more are shared with worker processes.
PARALLEL_MIN_FILES = 400


def parse_many(items: Sequence[tuple[str, bytes]]) -> list[tuple[str, Entry]]:
    """Parse files, on every core when there are many. Workers are forked (cheap, and
    they inherit the imports); that is only done on platforms that fork and while this
    process runs no other thread, else everything is parsed here."""
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < PARALLEL_MIN_FILES or workers < 2:
        return _parse_chunk(items)
    import multiprocessing  # a cold read of a big repository only
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if "fork" not in multiprocessing.get_all_start_methods():
        return _parse_chunk(items)
    if threading.active_count() > 1:
        return _parse_chunk(items)
    size = -(-len(items) // workers)
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(len(chunks) - 1, mp_context=context) as pool:
            futures = [pool.submit(_parse_chunk, chunk) for chunk in chunks[1:]]
            out = _parse_chunk(chunks[0])
            for future in futures:
                out.extend(future.result())
    except (OSError, BrokenProcessPool):
        return _parse_chunk(items)  # no processes to be had: parse here
    return out
