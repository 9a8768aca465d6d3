"""Validation and graph output in every format. Machine formats are stable:
keys are documented in docs/output.md and pinned by snapshot tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import infrawright
from infrawright.model.graph import Graph
from infrawright.model.repo import RepoModel
from infrawright.validate.engine import ValidationResult
from infrawright.validate.finding import Finding, Severity
from infrawright.validate.rules import RULES

JSON_SCHEMA_VERSION = 1


def validation_json(result: ValidationResult) -> dict[str, Any]:
    analysis = result.analysis
    builds = analysis.builds.values()
    found = analysis.model.cluster_entry
    return {
        "version": JSON_SCHEMA_VERSION,
        "profile": {
            "name": analysis.model.profile.name,
            "reason": analysis.model.profile.reason,
            "house_rules": sorted(analysis.model.profile.house_rules),
        },
        **({"cluster": found.to_dict()} if found is not None else {}),
        **_not_followed(analysis.model),
        "findings": [f.to_dict() for f in result.findings],
        "unchecked_kinds": list(result.unchecked_kinds),
        "cel": {"evaluated": result.cel_evaluated, "not_evaluated": dict(result.cel_skipped)},
        "schemas": {
            kind: {"source": source.source, "location": source.location}
            for kind, source in result.schema_sources
        },
        "summary": {
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "kustomizations": len(analysis.model.kustomizations),
            "built": sum(1 for b in builds if b.error is None and b.skipped is None),
            "schema_checked_objects": result.schema_checked,
        },
        "not_built": [
            {"kustomization": b.kustomization.name, "reason": b.skipped}
            for b in builds
            if b.skipped
        ],
        "kustomize": {
            "version": analysis.kustomize.version,
            "source": analysis.kustomize.source,
        },
    }


def _not_followed(model: RepoModel) -> dict[str, Any]:
    """``entry_points_not_followed``: entry points that make no cluster, with why (the
    key only when there are some)."""
    if not model.entries.elsewhere:
        return {}
    return {"entry_points_not_followed": [e.to_dict() for e in model.entries.elsewhere]}


#: Validation results, one per cluster (None: the repository's only cluster).
PerCluster = Sequence[tuple[str | None, ValidationResult]]


def validations_json(results: PerCluster) -> dict[str, Any]:
    """One cluster: :func:`validation_json`. Several: the same keys over all of them
    (each finding and unbuilt Kustomization names its ``cluster``), plus ``clusters``."""
    if len(results) == 1:
        return validation_json(results[0][1])
    parts = [(name, validation_json(result)) for name, result in results]
    first = parts[0][1]
    summary = {key: sum(data["summary"][key] for _n, data in parts) for key in first["summary"]}
    model = results[0][1].analysis.model
    return {
        "version": JSON_SCHEMA_VERSION,
        "profile": first["profile"],
        "clusters": [name for name, _data in parts],
        "cluster_entries": [data["cluster"] for _n, data in parts if "cluster" in data],
        **_not_followed(model),
        "findings": [{**f, "cluster": name} for name, data in parts for f in data["findings"]],
        "unchecked_kinds": sorted({k for _n, data in parts for k in data["unchecked_kinds"]}),
        "cel": _cel_sum([data["cel"] for _n, data in parts]),
        "schemas": {k: v for _n, data in parts for k, v in data["schemas"].items()},
        "summary": summary,
        "not_built": [{**b, "cluster": name} for name, data in parts for b in data["not_built"]],
        "kustomize": first["kustomize"],
    }


def _cel_sum(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    skipped: dict[str, int] = {}
    for part in parts:
        for reason, count in part["not_evaluated"].items():
            skipped[reason] = skipped.get(reason, 0) + count
    return {
        "evaluated": sum(part["evaluated"] for part in parts),
        "not_evaluated": dict(sorted(skipped.items())),
    }


def graph_json(graph: Graph) -> dict[str, Any]:
    return {
        "layers": dict(graph.layers),
        "edges": [{"from": e.source, "to": e.target, "crd": e.crd} for e in graph.edges],
        "cycles": [list(c) for c in graph.cycles],
    }


def graph_text(graph: Graph) -> str:
    lines: list[str] = []
    for layer, names in graph.by_layer():
        parts = []
        for name in names:
            deps = graph.depends_on(name)
            crd = {e.target for e in graph.edges if e.source == name and e.crd}
            if deps:
                marked = ", ".join(f"{d}*" if d in crd else d for d in deps)
                parts.append(f"{name} (-> {marked})")
            else:
                parts.append(name)
        lines.append(f"Layer {layer}: {', '.join(parts)}")
    for cycle in graph.cycles:
        lines.append(f"Cycle (no layer): {' -> '.join([*cycle, cycle[0]])}")
    if any(e.crd for e in graph.edges):
        lines.append("(* = dependency needed because of a CRD)")
    return "\n".join(lines)


def _ident(name: str) -> str:
    return "n_" + "".join(c if c.isalnum() else "_" for c in name)


def graph_mermaid(graph: Graph) -> str:
    lines = ["flowchart BT"]
    for name, layer in graph.layers.items():
        label = f"{name}<br/>layer {layer}" if layer is not None else f"{name}<br/>in a cycle"
        lines.append(f'  {_ident(name)}["{label}"]')
    for e in graph.edges:
        arrow = "-- CRD -->" if e.crd else "-->"
        lines.append(f"  {_ident(e.source)} {arrow} {_ident(e.target)}")
    return "\n".join(lines)


def graph_dot(graph: Graph) -> str:
    lines = ["digraph dependsOn {", "  rankdir=BT;"]
    for name, layer in graph.layers.items():
        lines.append(f'  "{name}" [label="{name}\\nlayer {layer}"];')
    for e in graph.edges:
        style = ' [style=bold, label="CRD"]' if e.crd else ""
        lines.append(f'  "{e.source}" -> "{e.target}"{style};')
    lines.append("}")
    return "\n".join(lines)


def sarifs(results: PerCluster) -> dict[str, Any]:
    """SARIF 2.1.0: one run per cluster, each named by ``automationDetails``."""
    if len(results) == 1:
        return sarif(results[0][1])
    runs = []
    for name, result in results:
        [run] = sarif(result)["runs"]
        runs.append({**run, "automationDetails": {"id": f"infrawright/{name}/"}})
    return {**sarif(results[0][1]), "runs": runs}


def sarif(result: ValidationResult) -> dict[str, Any]:
    """SARIF 2.1.0, one run, one rule per IW rule."""
    rules = [
        {
            "id": rule_id,
            "name": rule.title,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": doc.splitlines()[0] if doc else rule.title},
            "defaultConfiguration": {"level": str(rule.severity)},
            "help": {"text": doc},
        }
        for rule_id, (rule, _check, doc) in RULES.items()
    ]
    results = []
    for f in result.findings:
        region = {"startLine": f.line} if f.line else {}
        location: dict[str, Any] = {"artifactLocation": {"uri": f.file or "."}}
        if region:
            location["region"] = region
        results.append(
            {
                "ruleId": f.rule,
                "level": "error" if f.severity is Severity.ERROR else "warning",
                "message": {"text": f"{f.message} (hint: {f.hint})"},
                "locations": [{"physicalLocation": location}],
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "infrawright",
                        "version": infrawright.__version__,
                        "informationUri": "https://github.com/infrawright/infrawright",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github(result: ValidationResult, cluster: str | None = None) -> str:
    """GitHub Actions workflow commands: one annotation per finding (its title names the
    cluster when there are several)."""
    lines = []
    for f in result.findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        where = f"file={f.file}" + (f",line={f.line}" if f.line else "")
        text = _gh_escape(f"{f.message} (hint: {f.hint})")
        title = f"{f.rule} ({cluster})" if cluster else f.rule
        lines.append(f"::{level} {where},title={title}::{text}")
    return "\n".join(lines)


def githubs(results: PerCluster) -> str:
    if len(results) == 1:
        return github(results[0][1])
    return "\n".join(text for name, r in results if (text := github(r, name)))


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False)


def finding_line(f: Finding) -> str:
    res = f" [{f.resource}]" if f.resource else ""
    return f"{f.location()}: {f.severity} {f.rule}{res}: {f.message}\n    hint: {f.hint}"
