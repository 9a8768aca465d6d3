"""ExternalArtifacts an ArtifactGenerator makes from this repository, read as folders of it.

Flux's source-watcher (``source.extensions.fluxcd.io`` ArtifactGenerator) copies parts of
a source into an artifact: ``copy: [{from: "@repo/apps/base/**", to: "@artifact/base/"}]``.
A Kustomization whose ``sourceRef`` is such an ExternalArtifact applies ``spec.path``
inside the artifact. When the artifact's source is this repository and every copy rule
moves a whole folder by the same prefix (``apps/base/** -> base/``, ``apps/production/**
-> production/``: the prefix ``apps/``), the artifact is that part of the repository seen
from the prefix, so the Kustomization is built from ``<prefix>/<path>`` and every finding
points at the repository's own files. Other artifacts are listed as not built, with why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from infrawright.model.flux import FluxKustomization, Ref, is_this_repository
from infrawright.repo.documents import Document

GROUP = "source.extensions.fluxcd.io"


@dataclass(frozen=True)
class Location:
    """Where an artifact's content is in this repository, or why that is not known."""

    prefix: str | None
    why: str


def generators(docs: Iterable[Document]) -> dict[tuple[str, str], dict[str, Any]]:
    """ArtifactGenerator specs by (namespace, name) of each artifact they make."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in docs:
        if doc.kind != "ArtifactGenerator" or doc.group != GROUP:
            continue
        namespace = doc.namespace or "flux-system"
        spec = doc.spec
        for artifact in spec.get("artifacts") or []:
            if isinstance(artifact, dict) and artifact.get("name"):
                out[(namespace, str(artifact["name"]))] = {
                    "generator": f"{namespace}/{doc.name}",
                    "sources": spec.get("sources") or [],
                    "artifact": artifact,
                }
    return out


def locate(found: Mapping[str, Any]) -> Location:
    """Where the artifact ``found`` (an entry of :func:`generators`) sits in this repository."""
    name = f"ExternalArtifact of ArtifactGenerator {found['generator']}"
    aliases: dict[str, Ref] = {}
    for source in found["sources"]:
        if isinstance(source, dict) and source.get("alias"):
            aliases[str(source["alias"])] = Ref(
                str(source.get("kind", "")),
                str(source.get("name", "")),
                str(source.get("namespace", found["generator"].split("/")[0])),
            )
    prefixes: set[str] = set()
    rules = found["artifact"].get("copy") or []
    if not rules:
        return Location(None, f"{name}: no copy rules")
    for rule in rules:
        if not isinstance(rule, dict):
            return Location(None, f"{name}: a copy rule is not a mapping")
        source, target = str(rule.get("from", "")), str(rule.get("to", ""))
        if rule.get("exclude"):
            return Location(None, f"{name}: copy rules with exclude are not built yet")
        alias, _, inside = source.removeprefix("@").partition("/")
        ref = aliases.get(alias)
        if ref is None or not source.startswith("@"):
            return Location(None, f"{name}: {source!r} names no source of the generator")
        if not is_this_repository(ref):
            return Location(None, f"{name}: its source {ref} is not this repository")
        if not inside.endswith("**") or not target.startswith("@artifact/"):
            return Location(None, f"{name}: only whole-folder copies (dir/** -> @artifact/dir/)")
        folder = inside.removesuffix("**").strip("/")
        dest = target.removeprefix("@artifact/").strip("/")
        if dest and not (folder == dest or folder.endswith("/" + dest)):
            return Location(
                None, f"{name}: its copy rules rearrange folders ({source} -> {target})"
            )
        prefixes.add(folder[: len(folder) - len(dest)].strip("/") if dest else folder)
    if len(prefixes) != 1:
        return Location(None, f"{name}: its copy rules rearrange folders")
    prefix = prefixes.pop()
    return Location(prefix, f"{name}, built from {prefix or '.'}/ of this repository")


def mapped(
    kustomizations: Iterable[FluxKustomization], docs: Iterable[Document]
) -> tuple[FluxKustomization, ...]:
    """The Kustomizations, each one sourced from an ExternalArtifact of this repository
    given its path in the repository (``via`` says how); the others as they are, an
    unknown artifact with the reason it is not built (``unbuilt``)."""
    todo = list(kustomizations)
    if not any(ks.source and ks.source.kind == "ExternalArtifact" for ks in todo):
        return tuple(todo)
    made = generators(docs)
    out = []
    for ks in todo:
        if ks.source is None or ks.source.kind != "ExternalArtifact":
            out.append(ks)
            continue
        found = made.get((ks.source.namespace, ks.source.name))
        if found is None:
            why = f"source is {ks.source}, made by no ArtifactGenerator in this repository"
            out.append(replace(ks, unbuilt=why))
            continue
        where = locate(found)
        if where.prefix is None:
            out.append(replace(ks, unbuilt=where.why))
            continue
        inside = ks.path.strip().lstrip("./").lstrip("/")
        path = "./" + "/".join(p for p in (where.prefix, inside) if p)
        out.append(replace(ks, path=path, via=f"{ks.source}: {where.why}"))
    return tuple(out)
