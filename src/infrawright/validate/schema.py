"""Schema checks of built objects: where each kind's schema comes from, and the checks.

A kind's schema is looked up in this order (the first that has it wins):

1. CRD manifests in ``--crd-dir`` folders and the config's ``crd_dirs``;
2. CRD manifests in the repository itself;
3. the schema cache that ``infrawright schemas pull`` fills (:mod:`.pulled`);
4. Kubernetes' own schemas of the chosen Kubernetes version, for the built-in kinds
   (:mod:`.kubernetes`).

Kinds with no schema are reported as unchecked. Each kind's :class:`SchemaSource` says
where its schema came from. Compiled validators are shared by the whole process, and
the objects a schema found valid are remembered on disk (by a digest of their content),
so a run after a small change checks only what changed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from infrawright import cache
from infrawright.repo.documents import Document, read_yaml_file
from infrawright.validate import kubernetes, pulled

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

GVK = tuple[str, str, str]
#: Where schemas come from, in lookup order after the CRD files.
SourceName = Literal["crd-file", "schema-cache", "kubernetes"]
#: How a schema is read: OpenAPI v3 of a CRD (or a catalog file), or Kubernetes' own.
Dialect = Literal["openapi", "kubernetes"]


@dataclass(frozen=True)
class SchemaSource:
    """Where one kind's schema came from: ``location`` is the CRD file, the URL it was
    pulled from, or the Kubernetes version."""

    source: SourceName
    location: str

    def describe(self) -> str:
        if self.source == "kubernetes":
            return f"Kubernetes {self.location}"
        if self.source == "schema-cache":
            return f"schema cache ({self.location})"
        return self.location


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


@dataclass(frozen=True)
class _Found:
    schema: dict[str, Any]
    source: SchemaSource
    dialect: Dialect


@dataclass
class SchemaStore:
    """Schemas by (group, version, kind): the CRDs added (``schemas``, with the file each
    came from in ``origins``), then, looked up on first use, the schema cache (with
    ``pulled``) and Kubernetes' schemas of ``kubernetes_version`` (None: none)."""

    schemas: dict[GVK, dict[str, Any]] = field(default_factory=dict)
    origins: dict[GVK, str] = field(default_factory=dict)
    kubernetes_version: str | None = None
    pulled: bool = False
    _found: dict[GVK, _Found | None] = field(default_factory=dict)
    _valid: dict[GVK, set[str]] = field(default_factory=dict)
    _newly_valid: dict[GVK, set[str]] = field(default_factory=dict)

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
                self._found.pop(key, None)

    def add_documents(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            if doc.kind == "CustomResourceDefinition":
                self.add_crd(doc)

    def add_dir(self, folder: Path) -> None:
        """Every CRD in a folder; parsed once per process while its files are unchanged."""
        for doc in _crds_in(crd_signature(folder)):
            self.add_crd(doc)

    def empty(self) -> bool:
        """No schema can be found here at all (nothing to check)."""
        return not self.schemas and not self.pulled and self.kubernetes_version is None

    def lookup(self, key: GVK) -> _Found | None:
        if key in self._found:
            return self._found[key]
        found: _Found | None = None
        crd = self.schemas.get(key)
        if crd is not None:
            found = _Found(crd, SchemaSource("crd-file", self.origins.get(key, "")), "openapi")
        if found is None and self.pulled:
            hit = pulled.load(key)
            if hit is not None:
                found = _Found(hit[0], SchemaSource("schema-cache", hit[1]), "openapi")
        if found is None and self.kubernetes_version is not None:
            core = kubernetes.schema(self.kubernetes_version, *key)
            if core is not None:
                source = SchemaSource("kubernetes", self.kubernetes_version)
                found = _Found(core, source, "kubernetes")
        self._found[key] = found
        return found

    def has(self, doc: Document) -> bool:
        return self.lookup(self.key(doc)) is not None

    def has_kind(self, api_version: str, kind: str) -> bool:
        return self.lookup(_gvk(api_version, kind)) is not None

    def source(self, api_version: str, kind: str) -> SchemaSource | None:
        found = self.lookup(_gvk(api_version, kind))
        return found.source if found is not None else None

    @staticmethod
    def key(doc: Document) -> GVK:
        return _gvk(doc.api_version, doc.kind)

    def errors(self, doc: Document) -> list[tuple[str, str]]:
        """(JSON path, message) for every schema violation of ``doc``."""
        key = self.key(doc)
        found = self.lookup(key)
        if found is None:
            return []
        valid = self._valid.get(key)
        if valid is None:
            valid = self._valid[key] = _recalled_valid(found)
        digest = _object_digest(doc.data)
        if digest in valid:
            return []
        validator = _compiled(found.schema, found.dialect)
        data, encrypted = _as_applied(doc.data)
        out = []
        for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            if encrypted and isinstance(err.instance, str) and err.instance.startswith("ENC["):
                continue  # a SOPS-encrypted value: Flux decrypts it before applying
            path = ".".join(str(p) for p in err.absolute_path) or "(root)"
            out.append((path, err.message))
        if not out:
            valid.add(digest)
            self._newly_valid.setdefault(key, set()).add(digest)
        return out

    def fingerprint(self) -> str:
        """What identifies every answer of this store: each CRD schema added (by content),
        the pulled files, the Kubernetes version and the package that ships its
        schemas. Equal fingerprints give equal :meth:`errors` for equal objects."""
        crds = sorted((key, _schema_digest(schema)) for key, schema in self.schemas.items())
        return cache.quick_key(
            "schema-store",
            1,
            crds,
            pulled.signature() if self.pulled else (),
            self.kubernetes_version,
            kubernetes.package_version() if self.kubernetes_version else None,
        )

    def remember(self) -> None:
        """Keep on disk which objects each schema found valid in this run (with those
        known before), so the next run does not check them again."""
        for key, digests in self._newly_valid.items():
            found = self.lookup(key)
            if found is not None and digests:
                cache.store("schema-valid", _valid_key(found), sorted(self._valid[key]))
        self._newly_valid.clear()


def _as_applied(data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """An object as Flux applies it: a SOPS-encrypted manifest (a top-level ``sops``
    mapping) is decrypted first, which drops ``sops``. Also whether it was encrypted."""
    if isinstance(data.get("sops"), dict):
        return {k: v for k, v in data.items() if k != "sops"}, True
    return data, False


#: Objects remembered valid per schema: past this many, the memory starts again empty.
MAX_REMEMBERED = 200_000


def _object_digest(data: dict[str, Any]) -> str:
    """What identifies an object's content whatever the order of its keys: a fresh
    kustomize build sorts them, a build kept in the cache may have the file's order."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _valid_key(found: _Found) -> str:
    return cache.quick_key(
        "schema-valid", 2, cache.code_version(), found.dialect, _schema_digest(found.schema)
    )


def _schema_digest(schema: dict[str, Any]) -> str:
    hit = _DIGESTS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    digest = cache.quick_key(schema)
    _DIGESTS[id(schema)] = (schema, digest)
    return digest


_DIGESTS: dict[int, tuple[dict[str, Any], str]] = {}


def _recalled_valid(found: _Found) -> set[str]:
    stored = cache.load("schema-valid", _valid_key(found))
    if isinstance(stored, list) and len(stored) <= MAX_REMEMBERED:
        return {d for d in stored if isinstance(d, str)}
    return set()


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


_COMPILED: dict[int, tuple[dict[str, Any], Validator]] = {}


def _compiled(schema: dict[str, Any], dialect: Dialect = "openapi") -> Validator:
    """A validator per schema object, shared by every store in this process."""
    hit = _COMPILED.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator: Validator
    if dialect == "kubernetes":  # JSON Schema 2020-12, every $ref already local
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(schema)
    else:
        from jsonschema import Draft7Validator  # only when there is a schema to check

        validator = Draft7Validator(_openapi_to_jsonschema(copy.deepcopy(schema)))
    _COMPILED[id(schema)] = (schema, validator)
    return validator
