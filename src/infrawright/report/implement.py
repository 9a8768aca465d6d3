"""The implement report, as text for people (like the reference output) and JSON."""

from __future__ import annotations

from infrawright.change.implement import Outcome
from infrawright.report.console import Printer, escape


def print_outcome(outcome: Outcome, console: Printer) -> None:
    title = {
        "applied": "Infrastructure Implementation Complete",
        "dry-run": "Infrastructure Implementation (dry run: nothing written)",
        "no-op": "Nothing to do",
        "failed": "Infrastructure Implementation Failed (nothing written)",
    }[outcome.status]
    if outcome.left and outcome.status == "applied":
        title = f"Infrastructure Implementation Partial ({len(outcome.left)} left for you)"
    elif outcome.hand_written and outcome.status in ("applied", "dry-run"):
        # Without a Plan nothing states what the request meant: never "Complete".
        done = "applied" if outcome.status == "applied" else "validated (dry run: nothing written)"
        title = f"Hand-written change {done}; the request itself was not checked"
    console.print(f"## {title}\n", highlight=False)
    console.print(f"Request: {escape(outcome.request)}\n", highlight=False)
    for note in outcome.plan.notes if outcome.plan else ():
        console.print(f"- {escape(note)}", highlight=False)
    if outcome.noop:
        for line in outcome.noop:
            console.print(f"- {escape(line)}", highlight=False)
        console.print()
    for heading, files in (
        ("Files Created", outcome.created),
        ("Files Modified", outcome.modified),
        ("Files Deleted", outcome.deleted),
    ):
        if files:
            console.print(f"### {heading}", highlight=False)
            for f in files:
                console.print(f"- `{escape(f)}`", highlight=False)
            console.print()
    if outcome.added:
        console.print("### Bootstrap Layer Placement", highlight=False)
        deps = outcome.depends
        per_cluster = outcome.cluster_layers or {"": outcome.layers}
        for cluster, layers in per_cluster.items():
            for name in outcome.added:
                if cluster and name not in layers:
                    continue
                layer = layers.get(name)
                where = f"Layer {layer}" if layer is not None else "no layer (cycle)"
                extra = f" (depends on: {', '.join(deps[name])})" if deps.get(name) else ""
                head = f"cluster {cluster}: " if cluster else ""
                console.print(f"- {head}`{escape(name)}` → {where}{extra}", highlight=False)
        console.print()
    if outcome.changes.reviews:
        console.print("### Assumptions Made (REVIEW)", highlight=False)
        for r in outcome.changes.reviews:
            where = f"{r.file}:{r.line}" if r.line else r.file
            console.print(f"- {escape(where)}: {escape(r.note)}", highlight=False)
        console.print()
    if outcome.changes.messages:
        console.print("### Notes", highlight=False)
        for m in outcome.changes.messages:
            console.print(f"- {escape(m)}", highlight=False)
        console.print()
    console.print("### Cluster Recreate Required?", highlight=False)
    if outcome.recreate_reasons:
        console.print(f"- YES: {escape('; '.join(outcome.recreate_reasons))}", highlight=False)
        console.print(f"- Run: {escape(outcome.recreate_command)}", highlight=False)
    else:
        console.print(
            "- NO: new leaf Kustomizations only; existing bootstrap order is unchanged"
            if outcome.added
            else "- NO: nothing structural changed",
            highlight=False,
        )
    console.print()
    console.print("### Validation Results", highlight=False)
    if outcome.status == "no-op":
        console.print("- not needed: no change", highlight=False)
    elif outcome.status == "failed" and not outcome.new_findings:
        reason = outcome.error or "no validated change"
        console.print(f"- ❌ FAIL: {escape(reason)}", highlight=False)
    elif outcome.passed:
        console.print(
            "- Kustomize build: ✅ PASS (every Kustomization of the changed tree)", highlight=False
        )
        console.print("- Repository rules and CRD schemas: ✅ PASS (no new findings)")
    else:
        console.print("- ❌ FAIL: the change would add these findings:", highlight=False)
        for finding in outcome.new_findings:
            console.print(
                f"  - {escape(finding.location())}: {finding.rule}: {escape(finding.message)}",
                highlight=False,
            )
    if outcome.fixed:
        console.print(f"- Fixed {len(outcome.fixed)} finding(s):", highlight=False)
        for finding in outcome.fixed:
            console.print(
                f"  - {escape(finding.location())}: {finding.rule}: {escape(finding.message)}",
                highlight=False,
            )
    left = len(outcome.findings) - len(outcome.fixed)
    if left > 0:
        console.print(
            f"- {left} finding(s) already in the repository (not blocking; "
            "see `infrawright validate`)",
            highlight=False,
        )
    _print_checks(outcome, console)
    if outcome.diff:
        console.print()
        console.print(outcome.diff, highlight=False, markup=False)


def _print_checks(outcome: Outcome, console: Printer) -> None:
    """What the request asked for, checked on the changed tree: ✅ holds, ❌ does not
    (nothing written), ⚠️ left for a person (the change is partial). A hand-written
    change says what was checked instead of the request."""
    if outcome.hand_written and outcome.status in ("applied", "dry-run"):
        console.print()
        console.print("### What was checked (a hand-written change has no plan)", highlight=False)
        console.print(
            "- ⚠️ not checked: that these files do what the request asked; review the diff",
            highlight=False,
        )
        console.print(
            "- ✅ it builds and adds no finding of the repository's rules", highlight=False
        )
    if not outcome.checks:
        return
    console.print()
    console.print("### Post-conditions (checked on the changed tree)", highlight=False)
    for c in outcome.checks:
        mark = "✅" if c.holds else ("⚠️ left:" if c.left else "❌")
        why = f" — {c.why}" if c.why else ""
        console.print(f"- {mark} {escape(c.statement)}{escape(why)}", highlight=False)
