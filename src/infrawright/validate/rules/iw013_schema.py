"""IW013: objects match their schema (their CRD's, or Kubernetes' own).

Default severity: error. Schemas come, in this order, from ``--crd-dir`` folders and the
config's ``crd_dirs``, CRDs in the repository, the schema cache that ``infrawright
schemas pull`` fills, and for the built-in kinds (Namespace, Deployment, RBAC, ...)
Kubernetes' own schemas of the chosen version (``--kubernetes-version``, config
``kubernetes_version``, default the newest installed). Built-in kinds are checked
strictly: a field Kubernetes does not know is an error, as a server-side apply rejects
it. Kinds without a schema are listed as unchecked in the report, never passed silently.

Flux durations (``interval``, ``timeout``, ``retryInterval`` of Kustomizations,
HelmReleases and sources) are checked with or without a schema, and named plainly:
``spec.interval: '1 hour' is not a duration (Go form, e.g. 1h, 10m, 30s)``. Where the CRD
pattern catches the same value, that one finding is all.

Why: the API server rejects an object that violates its schema, so the Kustomization
fails at apply time on the cluster instead of in review.

Bad::

    kind: HelmRelease
    spec:
      interval: 1 hour     # must be a Go duration string

Good::

    spec:
      interval: 1h
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.model.flux import DURATION_FIELDS
from infrawright.repo.documents import Document
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity
from infrawright.validate.formats import bad_durations, normalised

RULE = Rule("IW013", "objects match their schema (CRD or Kubernetes)", Severity.ERROR)
MAX_PER_OBJECT = 5
_FLUX_KINDS = tuple(sorted({kind for _group, kind in DURATION_FIELDS}))


def check(ctx: Context) -> Iterator[Finding]:
    told: dict[tuple[str, int, str], set[str]] = {}
    built = [obj for _ks, obj in ctx.built()]
    built_files = {obj.file for obj in built}
    # Flux Kustomizations in files no build covers (e.g. the bootstrap is not local).
    unbuilt = [ks.doc for ks in ctx.model.kustomizations if ks.doc.file not in built_files]
    for obj in _flux_objects(ctx, unbuilt):
        for bad in bad_durations(obj):
            told.setdefault(_key(obj), set()).add(bad.path)
            yield RULE.at(
                obj,
                f"{obj.kind} {obj.name}: {bad.message()}",
                f"write {bad.path} as a number with a unit, e.g. `interval: 10m`",
                line=ctx.line_of(obj, list(bad.keys)),
                fix="duration" if normalised(bad.value, bad.units) else "",
            )
    if ctx.schemas.empty():
        return  # no schema at all: nothing more to check
    seen: set[tuple[str, int, str]] = set()
    objects = built + unbuilt
    known: dict[tuple[str, str], bool] = {}  # (apiVersion, kind): has a schema
    for obj in objects:
        kind = (obj.api_version, obj.kind)
        checked = known.get(kind)
        if checked is None:
            checked = known[kind] = ctx.schemas.has_kind(*kind)
        if not checked:
            continue  # no schema: nothing to check
        key = _key(obj)
        if key in seen:
            continue
        seen.add(key)
        done = told.get(key, set())
        errors = [(p, m) for p, m in ctx.schemas.errors(obj) if p not in done]
        if not errors:
            continue
        source = ctx.schemas.source(*kind)
        where = f" ({source.describe()})" if source and source.source != "crd-file" else ""
        for path, message in errors[:MAX_PER_OBJECT]:
            keys: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
            yield RULE.at(
                obj,
                f"{obj.kind} {obj.name}: {path}: {message}",
                f"fix {path} to match the {obj.api_version} {obj.kind} schema{where}",
                line=ctx.line_of(obj, keys) if path != "(root)" else None,
            )
        if len(errors) > MAX_PER_OBJECT:
            yield RULE.at(
                obj,
                f"{obj.kind} {obj.name}: {len(errors) - MAX_PER_OBJECT} more schema errors",
                "fix the ones above first",
            )


def _key(obj: Document) -> tuple[str, int, str]:
    return (obj.file, obj.line, obj.resource)


def _flux_objects(ctx: Context, unbuilt: list[Document]) -> Iterator[Document]:
    """Every Flux object with duration fields, once: built ones, and the Flux
    Kustomizations in files no build covers (``unbuilt``)."""
    seen: set[tuple[str, int, str]] = set()
    objects = [obj for _ks, obj in ctx.of_kind(*_FLUX_KINDS)] + unbuilt
    for obj in objects:
        if (obj.group, obj.kind) in DURATION_FIELDS and _key(obj) not in seen:
            seen.add(_key(obj))
            yield obj
