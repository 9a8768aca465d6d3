"""The existing Helm component a new one should mirror, and what it teaches, as data.

:func:`exemplar` picks, among a cluster's Helm components (those placed as a new one of
its kind would be first, see :func:`infrawright.model.layout.choose`), the most similar
to the chart asked for: the same chart, else the same catalog category, else the same
kind of chart location (``oci://`` or ``https://``). What it teaches, each item with the
``file:line`` it was read from so a REVIEW note can cite it: its file names and which
kinds go in which file, the source kind (HelmRepository, or OCIRepository with
``chartRef``), install/upgrade strategy and remediation, intervals, labels and
annotations that recur in the group, the apiVersions it uses (and the served one where
it uses a deprecated one), how files start (``---``, a ``# yaml-language-server:
$schema=`` line) and how the namespace is set.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infrawright.catalog import CatalogEntry
from infrawright.model.flux import HelmRelease
from infrawright.model.layout import ClusterLayout, Component, Layout, Wiring, choose
from infrawright.model.repo import RepoModel
from infrawright.repo.documents import Document
from infrawright.repo.positions import key_line

#: The served (GA) apiVersion of each Flux kind an exemplar may use an older one of:
#: Kustomization and GitRepository v1 since Flux 2.0; HelmRelease v2, HelmRepository and
#: HelmChart v1 since Flux 2.3; OCIRepository v1 since Flux 2.6.
SERVED = {
    "Kustomization": ("kustomize.toolkit.fluxcd.io/v1", "Flux 2.0"),
    "GitRepository": ("source.toolkit.fluxcd.io/v1", "Flux 2.0"),
    "HelmRelease": ("helm.toolkit.fluxcd.io/v2", "Flux 2.3"),
    "HelmRepository": ("source.toolkit.fluxcd.io/v1", "Flux 2.3"),
    "HelmChart": ("source.toolkit.fluxcd.io/v1", "Flux 2.3"),
    "OCIRepository": ("source.toolkit.fluxcd.io/v1", "Flux 2.6"),
}
KUSTOMIZE_CONFIG = "kustomize.config.k8s.io"
_SCHEMA = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)")


@dataclass(frozen=True)
class Fact:
    """One thing the exemplar teaches: a name, its value, and ``file:line``."""

    name: str
    value: str
    where: str


@dataclass(frozen=True)
class FileShape:
    """One file of the exemplar: its name inside the component and the kinds in it."""

    name: str
    kinds: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class Exemplar:
    """The component to mirror and what it teaches."""

    component: str
    cluster: str | None
    why: str
    files: tuple[FileShape, ...]
    #: "one file per kind", "all in one file" or "mixed".
    file_split: str
    #: HelmRepository or OCIRepository; with ``chartRef`` (OCIRepository) or
    #: ``chart.spec.sourceRef``.
    source_kind: str | None
    chart_ref: bool
    facts: tuple[Fact, ...]

    def fact(self, name: str) -> Fact | None:
        return next((f for f in self.facts if f.name == name), None)

    def file_for(self, kind: str) -> str | None:
        """The file name the exemplar keeps a kind in."""
        return next((f.name for f in self.files if kind in f.kinds), None)


def learnt(like: Exemplar | None, name: str) -> str | None:
    """The value the exemplar (if any) teaches for ``name``."""
    found = like.fact(name) if like else None
    return found.value if found else None


def file_of(like: Exemplar | None, kind: str) -> str:
    """The exemplar's file for ``kind``, or its naming (``<kind>.yaml``) applied."""
    found = like.file_for(kind) if like else None
    return found or f"{kind.lower()}.yaml"


def exemplar(
    model: RepoModel, layout: Layout, cluster: str | None, chart_hint: str | None
) -> Exemplar | None:
    """The most similar existing Helm component of ``cluster`` to ``chart_hint`` (a chart
    name, or its location: ``oci://ghcr.io/example/charts/orders``,
    ``https://charts.jetstack.io``), or None when the cluster has none."""
    found = layout.cluster(cluster)
    if found is None or not found.components:
        return None
    name, location = _hint(chart_hint)
    entry = _entry(model, name, location)
    choice = choose(model, layout, cluster, entry)
    pool = [
        c for c in found.components if choice.placement and c.name in choice.placement.components
    ]
    where = f"placed like a new one ({choice.why})" if pool else "no placement decided"
    best, reason = _most_similar(model, pool or list(found.components), name, entry, location)
    return _teach(model, found, best, f"{reason}; {where}")


