"""Where a new component goes in this repository, and how it is wired in, learnt from the
Helm components already there.

The layout is data read from the repository, not a choice among known layouts: each
cluster's Flux Kustomizations are followed to the HelmReleases they apply
(:mod:`infrawright.model.reach`), and each release's component is told by how it is
reached:

- ``kustomization-in-shared-file``: the component is a Flux Kustomization's whole
  ``spec.path``, and that Kustomization sits with its siblings in one file
  (``clusters/my-cluster/infrastructure.yaml`` -> ``./infrastructure/cert-manager``);
- ``kustomization-beside-app``: the same, but each Kustomization has its own file beside
  the component's folder (home-ops ``<ns>/<app>/ks.yaml`` -> ``<ns>/<app>/app/``), that
  file listed by a kustomization.yaml;
- ``listed-in-bundle``: one Flux Kustomization applies a folder whose entries are whole
  components (a file or a sub-folder holding a HelmRelease and its source), each listed
  in the folder's kustomization.yaml (or found by Flux when it has none);
- ``base-and-overlays``: the release comes from a folder outside the Kustomization's
  path (``../base/podinfo``), listed by a per-cluster overlay that patches it.

Components are grouped by how they are wired; each group (a :class:`Placement`) gives
templates (``infrastructure/{name}/``, ``./infrastructure/{name}``,
``kubernetes/apps/{namespace}/kustomization.yaml``) with the components that fit them
and how many do. Where the repository does not decide (a tie, names that fit no
pattern), the value is None and ``why`` says so: nothing is guessed.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from infrawright.catalog import CatalogEntry
from infrawright.model.flux import HELM_GROUP, HelmRelease
from infrawright.model.reach import Built, Entry, Reached, Tree, clusters
from infrawright.model.repo import RepoModel
from infrawright.repo.config import Config
from infrawright.repo.documents import Document


class Wiring(StrEnum):
    """How a component is wired into its cluster (see the module docstring)."""

    SHARED_FILE = "kustomization-in-shared-file"
    BESIDE_APP = "kustomization-beside-app"
    BUNDLE = "listed-in-bundle"
    OVERLAY = "base-and-overlays"


@dataclass(frozen=True)
class Listing:
    """A kustomization.yaml that lists a component (or its Flux Kustomization's file), and
    the entry as written there; in a :class:`Placement` both may hold ``{name}`` and
    ``{namespace}``."""

    file: str
    entry: str


@dataclass(frozen=True)
class Patch:
    """How an overlay changes its base's values: a patch file, inline patches, or a values
    ConfigMap; with the file's name template and where this was seen."""

    how: str  # "file", "inline", "configmap"
    file: str | None
    where: str


@dataclass(frozen=True)
class Component:
    """An existing Helm component of one cluster, as the layout sees it."""

    name: str
    cluster: str | None
    namespace: str | None
    charts: tuple[str, ...]
    #: ``file:line`` of each HelmRelease.
    releases: tuple[str, ...]
    wiring: Wiring
    #: Its folder (``infrastructure/cert-manager``) or file (``.../cert-manager.yaml``);
    #: for an overlay, the base folder.
    unit: str
    #: The Flux Kustomization that applies it (``namespace/name``) and ``file:line``.
    built_by: str
    ks_at: str
    ks_path: str
    #: Who lists it, outermost first (for one with its own Kustomization: who lists the
    #: file defining that Kustomization).
    listings: tuple[Listing, ...]
    #: The overlay folder that lists the base, and how it patches it (overlays only).
    overlay: str | None = None
    patches: tuple[Patch, ...] = ()
    #: kustomize Components its Kustomization or the kustomizations listing it use.
    shared: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """Which components fit a value, out of how many."""

    agree: tuple[str, ...]
    total: int

    def __str__(self) -> str:
        names = ", ".join(self.agree[:4]) + (", ..." if len(self.agree) > 4 else "")
        return (
            f"{len(self.agree)} of {self.total} ({names})" if self.agree else f"0 of {self.total}"
        )


@dataclass(frozen=True)
class Value:
    """A learnt value (None: unknown, ``why`` says why) and its evidence."""

    value: str | None
    evidence: Evidence
    why: str = ""


@dataclass(frozen=True)
class Placement:
    """Where a new component of one group goes and how it is wired, with evidence."""

    wiring: Wiring
    components: tuple[str, ...]
    #: Template of the component's folder or file (``infrastructure/{name}/``; for an
    #: overlay, the base), ``{name}.yaml`` when a component is one file.
    folder: Value
    #: The Flux Kustomization a new component is built by; None when it gets its own.
    built_by: str | None
    #: Where the new component's own Flux Kustomization goes (a shared file, or a
    #: template for one beside it) and its ``spec.path`` as the others write it.
    ks_file: Value | None
    ks_path: Value | None
    #: Who must list the new component, outermost first (empty: nothing lists it, Flux
    #: applies every file of the folder).
    listings: tuple[Listing, ...]
    listings_evidence: Evidence
    #: Overlays: the overlay folder per cluster, and how values are patched.
    overlay: Value | None = None
    patches: tuple[Patch, ...] = ()
    #: kustomize Components the group's components share, with how many use each.
    shared: tuple[tuple[str, int], ...] = ()

    @property
    def entry_form(self) -> str | None:
        """``file`` or ``folder``: how a bundle lists its components."""
        folder = self.folder.value
        if folder is None:
            return None
        return "folder" if folder.endswith("/") else "file"


@dataclass(frozen=True)
class ClusterLayout:
    """One cluster: where it starts, its Helm components and how they are placed."""

    name: str | None
    entry: str
    components: tuple[Component, ...]
    #: Most components first.
    placements: tuple[Placement, ...]
    #: The placement most components follow, or None (``why`` says why).
    default: Placement | None
    why: str

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)


