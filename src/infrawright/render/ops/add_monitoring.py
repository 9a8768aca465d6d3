"""add-monitoring: a ServiceMonitor or PodMonitor and/or PrometheusRules for an
existing component, in ``<component>-monitoring`` (created when missing), on the metric
names the catalog records for its chart. The chart's own ServiceMonitor is switched off
where the monitor written here replaces it.

Must hold afterwards: something scrapes the component (a monitor in
``<component>-monitoring``, or the chart's own where the catalog says it monitors
itself), every alert asked for exists there, with the threshold asked for; nothing else
changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infrawright.catalog import CatalogEntry
from infrawright.errors import InfrawrightError
from infrawright.model.flux import dotted_get
from infrawright.plan.model import AddMonitoring, AlertChoice, SetValues
from infrawright.render.draft import (
    MONITORING_GROUP,
    SUFFIX,
    Draft,
    Rendered,
    appending,
    is_object,
    setting,
)
from infrawright.render.monitors import (
    monitoring_component,
    prometheus_rule,
    unknown_selector,
    write_monitor,
)
from infrawright.render.ops import set_values
from infrawright.render.ops.base import Check, Operation, Settled, check
from infrawright.repo.documents import Document


def render(draft: Draft, op: AddMonitoring, *, switch_off: bool = True) -> None:
    if not draft.exists(op.component):
        raise InfrawrightError(f"component {op.component} does not exist")
    if not draft.providers(MONITORING_GROUP):
        raise InfrawrightError(
            "no monitoring stack (prometheus-operator CRDs) is installed in this repository",
            hint='install one first, e.g. "install kube-prometheus-stack"',
        )
    releases = list(draft.objects_of(op.component, "HelmRelease"))
    entry = draft.release_of(op.component)[1] if releases else None
    namespace = draft.namespace_of(op.component)
    rules = alert_rules(op, entry)
    folder = f"{draft.comp_dir}/{op.component}{SUFFIX}"
    want_sm = op.service_monitor and entry is not None and entry.metrics is not None
    if want_sm and entry is not None and entry.metrics is not None:
        why = None
        if entry.metrics.chart_monitors == "keep":
            why = f"{op.component} monitors itself as its chart intends"
        elif not entry.metrics.selector:
            why = unknown_selector(entry)
        if why is not None and not rules:
            draft.noop(why)
            return
        if why is not None:
            draft.note(why)
            want_sm = False
    if op.service_monitor and not want_sm and not rules:
        raise InfrawrightError(
            f"{op.component}: its metrics endpoint is not known (no catalog entry with "
            "metrics for its chart)",
            hint="add a catalog entry with metrics in .infrawright.toml",
        )
    if entry is not None and want_sm and switch_off:
        _switch_off_chart_monitor(draft, op.component, entry)
    if not (draft.model.root / folder).is_dir():
        monitoring_component(
            draft, op.component, namespace, entry, service_monitor=want_sm, rules=rules
        )
        return
    existing = [d for d in draft.model.objects() if d.file.startswith(folder + "/")]
    has_sm = any(d.kind in ("ServiceMonitor", "PodMonitor") for d in existing)
    if want_sm and not has_sm and entry is not None:
        sm_file = write_monitor(draft, folder, op.component, namespace, entry)
        draft.list_in_kustomization(folder, sm_file)
    elif want_sm:
        draft.noop(f"{folder} already has a ServiceMonitor or PodMonitor")
    if rules:
        _add_rules(draft, folder, op, namespace, rules)


def alert_rules(op: AddMonitoring, entry: CatalogEntry | None) -> list[dict[str, Any]]:
    """The PrometheusRule rules of the alerts asked for, on the catalog's expressions."""
    if not op.alerts:
        return []
    known = {a.name: a for a in (entry.metrics.alerts if entry and entry.metrics else ())}
    rules: list[dict[str, Any]] = []
    for choice in op.alerts:
        alert = known.get(choice.name)
        if alert is None:
            raise InfrawrightError(f"{op.component}: the catalog has no alert {choice.name}")
        expr, summary = alert.rendered(choice.params)
        rules.append(
            {
                "alert": alert.name,
                "expr": expr,
                "for": alert.for_,
                "labels": {"severity": alert.severity},
                "annotations": {"summary": summary},
            }
        )
    return rules