def _hint(hint: str | None) -> tuple[str | None, str | None]:
    if not hint:
        return None, None
    if "://" in hint:
        tail = hint.rstrip("/").rsplit("/", 1)[-1]
        return (tail if hint.startswith("oci://") else None), hint
    return hint, None


def _entry(model: RepoModel, name: str | None, location: str | None) -> CatalogEntry | None:
    if name is None:
        return None
    return model.catalog.get(name) or model.catalog.for_chart(name, location)


def _most_similar(
    model: RepoModel,
    pool: Sequence[Component],
    name: str | None,
    entry: CatalogEntry | None,
    location: str | None,
) -> tuple[Component, str]:
    oci = location.startswith("oci://") if location else None

    def score(c: Component) -> tuple[int, str]:
        known = model.catalog.for_chart(c.charts[0]) if c.charts else None
        if name and (name in c.charts or c.name == name):
            return 4, f"{c.name} runs the same chart"
        if entry is not None and known is not None and known.category == entry.category:
            return 2, f"{c.name} is of the same category ({entry.category})"
        if oci is not None and (_source_kind(model, c) == "OCIRepository") == oci:
            return 1, f"{c.name} takes its chart from the same kind of location"
        return 0, f"{c.name} is the first component of the group (nothing more similar)"

    scored = [(score(c), i, c) for i, c in enumerate(pool)]
    (_points, why), _i, best = max(scored, key=lambda item: (item[0][0], -item[1]))
    return best, why


def _source_kind(model: RepoModel, c: Component) -> str | None:
    for release in _release_docs(model, c):
        source = HelmRelease.parse_doc(release).source
        if source is not None:
            return source.kind
    return None


def _release_docs(model: RepoModel, c: Component) -> list[Document]:
    out = []
    for at in c.releases:
        file, _, line = at.rpartition(":")
        parsed = model.files.get(file)
        for doc in parsed.objects if parsed else ():
            if doc.line == int(line) and doc.kind == "HelmRelease":
                out.append(doc)
    return out


def _unit_files(model: RepoModel, c: Component, names: Sequence[str] | None = None) -> list[str]:
    """The component's files; ``names``: every file, sorted (for a prefix search)."""
    if c.unit in model.files:
        return [c.unit]
    prefix = c.unit if c.unit.endswith("/") else c.unit + "/"
    names = names if names is not None else sorted(model.files)
    out = []
    for rel in names[bisect.bisect_left(names, prefix) :]:
        if not rel.startswith(prefix):
            break
        out.append(rel)
    return out


def _teach(model: RepoModel, cluster: ClusterLayout, c: Component, why: str) -> Exemplar:
    files = _unit_files(model, c)
    base = c.unit if c.unit.endswith("/") else posixpath.dirname(c.unit) + "/"
    shapes = []
    for rel in files:
        inside = model.files[rel].objects
        if inside:
            kinds = tuple(dict.fromkeys(d.kind for d in inside))
            shapes.append(FileShape(rel.removeprefix(base), kinds, f"{rel}:{inside[0].line}"))
    facts: list[Fact] = []
    releases = _release_docs(model, c)
    release = releases[0] if releases else None
    objects = [d for rel in files for d in model.files[rel].objects if d.group != KUSTOMIZE_CONFIG]
    source_kind = None
    chart_ref = False
    if release is not None:
        facts.extend(_release_facts(model, release))
        parsed = HelmRelease.parse_doc(release)
        chart_ref = isinstance(release.spec.get("chartRef"), dict)
        if parsed.source is not None:
            source_kind = parsed.source.kind
            source = next(
                (
                    d
                    for d in model.objects()
                    if d.kind == source_kind and d.name == parsed.source.name
                ),
                None,
            )
            if source is not None:
                facts.extend(_source_facts(model, source))
    for doc in objects:
        facts.extend(_api_facts(doc))
    facts.extend(_recurring(model, cluster, c, objects))
    facts.extend(_file_style(model, files))
    facts.extend(_namespace_facts(model, c, objects, files))
    facts.extend(_kustomization_facts(model, c))
    facts.extend(_patched_defaults(model))
    kinds_per_file = [len(s.kinds) for s in shapes]
    split = (
        "all in one file"
        if len(shapes) == 1
        else "one file per kind"
        if all(n == 1 for n in kinds_per_file)
        else "mixed"
    )
    return Exemplar(
        component=c.name,
        cluster=c.cluster,
        why=why,
        files=tuple(shapes),
        file_split=split,
        source_kind=source_kind,
        chart_ref=chart_ref,
        facts=_unique(facts),
    )


def _unique(facts: Sequence[Fact]) -> tuple[Fact, ...]:
    seen: dict[str, Fact] = {}
    for f in facts:
        seen.setdefault(f.name, f)
    return tuple(seen.values())