@dataclass(frozen=True)
class Layout:
    """The layout of every cluster of a repository."""

    clusters: tuple[ClusterLayout, ...]

    def cluster(self, name: str | None) -> ClusterLayout | None:
        """The named cluster; with None, the only one (None when there are several)."""
        if name is None:
            return self.clusters[0] if len(self.clusters) == 1 else None
        return next((c for c in self.clusters if c.name == name), None)


@dataclass(frozen=True)
class Choice:
    """The placement chosen for a new component, and why that one."""

    placement: Placement | None
    why: str
    namespace: str | None = None


# ---------------------------------------------------------------- inference

_cache: dict[str, Layout] = {}


def infer_layout(model: RepoModel) -> Layout:
    """The layout of every cluster of the repository ``model`` was read from (kept for
    the process under the model's content key: the same files give the same layout)."""
    key = model.content_key
    if key is not None and key in _cache:
        return _cache[key]
    tree = Tree(model.files, model.listed)
    found = clusters(model.files, model.listed, tree, model.entries)
    layout = Layout(tuple(_cluster_layout(model, tree, c.name, c.entry, c.builds) for c in found))
    if key is not None:
        if len(_cache) > 8:
            _cache.clear()
        _cache[key] = layout
    return layout


def _cluster_layout(
    model: RepoModel, tree: Tree, name: str | None, entry: str, builds: Sequence[Built]
) -> ClusterLayout:
    reached_by: dict[str, Reached] = {}
    for built in builds:
        for reached in built.files:
            reached_by.setdefault(reached.file, reached)
    components: list[Component] = []
    for built in builds:
        components.extend(_components(model, tree, name, built, reached_by))
    placements = _placements(components)
    default, why = _default(placements)
    return ClusterLayout(name, entry, tuple(components), placements, default, why)


def _releases(model: RepoModel, reached: Iterable[Reached]) -> list[tuple[Reached, Document]]:
    out = []
    for r in reached:
        for doc in model.files[r.file].objects:
            if doc.kind == "HelmRelease" and doc.group == HELM_GROUP:
                out.append((r, doc))
    return out


