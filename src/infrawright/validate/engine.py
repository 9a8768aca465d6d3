"""Run everything: build, index, graph, rules. Returns all findings, never the first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from infrawright.errors import ExitCode, UsageError
from infrawright.model.crds import CrdIndex, build_index
from infrawright.model.graph import Graph, build_graph
from infrawright.model.repo import RepoModel
from infrawright.validate.builds import Build, build_all
from infrawright.validate.context import Context, helm_repository_urls
from infrawright.validate.finding import Finding, Severity
from infrawright.validate.kustomize import Kustomize, find_kustomize
from infrawright.validate.rules import RULES
from infrawright.validate.schema import SchemaStore

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Analysis:
    """Builds, CRD index and graph of a repository: what `graph` and the rules need."""

    model: RepoModel
    builds: dict[str, Build]
    index: CrdIndex
    graph: Graph
    kustomize: Kustomize


@dataclass(frozen=True)
class ValidationResult:
    """Every finding, plus what could not be schema-checked."""

    analysis: Analysis
    findings: tuple[Finding, ...]
    unchecked_kinds: tuple[str, ...]
    schema_checked: int

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def exit_code(self, strict: bool = False) -> ExitCode:
        if self.errors or (strict and self.warnings):
            return ExitCode.FINDINGS
        return ExitCode.OK


def analyze(
    model: RepoModel, *, tool: Kustomize | None = None, progress: Progress | None = None
) -> Analysis:
    """Build every Kustomization and index who provides and uses which CRDs."""
    tool = tool or find_kustomize()
    if progress:
        progress(f"building {len(model.kustomizations)} Kustomizations with {tool.describe()}")
    builds: dict[str, Build] = {}
    for b in build_all(model, tool):
        builds.setdefault(model.label(b.kustomization), b)
    outputs = {name: b.objects for name, b in builds.items()}
    index = build_index(model.catalog, outputs, helm_repository_urls(model), model.config.providers)
    deps = {
        label: [model.label_of(d) for d in ks.depends_on] for label, ks in model.by_label.items()
    }
    graph = build_graph(deps, index.crd_edges())
    return Analysis(model, builds, index, graph, tool)


def schema_store(model: RepoModel, crd_dirs: Iterable[Path]) -> SchemaStore:
    store = SchemaStore()
    store.add_documents(model.objects())
    for rel in model.config.crd_dirs:
        folder = model.root / rel
        if not folder.is_dir():
            raise UsageError(f"{model.config.source}: crd_dirs entry {rel!r} is not a folder")
        store.add_dir(folder)
    for folder in crd_dirs:
        if not folder.is_dir():
            raise UsageError(f"--crd-dir {folder}: not a folder")
        store.add_dir(folder)
    return store


def validate(
    model: RepoModel,
    *,
    crd_dirs: Iterable[Path] = (),
    disable: Iterable[str] = (),
    tool: Kustomize | None = None,
    progress: Progress | None = None,
) -> ValidationResult:
    """Validate a repository: real builds, schema checks, every enabled rule."""
    wanted_off = {d.strip().upper() for d in disable if d.strip()}
    unknown = sorted(wanted_off - set(RULES))
    if unknown:
        raise UsageError(
            f"unknown rule ID(s) in --disable: {', '.join(unknown)}",
            hint=f"known rules: {', '.join(RULES)}",
        )
    off = wanted_off | set(model.config.disable)
    analysis = analyze(model, tool=tool, progress=progress)
    store = schema_store(model, crd_dirs)
    ctx = Context(model, analysis.builds, analysis.index, analysis.graph, store)
    findings: list[Finding] = []
    for rule_id, (rule, check, _doc) in RULES.items():
        if rule_id in off or (rule.flat_layout and not model.config.flat_layout):
            continue
        if progress:
            progress(f"rule {rule_id}: {rule.title}")
        findings.extend(check(ctx))
    overrides = model.config.severity
    findings = [
        f if f.rule not in overrides else _with_severity(f, Severity(overrides[f.rule]))
        for f in findings
    ]
    unchecked: set[str] = set()
    checked = 0
    for build in analysis.builds.values():
        for obj in build.objects:
            if store.has(obj):
                checked += 1
            else:
                unchecked.add(f"{obj.api_version}/{obj.kind}")
    unique = sorted(set(findings), key=Finding.sort_key)
    return ValidationResult(analysis, tuple(unique), tuple(sorted(unchecked)), checked)


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    return replace(finding, severity=severity)
