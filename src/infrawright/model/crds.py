"""Who installs which custom resource kinds, and who uses them.

Providers come from three places: the chart catalog (a HelmRelease of a known chart
installs that chart's API groups), CustomResourceDefinition manifests in a
Kustomization's own output, and the repository config. Consumers are the API groups of
the objects each Kustomization's build produces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from infrawright.catalog import Catalog
from infrawright.model.flux import FLUX_GROUPS, HELM_GROUP, HelmRelease
from infrawright.repo.documents import Document

#: API groups every Kubernetes API server serves: nobody needs to install them.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)


@dataclass(frozen=True)
class Provision:
    """One Kustomization installs one API group (all kinds when ``kinds`` is empty)."""

    provider: str
    group: str
    kinds: tuple[str, ...]
    via: str


@dataclass(frozen=True)
class Use:
    """A Kustomization's object of a custom kind, and who can provide that kind."""

    consumer: str
    group: str
    kind: str
    obj: Document
    providers: tuple[str, ...]


@dataclass(frozen=True)
class CrdIndex:
    """Provider index (group -> provisions) and consumer index (ks -> uses)."""

    provisions: tuple[Provision, ...]
    uses: Mapping[str, tuple[Use, ...]] = field(default_factory=dict)
    unprovided: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def providers_of(self, group: str) -> list[str]:
        return sorted({p.provider for p in self.provisions if p.group == group})

    def groups_of(self, provider: str) -> list[str]:
        return sorted({p.group for p in self.provisions if p.provider == provider})

    def crd_edges(self) -> set[tuple[str, str]]:
        """(consumer, provider) pairs that exist because of a custom kind."""
        return {(u.consumer, p) for uses in self.uses.values() for u in uses for p in u.providers}


def catalog_provisions(
    catalog: Catalog, owner: str, objects: Iterable[Document], repos: Mapping[str, str]
) -> list[Provision]:
    """What the HelmReleases among ``objects`` install, according to the catalog."""
    out: list[Provision] = []
    for doc in objects:
        if doc.kind != "HelmRelease" or doc.group != HELM_GROUP:
            continue
        release = HelmRelease.parse_doc(doc)
        url = repos.get(release.source.name) if release.source else None
        entry = catalog.for_chart(release.chart, url)
        if entry is None:
            continue
        for api in entry.provides:
            via = f"catalog entry {entry.name!r} (HelmRelease {release.name})"
            out.append(Provision(owner, api.group, api.kinds, via))
    return out


def crd_provisions(owner: str, objects: Iterable[Document]) -> list[Provision]:
    """CustomResourceDefinition manifests a Kustomization applies itself."""
    out: list[Provision] = []
    for doc in objects:
        if doc.kind != "CustomResourceDefinition":
            continue
        spec = doc.spec
        group = spec.get("group")
        kind = (spec.get("names") or {}).get("kind")
        if isinstance(group, str) and isinstance(kind, str):
            out.append(Provision(owner, group, (kind,), f"CRD manifest {doc.file}"))
    return out


def build_index(
    catalog: Catalog,
    outputs: Mapping[str, tuple[Document, ...]],
    helm_repositories: Mapping[str, str],
    configured: Mapping[str, tuple[str, ...]],
) -> CrdIndex:
    """Index providers and consumers from every Kustomization's built objects."""
    provisions: list[Provision] = []
    for owner, objects in outputs.items():
        provisions += catalog_provisions(catalog, owner, objects, helm_repositories)
        provisions += crd_provisions(owner, objects)
    for owner, groups in configured.items():
        provisions += [Provision(owner, g, (), "repository config") for g in groups]
    by_group: dict[str, set[str]] = {}
    for p in provisions:
        by_group.setdefault(p.group, set()).add(p.provider)

    uses: dict[str, tuple[Use, ...]] = {}
    unprovided: dict[str, tuple[str, ...]] = {}
    for consumer, objects in outputs.items():
        found: list[Use] = []
        missing: set[str] = set()
        for doc in objects:
            group = doc.group
            if group in BUILTIN_GROUPS or group in FLUX_GROUPS:
                continue
            providers = by_group.get(group, set())
            if consumer in providers:
                continue
            if not providers:
                missing.add(f"{group}/{doc.kind}")
                continue
            found.append(Use(consumer, group, doc.kind, doc, tuple(sorted(providers))))
        uses[consumer] = tuple(found)
        if missing:
            unprovided[consumer] = tuple(sorted(missing))
    return CrdIndex(tuple(provisions), uses, unprovided)
