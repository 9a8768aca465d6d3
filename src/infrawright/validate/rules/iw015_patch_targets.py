"""IW015: every patch target selects a resource.

Default severity: warning. A ``patches:`` entry with a ``target:`` in a
kustomization.yaml, or in a Flux Kustomization's ``spec.patches``, that selects no
resource of what it patches: for kustomize, the resources that kustomization gathers
(by their names before its own ``namePrefix``); for Flux, the objects of the build.
Labels and annotations in a target, and what cannot be read, count as matching.

Why: kustomize and Flux skip such a patch without a word, so the change it was written
for (an overlay's values, a replica count, a pinned version) never reaches the cluster.
A strategic-merge patch without a target that names no resource fails the build
instead: IW000 reports it at the patch's line.

Bad::

    # apps/staging/kustomization.yaml
    resources: [../base/podinfo]
    patches:
      - path: podinfo-values.yaml
        target: {kind: HelmRelease, name: podinf0}

Good::

    patches:
      - path: podinfo-values.yaml
        target: {kind: HelmRelease, name: podinfo}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from infrawright.repo.documents import Document
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity
from infrawright.validate.patches import (
    any_selected,
    included_files,
    kustomization_files,
    patch_entries,
)

RULE = Rule("IW015", "patch targets select a resource", Severity.WARNING)


def check(ctx: Context) -> Iterator[Finding]:
    told: set[tuple[str, int]] = set()
    patched = _patched_kustomizations(ctx)
    for build in ctx.builds.values():
        if build.error is not None or build.skipped is not None or build.folder is None:
            continue
        objects = build.objects
        sources: dict[int, Document | None] = {}
        ks = build.kustomization
        for i, target in patch_entries(ks.doc.spec):
            _sources(ctx, objects, sources)
            if not any_selected(target, objects, sources):
                keys: list[str | int] = ["spec", "patches", i, "target"]
                yield RULE.at(
                    ks.doc,
                    f"Kustomization {ks.name}: spec.patches[{i}] targets {target.describe()}, "
                    f"which no object of its build ({build.folder}) is",
                    "fix the target's kind and name to match an object of the build, or "
                    "remove the patch",
                    line=ctx.line_of(ks.doc, keys),
                )
        if not patched:
            continue
        for rel in kustomization_files(ctx.model, build.folder, build.generated):
            if rel not in patched:
                continue
            doc = ctx.model.files[rel].documents[0]
            entries = [
                (key, i, t)
                for key in ("patches", "patchesJson6902")
                for i, t in patch_entries(doc.data, key)
            ]
            if not entries:
                continue
            scope = included_files(ctx.model, rel)
            mine = [o for o in objects if o.file in scope]
            _sources(ctx, mine, sources)
            for key, i, target in entries:
                if (rel, i) in told or any_selected(target, mine, sources):
                    continue
                told.add((rel, i))
                yield RULE.at(
                    doc,
                    f"{key}[{i}] targets {target.describe()}, which no resource of this "
                    "kustomization is",
                    "fix the target's kind and name to match a resource this kustomization "
                    "lists (before its namePrefix), or remove the patch",
                    file=rel,
                    line=ctx.line_of(doc, [key, i, "target"]),
                    resource=ks.doc.resource,
                )


def _patched_kustomizations(ctx: Context) -> frozenset[str]:
    """The kustomization files with a targeted patch: most repositories have none, and
    then no build's kustomization files need walking."""
    out = set()
    for rel in ctx.model.kustomization_files:
        parsed = ctx.model.files.get(rel)
        if parsed is None or not parsed.documents:
            continue
        data = parsed.documents[0].data
        if any(True for key in ("patches", "patchesJson6902") for _ in patch_entries(data, key)):
            out.add(rel)
    return frozenset(out)


def _sources(ctx: Context, objects: Iterable[Document], into: dict[int, Document | None]) -> None:
    """The repository documents of built objects, by the object's id (once each)."""
    for obj in objects:
        if id(obj) not in into:
            into[id(obj)] = ctx.source_of(obj)
