"""IW013: objects match their CustomResourceDefinition schema.

Default severity: error. Schemas come from CRDs in the repository, ``--crd-dir``
folders and the config's ``crd_dirs``; kinds without a schema are listed as unchecked
in the report, never passed silently.

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

RULE = Rule("IW013", "objects match their CRD schema", Severity.ERROR)
MAX_PER_OBJECT = 5
_FLUX_KINDS = tuple(sorted({kind for _group, kind in DURATION_FIELDS}))


def check(ctx: Context) -> Iterator[Finding]:
    told: dict[tuple[str, int, str], set[str]] = {}
    for obj in _flux_objects(ctx):
        for bad in bad_durations(obj):
            told.setdefault(_key(obj), set()).add(bad.path)
            yield RULE.at(
                obj,
                f"{obj.kind} {obj.name}: {bad.message()}",
                f"write {bad.path} as a number with a unit, e.g. `interval: 10m`",
                line=ctx.line_of(obj, list(bad.keys)),
                fix="duration" if normalised(bad.value, bad.units) else "",
            )
    for obj in ctx.schema_objects():
        done = told.get(_key(obj), set())
        errors = [(p, m) for p, m in ctx.schemas.errors(obj) if p not in done]
        for path, message in errors[:MAX_PER_OBJECT]:
            keys: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
            yield RULE.at(
                obj,
                f"{obj.kind} {obj.name}: {path}: {message}",
                f"fix {path} to match the {obj.api_version} {obj.kind} schema",
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


def _flux_objects(ctx: Context) -> Iterator[Document]:
    """Every Flux object with duration fields, once: built ones, and the Flux
    Kustomizations in files no build covers."""
    seen: set[tuple[str, int, str]] = set()
    built_files: set[str] = set()
    for _ks, obj in ctx.built():
        built_files.add(obj.file)
    objects = [obj for _ks, obj in ctx.of_kind(*_FLUX_KINDS)]
    objects += [ks.doc for ks in ctx.model.kustomizations if ks.doc.file not in built_files]
    for obj in objects:
        if (obj.group, obj.kind) in DURATION_FIELDS and _key(obj) not in seen:
            seen.add(_key(obj))
            yield obj
