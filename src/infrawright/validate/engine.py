"""Run everything: build, index, graph, rules. Returns all findings, never the first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from infrawright import cache
from infrawright.build.builds import Build, build_all
from infrawright.build.kustomize import Kustomize, find_kustomize
from infrawright.errors import ExitCode, UsageError
from infrawright.model.crds import CrdIndex, build_index
from infrawright.model.flux import FluxKustomization
from infrawright.model.graph import Graph, build_graph
from infrawright.model.repo import RepoModel
from infrawright.progress import phase
from infrawright.repo.snapshot import paused_gc
from infrawright.validate import kubernetes, pulled
from infrawright.validate.context import Context, helm_repository_urls
from infrawright.validate.finding import Finding, Severity
from infrawright.validate.rules import RULES
from infrawright.validate.schema import SchemaSource, SchemaStore, crd_signature

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
    """Every finding, plus what could not be schema-checked and where the schema of
    each kind that could came from (``schema_sources``: ``group/version/Kind`` ->
    source, sorted by kind)."""

    analysis: Analysis
    findings: tuple[Finding, ...]
    unchecked_kinds: tuple[str, ...]
    schema_checked: int
    #: CEL rule evaluations done, and those not done by reason (see validate/cel.py).
    cel_evaluated: int = 0
    cel_skipped: tuple[tuple[str, int], ...] = ()
    schema_sources: tuple[tuple[str, SchemaSource], ...] = ()

    @property
    def objects(self) -> int:
        """Built objects in all (schema-checked or not)."""
        return sum(len(b.objects) for b in self.analysis.builds.values())

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
    model: RepoModel,
    *,
    tool: Kustomize | None = None,
    progress: Progress | None = None,
    reuse: Mapping[str, Build] | None = None,
    changed: Collection[str] = (),
    meanwhile: Callable[[], None] | None = None,
) -> Analysis:
    """Build every Kustomization and index who provides and uses which CRDs.

    With ``reuse`` (builds of the same repository before ``changed`` files were written),
    only Kustomizations a changed file can affect are built again. ``meanwhile`` is
    called while kustomize still runs, when there is such a moment.
    """
    tool = (tool or find_kustomize()).with_timeout(model.config.build_timeout)
    kept = kept_builds(model, reuse, changed)
    todo = [ks for ks in model.kustomizations if model.label(ks) not in kept]
    if progress:
        progress(f"building {len(todo)} Kustomizations with {tool.describe()}")
    builds: dict[str, Build] = {}
    built = build_all(model, tool, only=todo, meanwhile=meanwhile)
    fresh = {model.label(b.kustomization): b for b in built}
    for ks in model.kustomizations:
        label = model.label(ks)
        build = kept.get(label) or fresh.get(label)
        if build is not None:
            builds.setdefault(label, build)
    with phase("CRD index and graph"):
        outputs = {name: b.objects for name, b in builds.items()}
        urls = helm_repository_urls(model)
        index = build_index(model.catalog, outputs, urls, model.config.providers)
        deps = {
            label: [model.label_of(d) for d in ks.depends_on]
            for label, ks in model.by_label.items()
        }
        graph = build_graph(deps, index.crd_edges())
    return Analysis(model, builds, index, graph, tool)


def kept_builds(
    model: RepoModel, reuse: Mapping[str, Build] | None, changed: Collection[str]
) -> dict[str, Build]:
    """The builds of ``reuse`` that writing the ``changed`` files cannot alter, by label:
    :func:`analyze` builds every other Kustomization again."""
    kept: dict[str, Build] = {}
    changes = Changes.of(changed)
    for ks in model.kustomizations:
        prev = (reuse or {}).get(model.label(ks))
        if prev is not None and not affected(prev, ks, changes):
            kept[model.label(ks)] = replace(prev, kustomization=ks)
    return kept


@dataclass(frozen=True)
class Changes:
    """Written files, with the folders above them worked out once for :func:`affected`."""

    paths: frozenset[str]
    #: Every folder that holds a changed path, at any depth.
    above: frozenset[str]
    #: The folder each changed path is directly in.
    parents: frozenset[str]

    @classmethod
    def of(cls, changed: Collection[str]) -> Changes:
        above: set[str] = set()
        parents: set[str] = set()
        for path in changed:
            if "/" in path:
                parents.add(path.rsplit("/", 1)[0])
            above.update(_folders_above(path))
        return cls(frozenset(changed), frozenset(above), frozenset(parents))


def _folders_above(path: str) -> list[str]:
    """The folders above ``path``, nearest first (``a/b/c.yaml``: ``a/b``, then ``a``)."""
    out = []
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        out.append(path)
    return out


def affected(build: Build, ks: FluxKustomization, changes: Changes) -> bool:
    """Could writing the changed files alter this build? (Conservative: when unsure, yes.)

    Yes when the build failed or was skipped, its Kustomization changed, it substitutes
    variables, a changed file is in its folder, one of its objects comes from a changed
    file, or a changed file sits in a folder that holds (at any depth) a file one of its
    objects comes from."""
    if build.error or build.skipped or build.kustomization.doc.data != ks.doc.data:
        return True
    if not changes.paths:
        return False
    if "postBuild" in ks.doc.spec:
        return True  # substituteFrom may read a ConfigMap from anywhere in the repository
    folder = build.folder or ""
    if folder in ("", ".") or folder in changes.paths or folder in changes.above:
        return True
    for origin in {o.file for o in build.objects}:
        if origin in changes.paths:
            return True
        if any(f in changes.parents for f in _folders_above(origin)):
            return True
    return False


def schema_store(model: RepoModel, crd_dirs: Iterable[Path]) -> SchemaStore:
    """The schemas for a repository, in lookup order: ``--crd-dir`` and the config's
    ``crd_dirs``, the repository's own CRDs, the schema cache, Kubernetes' schemas of the
    configured version (see :mod:`infrawright.validate.schema`)."""
    store = SchemaStore(kubernetes_version=kubernetes_version(model), pulled=True)
    for rel in model.config.crd_dirs:
        inside = rel.strip("/") + "/"
        written = any(path.startswith(inside) for path in model.rewritten)
        folder = (model.root if written else model.source_root(rel)) / rel
        if not folder.is_dir():
            raise UsageError(f"{model.config.source}: crd_dirs entry {rel!r} is not a folder")
        store.add_dir(folder)
    for folder in crd_dirs:
        if not folder.is_dir():
            raise UsageError(f"--crd-dir {folder}: not a folder")
        store.add_dir(folder)
    store.add_documents(model.objects())
    return store


def kinds_without_schema(
    model: RepoModel, crd_dirs: Iterable[Path] = (), *, tool: Kustomize | None = None
) -> list[str]:
    """``group/version/Kind`` of every built object (and Flux Kustomization) that no
    schema source has: what ``schemas pull`` looks for."""
    analysis = analyze(model, tool=tool)
    store = schema_store(model, crd_dirs)
    docs = [o for b in analysis.builds.values() for o in b.objects]
    docs += [ks.doc for ks in model.kustomizations]
    labels = {(d.api_version, d.kind) for d in docs}
    return sorted(f"{a}/{k}" for a, k in labels if not store.has_kind(a, k))


def kubernetes_version(model: RepoModel) -> str | None:
    """The Kubernetes version (``major.minor``) whose schemas check built-in kinds: the
    config's ``kubernetes_version`` (or the flag that set it), else the newest shipped."""
    origin = model.config.kubernetes_version_origin or "kubernetes_version"
    return kubernetes.resolve_version(model.config.kubernetes_version, origin)


