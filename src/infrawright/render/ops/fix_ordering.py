"""fix-ordering: repair the bootstrap order — IW003 (a CRD consumer without dependsOn on
its provider), IW004 (monitoring objects outside ``<component>-monitoring``, or such a
Kustomization not after the stack and its component) and IW005 (a chart's own
ServiceMonitor switched on) — for one component or all.

A component's scope is every finding that concerns it or its ``-monitoring`` part; for
the monitoring stack that is every monitoring finding ("fix the monitoring
dependencies").

Must hold afterwards: no finding of those rules that has a mechanical fix remains in
scope. Findings that need a person (a Kustomization that applies its own CRD provider)
are listed as left: the change is partial, never "complete".
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator

from infrawright.errors import InfrawrightError
from infrawright.model.flux import KUSTOMIZE_GROUP, FluxKustomization, HelmRelease, dotted_get
from infrawright.plan.model import AddMonitoring, FixOrdering
from infrawright.render.draft import (
    MONITOR_KINDS,
    MONITORING_GROUP,
    SUFFIX,
    Draft,
    Rendered,
    is_object,
    setting,
)
from infrawright.render.emit import Style, dump
from infrawright.render.ops import add_monitoring
from infrawright.render.ops.base import Check, Operation, Settled, check
from infrawright.render.shapes import flux_kustomization, kustomization_file
from infrawright.render.splice import delete_document, find_document
from infrawright.repo.documents import Document
from infrawright.validate.context import helm_repository_urls
from infrawright.validate.finding import Finding

RULES = ("IW003", "IW004", "IW005")
#: The mechanical fixes this operation makes (see ``Finding.fix``).
FIXES = frozenset({"depends-on", "move-monitors", "chart-monitor-off"})


Place = tuple[str, int | None, str, str]


def _place(doc: Document) -> Place:
    return (doc.file, doc.line, doc.kind, doc.name)


def in_scope(scope: str | None, concerns: Iterable[str]) -> bool:
    """Does a finding about ``concerns`` (Kustomization labels) belong to ``scope``?"""
    if scope is None:
        return True
    names = {c.rsplit("/", 1)[-1] for c in concerns}
    return scope in names or f"{scope}{SUFFIX}" in names


def render(draft: Draft, op: FixOrdering) -> None:
    before = len(draft.changes.messages)
    moving = _fix_monitoring_split(draft, op.component)
    _fix_crd_dependencies(draft, op.component, moving)
    _fix_chart_monitors(draft, op.component)
    if len(draft.changes.messages) == before:
        where = op.component or "the repository"
        draft.noop(f"no ordering problem (IW003/IW004/IW005) found in {where}")


def _fix_crd_dependencies(draft: Draft, scope: str | None, moving: set[Place]) -> None:
    """dependsOn on the CRD provider of every custom object, except the monitoring
    objects that move out (their new Kustomization depends on the stack)."""
    model = draft.model
    for consumer, uses in sorted(draft.analysis.index.uses.items()):
        ks = model.by_label.get(consumer)
        if ks is None:
            continue
        direct = {model.label_of(d) for d in ks.depends_on}
        children = _children(draft, consumer)
        added: set[str] = set()
        for use in uses:
            if direct & set(use.providers) or added & set(use.providers):
                continue
            if _place(use.obj) in moving:
                continue
            if not in_scope(scope, (consumer, *use.providers)):
                continue
            candidates = [p for p in use.providers if p not in children and p != consumer]
            if not candidates:
                draft.note(
                    f"{consumer} applies {use.kind} from {use.obj.file} as well as its "
                    "provider; move that file into its own Kustomization (not done "
                    "automatically)"
                )
                continue
            provider = candidates[0]
            draft.add_depends_on(ks, model.by_label[provider], f"{use.kind} ({use.group}) CRD")
            added.add(provider)


def _children(draft: Draft, label: str) -> set[str]:
    build = draft.analysis.builds.get(label)
    if build is None:
        return set()
    return {
        draft.model.labels[key]
        for obj in build.objects
        if obj.kind == "Kustomization" and obj.group == KUSTOMIZE_GROUP
        for key in [(obj.namespace or build.kustomization.namespace, obj.name)]
        if key in draft.model.labels
    }


def _fix_monitoring_split(draft: Draft, scope: str | None) -> set[Place]:
    """Monitoring objects into ``<component>-monitoring``; the objects moved."""
    moved: set[Place] = set()
    stacks = draft.providers(MONITORING_GROUP)
    for label, build in sorted(draft.analysis.builds.items()):
        ks = build.kustomization
        monitors = [
            o for o in build.objects if o.group == MONITORING_GROUP and o.kind in MONITOR_KINDS
        ]
        if not monitors or not in_scope(scope, (label, *stacks)):
            continue
        if ks.name.endswith(SUFFIX):
            _monitoring_deps(draft, ks, stacks)
            continue
        if label in stacks:
            continue  # the stack's own rules and monitors stay with it
        _move_monitors(draft, ks, monitors)
        moved.update(_place(o) for o in monitors)
    return moved


def _monitoring_deps(draft: Draft, ks: FluxKustomization, stacks: list[str]) -> None:
    model = draft.model
    deps = {model.label_of(d) for d in ks.depends_on}
    parent = model.by_label.get(ks.name[: -len(SUFFIX)])
    if stacks and not deps & set(stacks):
        draft.add_depends_on(ks, model.by_label[stacks[0]], "monitoring stack CRDs")
    if parent is not None and model.label(parent) not in deps:
        draft.add_depends_on(ks, parent, "namespace and endpoints it watches")


def _move_monitors(draft: Draft, ks: FluxKustomization, monitors: list[Document]) -> None:
    component = ks.name
    target = f"{draft.comp_dir}/{component}{SUFFIX}"
    by_file: dict[str, list[Document]] = {}
    for obj in monitors:
        if obj.file:
            by_file.setdefault(obj.file, []).append(obj)
    moved: list[str] = []
    for rel, objs in sorted(by_file.items()):
        text = draft.text(rel)
        source = draft.model.files[rel]
        name = posixpath.basename(rel)
        if len(objs) >= len(source.objects):
            draft.changes.files[rel] = None
            draft.unlist_in_kustomization(posixpath.dirname(rel), name)
            draft.put(f"{target}/{name}", text)
        else:
            kept = text
            pieces: list[str] = []
            for obj in objs:
                src = next((d for d in source.objects if d.line == obj.line), None)
                if src is None:
                    continue
                pieces.append(dump(src.data, Style(indent_sequences=draft.style.indent_sequences)))
                index = _find(kept, src)
                if index is not None:
                    kept = delete_document(kept, index)
            draft.put(rel, kept)
            draft.put(f"{target}/{name}", "---\n".join(pieces))
        moved.append(name)
        draft.note(
            f"moved {', '.join(o.kind + '/' + o.name for o in objs)} from {rel} to {target}/"
        )
    if not moved:
        return
    draft.out.touched.add(component)
    if (draft.model.root / target).is_dir():
        for name in moved:
            draft.list_in_kustomization(target, name)
        draft.out.touched.add(f"{component}{SUFFIX}")
        return
    kustomization_file(draft, f"{target}/kustomization.yaml", sorted(moved))
    stacks = draft.providers(MONITORING_GROUP)
    deps = [(stacks[0], "ServiceMonitor CRD")] if stacks else []
    deps.append((component, "namespace and endpoints"))
    cni = draft.cni()
    if cni and draft.conv.depend_on_cni.value and cni not in {d for d, _ in deps}:
        deps.append((cni, "after the CNI, as every component here"))
    flux_kustomization(
        draft,
        f"{component}{SUFFIX}",
        deps,
        ("monitoring objects moved out of " + component,),
        monitoring=True,
    )


def _find(text: str, doc: Document) -> int | None:
    return find_document(text, is_object(doc.kind, doc.name))


def _replace_chart_monitor(draft: Draft, component: str) -> None:
    """Write the ServiceMonitor the chart no longer makes, unless one exists."""
    folder = f"{draft.comp_dir}/{component}{SUFFIX}/"
    if (
        any(
            d.kind in ("ServiceMonitor", "PodMonitor") and d.file.startswith(folder)
            for d in draft.model.objects()
        )
        or f"{folder}kustomization.yaml" in draft.changes.files
    ):
        return
    try:
        add_monitoring.render(draft, AddMonitoring(component=component), switch_off=False)
    except InfrawrightError as exc:
        draft.note(f"{component}: no ServiceMonitor written ({exc.message})")


def _fix_chart_monitors(draft: Draft, scope: str | None) -> None:
    model = draft.model
    urls = helm_repository_urls(model)
    stacks = draft.providers(MONITORING_GROUP)
    for label, build in sorted(draft.analysis.builds.items()):
        if not in_scope(scope, (label, *stacks)):
            continue
        for obj in build.objects:
            if obj.kind != "HelmRelease" or obj.file not in model.files:
                continue
            source = next((d for d in model.files[obj.file].objects if d.line == obj.line), None)
            if source is None:
                continue
            release = HelmRelease.parse_doc(source)
            url = urls.get(release.source.name) if release.source else None
            entry = model.catalog.for_chart(release.chart, url)
            if entry is None or entry.metrics is None or entry.metrics.chart_monitors == "keep":
                continue
            for dotted in entry.metrics.servicemonitor_values:
                if dotted_get(release.values, dotted) is not True:
                    continue
                keys = ("spec", "values", *dotted.split("."))
                draft.edit_doc(
                    source.file, is_object("HelmRelease", release.name), setting(keys, False)
                )
                draft.out.touched.add(label.rsplit("/", 1)[-1])
                draft.note(
                    f"{release.name}: {dotted} switched off; its ServiceMonitor belongs in "
                    f"{label}{SUFFIX}"
                )
                _replace_chart_monitor(draft, label)


def _remaining(op: FixOrdering, findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule in RULES and in_scope(op.component, f.concerns)]


def holds(op: FixOrdering, settled: Settled) -> Iterator[Check]:
    where = op.component or "the repository"
    what = f"no ordering finding (IW003/IW004/IW005) with a mechanical fix remains in {where}"
    return repaired(what, _remaining(op, settled.findings_after), FIXES)


def repaired(statement: str, remaining: list[Finding], fixes: frozenset[str]) -> Iterator[Check]:
    """A repair's post-conditions: no finding of ``remaining`` that one of ``fixes``
    removes (``statement``), and each of the others left for a person."""
    fixable = [f for f in remaining if f.fix in fixes]
    yield check(
        statement,
        not fixable,
        "; ".join(f"{f.location()}: {f.rule}: {f.message}" for f in fixable[:3]),
    )
    for f in remaining:
        if f.fix not in fixes:
            yield Check(f"{f.rule} at {f.location()} fixed", False, f.message, left=True)


def scope(op: FixOrdering, rendered: Rendered) -> set[str]:
    declared = {op.component, f"{op.component}{SUFFIX}"} if op.component else set()
    return declared | rendered.touched | set(rendered.added)


OPERATION = Operation(FixOrdering, render, holds, scope)
