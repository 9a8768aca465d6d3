"""IW006: no HelmRelease workarounds (force, cleanupOnFail, uninstall remediation,
remediateLastFailure), also not through a Flux Kustomization's ``patches``.

Default severity: error.

Why: these settings hide a broken install behind deletes and reinstalls: ``force``
recreates every resource, ``cleanupOnFail`` and the ``uninstall`` strategy can delete
data on a passing failure, and ``remediateLastFailure`` can loop. Fix the ordering.

Bad::

    spec:
      upgrade:
        force: true
        remediation:
          strategy: uninstall

Good::

    spec:
      upgrade:
        remediation:
          retries: 3
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW006", "no HelmRelease workarounds", Severity.ERROR)
HINT = "remove it and fix the cause (dependency order, values); see `infrawright explain IW006`"


def banned_in_spec(spec: Any, prefix: str = "spec") -> list[tuple[str, str]]:
    """(path, setting) for each banned setting in a HelmRelease spec."""
    out: list[tuple[str, str]] = []
    if not isinstance(spec, dict):
        return out
    for action in ("install", "upgrade", "rollback", "uninstall"):
        block = spec.get(action)
        if not isinstance(block, dict):
            continue
        base = f"{prefix}.{action}"
        if block.get("force") is True:
            out.append((f"{base}.force", "force: true"))
        if block.get("cleanupOnFail") is True:
            out.append((f"{base}.cleanupOnFail", "cleanupOnFail: true"))
        remediation = block.get("remediation")
        if isinstance(remediation, dict):
            if remediation.get("strategy") == "uninstall":
                out.append((f"{base}.remediation.strategy", "remediation strategy uninstall"))
            if remediation.get("remediateLastFailure") is True:
                out.append(
                    (f"{base}.remediation.remediateLastFailure", "remediateLastFailure: true")
                )
    return out


def _json_pointer_hits(op: dict[str, Any]) -> list[tuple[str, str]]:
    path = str(op.get("path", ""))
    value = op.get("value")
    if op.get("op") not in ("add", "replace"):
        return []
    parts = [p for p in path.split("/") if p]
    if parts[:1] != ["spec"]:
        return []
    # Rebuild the nested value the op writes, then check it like a spec.
    nested: Any = value
    for part in reversed(parts[1:]):
        nested = {part: nested}
    return banned_in_spec(nested if len(parts) > 1 else value)


def banned_in_patch(patch: dict[str, Any], depth: int = 0) -> list[tuple[str, str]]:
    """Banned settings a Flux ``spec.patches`` item would write into a HelmRelease,
    following Kustomization patches that carry further patches (as home-ops does)."""
    if depth > 4:
        return []
    text = patch.get("patch")
    target = patch.get("target") if isinstance(patch.get("target"), dict) else {}
    if not isinstance(text, str):
        return []
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError:
        return []
    out: list[tuple[str, str]] = []
    for doc in docs:
        if isinstance(doc, list):  # JSON6902 operations
            for op in doc:
                if isinstance(op, dict):
                    out += _json_pointer_hits(op)
            continue
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind") or (target or {}).get("kind")
        spec = doc.get("spec")
        if kind == "Kustomization" and isinstance(spec, dict):
            for inner in spec.get("patches") or []:
                if isinstance(inner, dict):
                    out += [(f"nested patch: {p}", s) for p, s in banned_in_patch(inner, depth + 1)]
        elif kind in (None, "HelmRelease"):
            out += banned_in_spec(spec)
    return out


def check(ctx: Context) -> Iterator[Finding]:
    for _ks, release in ctx.helm_releases():
        # Settings a Flux patch puts in are reported at the patch (below), not here.
        written = ctx.source_of(release.doc) or release.doc
        for path, setting in banned_in_spec(written.spec):
            yield RULE.at(
                release.doc,
                f"HelmRelease {release.name} sets {setting} at {path}",
                HINT,
                line=ctx.line_of(release.doc, path.split(".")),
                fix="remove-workaround",
            )
    for ks in ctx.model.kustomizations:
        for index, patch in enumerate(ks.patches):
            for path, setting in banned_in_patch(patch):
                yield RULE.at(
                    ks.doc,
                    f"Flux Kustomization {ks.name} patches HelmReleases with {setting} ({path})",
                    HINT,
                    line=ctx.line_of(ks.doc, ["spec", "patches", index]),
                )