def validate(
    model: RepoModel,
    *,
    crd_dirs: Iterable[Path] = (),
    disable: Iterable[str] = (),
    tool: Kustomize | None = None,
    progress: Progress | None = None,
    reuse: Mapping[str, Build] | None = None,
    changed: Collection[str] = (),
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
    kubernetes_version(model)  # an unknown version is a usage error before any build
    with paused_gc():
        return _validate(model, crd_dirs, off, tool, progress, reuse, changed)


def _validate(
    model: RepoModel,
    crd_dirs: Iterable[Path],
    off: set[str],
    tool: Kustomize | None,
    progress: Progress | None,
    reuse: Mapping[str, Build] | None,
    changed: Collection[str],
) -> ValidationResult:
    wanted = [
        (rule_id, rule, check)
        for rule_id, (rule, check, _doc) in RULES.items()
        if rule_id not in off
        and not (rule.flat_layout and not model.config.flat_layout)
        and model.profile.runs(rule_id, rule.house)
    ]
    early: list[Finding] = []
    early_done: set[str] = set()
    shaped = [rule_id for rule_id, rule, _check in wanted if not rule.needs_builds]
    shape_key = _shape_key(model, shaped)
    kept = _recalled_rows(shape_key) if shape_key is not None else None
    if kept is not None:  # the repository's shape is as it was: their findings too
        early.extend(kept)
        early_done.update(shaped)

    def model_rules() -> None:
        """The rules that read only the repository model, while kustomize builds."""
        nothing_built = build_index(model.catalog, {}, {}, model.config.providers)
        ctx = Context(model, {}, nothing_built, build_graph({}), SchemaStore())
        with phase("rules that need no build"):
            for rule_id, rule, check in wanted:
                if not rule.needs_builds:
                    early.extend(check(ctx))
                    early_done.add(rule_id)
        if shape_key is not None and not model.looked_up:  # nothing beyond the key was read
            cache.store("findings", shape_key, _rows(early))

    analysis = analyze(
        model,
        tool=tool,
        progress=progress,
        reuse=reuse,
        changed=changed,
        meanwhile=model_rules if kept is None else None,
    )
    crd_dirs = list(crd_dirs)
    with phase("findings kept from an earlier run"):
        key = _memo_key(model, analysis, crd_dirs, off)
        known = _recalled(analysis, key) if key is not None else None
    if known is not None:
        return known
    with phase("CRD schemas"):
        store = schema_store(model, crd_dirs)
    ctx = Context(model, analysis.builds, analysis.index, analysis.graph, store)
    if shaped and not early_done:  # no moment beside the builds: run them here
        model_rules()
    findings: list[Finding] = list(early)
    with phase("rules", total=len(wanted)) as step:
        for rule_id, rule, check in wanted:
            if progress:
                progress(f"rule {rule_id}: {rule.title}")
            if rule_id not in early_done:
                findings.extend(check(ctx))
            step.advance()
    overrides = model.config.severity
    findings = [
        f if f.rule not in overrides else _with_severity(f, Severity(overrides[f.rule]))
        for f in findings
    ]
    per_kind: Counter[tuple[str, str]] = Counter(
        (obj.api_version, obj.kind) for build in analysis.builds.values() for obj in build.objects
    )
    unchecked: set[str] = set()
    sources: dict[str, SchemaSource] = {}
    checked = 0
    for (api_version, kind), count in per_kind.items():
        source = store.source(api_version, kind)
        if source is not None:
            checked += count
            sources[f"{api_version}/{kind}"] = source
        else:
            unchecked.add(f"{api_version}/{kind}")
    store.remember()
    unique = sorted(set(findings), key=Finding.sort_key)
    cel_total = ctx.cel[1] if "IW014" in {rule_id for rule_id, _r, _c in wanted} else None
    result = ValidationResult(
        analysis,
        tuple(unique),
        tuple(sorted(unchecked)),
        checked,
        cel_evaluated=cel_total.evaluated if cel_total else 0,
        cel_skipped=tuple(sorted(cel_total.skipped.items())) if cel_total else (),
        schema_sources=tuple(sorted(sources.items())),
    )
    if key is not None and not model.looked_up:
        _remember(key, result)
    return result


#: Bump when what a validation result holds changes.
MEMO_FORMAT = 3


def _memo_key(
    model: RepoModel, analysis: Analysis, crd_dirs: list[Path], off: set[str]
) -> str | None:
    """What identifies the findings of this validation, when something does: the code,
    every file's hash, the folder listings, the settings, the CRD folders, the disabled
    rules and every build's cache key. None when a build has no key or failed, or when
    the file system was asked something beyond the files and the listings (then the
    rules' answers may depend on more than the key says)."""
    if not cache.enabled() or model.looked_up or model.content_key is None:
        return None
    builds = []
    for label, build in sorted(analysis.builds.items()):
        if build.error is not None or (build.key is None and not build.skipped):
            return None
        builds.append((label, build.key, build.skipped, build.folder, build.generated))
    wanted = [model.root / rel for rel in model.config.crd_dirs] + crd_dirs
    folders = [(str(d), crd_signature(d)) for d in wanted]
    schemas = (kubernetes_version(model), kubernetes.package_version(), pulled.signature())
    return cache.quick_key(
        "findings", MEMO_FORMAT, model.content_key, sorted(off), folders, schemas, builds
    )


def _shape_key(model: RepoModel, rule_ids: list[str]) -> str | None:
    """What identifies the findings of the rules that read only the model (``rule_ids``)
    when that is their repository's shape (:attr:`RepoModel.shape_key`): None when there
    are no such rules, no cache, or the file system was already asked beyond the walk."""
    if not rule_ids or not cache.enabled() or model.looked_up or model.shape_key is None:
        return None
    return cache.quick_key("shape-findings", MEMO_FORMAT, model.shape_key, rule_ids)


Row = tuple[str, int | None, str, str, str | None, str, str, list[str], str]


def _rows(findings: Iterable[Finding]) -> list[Row]:
    return [
        (
            f.file,
            f.line,
            f.rule,
            str(f.severity),
            f.resource,
            f.message,
            f.hint,
            list(f.concerns),
            f.fix,
        )
        for f in findings
    ]


def _from_rows(rows: object) -> list[Finding] | None:
    if not isinstance(rows, list):
        return None
    try:
        return [
            Finding(
                file, line, rule, Severity(severity), resource, message, hint, tuple(about), fix
            )
            for file, line, rule, severity, resource, message, hint, about, fix in rows
        ]
    except (TypeError, ValueError):
        return None


def _recalled_rows(key: str) -> list[Finding] | None:
    return _from_rows(cache.load("findings", key))


def _recalled(analysis: Analysis, key: str) -> ValidationResult | None:
    stored = cache.load("findings", key)
    if not isinstance(stored, tuple) or len(stored) != 6:
        return None
    rows, unchecked, checked, cel_evaluated, cel_skipped, sources = stored
    findings = _from_rows(rows)
    if findings is None:
        return None
    try:
        skipped = tuple((str(reason), int(count)) for reason, count in cel_skipped)
        kept = tuple((kind, SchemaSource(source, where)) for kind, source, where in sources)
    except (TypeError, ValueError):
        return None
    return ValidationResult(
        analysis,
        tuple(findings),
        tuple(unchecked),
        int(checked),
        cel_evaluated=int(cel_evaluated),
        cel_skipped=skipped,
        schema_sources=kept,
    )


def _remember(key: str, result: ValidationResult) -> None:
    rows = _rows(result.findings)
    sources = [(kind, s.source, s.location) for kind, s in result.schema_sources]
    value = (
        rows,
        list(result.unchecked_kinds),
        result.schema_checked,
        result.cel_evaluated,
        [list(item) for item in result.cel_skipped],
        sources,
    )
    cache.store("findings", key, value)


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    return replace(finding, severity=severity)
