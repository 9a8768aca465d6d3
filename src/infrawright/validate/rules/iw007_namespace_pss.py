"""IW007: every Namespace carries Pod Security Standards labels.

Default severity: error. At least ``pod-security.kubernetes.io/enforce`` must be set,
to ``privileged``, ``baseline`` or ``restricted``.

Why: without the label the cluster default applies silently; an explicit level, with
the reason next to it, is reviewed when the component changes.

Bad::

    kind: Namespace
    metadata:
      name: redis

Good::

    kind: Namespace
    metadata:
      name: redis
      labels:
        pod-security.kubernetes.io/enforce: restricted
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW007", "Namespaces carry PSS labels", Severity.ERROR, house=True)
ENFORCE = "pod-security.kubernetes.io/enforce"
LEVELS = ("privileged", "baseline", "restricted")


def check(ctx: Context) -> Iterator[Finding]:
    seen: set[tuple[str, str]] = set()
    for _ks, obj in ctx.of_kind("Namespace"):
        if obj.group != "" or (obj.file, obj.name) in seen:
            continue
        seen.add((obj.file, obj.name))
        labels = obj.metadata.get("labels") or {}
        level = labels.get(ENFORCE) if isinstance(labels, dict) else None
        if level in LEVELS:
            continue
        what = "has no" if level is None else f"has an invalid ({level!r})"
        yield RULE.at(
            obj,
            f"Namespace {obj.name} {what} {ENFORCE} label",
            f"add labels {ENFORCE}: restricted (or baseline/privileged with the reason "
            "in a comment) and pod-security.kubernetes.io/enforce-version: latest",
        )
