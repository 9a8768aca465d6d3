"""Which kustomization.yaml includes which file, and the namespace that gives it.

kustomize's ``namespace:`` field rewrites the namespace of everything a kustomization
includes, through any depth of sub-folders, and an outer kustomization wins over an
inner one. A Flux Kustomization defined in ``apps/backend/podinfo-sync.yaml`` without a
namespace therefore lands in ``backend`` when ``apps/backend/kustomization.yaml`` says
``namespace: backend``. This module works that out from the files alone, without
running kustomize, so the loader knows every Kustomization's real key.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from infrawright.repo.documents import YamlFile

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml")
_SUFFIXES = tuple(f"/{n}" for n in KUSTOMIZATION_NAMES) + KUSTOMIZATION_NAMES


@dataclass(frozen=True)
class Inclusion:
    """Parent links: a file or folder -> the folder whose kustomization lists it."""

    parents: Mapping[str, str]
    namespaces: Mapping[str, str]

    def chain(self, rel: str) -> list[str]:
        """Folders whose kustomizations include ``rel``, innermost first."""
        out: list[str] = []
        folder = self.parents.get(rel)
        while folder is not None and folder not in out:
            out.append(folder)
            folder = self.parents.get(folder)
        return out

    def namespace_of(self, rel: str) -> str | None:
        """The namespace kustomize gives objects of ``rel`` (outermost setting wins)."""
        found = None
        for folder in self.chain(rel):
            found = self.namespaces.get(folder, found)
        return found

    def top(self, rel: str) -> str | None:
        """The outermost folder whose kustomization includes ``rel``."""
        chain = self.chain(rel)
        return chain[-1] if chain else None


def _is_local(entry: str) -> bool:
    return "://" not in entry and not entry.startswith(("github.com/", "git@"))


def index_inclusion(files: Mapping[str, YamlFile]) -> Inclusion:
    """Link every file and folder listed by a kustomization.yaml to that folder."""
    folders: dict[str, dict[str, object]] = {}
    for rel, parsed in files.items():
        if not rel.endswith(_SUFFIXES) or not parsed.documents:
            continue
        if posixpath.basename(rel) not in KUSTOMIZATION_NAMES:
            continue
        data = parsed.documents[0].data
        if isinstance(data, dict):
            folders[posixpath.dirname(rel) or "."] = data
    parents: dict[str, str] = {}
    namespaces: dict[str, str] = {}
    for folder, data in sorted(folders.items()):
        ns = data.get("namespace")
        if isinstance(ns, str) and ns and "${" not in ns:
            namespaces[folder] = ns
        listed = [*_strings(data.get("resources")), *_strings(data.get("components"))]
        for entry in listed:
            if not _is_local(entry):
                continue
            if "/" not in entry and entry not in ("", ".", ".."):
                target = entry if folder == "." else f"{folder}/{entry}"  # the common case
            else:
                target = posixpath.normpath(posixpath.join(folder, entry))
            if target.startswith("../") or target == "..":
                continue
            if target in files or target in folders:
                parents.setdefault(target, folder)
    return Inclusion(parents, namespaces)


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]