def _sources(model: RepoModel, files: Iterable[str]) -> set[tuple[str, str]]:
    return {
        (doc.kind, doc.name)
        for rel in files
        for doc in model.files[rel].objects
        if doc.kind in ("HelmRepository", "OCIRepository", "GitRepository", "HelmChart")
    }


def _under(path: str, folder: str) -> bool:
    return folder == "." or path == folder or path.startswith(folder.rstrip("/") + "/")


def _components(
    model: RepoModel,
    tree: Tree,
    cluster: str | None,
    built: Built,
    reached_by: dict[str, Reached],
) -> list[Component]:
    releases = _releases(model, built.files)
    if not releases:
        return []
    ks = built.ks

    def make(
        name: str,
        found: Sequence[tuple[Reached, Document]],
        wiring: Wiring,
        unit: str,
        chain: Sequence[Entry],
        overlay: str | None = None,
    ) -> Component:
        reached, doc = found[0]
        return Component(
            name=name,
            cluster=cluster,
            namespace=_namespace(tree, built, reached, doc),
            charts=tuple(dict.fromkeys(HelmRelease.parse_doc(d).chart for _r, d in found)),
            releases=tuple(f"{d.file}:{d.line}" for _r, d in found),
            wiring=wiring,
            unit=unit,
            built_by=ks.key,
            ks_at=f"{ks.doc.file}:{ks.doc.line}",
            ks_path=ks.path,
            listings=tuple(Listing(_kfile(tree, e.folder), e.text) for e in chain if e.key),
            overlay=overlay,
            patches=_patches(tree, overlay) if overlay else (),
            shared=_shared(tree, built, chain),
        )

    # overlays: a release reached through an entry that leaves the Kustomization's path
    bases: dict[str, list[tuple[Reached, Document]]] = {}
    crossing: dict[str, tuple[Entry, ...]] = {}
    for reached, doc in releases:
        for i, e in enumerate(reached.chain):
            if not _under(e.target, built.folder):
                bases.setdefault(e.target, []).append((reached, doc))
                crossing.setdefault(e.target, reached.chain[: i + 1])
                break
    if bases:
        return [
            make(
                _stem(base),
                found,
                Wiring.OVERLAY,
                base + "/",
                crossing[base],
                crossing[base][-1].folder,
            )
            for base, found in bases.items()
        ]
    units: dict[str, list[tuple[Reached, Document]]] = {}
    for reached, doc in releases:
        units.setdefault(_head(reached), []).append((reached, doc))
    files_of: dict[str, list[str]] = {}
    for r in built.files:
        files_of.setdefault(_head(r), []).append(r.file)

    def whole(unit: str) -> bool:
        """Does the unit hold its releases' sources too (a whole component)?"""
        have = _sources(model, files_of.get(unit, ()))
        for _r, doc in units[unit]:
            source = HelmRelease.parse_doc(doc).source
            if source is None or (source.kind, source.name) not in have:
                return False
        return True

    bundle = all(whole(u) for u in units) and (
        len(units) > 1 or _stem(next(iter(units))) != ks.name
    )
    if bundle:
        return [
            make(
                _stem(unit),
                found,
                Wiring.BUNDLE,
                unit if unit in model.files else unit + "/",
                found[0][0].chain[:1],
            )
            for unit, found in units.items()
        ]
    own = reached_by.get(ks.doc.file)
    beside = posixpath.dirname(ks.doc.file)
    wiring = (
        Wiring.BESIDE_APP
        if beside not in (".", "", built.folder) and _under(built.folder, beside)
        else Wiring.SHARED_FILE
    )
    return [make(ks.name, releases, wiring, built.folder + "/", own.chain if own else ())]


