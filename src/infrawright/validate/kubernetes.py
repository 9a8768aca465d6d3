"""Kubernetes' own schemas for the built-in kinds (Namespace, Deployment, RBAC, ...).

They come from the schema files that the ``kubernetes-validate`` package ships, one
folder per Kubernetes version (``kubernetes-json-schema/v1.37.0-local-strict/``). Only
its files are used, never its code (importing it costs about 140 ms, and its
``validate()`` reads every file again for every object, about 20 ms each).

Layout of a version's strict folder: one file per kind and API version, named
``<kind>-<group's first label>-<version>.json`` (``deployment-apps-v1.json``; the core
group has none: ``namespace-v1.json``), JSON Schema 2020-12 with ``$id``
``https://kubernetes.io/api/<kind>/<group>/<version>``, whose ``$ref`` s point at
``/api/_definitions.json#/$defs/<name>`` (one 1.8 MB file of every definition, whose own
``$ref`` s are ``#/$defs/<name>``). "Strict" means ``additionalProperties: false`` on every
object type: an unknown field is an error, as a server-side apply (what Flux does)
rejects it with "field not declared in schema". Every field is also nullable
(``"type": ["string", "null"]``), so ``creationTimestamp: null`` passes, and ``status``
is declared, so a ``status`` written in a manifest passes where its fields exist.

A kind's schema is made self-contained once: its file with the definitions it reaches
copied under ``$defs`` and every ``$ref`` made local. That is kept in the on-disk cache
(:mod:`infrawright.cache`), so a run reads the big definitions file only for a kind it
has not met before.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from infrawright import cache
from infrawright.errors import UsageError

PACKAGE = "kubernetes-validate"
_FOLDER = re.compile(r"^v(\d+)\.(\d+)\.(\d+)-local-strict$")
_DEFS_REF = "#/$defs/"


@functools.cache
def schema_root() -> Path | None:
    """The package's ``kubernetes-json-schema`` folder, found without importing it."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "kubernetes-json-schema"
        if folder.is_dir():
            return folder
    return None


@functools.cache
def package_version() -> str | None:
    root = schema_root()
    if root is None:
        return None
    try:
        text = (root.parent / "version.py").read_text(encoding="utf-8")
        found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text)
    except OSError:
        return None
    return found.group(1) if found else None


@functools.cache
def _folders() -> dict[str, Path]:
    """``major.minor`` -> the strict folder of that version, for every version shipped."""
    root = schema_root()
    if root is None:
        return {}
    out: dict[tuple[int, int], Path] = {}
    for folder in root.iterdir():
        match = _FOLDER.match(folder.name)
        if match:
            out[(int(match.group(1)), int(match.group(2)))] = folder
    return {f"{major}.{minor}": out[(major, minor)] for major, minor in sorted(out)}


def available_versions() -> list[str]:
    """The Kubernetes versions (``major.minor``) whose schemas are installed, oldest first."""
    return list(_folders())


def default_version() -> str | None:
    """The newest version shipped, or None without the package."""
    versions = available_versions()
    return versions[-1] if versions else None


def resolve_version(wanted: str | None, origin: str) -> str | None:
    """``wanted`` (``1.30``, ``v1.30``, ``1.30.4``; None: the default) as ``major.minor``.
    A version that is not shipped is a usage error naming ``origin`` (the flag or the
    config file) and the versions available."""
    if wanted is None or not wanted.strip():
        return default_version()
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", wanted.strip())
    key = f"{int(match.group(1))}.{int(match.group(2))}" if match else None
    if key is not None and key in _folders():
        return key
    versions = available_versions()
    shipped = ", ".join(versions) if versions else f"none ({PACKAGE} is not installed)"
    raise UsageError(
        f"{origin}: Kubernetes version {wanted!r} has no schemas here",
        hint=f"versions available from {PACKAGE} {package_version() or ''}".rstrip()
        + f": {shipped}",
    )


def file_name(group: str, version: str, kind: str) -> str:
    """The schema file of a kind (``deployment-apps-v1.json``, ``namespace-v1.json``)."""
    prefix = f"-{group.split('.')[0]}" if group else ""
    return f"{kind.lower()}{prefix}-{version}.json"


def is_builtin_group(group: str) -> bool:
    """Could this API group be one of Kubernetes' own? (A CRD's group has a dot and is
    not under ``k8s.io``, with a few CRD groups there that simply have no file.)"""
    return group == "" or "." not in group or group.endswith(".k8s.io")


def may_be_custom(group: str) -> bool:
    """Could a kind of this group come from a CRD (so a CRD catalog may have it)? Every
    group with a dot: also those under ``k8s.io`` that Kubernetes itself does not serve
    (``gateway.networking.k8s.io``, ``snapshot.storage.k8s.io``)."""
    return "." in group


def schema(k8s_version: str, group: str, version: str, kind: str) -> dict[str, Any] | None:
    """The self-contained schema of a built-in kind in a Kubernetes version, or None when
    that version has no such kind (a custom resource, a removed API version)."""
    if not is_builtin_group(group):
        return None
    return _schema(k8s_version, group, version, kind)


@functools.lru_cache(maxsize=256)
def _schema(k8s_version: str, group: str, version: str, kind: str) -> dict[str, Any] | None:
    folder = _folders().get(k8s_version)
    if folder is None:
        return None
    path = folder / file_name(group, version, kind)
    try:
        st = path.stat()
    except OSError:
        return None
    digest = cache.key("k8s-schema", 1, str(path), st.st_size, st.st_mtime_ns)
    stored = cache.load("k8s-schema", digest)
    if isinstance(stored, dict):
        return stored if stored else None
    closed = _closed(folder, path, group, version, kind)
    cache.store("k8s-schema", digest, closed or {})
    return closed


def _closed(folder: Path, path: Path, group: str, version: str, kind: str) -> dict[str, Any] | None:
    with path.open(encoding="utf-8") as fh:
        top = json.load(fh)
    gvks = top.get("x-kubernetes-group-version-kind") if isinstance(top, dict) else None
    if not isinstance(gvks, list) or not any(
        isinstance(g, dict)
        and (g.get("group"), g.get("version"), g.get("kind")) == (group, version, kind)
        for g in gvks
    ):
        return None  # the file is of another group whose first label is the same
    definitions = _definitions(folder)
    needed: dict[str, Any] = {}

    def local(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and _DEFS_REF in value:
                    name = value.split(_DEFS_REF, 1)[1]
                    out[key] = _DEFS_REF + name
                    if name not in needed and name in definitions:
                        needed[name] = {}  # placeholder: definitions may refer to themselves
                        needed[name] = local(definitions[name])
                else:
                    out[key] = local(value)
            return out
        if isinstance(node, list):
            return [local(v) for v in node]
        return node

    closed: dict[str, Any] = local(top)
    closed.pop("$id", None)
    closed["$defs"] = needed
    return closed


@functools.lru_cache(maxsize=2)
def _definitions(folder: Path) -> dict[str, Any]:
    with (folder / "_definitions.json").open(encoding="utf-8") as fh:
        data = json.load(fh)
    defs = data.get("$defs") if isinstance(data, dict) else None
    return defs if isinstance(defs, dict) else {}
