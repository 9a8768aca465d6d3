"""A new Helm component as a base and one overlay per cluster, as this repository writes
the others (``apps/base/<app>/`` with the namespace, source and HelmRelease;
``apps/<cluster>/<app>/`` listing the base and patching its values; the overlay listed by
``apps/<cluster>/kustomization.yaml``).

The exemplar (the most similar app there) gives the shape: files per kind, source kind
(an OCIRepository for an ``oci://`` chart), intervals, install/upgrade strategy, the labels
its objects share, how the namespace is set; the request gives each cluster's values,
written into that cluster's overlay only.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from infrawright.model.conventions import version_style
from infrawright.model.exemplar import Exemplar, file_of, learnt
from infrawright.model.layout import Placement
from infrawright.plan.model import AddHelmComponent
from infrawright.render.draft import Draft, unwrap_review, wrap_review
from infrawright.render.emit import KeyPath, Quoted, dump
from infrawright.render.shapes import (
    BUILT_IN_NAMESPACES,
    chart_reference,
    nested_values,
    repository_name,
)


def overlay_component(
    draft: Draft, op: AddHelmComponent, placement: Placement, like: Exemplar | None
) -> None:
    """Write the base of ``op``'s component (unless an earlier cluster did) and this
    cluster's overlay."""
    assert placement.folder.value and placement.overlay and placement.overlay.value
    c = op.component
    base = placement.folder.value.format(name=c, namespace=op.namespace).rstrip("/")
    overlay = placement.overlay.value.format(name=c, namespace=op.namespace).rstrip("/")
    if f"{base}/kustomization.yaml" not in draft.changes.files:
        _base(draft, op, base, like)
    values = op.cluster_values.get(draft.model.cluster or "", {})
    resources = []
    for listing in placement.listings:
        entry = listing.entry.format(name=c, namespace=op.namespace)
        target = listing.file.format(name=c, namespace=op.namespace)
        if target == f"{overlay}/kustomization.yaml":
            resources.append(entry)
        else:
            draft.list_in_kustomization(target.rsplit("/", 1)[0], entry)
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources or [_relative(overlay, base)],
    }
    if values:
        patch = next((p for p in placement.patches if p.how == "file" and p.file), None)
        name = patch.file.rsplit("/", 1)[-1] if patch and patch.file else "values.yaml"
        kustomization["patches"] = [
            {"path": name, "target": {"kind": "HelmRelease", "name": op.release_name or c}}
        ]
        spec_values = nested_values(values)
        release_patch = {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": op.release_name or c},
            "spec": {"values": spec_values},
        }
        draft.put(f"{overlay}/{name}", "---\n" + dump(release_patch, draft.style))
    draft.put(f"{overlay}/kustomization.yaml", dump(kustomization, draft.style))
    if placement.built_by:
        namespace, _, ks = placement.built_by.rpartition("/")
        draft.out.built_by[c] = draft.model.labels.get((namespace or "flux-system", ks), ks)


def _relative(overlay: str, base: str) -> str:
    return posixpath.relpath(base, overlay)


def _labels(like: Exemplar | None, kind: str) -> dict[str, str]:
    prefix = f"{kind} label "
    return {
        f.name[len(prefix) :]: f.value.split(" (", 1)[0]
        for f in (like.facts if like else ())
        if f.name.startswith(prefix)
    }


def _base(draft: Draft, op: AddHelmComponent, base: str, like: Exemplar | None) -> None:
    files: list[str] = []
    notes = list(op.review)
    if like is not None:
        notes.append(f"written like {like.component} ({like.why})")
    start = "---\n" if (learnt(like, "document start") or "---").startswith("---") else ""
    if op.namespace not in BUILT_IN_NAMESPACES and draft.namespace_owner(op.namespace) is None:
        meta: dict[str, Any] = {"name": op.namespace}
        if labels := _labels(like, "Namespace"):
            meta["labels"] = labels
        name = file_of(like, "Namespace")
        draft.put(
            f"{base}/{name}",
            start + dump({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}, draft.style),
        )
        files.append(name)
    oci = op.chart.repository.startswith("oci://")
    source_kind = "OCIRepository" if oci else "HelmRepository"
    source, comments = _source(draft, op, like, source_kind)
    name = file_of(like, source_kind)
    draft.put(f"{base}/{name}", start + dump(source, draft.style, comments))
    for note in comments.values():
        draft.review(f"{base}/{name}", unwrap_review(note))
    files.append(name)
    release = _release(draft, op, like, source_kind)
    name = file_of(like, "HelmRelease")
    header = draft.review_header(f"{base}/{name}", notes)
    draft.put(f"{base}/{name}", start + dump(release, draft.style, header=header))
    files.append(name)
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    }
    if "kustomization.yaml" in (learnt(like, "namespace set by") or ""):
        kustomization["namespace"] = op.namespace
    kustomization["resources"] = files
    draft.put(f"{base}/kustomization.yaml", dump(kustomization, draft.style))


def _source(
    draft: Draft, op: AddHelmComponent, like: Exemplar | None, kind: str
) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    interval = learnt(like, "source interval") or draft.conv.helm_repository_interval.value
    version = op.chart.version
    exact = version_style(version) == "exact"
    if kind == "OCIRepository":
        spec: dict[str, Any] = {
            "interval": interval,
            "url": f"{op.chart.repository.rstrip('/')}/{op.chart.name}",
        }
        selector = learnt(like, "source layerSelector")
        if selector:
            spec["layerSelector"] = json.loads(selector)
        spec["ref"] = {"tag": version} if exact else {"semver": Quoted(version)}
        note = f"chart {op.chart.name} {'pinned to' if exact else 'tracking'} {version}, as asked"
        doc = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": op.component},
            "spec": spec,
        }
        return doc, {("spec", "ref"): wrap_review(note)}
    doc = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": repository_name(op.chart.repository, op.component)},
        "spec": {"interval": interval, "url": op.chart.repository},
    }
    return doc, {}


def _release(
    draft: Draft, op: AddHelmComponent, like: Exemplar | None, source_kind: str
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": op.release_name or op.component}
    if labels := _labels(like, "HelmRelease"):
        meta["labels"] = labels
    spec: dict[str, Any] = {
        "interval": learnt(like, "HelmRelease interval") or draft.conv.helm_release_interval.value
    }
    spec.update(chart_reference(op, source_kind))
    for key in ("install", "upgrade"):
        taught = learnt(like, f"HelmRelease {key}")
        if taught:
            spec[key] = json.loads(taught)
    if op.values:
        spec["values"] = nested_values(op.values)
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": meta,
        "spec": spec,
    }