def _head(reached: Reached) -> str:
    """The entry of the Kustomization's own folder that a file is reached through."""
    return reached.chain[0].target if reached.chain else reached.file


def _stem(path: str) -> str:
    base = posixpath.basename(path.rstrip("/"))
    for suffix in (".yaml", ".yml"):
        base = base.removesuffix(suffix)
    return base


def _kfile(tree: Tree, folder: str) -> str:
    return tree.kfiles.get(folder, f"{folder}/kustomization.yaml")


def _namespace(tree: Tree, built: Built, reached: Reached, doc: Document) -> str | None:
    """The namespace the release lands in: the Kustomization's targetNamespace, else the
    outermost kustomization's ``namespace:`` on the way, else its own."""
    if built.ks.target_namespace:
        return built.ks.target_namespace
    for folder in [built.folder, *(e.target for e in reached.chain[:-1])]:
        data = tree.kustomization(folder)
        ns = data.get("namespace") if data else None
        if isinstance(ns, str) and ns and "${" not in ns:
            return ns
    return doc.namespace


def _patches(tree: Tree, folder: str) -> tuple[Patch, ...]:
    data = tree.kustomization(folder) or {}
    where = _kfile(tree, folder)
    out: list[Patch] = []
    for item in data.get("patches") or []:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            out.append(Patch("file", posixpath.join(folder, item["path"]), where))
        elif isinstance(item, dict) and item.get("patch"):
            out.append(Patch("inline", None, where))
    for item in data.get("patchesStrategicMerge") or []:
        if isinstance(item, str):
            out.append(Patch("file", posixpath.join(folder, item), where))
    if data.get("configMapGenerator"):
        out.append(Patch("configmap", None, where))
    return tuple(out)


def _shared(tree: Tree, built: Built, chain: Sequence[Entry]) -> tuple[str, ...]:
    """kustomize Components applied to the component: its Kustomization's
    ``spec.components`` and those of the kustomizations on the way."""
    found: list[str] = []
    for item in built.ks.doc.spec.get("components") or []:
        if isinstance(item, str):
            found.append(posixpath.normpath(posixpath.join(built.folder, item)))
    for folder in {e.folder for e in chain}:
        for item in (tree.kustomization(folder) or {}).get("components") or []:
            if isinstance(item, str):
                found.append(posixpath.normpath(posixpath.join(folder, item)))
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------- templates


def template(path: str, name: str, namespace: str | None = None) -> str:
    """``path`` with the component's name and namespace as ``{name}`` and
    ``{namespace}``: the last segment that is the name (or a file named after it,
    ``cert-manager.yaml``, ``podinfo-values.yaml``) and, before it, the segments that
    are the namespace. Cluster folders stay as they are: a layout is per cluster."""
    parts = path.split("/")
    at = len(parts)
    for i in range(len(parts) - 1, -1, -1):
        part = parts[i]
        if part == name:
            parts[i], at = "{name}", i
            break
        if "." in part and (part.startswith(name + ".") or part.startswith(name + "-")):
            parts[i], at = "{name}" + part[len(name) :], i
            break
    for i in range(at):
        if namespace and parts[i] == namespace:
            parts[i] = "{namespace}"
    return "/".join(parts)


def _learnt(items: Sequence[tuple[str, str]], what: str, need_name: bool = True) -> Value:
    """The template most components agree on. ``items``: (component, template)."""
    names = [c for c, _t in items]
    counts = Counter(t for _c, t in items)
    if not counts:
        return Value(None, Evidence((), 0), f"no component shows {what}")
    ranked = counts.most_common()
    best, n = ranked[0]
    agree = tuple(c for c, t in items if t == best)
    if len(ranked) > 1 and ranked[1][1] == n:
        other = ranked[1][0]
        return Value(
            None,
            Evidence((), len(names)),
            f"{what}: as many components follow {best!r} as {other!r}",
        )
    if need_name and "{name}" not in best:
        return Value(
            None,
            Evidence(agree, len(names)),
            f"{what}: {best!r} does not hold the component's name",
        )
    return Value(best, Evidence(agree, len(names)))


