"""What Flux adds to a plain ``kustomize build``, so our builds match what Flux applies.

kustomize-controller builds ``spec.path`` and then applies the Kustomization's own
settings on top: ``targetNamespace``, ``namePrefix``/``nameSuffix``, ``patches``,
``images``, ``components`` and ``commonMetadata`` (as kustomize fields), and finally
``postBuild`` variable substitution on the output. The first group becomes fields of the
wrapper kustomization; substitution is done here on the built objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infrawright.model.flux import FluxKustomization
from infrawright.repo.documents import Document

SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute"
_VAR = re.compile(r"(\$)?\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}]*))?\}")


@dataclass(frozen=True)
class FluxOverlay:
    """Wrapper kustomization fields and component folders for one Flux Kustomization."""

    fields: dict[str, Any]
    components: tuple[Path, ...]


def overlay_for(ks: FluxKustomization, folder: Path) -> FluxOverlay:
    """The kustomize fields Flux would add when building ``folder`` for ``ks``."""
    spec = ks.doc.spec
    fields: dict[str, Any] = {}
    if ks.target_namespace:
        fields["namespace"] = ks.target_namespace
    for key in ("namePrefix", "nameSuffix"):
        if isinstance(spec.get(key), str) and spec[key]:
            fields[key] = spec[key]
    patches = [p for p in spec.get("patches") or [] if isinstance(p, dict) and p.get("patch")]
    if patches:
        fields["patches"] = patches
    images = [i for i in spec.get("images") or [] if isinstance(i, dict) and i.get("name")]
    if images:
        fields["images"] = images
    meta = spec.get("commonMetadata")
    if isinstance(meta, dict):
        labels = meta.get("labels")
        if isinstance(labels, dict) and labels:
            fields["labels"] = [{"pairs": labels, "includeSelectors": False}]
        notes = meta.get("annotations")
        if isinstance(notes, dict) and notes:
            fields["commonAnnotations"] = notes
    components = tuple(
        (folder / c).resolve()
        for c in spec.get("components") or []
        if isinstance(c, str) and "://" not in c
    )
    return FluxOverlay(fields, components)


def variables(ks: FluxKustomization, objects: Iterable[Document]) -> dict[str, str] | None:
    """Variables for ``postBuild`` substitution, or None when Flux would not substitute.

    Inline ``substitute`` values win over ``substituteFrom`` ConfigMaps and Secrets found
    in the repository (plain values only: SOPS-encrypted ones stay unknown and their
    ``${VARS}`` are left as they are, as they are resolved in the cluster).
    """
    post = ks.doc.spec.get("postBuild")
    if not isinstance(post, dict):
        return None
    found: dict[str, str] = {}
    wanted = [
        (str(ref.get("kind")), str(ref.get("name")))
        for ref in post.get("substituteFrom") or []
        if isinstance(ref, dict)
    ]
    by_ref = {(o.kind, o.name): o for o in objects if o.kind in ("ConfigMap", "Secret")}
    for ref in wanted:
        obj = by_ref.get(ref)
        if obj is None or not isinstance(obj.data, dict):
            continue
        for field in ("data", "stringData"):
            values = obj.data.get(field)
            if isinstance(values, dict) and not (ref[0] == "Secret" and field == "data"):
                found.update({str(k): str(v) for k, v in values.items() if "ENC[" not in str(v)})
    inline = post.get("substitute")
    if isinstance(inline, dict):
        found.update({str(k): str(v) for k, v in inline.items()})
    return found


def substitute(value: Any, known: Mapping[str, str]) -> Any:
    """``value`` with ``${VAR}``, ``${VAR:=default}`` and ``${VAR:-default}`` replaced
    where the variable (or a default) is known; ``$${VAR}`` is an escape, kept as text."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: _one(m, known), value) if "${" in value else value
    if isinstance(value, dict):
        return {substitute(k, known): substitute(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, known) for v in value]
    return value


def _one(match: re.Match[str], known: Mapping[str, str]) -> str:
    escaped, name, op, default = match.groups()
    if escaped:
        return match.group(0)[1:]
    if name in known:
        return known[name]
    if op is not None:
        return default or ""
    return match.group(0)


def substitute_objects(objects: list[Document], known: Mapping[str, str]) -> list[Document]:
    """Substitute every built object unless it opts out with the Flux annotation."""
    out: list[Document] = []
    for obj in objects:
        notes = obj.metadata.get("annotations") if isinstance(obj.data, dict) else None
        if isinstance(notes, dict) and notes.get(SUBSTITUTE_ANNOTATION) == "disabled":
            out.append(obj)
            continue
        out.append(Document(obj.file, obj.line, obj.index, substitute(obj.data, known)))
    return out
