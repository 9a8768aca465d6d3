"""Schema checks of built objects against CustomResourceDefinition schemas.

Schemas come from CRD manifests in the repository, from ``--crd-dir`` folders and from
the config's ``crd_dirs``. Kinds with no schema are reported as unchecked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infrawright import cache
from infrawright.repo.documents import Document, read_yaml_file

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

GVK = tuple[str, str, str]


def _openapi_to_jsonschema(schema: Any) -> Any:
    """OpenAPI v3 ``nullable`` becomes a JSON-schema null type; the rest passes through."""
    if isinstance(schema, dict):
        out = {k: _openapi_to_jsonschema(v) for k, v in schema.items()}
        if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_openapi_to_jsonschema(v) for v in schema]
    return schema


@dataclass
class SchemaStore:
    """CRD schemas by (group, version, kind), with compiled validators cached."""

    schemas: dict[GVK, dict[str, Any]] = field(default_factory=dict)
    origins: dict[GVK, str] = field(default_factory=dict)
    _validators: dict[GVK, Draft7Validator] = field(default_factory=dict)

    def add_crd(self, doc: Document) -> None:
        spec = doc.spec
        group = spec.get("group")
        kind = (spec.get("names") or {}).get("kind")
        if not isinstance(group, str) or not isinstance(kind, str):
            return
        for version in spec.get("versions") or []:
            if not isinstance(version, dict):
                continue
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            name = version.get("name")
            if isinstance(schema, dict) and isinstance(name, str):
                key = (group, name, kind)
                self.schemas.setdefault(key, schema)
                self.origins.setdefault(key, doc.file)

    def add_documents(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            if doc.kind == "CustomResourceDefinition":
                self.add_crd(doc)

    def add_dir(self, folder: Path) -> None:
        """Every CRD in a folder; parsed once per process while its files are unchanged."""
        for doc in _crds_in(crd_signature(folder)):
            self.add_crd(doc)

    def has(self, doc: Document) -> bool:
        return self.key(doc) in self.schemas

    def has_kind(self, api_version: str, kind: str) -> bool:
        return _gvk(api_version, kind) in self.schemas

    @staticmethod
    def key(doc: Document) -> GVK:
        return _gvk(doc.api_version, doc.kind)

    def errors(self, doc: Document) -> list[tuple[str, str]]:
        """(JSON path, message) for every schema violation of ``doc``."""
        key = self.key(doc)
        schema = self.schemas.get(key)
        if schema is None:
            return []
        validator = self._validators.get(key)
        if validator is None:
            validator = _compiled(schema)
            self._validators[key] = validator
        out = []
        for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(p) for p in err.absolute_path) or "(root)"
            out.append((path, err.message))
        return out


def _gvk(api_version: str, kind: str) -> GVK:
    group, _, version = api_version.rpartition("/")
    return (group, version, kind)


def crd_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of every YAML file under ``folder``, sorted: what identifies
    the CRDs it holds without reading them."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))
    return tuple(
        (str(p), st.st_mtime_ns, st.st_size) for p in paths if p.is_file() for st in [p.stat()]
    )


@lru_cache(maxsize=64)
def _crds_in(signature: tuple[tuple[str, int, int], ...]) -> tuple[Document, ...]:
    """CRD documents of the files in ``signature`` (path, mtime, size): a changed file
    changes the key, so neither this cache nor the one on disk serves stale schemas."""
    digest = cache.key("crds", 1, signature)
    stored = cache.load("crds", digest)
    if isinstance(stored, list):
        return tuple(Document(str(f), int(line), 0, data) for f, line, data in stored)
    out: list[Document] = []
    for path, _mtime, _size in signature:
        docs = read_yaml_file(Path(path), path).objects
        out.extend(_slim(d) for d in docs if d.kind == "CustomResourceDefinition")
    cache.store("crds", digest, [[d.file, d.line, d.data] for d in out])
    return tuple(out)


def _slim(doc: Document) -> Document:
    """Only what schema checks need from a CRD (group, kind, versions and schemas)."""
    spec = doc.spec
    versions = [
        {"name": v.get("name"), "schema": v.get("schema")}
        for v in spec.get("versions") or []
        if isinstance(v, dict)
    ]
    data = {
        "apiVersion": doc.api_version,
        "kind": doc.kind,
        "metadata": {"name": doc.name},
        "spec": {
            "group": spec.get("group"),
            "names": {"kind": (spec.get("names") or {}).get("kind")},
            "versions": versions,
        },
    }
    return Document(doc.file, doc.line, doc.index, data)


_COMPILED: dict[int, tuple[dict[str, Any], Draft7Validator]] = {}


def _compiled(schema: dict[str, Any]) -> Draft7Validator:
    """A validator per schema object, shared by every store in this process."""
    hit = _COMPILED.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    from jsonschema import Draft7Validator  # only when there is a schema to check

    validator = Draft7Validator(_openapi_to_jsonschema(copy.deepcopy(schema)))
    _COMPILED[id(schema)] = (schema, validator)
    return validator