def _placements(components: Sequence[Component]) -> tuple[Placement, ...]:
    groups: dict[tuple[str, str], list[Component]] = {}
    for c in components:
        if c.wiring in (Wiring.BUNDLE, Wiring.OVERLAY):
            key = (c.wiring.value, c.built_by)
        elif c.wiring is Wiring.SHARED_FILE:
            key = (c.wiring.value, c.ks_at.rsplit(":", 1)[0])
        else:
            key = (c.wiring.value, "")
        groups.setdefault(key, []).append(c)
    out = [_placement(group) for group in groups.values()]
    out.sort(key=lambda p: -len(p.components))
    return tuple(out)


def _placement(group: Sequence[Component]) -> Placement:
    wiring = group[0].wiring
    # {namespace} only where the group's components are in several namespaces: one
    # namespace shared by all is a folder like any other (monitoring/controllers/).
    several = len({c.namespace for c in group}) > 1

    def tpl(c: Component, path: str) -> str:
        return template(path, c.name, c.namespace if several else None)

    names = tuple(c.name for c in group)
    folder = _learnt([(c.name, tpl(c, c.unit)) for c in group], "component folder")
    ks_file = ks_path = overlay = None
    built_by: str | None = None
    if wiring in (Wiring.SHARED_FILE, Wiring.BESIDE_APP):
        ks_file = _learnt(
            [(c.name, tpl(c, c.ks_at.rsplit(":", 1)[0])) for c in group],
            "Flux Kustomization file",
            need_name=wiring is Wiring.BESIDE_APP,
        )
        ks_path = _learnt([(c.name, tpl(c, c.ks_path)) for c in group], "spec.path")
    else:
        built_by = group[0].built_by
    if wiring is Wiring.OVERLAY:
        overlay = _learnt(
            [(c.name, tpl(c, (c.overlay or "") + "/")) for c in group],
            "overlay folder",
            need_name=False,
        )
    shapes = Counter(
        tuple(Listing(tpl(c, lst.file), tpl(c, lst.entry)) for lst in c.listings) for c in group
    )
    listings: tuple[Listing, ...] = ()
    agree: tuple[str, ...] = ()
    if shapes:
        best, _n = shapes.most_common(1)[0]
        listings = best
        agree = tuple(
            c.name
            for c in group
            if tuple(Listing(tpl(c, lst.file), tpl(c, lst.entry)) for lst in c.listings) == best
        )
    patches: list[Patch] = []
    for c in group:
        for p in c.patches:
            templated = Patch(p.how, tpl(c, p.file) if p.file else None, tpl(c, p.where))
            if all((q.how, q.file) != (templated.how, templated.file) for q in patches):
                patches.append(templated)
    shared = Counter(s for c in group for s in c.shared)
    return Placement(
        wiring=wiring,
        components=names,
        folder=folder,
        built_by=built_by,
        ks_file=ks_file,
        ks_path=ks_path,
        listings=listings,
        listings_evidence=Evidence(agree, len(group)),
        overlay=overlay,
        patches=tuple(patches),
        shared=tuple(shared.most_common()),
    )


def _default(placements: Sequence[Placement]) -> tuple[Placement | None, str]:
    if not placements:
        return None, "no Helm component found: nothing to learn a layout from"
    first = placements[0]
    if len(placements) > 1 and len(placements[1].components) == len(first.components):
        return None, (
            f"as many components are {first.wiring} ({', '.join(first.components)}) as "
            f"{placements[1].wiring} ({', '.join(placements[1].components)})"
        )
    total = sum(len(p.components) for p in placements)
    return first, f"{len(first.components)} of {total} components are {first.wiring}"


# ---------------------------------------------------------------- choosing