def _at(model: RepoModel, doc: Document, *keys: str) -> str:
    line = key_line(model.source_root(doc.file), doc.file, doc.line, keys) if keys else None
    return f"{doc.file}:{line or doc.line}"


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _release_facts(model: RepoModel, release: Document) -> list[Fact]:
    spec = release.spec
    out = []
    for key in ("install", "upgrade", "rollback", "test", "driftDetection"):
        if isinstance(spec.get(key), dict):
            out.append(
                Fact(f"HelmRelease {key}", _compact(spec[key]), _at(model, release, "spec", key))
            )
            strategy = spec[key].get("strategy")
            if isinstance(strategy, dict) and strategy.get("name"):
                out.append(
                    Fact(
                        f"HelmRelease {key} strategy",
                        str(strategy["name"]),
                        _at(model, release, "spec", key, "strategy"),
                    )
                )
    if spec.get("interval"):
        out.append(
            Fact(
                "HelmRelease interval",
                str(spec["interval"]),
                _at(model, release, "spec", "interval"),
            )
        )
    chart = (spec.get("chart") or {}).get("spec") if isinstance(spec.get("chart"), dict) else None
    if isinstance(chart, dict):
        if chart.get("interval"):
            out.append(
                Fact(
                    "chart interval",
                    str(chart["interval"]),
                    _at(model, release, "spec", "chart", "spec", "interval"),
                )
            )
        if chart.get("version") is not None:
            out.append(
                Fact(
                    "chart version",
                    str(chart["version"]),
                    _at(model, release, "spec", "chart", "spec", "version"),
                )
            )
    if isinstance(spec.get("chartRef"), dict):
        out.append(Fact("chart reference", "chartRef", _at(model, release, "spec", "chartRef")))
    elif isinstance(chart, dict):
        out.append(
            Fact("chart reference", "chart.spec.sourceRef", _at(model, release, "spec", "chart"))
        )
    if spec.get("releaseName"):
        out.append(
            Fact(
                "releaseName", str(spec["releaseName"]), _at(model, release, "spec", "releaseName")
            )
        )
    return out


def _source_facts(model: RepoModel, source: Document) -> list[Fact]:
    spec = source.spec
    out = [Fact("source kind", source.kind, _at(model, source))]
    if spec.get("type"):
        out.append(Fact("source type", str(spec["type"]), _at(model, source, "spec", "type")))
    if spec.get("interval"):
        out.append(
            Fact("source interval", str(spec["interval"]), _at(model, source, "spec", "interval"))
        )
    ref = spec.get("ref")
    if isinstance(ref, dict) and ref:
        pin = "semver" if "semver" in ref else "tag" if "tag" in ref else next(iter(ref))
        out.append(Fact("source pin", f"{pin}: {ref[pin]}", _at(model, source, "spec", "ref", pin)))
    if isinstance(spec.get("layerSelector"), dict):
        out.append(
            Fact(
                "source layerSelector",
                _compact(spec["layerSelector"]),
                _at(model, source, "spec", "layerSelector"),
            )
        )
    namespace = source.namespace
    out.append(
        Fact(
            "source namespace",
            namespace or "(the component's)",
            _at(model, source, "metadata", "namespace") if namespace else _at(model, source),
        )
    )
    return out


def _api_facts(doc: Document) -> list[Fact]:
    where = f"{doc.file}:{doc.line}"
    out = [Fact(f"apiVersion {doc.kind}", doc.api_version, where)]
    served = SERVED.get(doc.kind)
    if served is not None and doc.group == served[0].split("/")[0] and doc.api_version != served[0]:
        out.append(
            Fact(
                f"served apiVersion {doc.kind}",
                served[0],
                f"{where} uses {doc.api_version}, deprecated since {served[1]} made {served[0]} GA",
            )
        )
    return out


def _recurring(
    model: RepoModel, cluster: ClusterLayout, c: Component, objects: Sequence[Document]
) -> list[Fact]:
    """Labels and annotations of the exemplar's objects that other components of its
    placement carry too (by kind)."""
    group = next((p for p in cluster.placements if c.name in p.components), None)
    others = [
        x for x in cluster.components if group and x.name in group.components and x.name != c.name
    ]
    seen: Counter[tuple[str, str, str, str]] = Counter()
    names = sorted(model.files)
    for other in others:
        marks = set()
        for rel in _unit_files(model, other, names):
            for doc in model.files[rel].objects:
                for field in ("labels", "annotations"):
                    for k, v in (doc.metadata.get(field) or {}).items():
                        marks.add((doc.kind, field, str(k), str(v)))
        seen.update(marks)
    out = []
    for doc in objects:
        for field in ("labels", "annotations"):
            for k, v in (doc.metadata.get(field) or {}).items():
                n = seen[(doc.kind, field, str(k), str(v))]
                if n:
                    out.append(
                        Fact(
                            f"{doc.kind} {field[:-1]} {k}",
                            f"{v} (also on {n} of {len(others)} others)",
                            f"{doc.file}:{doc.line}",
                        )
                    )
    return out


