"""IW009: dependsOn targets exist, names are unique, and there is no cycle.

Default severity: error.

Why: Flux waits forever for a Kustomization that does not exist, and a cycle means no
member ever becomes Ready. A name defined twice makes one definition silently win.

Bad::

    metadata: {name: redis}
    spec:
      dependsOn:
        - name: cert-manger     # typo: no such Kustomization

Good::

    spec:
      dependsOn:
        - name: cert-manager
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW009", "dependsOn targets exist; no cycles", Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    model = ctx.model
    keys = {ks.key for ks in model.kustomizations}
    names = sorted({ks.name for ks in model.kustomizations})
    seen: dict[str, str] = {}
    for ks in model.kustomizations:
        if ks.key in seen:
            yield RULE.at(
                ks.doc,
                f"Kustomization {ks.key} is defined twice (first in {seen[ks.key]})",
                "rename one of them or remove the duplicate",
            )
        else:
            seen[ks.key] = f"{ks.doc.file}:{ks.doc.line}"
        for index, dep in enumerate(ks.depends_on):
            if f"{dep.namespace}/{dep.name}" in keys:
                continue
            close = difflib.get_close_matches(dep.name, names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "remove it or add that Kustomization"
            yield RULE.at(
                ks.doc,
                f"{ks.name} depends on {dep.namespace}/{dep.name}, which does not exist",
                hint,
                line=ctx.line_of(ks.doc, ["spec", "dependsOn", index]),
            )
    for cycle in ctx.graph.cycles:
        first = model.by_label.get(cycle[0])
        loop = " -> ".join([*cycle, cycle[0]])
        yield RULE.at(
            first.doc if first else None,
            f"dependsOn cycle: {loop}",
            "remove one dependsOn of the cycle; nothing in it can become Ready",
        )
