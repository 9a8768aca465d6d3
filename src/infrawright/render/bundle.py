"""A new Helm component written into a bundle, as this repository writes the others:
one file (or folder) per component under a folder one Flux Kustomization applies, listed
in the bundle's kustomization.yaml (flux2-kustomize-helm-example's
``infrastructure/controllers/<name>.yaml``).

The exemplar (:mod:`infrawright.model.exemplar`: the most similar component there) gives
the shape — which kinds go in the file, the source kind, install/upgrade strategy,
intervals, namespace labels, ``---`` at the top; the catalog gives the chart's facts.
Each borrowed choice is named in a REVIEW note with the file and line it came from.
"""

from __future__ import annotations

import json
from typing import Any

from infrawright.model.exemplar import Exemplar, learnt
from infrawright.model.layout import Placement
from infrawright.plan.model import AddHelmComponent
from infrawright.render.draft import Draft, unwrap_review, wrap_review
from infrawright.render.emit import KeyPath, dump
from infrawright.render.shapes import (
    BUILT_IN_NAMESPACES,
    chart_reference,
    kustomization_file,
    nested_values,
    repository_name,
)


def bundle_component(
    draft: Draft,
    op: AddHelmComponent,
    placement: Placement,
    like: Exemplar | None,
) -> None:
    """Write ``op``'s component into the bundle of ``placement``."""
    template = placement.folder.value
    assert template is not None
    c = op.component
    path = template.format(name=c, namespace=op.namespace)
    folder_form = path.endswith("/")
    file = f"{path}{c}.yaml" if folder_form else path
    notes: list[str] = list(op.review)
    if like is not None:
        notes.append(f"written like {like.component} ({like.why})")
    header = draft.review_header(file, notes)
    docs: list[str] = []
    if op.namespace not in BUILT_IN_NAMESPACES and draft.namespace_owner(op.namespace) is None:
        docs.append(dump(_namespace(op, like), draft.style, header=header))
        header = ()
    source_kind, source_doc, source_note = _source(draft, op, like)
    docs.append(dump(source_doc, draft.style, source_note, header))
    release, release_note = _release(draft, op, like, source_kind)
    docs.append(dump(release, draft.style, release_note))
    for note in (*source_note.values(), *release_note.values()):
        draft.review(file, unwrap_review(note))
    started = like is None or (learnt(like, "document start") or "").startswith("---")
    draft.put(file, ("---\n" if started else "") + "---\n".join(docs))
    for listing in placement.listings:
        entry_text = listing.entry.format(name=c, namespace=op.namespace)
        folder = listing.file.rsplit("/", 1)[0]
        draft.list_in_kustomization(folder, entry_text)
    if placement.built_by:
        namespace, _, name = placement.built_by.rpartition("/")
        label = draft.model.labels.get((namespace or "flux-system", name), name)
        draft.out.built_by[c] = label
        draft.note(
            f"{c} is applied by {placement.built_by} with the rest of its bundle; it has "
            "no Flux Kustomization of its own"
        )
    if folder_form:
        kustomization_file(draft, f"{path}kustomization.yaml", [f"{c}.yaml"])


def _namespace(op: AddHelmComponent, like: Exemplar | None) -> dict[str, Any]:
    labels: dict[str, str] = {}
    for fact in like.facts if like else ():
        prefix = "Namespace label "
        if fact.name.startswith(prefix):
            labels[fact.name[len(prefix) :]] = fact.value.split(" (", 1)[0]
    meta: dict[str, Any] = {"name": op.namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def _source(
    draft: Draft, op: AddHelmComponent, like: Exemplar | None
) -> tuple[str, dict[str, Any], dict[KeyPath, str]]:
    """The chart's source, as the exemplar keeps its own: an OCIRepository for an
    ``oci://`` chart where the exemplar uses one, else a HelmRepository."""
    interval = (learnt(like, "source interval")) or draft.conv.helm_repository_interval.value
    oci = op.chart.repository.startswith("oci://")
    version = op.chart.version
    note = (
        f"chart {op.chart.name} {version} is the newest version the catalog knows; "
        "pinned to it exactly"
    )
    if oci and like is not None and like.source_kind == "OCIRepository":
        spec: dict[str, Any] = {
            "interval": interval,
            "url": f"{op.chart.repository.rstrip('/')}/{op.chart.name}",
        }
        selector = learnt(like, "source layerSelector")
        if selector:
            spec["layerSelector"] = json.loads(selector)
        spec["ref"] = {"tag": version}
        doc = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": op.component, "namespace": op.namespace},
            "spec": spec,
        }
        return "OCIRepository", doc, {("spec", "ref"): wrap_review(note)}
    spec = {"interval": interval, "url": op.chart.repository}
    if oci:
        spec = {"interval": interval, "type": "oci", "url": op.chart.repository}
    doc = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {
            "name": repository_name(op.chart.repository, op.component),
            "namespace": op.namespace,
        },
        "spec": spec,
    }
    comments: dict[KeyPath, str] = {}
    if like is not None and like.source_kind == "OCIRepository":
        comments[("spec", "url")] = wrap_review(
            f"{like.component} comes from an OCIRepository; {op.chart.name} is published at "
            f"{op.chart.repository}, so a HelmRepository it is"
        )
    return "HelmRepository", doc, comments


def _release(
    draft: Draft,
    op: AddHelmComponent,
    like: Exemplar | None,
    source_kind: str,
) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    interval = (learnt(like, "HelmRelease interval")) or draft.conv.helm_release_interval.value
    spec: dict[str, Any] = {"interval": interval}
    comments: dict[KeyPath, str] = {}
    for key in ("install", "upgrade"):
        taught = learnt(like, f"HelmRelease {key}")
        if taught:
            spec[key] = json.loads(taught)
        else:
            spec[key] = {"remediation": {"retries": draft.conv.remediation_retries.value}}
    spec.update(chart_reference(op, source_kind))
    if source_kind != "OCIRepository":
        comments[("spec", "chart", "spec", "version")] = wrap_review(
            f"chart {op.chart.name} {op.chart.version} is the newest version the catalog "
            "knows; pinned to it exactly"
        )
    if op.values:
        spec["values"] = nested_values(op.values)
    doc = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": op.release_name or op.component, "namespace": op.namespace},
        "spec": spec,
    }
    return doc, comments