def _file_style(model: RepoModel, files: Sequence[str]) -> list[Fact]:
    starts: Counter[str] = Counter()
    schema: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for rel in files:
        try:
            text = (model.source_root(rel) / rel).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if not lines:
            continue
        start = "---" if lines[0].strip() == "---" else "no ---"
        starts[start] += 1
        first.setdefault(start, f"{rel}:1")
        for i, line in enumerate(lines[:3]):
            found = _SCHEMA.match(line.strip())
            if found:
                schema.append((found.group(1), f"{rel}:{i + 1}"))
                break
    out = []
    if starts:
        best, n = starts.most_common(1)[0]
        out.append(
            Fact("document start", f"{best} ({n} of {sum(starts.values())} files)", first[best])
        )
    if schema:
        url, where = schema[0]
        out.append(Fact("schema comment", f"# yaml-language-server: $schema={url}", where))
    else:
        out.append(Fact("schema comment", "none", files[0] if files else ""))
    return out


def _namespace_facts(
    model: RepoModel, c: Component, objects: Sequence[Document], files: Sequence[str]
) -> list[Fact]:
    out = []
    namespaces = [d for d in objects if d.kind == "Namespace"]
    if namespaces:
        out.append(
            Fact(
                "namespace object",
                f"{posixpath.basename(namespaces[0].file)} in the component",
                f"{namespaces[0].file}:{namespaces[0].line}",
            )
        )
    else:
        out.append(Fact("namespace object", "none in the component", c.unit))
    ks = _kustomization_doc(model, c)
    if ks is not None and ks.spec.get("targetNamespace"):
        out.append(
            Fact(
                "namespace set by",
                "targetNamespace of its Flux Kustomization",
                _at(model, ks, "spec", "targetNamespace"),
            )
        )
    for rel in files:
        if posixpath.basename(rel) in ("kustomization.yaml", "kustomization.yml"):
            docs = model.files[rel].documents
            data = docs[0].data if docs else None
            if isinstance(data, dict) and data.get("namespace"):
                out.append(
                    Fact(
                        "namespace set by",
                        "namespace: of its kustomization.yaml",
                        f"{rel}:{docs[0].line}",
                    )
                )
    with_ns = [d for d in objects if d.kind != "Namespace" and d.namespace]
    if with_ns:
        out.append(
            Fact(
                "metadata.namespace",
                f"set on {len(with_ns)} of {sum(d.kind != 'Namespace' for d in objects)} objects",
                f"{with_ns[0].file}:{with_ns[0].line}",
            )
        )
    return out


def _patched_defaults(model: RepoModel) -> list[Fact]:
    """Flux Kustomizations whose ``spec.patches`` change HelmReleases (home-ops sets
    install/upgrade defaults for every release that way): a new release gets them too."""
    out = []
    for ks in model.kustomizations:
        text = json.dumps(ks.patches)
        if "HelmRelease" in text and "helm.toolkit.fluxcd.io" in text:
            where = _at(model, ks.doc, "spec", "patches")
            out.append(Fact(f"HelmRelease defaults patched by {ks.key}", "spec.patches", where))
    return out


def _kustomization_doc(model: RepoModel, c: Component) -> Document | None:
    file, _, line = c.ks_at.rpartition(":")
    parsed = model.files.get(file)
    return next((d for d in parsed.objects if d.line == int(line)), None) if parsed else None


def _kustomization_facts(model: RepoModel, c: Component) -> list[Fact]:
    """The Flux Kustomization settings a new component's own Kustomization copies (for
    placements where each component has one)."""
    if c.wiring not in (Wiring.SHARED_FILE, Wiring.BESIDE_APP):
        return []
    ks = _kustomization_doc(model, c)
    if ks is None:
        return []
    kept = {
        k: v
        for k, v in ks.spec.items()
        if k not in ("path", "dependsOn", "healthChecks", "healthCheckExprs", "postBuild")
    }
    return [Fact("Flux Kustomization spec", _compact(kept), f"{ks.file}:{ks.line}")]


__all__ = ["SERVED", "Exemplar", "Fact", "FileShape", "exemplar", "file_of", "learnt"]
