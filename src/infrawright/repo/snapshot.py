"""Parsed YAML files kept between runs, so an unchanged file is not parsed again.

Parsing is most of the time it takes to read a big repository (7,000 files: about a
second). After a read, what every file parsed to is stored in the user's cache (one entry
per repository folder) with a hash of the file's bytes. The next read still reads every
file, and reuses the stored parse when the hash matches; changed, new and unreadable
files are parsed as usual. A parse the cache cannot hold (YAML timestamps become dates)
is parsed again each time.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from infrawright import cache
from infrawright.repo.documents import (
    Document,
    ParseProblem,
    YamlFile,
    parse_bytes,
    read_bytes,
)

#: Bump when what a parse produces changes (the loader, the Document fields).
FORMAT = 1

Entry = tuple[bytes, bool, Any, list[tuple[int, int, Any]]]


def _freeze(digest: bytes, parsed: YamlFile) -> Entry:
    problem = parsed.problem
    frozen_problem = (problem.line, problem.message) if problem else None
    docs = [(d.line, d.index, d.data) for d in parsed.documents]
    return (digest, parsed.sops, frozen_problem, docs)


def _thaw(rel: str, entry: Entry) -> YamlFile:
    digest, sops, problem, docs = entry
    return YamlFile(
        rel,
        tuple(Document(rel, line, index, data) for line, index, data in docs),
        ParseProblem(rel, problem[0], problem[1]) if problem else None,
        sops=sops,
        digest=digest.hex(),
    )


def file_digest(raw: bytes) -> bytes:
    """The hash files are known by (here and in build cache keys)."""
    return hashlib.blake2b(raw, digest_size=16).digest()


def _key(root: Path) -> str:
    return cache.key("parsed", FORMAT, os.path.realpath(root), yaml.__version__)


def _storable(entries: dict[str, Entry]) -> bytes | None:
    try:
        return marshal.dumps(entries)
    except ValueError:
        keep = {}
        for rel, entry in entries.items():
            try:
                marshal.dumps(entry)
            except ValueError:
                continue
            keep[rel] = entry
        try:
            return marshal.dumps(keep)
        except ValueError:
            return None


def read_files(root: Path, paths: Sequence[Path]) -> dict[str, YamlFile]:
    """Every file of ``paths`` (under ``root``) parsed, by repository-relative path."""
    key = _key(root)
    stored = cache.load("parsed", key)
    known: dict[str, Entry] = stored if isinstance(stored, dict) else {}
    files: dict[str, YamlFile] = {}
    entries: dict[str, Entry] = {}
    base = str(root).rstrip(os.sep) + os.sep
    for path in paths:
        name = str(path)
        rel = (
            name[len(base) :].replace(os.sep, "/")
            if name.startswith(base)
            else path.relative_to(root).as_posix()
        )
        raw, problem = read_bytes(path, rel)
        if raw is None:
            files[rel] = YamlFile(rel, problem=problem)
            continue
        digest = file_digest(raw)
        entry = known.get(rel)
        if entry is not None and entry[0] == digest:
            files[rel] = _thaw(rel, entry)
        else:
            parsed = parse_bytes(raw, rel)
            files[rel] = replace(parsed, digest=digest.hex())
            entry = _freeze(digest, parsed)
        entries[rel] = entry
    if entries != known and cache.enabled():
        blob = _storable(entries)
        if blob is not None:
            cache.store_bytes("parsed", key, blob)
    return files