def choose(
    model: RepoModel, layout: Layout, cluster: str | None, entry: CatalogEntry | None
) -> Choice:
    """The placement for a new component in ``cluster``: of the groups whose components
    are like it (charts of the catalog for a catalog chart, others for one that is not),
    the one most of them follow; and for a placement by namespace folder, which one."""
    found = layout.cluster(cluster)
    if found is None:
        return Choice(None, f"no cluster {cluster!r} in the layout")
    known = {
        c.name: model.catalog.for_chart(c.charts[0]) if c.charts else None for c in found.components
    }
    wanted_catalog = entry is not None
    kind = "catalog charts" if wanted_catalog else "charts outside the catalog"
    ranked = sorted(
        (
            ([n for n in p.components if (known.get(n) is not None) == wanted_catalog], p)
            for p in found.placements
        ),
        key=lambda item: -len(item[0]),
    )
    alike = [(names, p) for names, p in ranked if names]
    if not alike:
        if found.default is None:
            return Choice(None, found.why)
        best = found.default
        why = f"no component holds {kind}; the repository's main placement: {found.why}"
    else:
        names, best = alike[0]
        if len(alike) > 1 and len(alike[1][0]) == len(names):
            other, second = alike[1]
            return Choice(
                None,
                f"as many {kind} are {best.wiring} ({', '.join(names)}) as "
                f"{second.wiring} ({', '.join(other)})",
            )
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        why = f"{len(names)} {kind} are {best.wiring}: {shown}"
    namespace = None
    if best.folder.value and "{namespace}" in best.folder.value:
        namespace, where = namespace_for(model, found, best, entry)
        why += f"; namespace {namespace}: {where}" if namespace else f"; {where}"
    return Choice(best, why, namespace)


def namespace_for(
    model: RepoModel, cluster: ClusterLayout, placement: Placement, entry: CatalogEntry | None
) -> tuple[str | None, str]:
    """The namespace folder a new component goes in, where the placement's folders are
    per namespace: the chart's own namespace where the repository has it, else the one
    holding most components of the chart's category, else unknown."""
    members = [c for c in cluster.components if c.name in placement.components]
    namespaces = Counter(c.namespace for c in members if c.namespace)
    if entry is None:
        return None, "no catalog entry: the namespace is the request's to say"
    if entry.namespace in namespaces:
        n = namespaces[entry.namespace]
        return entry.namespace, f"the chart's namespace {entry.namespace} has {n} components"
    alike: Counter[str] = Counter()
    names: dict[str, list[str]] = {}
    for c in members:
        known = model.catalog.for_chart(c.charts[0]) if c.charts else None
        if known is not None and known.category == entry.category and c.namespace:
            alike[c.namespace] += 1
            names.setdefault(c.namespace, []).append(c.name)
    if not alike:
        return None, f"no component of the category {entry.category} to follow"
    ranked = alike.most_common()
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None, (
            f"{entry.category} components are as many in {ranked[0][0]} as in {ranked[1][0]}"
        )
    ns, n = ranked[0]
    total = sum(alike.values())
    return ns, (
        f"{n} of {total} {entry.category} components live there ({', '.join(names[ns])}); "
        f"the chart's own namespace {entry.namespace} is not in the repository"
    )


def clusters_for(layout: Layout, similar: Iterable[str]) -> tuple[str | None, ...]:
    """The clusters where a component like one of ``similar`` (names of existing
    components) is deployed; every cluster when none is."""
    wanted = set(similar)
    hits = tuple(c.name for c in layout.clusters if any(x.name in wanted for x in c.components))
    return hits or tuple(c.name for c in layout.clusters)


# ---------------------------------------------------------------- rows


