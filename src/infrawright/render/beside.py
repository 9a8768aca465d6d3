"""A new Helm component with its own Flux Kustomization file beside its folder, as this
repository writes the others (home-ops: ``kubernetes/apps/<ns>/<app>/ks.yaml`` applying
``kubernetes/apps/<ns>/<app>/app/``, the ``ks.yaml`` listed by the namespace folder's
kustomization.yaml).

The exemplar (the most similar component there) gives the shape: the file of each kind,
the ``# yaml-language-server: $schema=`` line of each file, the source kind, intervals,
the settings of its Flux Kustomization (interval, prune, wait, sourceRef, how the
namespace is set); the catalog gives the chart's facts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from infrawright.model.exemplar import Exemplar, file_of, learnt
from infrawright.model.layout import Placement
from infrawright.plan.model import AddHelmComponent
from infrawright.render.draft import Draft, unwrap_review, wrap_review
from infrawright.render.emit import KeyPath, dump
from infrawright.render.shapes import chart_reference, nested_values, repository_name

_SCHEMA_LINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)")
#: A schema URL of group, kind and version (``.../helm.toolkit.fluxcd.io/helmrelease_v2.json``).
_BY_KIND = re.compile(
    r"^(?P<base>.+)/(?P<group>[a-z0-9.-]+)/(?P<kind>[a-z]+)_(?P<version>v[0-9a-z]+)\.json$"
)


def beside_app(
    draft: Draft,
    op: AddHelmComponent,
    placement: Placement,
    namespace: str,
    like: Exemplar | None,
) -> None:
    """Write ``op``'s component: its app folder, its Flux Kustomization file, listed."""
    assert placement.folder.value and placement.ks_file and placement.ks_file.value
    assert placement.ks_path and placement.ks_path.value
    c = op.component
    fill = {"name": c, "namespace": namespace}
    folder = placement.folder.value.format(**fill).rstrip("/")
    ks_file = placement.ks_file.value.format(**fill)
    ks_path = placement.ks_path.value.format(**fill)
    schemas = _schemas(draft, like)
    oci = op.chart.repository.startswith("oci://")
    files: list[str] = []
    notes = list(op.review)
    if like is not None:
        notes.append(f"written like {like.component} ({like.why})")
    source_kind = "OCIRepository" if oci else "HelmRepository"
    source = _source(draft, op, like, source_kind)
    source_file = file_of(like, source_kind)
    _write(draft, f"{folder}/{source_file}", source, schemas, {}, ())
    files.append(source_file)
    release, comments = _release(draft, op, like, source_kind)
    release_file = file_of(like, "HelmRelease")
    header = draft.review_header(f"{folder}/{release_file}", notes)
    _write(draft, f"{folder}/{release_file}", release, schemas, comments, header)
    files.append(release_file)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f"./{f}" for f in sorted(files)],
    }
    _write(draft, f"{folder}/kustomization.yaml", kustomization, schemas, {}, ())
    _write(
        draft, ks_file, _flux_kustomization(draft, op, like, ks_path, namespace), schemas, {}, ()
    )
    draft.added.append(c)
    if c not in draft.out.added:
        draft.out.added.append(c)
        draft.out.depends[c] = []
    for listing in placement.listings:
        target = listing.file.format(**fill)
        draft.list_in_kustomization(target.rsplit("/", 1)[0], listing.entry.format(**fill))
    if not oci and like is not None and like.source_kind == "OCIRepository":
        draft.review(
            f"{folder}/{source_file}",
            f"{like.component} comes from an OCIRepository; {op.chart.name} is published at "
            f"{op.chart.repository}, so a HelmRepository it is",
        )


def _write(
    draft: Draft,
    path: str,
    doc: dict[str, Any],
    schemas: dict[str, str],
    comments: dict[KeyPath, str],
    header: tuple[str, ...],
) -> None:
    kind = str(doc["kind"])
    group = str(doc["apiVersion"]).rpartition("/")[0]
    url = schemas.get(f"{group}/{kind}")
    top = (f"yaml-language-server: $schema={url}",) if url else ()
    for note in comments.values():
        if note.startswith("REVIEW: "):
            draft.review(path, unwrap_review(note))
    draft.put(path, "---\n" + dump(doc, draft.style, comments, (*top, *header)))


