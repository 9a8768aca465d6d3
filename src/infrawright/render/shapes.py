"""New files every kind of component is made of: its Namespace, its kustomization.yaml,
its Flux Kustomization in the cluster file, chart sources; written through a
:class:`Draft` in the repository's style.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any
from urllib.parse import urlparse

from infrawright.errors import InfrawrightError
from infrawright.model.conventions import PSS_PREFIX
from infrawright.plan.model import AddHelmComponent, AddPlainComponent
from infrawright.render.draft import Draft, wrap_review
from infrawright.render.emit import KeyPath, Quoted, dump

#: Namespaces every cluster has: never created by a component.
BUILT_IN_NAMESPACES = ("kube-system", "default", "flux-system")


def namespace(draft: Draft, folder: str, name: str, level: str, reason: str) -> str | None:
    """A Namespace file with Pod Security labels; None when the namespace exists."""
    if name in BUILT_IN_NAMESPACES or draft.namespace_owner(name):
        return None
    path = f"{folder}/{draft.file_name('Namespace', 'namespace.yaml', folder.rsplit('/', 1)[-1])}"
    doc = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": draft.pss_labels(level)},
    }
    comments: dict[KeyPath, str] = {
        ("metadata", "labels", PSS_PREFIX + "enforce"): "\n".join(
            textwrap.wrap(f"{level}: {reason}", width=86)
        )
    }
    draft.write(path, doc, comments)
    return path


def kustomization_file(draft: Draft, path: str, resources: list[str]) -> None:
    doc = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }
    draft.write(path, doc)


def flux_kustomization(
    draft: Draft,
    name: str,
    deps: list[tuple[str, str]],
    notes: tuple[str, ...],
    *,
    monitoring: bool,
) -> None:
    """The Flux Kustomization of a new component, appended to the cluster file; ``deps``
    are (Kustomization, why) pairs, each why written beside its dependsOn entry."""
    conv = draft.conv
    spec: dict[str, Any] = {}
    comments: dict[KeyPath, str] = {}
    if deps:
        spec["dependsOn"] = [{"name": d} for d, _ in deps]
        for i, (_d, why) in enumerate(deps):
            comments[("spec", "dependsOn", i)] = why
    spec["interval"] = conv.ks_interval.value
    if conv.ks_retry_interval.value:
        spec["retryInterval"] = conv.ks_retry_interval.value
    spec["path"] = f"./{draft.comp_dir}/{name}"
    spec["prune"] = conv.ks_prune.value
    spec["sourceRef"] = {"kind": "GitRepository", "name": "flux-system"}
    spec["wait"] = conv.monitoring_wait.value if monitoring else conv.ks_wait.value
    spec["timeout"] = conv.monitoring_timeout.value if monitoring else conv.ks_timeout.value
    doc = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": spec,
    }
    cluster_file = draft.model.cluster_file
    if cluster_file is None:
        raise InfrawrightError(
            f"{name}: no cluster file to add its Flux Kustomization to (no folder under "
            "clusters/ for this cluster, and the repository's layout does not say where "
            "components like it are wired in)",
            hint="pass --cluster NAME, or set cluster_file in .infrawright.toml",
        )
    placed = ", ".join(d for d, _ in deps) or "nothing"
    review = [f"{name} placed after {placed} in the bootstrap order", *notes]
    api = draft.api_note("Kustomization", str(doc["apiVersion"]))
    review += [api] if api else []
    header = draft.review_header(cluster_file, review)
    text = dump(doc, draft.style, comments, header)
    current = draft.changes.files.get(cluster_file)
    if current is None:
        current = (draft.model.root / cluster_file).read_bytes()
    base = current.decode("utf-8")
    newline = "\r\n" if "\r\n" in base else "\n"  # follow the file's line ends
    if base and not base.endswith("\n"):
        base += newline
    added = ("---\n" + text).replace("\n", newline)
    draft.changes.files[cluster_file] = (base + added).encode("utf-8")
    draft.added.append(name)
    if name not in draft.out.added:
        draft.out.added.append(name)
        draft.out.depends[name] = [d for d, _ in deps]


def after_cni(draft: Draft, component: str) -> list[tuple[str, str]]:
    """The dependsOn on the CNI every component here has, where the repository does so."""
    cni = draft.cni()
    if cni and cni != component and draft.conv.depend_on_cni.value:
        return [(cni, "after the CNI, as every component here")]
    return []


def plain_component(draft: Draft, op: AddPlainComponent) -> None:
    """A component folder with its Namespace and kustomization.yaml, and its Flux
    Kustomization."""
    folder = f"{draft.comp_dir}/{op.component}"
    files = []
    ns_file = namespace(draft, folder, op.namespace, op.pss_level, op.pss_reason)
    if ns_file:
        files.append(ns_file.rsplit("/", 1)[1])
    kustomization_file(draft, f"{folder}/kustomization.yaml", files)
    flux_kustomization(
        draft, op.component, after_cni(draft, op.component), op.review, monitoring=False
    )


def helm_repository(draft: Draft, folder: str, op: AddHelmComponent) -> tuple[str, str, str | None]:
    """(kind, name, namespace) of the chart source, writing one when needed."""
    wanted = op.chart.repository.rstrip("/")
    for doc in draft.model.objects():
        if doc.kind == "HelmRepository" and str(doc.spec.get("url", "")).rstrip("/") == wanted:
            return "HelmRepository", doc.name, doc.namespace
    name = repository_name(op.chart.repository, op.component)
    taken = {d.name for d in draft.model.objects() if d.kind == "HelmRepository"}
    if name in taken:
        name = op.component
    ns = source_namespace(draft, op)
    spec: dict[str, Any] = {"interval": draft.conv.helm_repository_interval.value}
    if op.chart.repository.startswith("oci://"):
        spec["type"] = "oci"
    spec["url"] = op.chart.repository
    manifest: dict[str, Any] = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }
    draft.write(
        f"{folder}/{draft.file_name('HelmRepository', 'helm-repository.yaml', op.component)}",
        manifest,
    )
    return "HelmRepository", name, ns


def oci_repository(draft: Draft, folder: str, op: AddHelmComponent) -> tuple[str, str, str | None]:
    """An OCIRepository for the chart (the repository's way for OCI charts)."""
    url = f"{op.chart.repository.rstrip('/')}/{op.chart.name}"
    for doc in draft.model.objects():
        if doc.kind == "OCIRepository" and str(doc.spec.get("url", "")).rstrip("/") == url:
            return "OCIRepository", doc.name, doc.namespace
    ns = source_namespace(draft, op)
    pinned = draft.pinned(op.chart.version)
    ref = {"tag": pinned} if pinned == op.chart.version else {"semver": Quoted(pinned)}
    manifest: dict[str, Any] = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": op.component, "namespace": ns},
        "spec": {
            "interval": draft.conv.helm_repository_interval.value,
            "url": url,
            "layerSelector": {
                "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                "operation": "copy",
            },
            "ref": ref,
        },
    }
    path = f"{folder}/{draft.file_name('OCIRepository', 'oci-repository.yaml', op.component)}"
    note = (
        f"chart {op.chart.name} {op.chart.version} is the newest version the catalog "
        f"knows; pinned as {pinned} following this repository"
    )
    draft.write(path, manifest, {("spec", "ref"): wrap_review(note)})
    return "OCIRepository", op.component, ns