def layout_rows(layout: Layout) -> list[tuple[str, str, str]]:
    """Printable (name, value, evidence) rows, like :meth:`Conventions.rows`."""
    rows: list[tuple[str, str, str]] = []
    for cluster in layout.clusters:
        label = cluster.name or "(repository)"
        rows.append((f"{label}: starts at", cluster.entry + "/", ""))
        rows.append(
            (
                f"{label}: components",
                ", ".join(c.name for c in cluster.components) or "none",
                f"{len(cluster.components)} HelmRelease components",
            )
        )
        default = cluster.default
        rows.append(
            (f"{label}: default", default.wiring.value if default else "unknown", cluster.why)
        )
        for i, p in enumerate(cluster.placements, 1):
            head = f"{label}: placement {i} ({p.wiring})"
            rows.append((f"{head} folder", _shown(p.folder), _evidence(p.folder)))
            if p.built_by:
                rows.append((f"{head} built by", p.built_by, ""))
            if p.ks_file is not None:
                rows.append((f"{head} Kustomization file", _shown(p.ks_file), _evidence(p.ks_file)))
            if p.ks_path is not None:
                rows.append((f"{head} spec.path", _shown(p.ks_path), _evidence(p.ks_path)))
            listed = "; ".join(f"{lst.file} lists {lst.entry}" for lst in p.listings)
            rows.append(
                (
                    f"{head} listed",
                    listed or "by nothing (Flux applies the folder)",
                    str(p.listings_evidence),
                )
            )
            if p.overlay is not None:
                rows.append((f"{head} overlay", _shown(p.overlay), _evidence(p.overlay)))
            for patch in p.patches:
                rows.append(
                    (f"{head} values", f"{patch.how} {patch.file or ''}".strip(), patch.where)
                )
            if p.shared:
                rows.append(
                    (
                        f"{head} shared components",
                        ", ".join(s for s, _n in p.shared),
                        ", ".join(f"{s}: {n}" for s, n in p.shared),
                    )
                )
    return rows


def _shown(value: Value) -> str:
    return value.value if value.value is not None else "unknown"


def _evidence(value: Value) -> str:
    return value.why if value.value is None else str(value.evidence)


__all__ = [
    "Choice",
    "ClusterLayout",
    "Component",
    "Evidence",
    "Layout",
    "Listing",
    "Patch",
    "Placement",
    "Value",
    "Wiring",
    "choose",
    "clusters_for",
    "infer_layout",
    "layout_rows",
    "namespace_for",
    "template",
]


# ---------------------------------------------------------------- config


def learnt_config(model: RepoModel) -> Config | None:
    """The config under which infrawright writes where this repository keeps its
    components, when the layout says so and no config file chose otherwise: for a
    cluster whose components each have a folder ``<dir>/<name>/`` and a Flux
    Kustomization in one shared file of the cluster folder (gitops-linkerd's
    ``infrastructure/<name>/`` and ``clusters/my-cluster/infrastructure.yaml``), that
    folder and file. None when nothing changes (the seed's layout is the default) or the
    layout does not decide."""
    config = model.config
    if {"components_dir", "cluster_file"} & config.given:
        return None
    found = infer_layout(model).cluster(model.cluster)
    placement = found.default if found is not None else None
    if placement is None or placement.wiring is not Wiring.SHARED_FILE:
        return None
    folder, ks_file, ks_path = placement.folder.value, placement.ks_file, placement.ks_path
    if folder is None or ks_file is None or ks_file.value is None or ks_path is None:
        return None
    match = re.fullmatch(r"([a-z0-9._-]+(?:/[a-z0-9._-]+)*)/\{name\}/", folder)
    cluster_dir = model.cluster_dir
    if match is None or cluster_dir is None or ks_path.value != f"./{match.group(1)}/{{name}}":
        return None
    head, _, file = ks_file.value.rpartition("/")
    if head != cluster_dir or "{" in file:
        return None
    learnt = replace(
        config, components_dir=match.group(1), cluster_file=file, profile=model.profile.name
    )
    same = (learnt.components_dir, learnt.cluster_file) == (
        config.components_dir.strip("/"),
        config.cluster_file,
    )
    return None if same else learnt