def _schemas(draft: Draft, like: Exemplar | None) -> dict[str, str]:
    """``group/Kind`` -> the ``$schema`` URL the exemplar's files give it, and by the same
    pattern for the kinds a new component adds (``.../<group>/<kind>_<version>.json``)."""
    out: dict[str, str] = {}
    pattern: tuple[str, str] | None = None  # (base, json schema file for kustomization)
    for shape in like.files if like else ():
        rel = shape.where.rpartition(":")[0]
        try:
            text = draft.text(rel)
        except OSError:
            continue
        url = next(
            (m.group(1) for line in text.splitlines()[:3] if (m := _SCHEMA_LINE.match(line))),
            None,
        )
        if url is None:
            continue
        for kind in shape.kinds:
            by_kind = _BY_KIND.match(url)
            if kind == "Kustomization" and by_kind is None:
                out["kustomize.config.k8s.io/Kustomization"] = url
            elif by_kind is not None:
                out[f"{by_kind['group']}/{kind}"] = url
                pattern = (by_kind["base"], "")
    if pattern is not None:
        base = pattern[0]
        for group, kind, version in (
            ("source.toolkit.fluxcd.io", "HelmRepository", "v1"),
            ("source.toolkit.fluxcd.io", "OCIRepository", "v1"),
            ("helm.toolkit.fluxcd.io", "HelmRelease", "v2"),
            ("kustomize.toolkit.fluxcd.io", "Kustomization", "v1"),
        ):
            out.setdefault(f"{group}/{kind}", f"{base}/{group}/{kind.lower()}_{version}.json")
    return out


def _source(draft: Draft, op: AddHelmComponent, like: Exemplar | None, kind: str) -> dict[str, Any]:
    interval = learnt(like, "source interval") or draft.conv.helm_repository_interval.value
    if kind == "OCIRepository":
        spec: dict[str, Any] = {"interval": interval}
        selector = learnt(like, "source layerSelector")
        if selector:
            spec["layerSelector"] = json.loads(selector)
        spec["ref"] = {"tag": op.chart.version}
        spec["url"] = f"{op.chart.repository.rstrip('/')}/{op.chart.name}"
        return {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": op.component},
            "spec": spec,
        }
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": repository_name(op.chart.repository, op.component)},
        "spec": {"interval": interval, "url": op.chart.repository},
    }


def _release(
    draft: Draft, op: AddHelmComponent, like: Exemplar | None, source_kind: str
) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    spec: dict[str, Any] = {}
    comments: dict[KeyPath, str] = {}
    note = (
        f"chart {op.chart.name} {op.chart.version} is the newest version the catalog knows; "
        "pinned to it exactly"
    )
    spec.update(chart_reference(op, source_kind))
    if source_kind != "OCIRepository":
        comments[("spec", "chart", "spec", "version")] = wrap_review(note)
    spec["interval"] = (
        learnt(like, "HelmRelease interval") or draft.conv.helm_release_interval.value
    )
    if op.values:
        spec["values"] = nested_values(op.values)
    doc = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": op.release_name or op.component},
        "spec": spec,
    }
    return doc, comments


def _flux_kustomization(
    draft: Draft, op: AddHelmComponent, like: Exemplar | None, path: str, namespace: str
) -> dict[str, Any]:
    taught = learnt(like, "Flux Kustomization spec")
    spec: dict[str, Any] = json.loads(taught) if taught else {}
    spec.setdefault("interval", draft.conv.ks_interval.value)
    spec["path"] = path
    spec.setdefault("prune", True)
    spec.setdefault("sourceRef", {"kind": "GitRepository", "name": "flux-system"})
    if "targetNamespace" in spec:
        spec["targetNamespace"] = namespace
    ordered = {k: spec[k] for k in sorted(spec)}
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": op.component},
        "spec": ordered,
    }
