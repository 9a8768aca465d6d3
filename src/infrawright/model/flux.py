"""Typed views of the Flux objects infrawright reasons about.

Each type is built with ``parse_doc`` from a :class:`Document` and keeps that document,
so every finding can point back to its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infrawright.repo.documents import Document

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
FLUX_GROUPS = frozenset(
    {
        KUSTOMIZE_GROUP,
        HELM_GROUP,
        SOURCE_GROUP,
        "notification.toolkit.fluxcd.io",
        "image.toolkit.fluxcd.io",
        "source.extensions.fluxcd.io",
        "fluxcd.controlplane.io",
    }
)


def is_flux_kustomization(doc: Document) -> bool:
    return doc.kind == "Kustomization" and doc.group == KUSTOMIZE_GROUP


@dataclass(frozen=True)
class Ref:
    """A reference to another object by kind, name and namespace."""

    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


#: The GitRepository ``flux bootstrap`` creates for the repository itself.
BOOTSTRAP_SOURCE = Ref("GitRepository", "flux-system", "flux-system")


def is_this_repository(ref: Ref) -> bool:
    """Whether a source reference names the repository itself: the bootstrap
    GitRepository ``flux-system``, in whatever namespace it is referred to."""
    return ref == BOOTSTRAP_SOURCE or (
        ref.kind == "GitRepository" and ref.name == BOOTSTRAP_SOURCE.name
    )


@dataclass(frozen=True)
class FluxKustomization:
    """A ``kustomize.toolkit.fluxcd.io`` Kustomization."""

    name: str
    namespace: str
    path: str
    depends_on: tuple[Ref, ...]
    source: Ref | None
    patches: tuple[dict[str, Any], ...]
    doc: Document
    target_namespace: str | None = None
    #: For a Kustomization applying an ExternalArtifact made from this repository: how
    #: its path was found in the repository (see :mod:`infrawright.model.artifacts`).
    via: str | None = None
    #: For one whose ExternalArtifact cannot be read from this repository: why.
    unbuilt: str | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def parse_doc(cls, doc: Document, namespace: str | None = None) -> FluxKustomization:
        """``namespace`` is the one the object really gets when the file that defines it is
        included by a kustomization.yaml with ``namespace:`` (it overrides the document)."""
        spec = doc.spec
        namespace = namespace or doc.namespace or "flux-system"
        deps: list[Ref] = []
        for item in spec.get("dependsOn") or []:
            if isinstance(item, dict) and item.get("name"):
                deps.append(
                    Ref("Kustomization", str(item["name"]), str(item.get("namespace", namespace)))
                )
        source = None
        ref = spec.get("sourceRef")
        if isinstance(ref, dict) and ref.get("name"):
            source = Ref(
                str(ref.get("kind", "GitRepository")),
                str(ref["name"]),
                str(ref.get("namespace", namespace)),
            )
        patches = tuple(p for p in spec.get("patches") or [] if isinstance(p, dict))
        path = spec.get("path")
        target = spec.get("targetNamespace")
        return cls(
            name=doc.name,
            namespace=namespace,
            path=str(path) if path is not None else "",
            depends_on=tuple(deps),
            source=source,
            patches=patches,
            doc=doc,
            target_namespace=str(target) if isinstance(target, str) and target else None,
        )


@dataclass(frozen=True)
class HelmRelease:
    """A ``helm.toolkit.fluxcd.io`` HelmRelease: its chart, source and values."""

    name: str
    namespace: str | None
    chart: str
    version: str | None
    source: Ref | None
    values: dict[str, Any]
    doc: Document

    @classmethod
    def parse_doc(cls, doc: Document) -> HelmRelease:
        spec = doc.spec
        chart_spec = (spec.get("chart") or {}).get("spec") or {}
        chart = str(chart_spec.get("chart", "")) if isinstance(chart_spec, dict) else ""
        version = chart_spec.get("version") if isinstance(chart_spec, dict) else None
        source = None
        ref = chart_spec.get("sourceRef") if isinstance(chart_spec, dict) else None
        if not ref:
            ref = spec.get("chartRef")
        if isinstance(ref, dict) and ref.get("name"):
            source = Ref(
                str(ref.get("kind", "HelmRepository")),
                str(ref["name"]),
                str(ref.get("namespace") or doc.namespace or ""),
            )
            if not chart and source.kind == "OCIRepository":
                chart = source.name
        values = spec.get("values")
        return cls(
            name=doc.name,
            namespace=doc.namespace,
            chart=chart,
            version=str(version) if version is not None else None,
            source=source,
            values=values if isinstance(values, dict) else {},
            doc=doc,
        )


def dotted_get(data: Any, path: str) -> Any:
    """Value at a dotted path in nested mappings, or None."""
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


#: The Flux fields that hold a duration, by (API group, kind), as key paths under the
#: object, each with the units its CRD pattern allows: ``^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$``,
#: and without hours for the source-controller timeouts.
WITH_HOURS = ("ms", "s", "m", "h")
NO_HOURS = ("ms", "s", "m")
_INTERVAL = (("spec", "interval"), WITH_HOURS)
_SOURCE_TIMEOUT = (("spec", "timeout"), NO_HOURS)
DURATION_FIELDS: dict[tuple[str, str], tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    (KUSTOMIZE_GROUP, "Kustomization"): (
        _INTERVAL,
        (("spec", "retryInterval"), WITH_HOURS),
        (("spec", "timeout"), WITH_HOURS),
    ),
    (HELM_GROUP, "HelmRelease"): (
        _INTERVAL,
        (("spec", "timeout"), WITH_HOURS),
        (("spec", "chart", "spec", "interval"), WITH_HOURS),
        (("spec", "install", "timeout"), WITH_HOURS),
        (("spec", "install", "strategy", "retryInterval"), WITH_HOURS),
        (("spec", "upgrade", "timeout"), WITH_HOURS),
        (("spec", "upgrade", "strategy", "retryInterval"), WITH_HOURS),
        (("spec", "test", "timeout"), WITH_HOURS),
        (("spec", "rollback", "timeout"), WITH_HOURS),
        (("spec", "uninstall", "timeout"), WITH_HOURS),
    ),
    (SOURCE_GROUP, "GitRepository"): (_INTERVAL, _SOURCE_TIMEOUT),
    (SOURCE_GROUP, "HelmRepository"): (_INTERVAL, _SOURCE_TIMEOUT),
    (SOURCE_GROUP, "OCIRepository"): (_INTERVAL, _SOURCE_TIMEOUT),
    (SOURCE_GROUP, "HelmChart"): (_INTERVAL,),
    (SOURCE_GROUP, "Bucket"): (_INTERVAL, _SOURCE_TIMEOUT),
}