def source_namespace(draft: Draft, op: AddHelmComponent) -> str:
    flux = draft.conv.helm_repository_namespace.value == "flux-system"
    return "flux-system" if flux else op.namespace


GENERIC_HOST_PARTS = {"charts", "chart", "helm", "www", "github", "io", "com", "org", "dev"}


def repository_name(url: str, fallback: str) -> str:
    """A HelmRepository name from its URL: ``https://charts.jetstack.io`` -> jetstack."""
    parsed = urlparse(url)
    host_parts = [p for p in (parsed.hostname or "").split(".") if p]
    path_parts = [p for p in parsed.path.split("/") if p]
    candidates = [p for p in host_parts[:-1] if p not in GENERIC_HOST_PARTS]
    if parsed.scheme == "oci" or not candidates:
        candidates = [p for p in path_parts if p not in GENERIC_HOST_PARTS] + candidates
    for candidate in candidates:
        name = re.sub(r"[^a-z0-9-]", "-", candidate.lower()).strip("-")
        if name:
            return name[:63]
    return fallback


def chart_reference(op: AddHelmComponent, source_kind: str) -> dict[str, Any]:
    """How a new HelmRelease names its chart: ``chartRef`` to an OCIRepository of the
    component's name, or ``chart.spec`` with the exact version and the HelmRepository."""
    if source_kind == "OCIRepository":
        return {"chartRef": {"kind": "OCIRepository", "name": op.component}}
    return {
        "chart": {
            "spec": {
                "chart": op.chart.name,
                "version": Quoted(op.chart.version),
                "sourceRef": {
                    "kind": "HelmRepository",
                    "name": repository_name(op.chart.repository, op.component),
                },
            }
        }
    }


def nested_values(dotted: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` as the nested ``spec.values`` it means."""
    out: dict[str, Any] = {}
    for path, value in dotted.items():
        set_dotted(out, path, value)
    return out


def set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value
