"""Which resources a kustomize or Flux patch target selects, worked out from a build.

kustomize matches a ``target:`` (group, version, kind, name, namespace: each a regular
expression matched whole) against the resources its kustomization gathered, by the
names they have before that kustomization's own ``namePrefix``/``nameSuffix``. A target
that selects nothing is silently ignored by kustomize and by Flux; a strategic-merge
patch without a target that names no resource fails the build (IW000 reports that).

Everything here leans towards "it matches": a selector this cannot read (labels,
annotations, a regular expression Python does not take) counts as matching.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from infrawright.model.repo import RepoModel
from infrawright.repo.documents import Document
from infrawright.repo.inclusion import KUSTOMIZATION_NAMES

SELECTOR_KEYS = ("group", "version", "kind", "name", "namespace")


@dataclass(frozen=True)
class Target:
    """A patch's ``target:`` as written."""

    fields: Mapping[str, str]

    @classmethod
    def of(cls, value: object) -> Target | None:
        if not isinstance(value, dict):
            return None
        fields = {k: value[k] for k in SELECTOR_KEYS if isinstance(value.get(k), str)}
        return cls(fields)

    def describe(self) -> str:
        kind = self.fields.get("kind", "any kind")
        group = self.fields.get("group")
        name = self.fields.get("name")
        ns = self.fields.get("namespace")
        out = f"{kind}{f' ({group})' if group else ''}"
        out += f" named {name!r}" if name else ""
        return out + (f" in namespace {ns!r}" if ns else "")


@cache
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _matches(pattern: str | None, *values: str) -> bool:
    if not pattern:
        return True
    regex = _regex(pattern)
    if regex is None:
        return True  # Go's syntax, not Python's: count it as matching
    return any(regex.fullmatch(v) for v in values)


def _names(final: str, written: str | None) -> Iterator[str]:
    """Names an object may have had at some kustomization on the way: as built, as
    written, and any part of the built name around the written one (inner prefixes)."""
    yield final
    if written and written != final:
        yield written
        at = final.find(written)
        if at >= 0:
            end = at + len(written)
            for i in range(at + 1):
                for j in range(end, len(final) + 1):
                    yield final[i:j]


def selects(target: Target, obj: Document, written: Document | None) -> bool:
    """Could ``target`` select the built object ``obj`` (``written``: its source)?"""
    fields = target.fields
    group, _, version = obj.api_version.rpartition("/")
    if not _matches(fields.get("kind"), obj.kind):
        return False
    if not _matches(fields.get("group"), group) or not _matches(fields.get("version"), version):
        return False
    # (A namespace kustomize or Flux sets later could be any: that counts as matching.)
    if (
        "namespace" in fields
        and written is not None
        and written.namespace
        and not _matches(fields["namespace"], obj.namespace or "", written.namespace)
    ):
        return False
    name = fields.get("name")
    if not name:
        return True
    regex = _regex(name)
    if regex is None:
        return True
    return any(regex.fullmatch(n) for n in _names(obj.name, written.name if written else None))


def included_files(model: RepoModel, kustomization: str) -> set[str]:
    """The files a kustomization file gathers resources from, through any depth of
    local folders (``resources:`` and ``components:``), its own file included."""
    out: set[str] = set()
    todo = [kustomization]
    while todo:
        rel = todo.pop()
        if rel in out:
            continue
        out.add(rel)
        parsed = model.files.get(rel)
        data = parsed.documents[0].data if parsed and parsed.documents else None
        if not isinstance(data, dict):
            continue
        folder = posixpath.dirname(rel)
        for key in ("resources", "components"):
            for entry in _strings(data.get(key)):
                if "://" in entry or entry.startswith("git@"):
                    continue
                target = posixpath.normpath(posixpath.join(folder, entry))
                if target in model.files:
                    out.add(target)
                    continue
                found = [
                    f"{target}/{n}" for n in KUSTOMIZATION_NAMES if f"{target}/{n}" in model.files
                ]
                todo.extend(found)
    return out


def kustomization_files(model: RepoModel, folder: str, generated: bool) -> list[str]:
    """The kustomization files a build of ``folder`` goes through."""
    if not generated:
        start = [f"{folder}/{n}" for n in KUSTOMIZATION_NAMES if f"{folder}/{n}" in model.files]
    else:
        start = model.kustomization_files_under(folder)
    seen: set[str] = set()
    for rel in start:
        for included in included_files(model, rel):
            if posixpath.basename(included) in KUSTOMIZATION_NAMES:
                seen.add(included)
    return sorted(seen)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def patch_entries(data: Any, key: str = "patches") -> Iterator[tuple[int, Target]]:
    """The entries of a ``patches:`` list that have a ``target:``."""
    items = data.get(key) if isinstance(data, dict) else None
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            target = Target.of(item.get("target"))
            if target is not None:
                yield i, target


def any_selected(
    target: Target, objects: Iterable[Document], sources: Mapping[int, Document | None]
) -> bool:
    return any(selects(target, obj, sources.get(id(obj))) for obj in objects)
