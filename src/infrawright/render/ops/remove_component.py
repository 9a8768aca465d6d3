"""remove-component: a component's folders, its Flux Kustomizations (and those of
``<component>-monitoring``) and every dependsOn on them. Refused while other components
use CRDs it provides.

Must hold afterwards: no Kustomization of the component remains, nothing depends on one,
no file of its folders remains; nothing else changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infrawright.errors import RefusedError
from infrawright.model.flux import FluxKustomization
from infrawright.plan.model import RemoveComponent
from infrawright.render.draft import SUFFIX, Draft, Rendered, is_object, removing
from infrawright.render.ops.base import Check, Operation, Settled, check
from infrawright.render.splice import delete_document


def render(draft: Draft, op: RemoveComponent) -> None:
    model = draft.model
    names = _names(op)
    doomed = {ks.key: ks for n in names for ks in draft.kustomizations_of(n)}
    for ks in model.kustomizations:
        if ks.name in names and model.is_local(ks):
            doomed.setdefault(ks.key, ks)
    folders = [f"{draft.comp_dir}/{n}" for n in names if (model.root / draft.comp_dir / n).is_dir()]
    if not doomed and not folders:
        draft.noop(f"component {op.component} is already gone")
        return
    labels = {model.label(ks) for ks in doomed.values()}
    still_used = sorted(
        f"{use.consumer} uses {use.kind} ({use.group}) from {use.obj.file}"
        for consumer, uses in draft.analysis.index.uses.items()
        if consumer not in labels
        for use in uses
        if set(use.providers) <= labels
    )
    if still_used:
        raise RefusedError(
            f"{op.component} cannot be removed: other components still use CRDs it "
            f"provides: {'; '.join(still_used)}",
            hint="remove or move those objects first, then remove the component",
        )
    for folder in folders:
        for path in sorted((model.root / folder).rglob("*")):
            if path.is_file() or path.is_symlink():
                draft.changes.files[model.rel(path)] = None
    _remove_kustomizations(draft, list(doomed.values()))
    _remove_depends_on(draft, doomed)


def _names(op: RemoveComponent) -> list[str]:
    return [op.component, f"{op.component}{SUFFIX}"]


def _remove_kustomizations(draft: Draft, doomed: list[FluxKustomization]) -> None:
    by_file: dict[str, list[FluxKustomization]] = {}
    for ks in doomed:
        by_file.setdefault(ks.doc.file, []).append(ks)
    for rel, items in sorted(by_file.items()):
        if rel in draft.changes.files and draft.changes.files[rel] is None:
            continue
        for ks in items:
            draft.edit_doc(rel, is_object("Kustomization", ks.name, ks.namespace), delete_document)
            if ks.doc.spec.get("prune") is False:
                draft.review(
                    rel,
                    f"{ks.name} had prune: false: its objects stay in the cluster until "
                    "deleted by hand",
                )
            draft.note(f"Flux Kustomization {draft.model.label(ks)} removed from {rel}")


def _remove_depends_on(draft: Draft, doomed: dict[str, FluxKustomization]) -> None:
    doomed_keys = {(ks.namespace, ks.name) for ks in doomed.values()}
    for other in draft.model.kustomizations:
        if other.key in doomed:
            continue
        hits = [d for d in other.depends_on if (d.namespace, d.name) in doomed_keys]
        if not hits:
            continue

        def gone(item: Any, ns: str = other.namespace) -> bool:
            return (
                isinstance(item, dict)
                and (str(item.get("namespace", ns)), str(item.get("name"))) in doomed_keys
            )

        draft.edit_doc(
            other.doc.file,
            is_object("Kustomization", other.name, other.namespace),
            removing(("spec", "dependsOn"), gone),
        )
        draft.out.touched.add(other.name)
        draft.note(
            f"{draft.model.label(other)} no longer depends on "
            f"{', '.join(sorted(d.name for d in hits))}"
        )


def holds(op: RemoveComponent, settled: Settled) -> Iterator[Check]:
    names = set(_names(op))
    model = settled.after.model
    left = sorted(ks.name for ks in model.kustomizations if ks.name in names)
    yield check(
        f"no Flux Kustomization of {op.component} remains",
        not left,
        f"still there: {', '.join(left)}",
    )
    users = sorted(
        model.label(ks) for ks in model.kustomizations for d in ks.depends_on if d.name in names
    )
    yield check(
        f"nothing depends on {op.component}",
        not users,
        f"still depended on by {', '.join(users)}",
    )
    releases = sorted(
        f"{label} ({r.doc.file})" for label, r in settled.releases() if r.name == op.component
    )
    yield check(
        f"no HelmRelease {op.component} is applied any more",
        not releases,
        f"still applied by {', '.join(releases)}",
    )
    prefixes = tuple(f"{model.config.components_dir.strip('/')}/{n}/" for n in names)
    files = sorted(rel for rel in model.files if rel.startswith(prefixes))
    yield check(
        f"no file of {op.component}'s folders remains",
        not files,
        f"still there: {', '.join(files[:3])}",
    )


def scope(op: RemoveComponent, rendered: Rendered) -> set[str]:
    return set(_names(op)) | rendered.touched


OPERATION = Operation(RemoveComponent, render, holds, scope)
