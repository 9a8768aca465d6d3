"""What a kustomization file names: resources, patches, components, generator files.

Each reference comes with the keys that lead to it in the file (``("resources", 0)``), so
a finding about it can point at its line, and with the kind of thing it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Keys = tuple[str | int, ...]


@dataclass(frozen=True)
class Reference:
    keys: Keys
    #: The name as written (``key=`` prefixes of generator files removed).
    name: str
    #: resource (a file or folder), patch, component, generator (a file read as data).
    kind: str


def references(kustomization: dict[str, Any]) -> Iterator[Reference]:
    """Every local name a kustomization file refers to, in file order."""
    for key, kind in (("resources", "resource"), ("components", "component"), ("crds", "resource")):
        for i, item in enumerate(_items(kustomization.get(key))):
            if isinstance(item, str) and "://" not in item and not item.startswith("git@"):
                yield Reference((key, i), item, kind)
    for i, item in enumerate(_items(kustomization.get("patchesStrategicMerge"))):
        if isinstance(item, str) and "\n" not in item:
            yield Reference(("patchesStrategicMerge", i), item, "patch")
    for key in ("patches", "patchesJson6902", "replacements"):
        for i, item in enumerate(_items(kustomization.get(key))):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                yield Reference((key, i, "path"), item["path"], "patch")
    for key in ("configMapGenerator", "secretGenerator"):
        for i, generator in enumerate(_items(kustomization.get(key))):
            if not isinstance(generator, dict):
                continue
            for field in ("files", "envs"):
                for j, item in enumerate(_items(generator.get(field))):
                    if isinstance(item, str):
                        name = item.split("=", 1)[-1]
                        yield Reference((key, i, field, j), name, "generator")
            if isinstance(generator.get("env"), str):
                yield Reference((key, i, "env"), generator["env"], "generator")


def _items(value: object) -> list[object]:
    return value if isinstance(value, list) else []
