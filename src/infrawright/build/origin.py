"""Which repository file and line a built object came from.

Every build goes through a wrapper kustomization that asks for ``originAnnotations``;
the annotation names the file each object came from, relative to the wrapper. Here it
is removed from the object again and turned into the object's file and line.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from infrawright.model.repo import RepoModel
from infrawright.repo.documents import Document

ORIGIN = "config.kubernetes.io/origin"


def strip_origin(data: dict[str, Any]) -> str | None:
    """Remove kustomize's origin annotation from a built object; the path it named."""
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return None
    notes = meta.get("annotations")
    if not isinstance(notes, dict) or ORIGIN not in notes:
        return None
    origin = notes.pop(ORIGIN)
    if not notes:
        del meta["annotations"]
    for line in str(origin).splitlines():
        if line.startswith("path:"):
            return line.split(":", 1)[1].strip()
    return None


def _attribute(model: RepoModel, wrapper_parent: Path, docs: list[Document]) -> list[Document]:
    """Map built objects back to repository files and lines."""
    out: list[Document] = []
    lines = SourceLines(model)
    for doc in docs:
        if not isinstance(doc.data, dict):
            continue
        origin = strip_origin(doc.data)
        file, line = "", None
        if origin:
            # kustomize reports origins relative to the wrapper folder, which is gone by
            # now; the absolute path is rebuilt from the folder the wrapper lived in.
            absolute = Path(os.path.normpath(wrapper_parent / "wrapper" / origin))
            file = model.rel(absolute)
            line = lines.line(file, doc)
        out.append(Document(file, line or 0, doc.index, doc.data))
    return out


class SourceLines:
    """Where the objects of repository files start, to point built objects at them."""

    def __init__(self, model: RepoModel) -> None:
        self._model = model
        self._files: dict[str, dict[tuple[str, str], int] | None] = {}
        self._kinds: dict[str, dict[str, list[int]]] = {}

    def line(self, file: str, built: Document) -> int | None:
        """Line of the document in ``file`` that ``built`` came from."""
        if file not in self._files:
            self._index(file)
        named = self._files[file]
        if named is None:
            return None
        found = named.get((built.kind, built.name))
        if found is not None:
            return found
        # kustomize may rename an object (namespace:, namePrefix:); the file's only object
        # of that kind is then the one it came from.
        same_kind = self._kinds[file].get(built.kind, [])
        return same_kind[0] if len(same_kind) == 1 else None

    def _index(self, file: str) -> None:
        source = self._model.files.get(file)
        if source is None:
            self._files[file] = None
            return
        named: dict[tuple[str, str], int] = {}
        kinds: dict[str, list[int]] = {}
        for doc in source.documents:
            if doc.is_object:
                named.setdefault((doc.kind, doc.name), doc.line)
                kinds.setdefault(doc.kind, []).append(doc.line)
        self._files[file] = named
        self._kinds[file] = kinds


def attribute_objects(model: RepoModel, docs: list[Document]) -> list[Document]:
    """Built objects mapped to repository files and lines. Every wrapper puts its
    kustomization at <tmp>/kustomization.yaml, and origins are relative to it; the
    folder is gone by now, so they are resolved against a stand-in of the same depth."""
    return _attribute(model, Path(tempfile.gettempdir()), docs)