def _add_rules(
    draft: Draft, folder: str, op: AddMonitoring, namespace: str, rules: list[dict[str, Any]]
) -> None:
    files = [d for d in draft.model.objects() if d.file.startswith(folder + "/")]
    current = [d for d in files if d.kind == "PrometheusRule"]
    present = {str(r.get("alert")) for r in _rules_in(current)}
    fresh = [r for r in rules if r["alert"] not in present]
    tuned = {c.name for c in _tuned(op.alerts)}
    for r in rules:
        if r["alert"] not in present:
            continue
        if r["alert"] in tuned and _retune(draft, current, r):
            continue
        draft.noop(f"alert {r['alert']} already exists in {folder}")
    if not fresh:
        return
    if current:
        target = current[0]
        for rule in fresh:
            draft.edit_doc(
                target.file,
                is_object("PrometheusRule", target.name),
                appending(("spec", "groups", 0, "rules"), rule),
            )
        draft.note(f"{len(fresh)} alert(s) added to {target.file}")
        return
    rule_file = draft.file_name("PrometheusRule", "prometheus-rules.yaml", op.component)
    draft.write(f"{folder}/{rule_file}", prometheus_rule(draft, op.component, namespace, fresh))
    draft.list_in_kustomization(folder, rule_file)


def _tuned(alerts: tuple[AlertChoice, ...]) -> list[AlertChoice]:
    return [c for c in alerts if c.params]


def _rules_in(docs: list[Document]) -> Iterator[dict[str, Any]]:
    for d in docs:
        for g in d.spec.get("groups") or []:
            if isinstance(g, dict):
                yield from (r for r in g.get("rules") or [] if isinstance(r, dict))


def _retune(draft: Draft, current: list[Document], rule: dict[str, Any]) -> bool:
    """Rewrite an existing alert's expr and summary for new parameters ("within 7
    days"); False when it already says that."""
    for doc in current:
        for g, group in enumerate(doc.spec.get("groups") or []):
            rules = group.get("rules") if isinstance(group, dict) else None
            for i, existing in enumerate(rules or []):
                if not isinstance(existing, dict) or existing.get("alert") != rule["alert"]:
                    continue
                if existing.get("expr") == rule["expr"]:
                    return False
                base: tuple[str | int, ...] = ("spec", "groups", g, "rules", i)
                note = (
                    f"REVIEW: {rule['alert']} rewritten for the requested threshold; "
                    f"was: {existing.get('expr')}"
                )
                match = is_object("PrometheusRule", doc.name)
                draft.edit_doc(doc.file, match, setting((*base, "expr"), rule["expr"], note))
                summary = rule["annotations"]["summary"]
                draft.edit_doc(doc.file, match, setting((*base, "annotations", "summary"), summary))
                draft.review(doc.file, note[8:])
                draft.note(f"{rule['alert']} in {doc.file} now fires at the requested threshold")
                return True
    return False


def _switch_off_chart_monitor(draft: Draft, component: str, entry: CatalogEntry) -> None:
    release, _ = draft.release_of(component)
    assert entry.metrics is not None
    if entry.metrics.chart_monitors == "keep":
        return
    for dotted in entry.metrics.servicemonitor_values:
        if dotted_get(release.values, dotted) is True:
            set_values.render(draft, SetValues(component=component, values={dotted: False}))
    for dotted, value in entry.metrics.service_values.items():
        if dotted_get(release.values, dotted) != value:
            set_values.render(draft, SetValues(component=component, values={dotted: value}))


def holds(op: AddMonitoring, settled: Settled) -> Iterator[Check]:
    label = f"{op.component}{SUFFIX}"
    monitors = [
        o
        for o in (*settled.objects(label, "ServiceMonitor"), *settled.objects(label, "PodMonitor"))
        if o.group == MONITORING_GROUP
    ]
    if op.service_monitor:
        itself = _monitors_itself(op.component, settled)
        yield check(
            f"{op.component} is scraped",
            bool(monitors) or itself,
            f"no ServiceMonitor or PodMonitor in {label}",
        )
    if not op.alerts:
        return
    entry = _entry(op.component, settled)
    wanted = {r["alert"]: r for r in alert_rules(op, entry)}
    present = {str(r.get("alert")): r for r in _rules_in(settled.objects(label, "PrometheusRule"))}
    for name, rule in sorted(wanted.items()):
        got = present.get(name)
        yield check(f"alert {name} exists in {label}", got is not None, f"no rule {name}")
        if got is not None and name in {c.name for c in _tuned(op.alerts)}:
            yield check(
                f"alert {name} fires at the threshold asked for",
                got.get("expr") == rule["expr"],
                f"its expression is {got.get('expr')!r}",
            )


def _entry(component: str, settled: Settled) -> CatalogEntry | None:
    for label, release in settled.releases():
        if label.rsplit("/", 1)[-1] == component:
            name = settled.catalog_name(release)
            return settled.after.model.catalog.get(name) if name else None
    return None


def _monitors_itself(component: str, settled: Settled) -> bool:
    entry = _entry(component, settled)
    return bool(entry and entry.metrics and entry.metrics.chart_monitors == "keep")


def scope(op: AddMonitoring, _rendered: Rendered) -> set[str]:
    return {op.component, f"{op.component}{SUFFIX}"}


OPERATION = Operation(AddMonitoring, render, holds, scope)
