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

A build whose objects had no finding is remembered (its cache key, with the schemas'
fingerprint and the code's version): the next run with the same build and the same
schemas skips its objects, so a warm run checks what changed.

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

from infrawright import cache
from infrawright.model.flux import DURATION_FIELDS
from infrawright.repo.documents import Document
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity
from infrawright.validate.formats import bad_durations, normalised

RULE = Rule("IW013", "objects match their schema (CRD or Kubernetes)", Severity.ERROR)
MAX_PER_OBJECT = 5
#: Builds remembered clean: past this many, the memory starts again empty.
MAX_REMEMBERED = 100_000

Key = tuple[str, int, str]


def check(ctx: Context) -> Iterator[Finding]:
    memo = _memo_key(ctx)
    clean = _recalled(memo)
    now_clean: set[str] = set()
    found: dict[Key, list[Finding]] = {}  # every object checked, once, by its source
    built_files: set[str] = set()
    for build in ctx.builds.values():
        for obj in build.objects:
            built_files.add(obj.file)
        if build.key is not None and build.key in clean:
            now_clean.add(build.key)
            continue
        bad = False
        for obj in build.objects:
            key = _key(obj)
            known = found.get(key)
            if known is None:
                known = found[key] = _object_findings(ctx, obj)
            bad = bad or bool(known)
        if not bad and build.key is not None and build.error is None:
            now_clean.add(build.key)
    # Flux Kustomizations in files no build covers (e.g. the bootstrap is not local).
    for ks in ctx.model.kustomizations:
        if ks.doc.file not in built_files and _key(ks.doc) not in found:
            found[_key(ks.doc)] = _object_findings(ctx, ks.doc)
    if memo is not None and now_clean != clean:
        cache.store("rule-memo", memo, sorted(now_clean))
    for findings in found.values():
        yield from findings


def _memo_key(ctx: Context) -> str | None:
    if not cache.enabled():
        return None
    return cache.quick_key("IW013 clean builds", 1, cache.code_version(), ctx.schemas.fingerprint())


def _recalled(memo: str | None) -> set[str]:
    stored = cache.load("rule-memo", memo) if memo is not None else None
    if isinstance(stored, list) and len(stored) <= MAX_REMEMBERED:
        return {k for k in stored if isinstance(k, str)}
    return set()


def _object_findings(ctx: Context, obj: Document) -> list[Finding]:
    """The durations that are not durations, then the schema's errors on other paths."""
    out = []
    done: set[str] = set()
    if (obj.group, obj.kind) in DURATION_FIELDS:
        for bad in bad_durations(obj):
            done.add(bad.path)
            out.append(
                RULE.at(
                    obj,
                    f"{obj.kind} {obj.name}: {bad.message()}",
                    f"write {bad.path} as a number with a unit, e.g. `interval: 10m`",
                    line=ctx.line_of(obj, list(bad.keys)),
                    fix="duration" if normalised(bad.value, bad.units) else "",
                )
            )
    schemas = ctx.schemas
    if schemas.empty() or not schemas.has_kind(obj.api_version, obj.kind):
        return out  # no schema: nothing more to check
    errors = [(p, m) for p, m in schemas.errors(obj) if p not in done]
    if not errors:
        return out
    source = schemas.source(obj.api_version, obj.kind)
    where = f" ({source.describe()})" if source and source.source != "crd-file" else ""
    for path, message in errors[:MAX_PER_OBJECT]:
        keys: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
        out.append(
            RULE.at(
                obj,
                f"{obj.kind} {obj.name}: {path}: {message}",
                f"fix {path} to match the {obj.api_version} {obj.kind} schema{where}",
                line=ctx.line_of(obj, keys) if path != "(root)" else None,
            )
        )
    if len(errors) > MAX_PER_OBJECT:
        out.append(
            RULE.at(
                obj,
                f"{obj.kind} {obj.name}: {len(errors) - MAX_PER_OBJECT} more schema errors",
                "fix the ones above first",
            )
        )
    return out


def _key(obj: Document) -> Key:
    return (obj.file, obj.line, obj.resource)
