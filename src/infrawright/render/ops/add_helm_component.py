"""add-helm-component: a new component installed from a Helm chart.

Renders the component folder (Namespace with Pod Security labels, chart source, pinned
HelmRelease, a CiliumNetworkPolicy where the chart registers webhooks), its Flux
Kustomization with computed dependsOn, and ``<component>-monitoring`` from the catalog's
metrics facts.

Must hold afterwards: the component's Kustomization exists and builds its HelmRelease;
the chart is installed exactly once in the cluster; the release's chart version admits
the version asked for; every value asked for is set; nothing else changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infrawright.catalog import CatalogEntry
from infrawright.model.flux import dotted_get
from infrawright.model.layout import Wiring
from infrawright.model.versions import admits
from infrawright.plan.model import AddHelmComponent
from infrawright.render.beside import beside_app
from infrawright.render.bundle import bundle_component
from infrawright.render.draft import MONITORING_GROUP, SUFFIX, Draft, Rendered, wrap_review
from infrawright.render.emit import KeyPath, Quoted
from infrawright.render.monitors import monitor_kind, monitoring_component, unknown_selector
from infrawright.render.ops.base import Check, Operation, Settled, check
from infrawright.render.overlay import overlay_component
from infrawright.render.shapes import (
    after_cni,
    flux_kustomization,
    helm_repository,
    kustomization_file,
    namespace,
    oci_repository,
    set_dotted,
)
from infrawright.validate.context import runs_cilium


def render(draft: Draft, op: AddHelmComponent) -> None:
    if op.component in draft.ks_names() or op.component in draft.model.components:
        draft.noop(f"component {op.component} already exists")
        return
    c = op.component
    folder = f"{draft.comp_dir}/{c}"
    entry = draft.model.catalog.get(op.catalog) if op.catalog else None
    choice = draft.placement(entry)
    placement = choice.placement if choice else None
    if placement is not None and placement.wiring is Wiring.OVERLAY and placement.overlay:
        overlay_component(draft, op, placement, draft.exemplar(op.chart.repository))
        return
    if placement is not None and placement.wiring is Wiring.BUNDLE and placement.folder.value:
        bundle_component(draft, op, placement, draft.exemplar(op.chart.name))
        return
    if choice is not None and placement is not None and placement.wiring is Wiring.BESIDE_APP:
        target = choice.namespace or op.namespace
        draft.note(f"{c} goes where components like it live: {choice.why}")
        beside_app(draft, op, placement, target, draft.exemplar(op.chart.name))
        return
    files: list[str] = []
    ns_file = namespace(draft, folder, op.namespace, op.pss_level, op.pss_reason)
    if ns_file:
        files.append(ns_file.rsplit("/", 1)[1])
    oci = op.chart.repository.startswith("oci://")
    if oci and draft.conv.oci_source.value == "OCIRepository":
        kind, repo_name, repo_ns = oci_repository(draft, folder, op)
        files.append(draft.file_name("OCIRepository", "oci-repository.yaml", c))
    else:
        kind, repo_name, repo_ns = helm_repository(draft, folder, op)
        repo_file = draft.file_name("HelmRepository", "helm-repository.yaml", c)
        if f"{folder}/{repo_file}" in draft.changes.files:
            files.append(repo_file)
    release_file = draft.file_name("HelmRelease", "helm-release.yaml", c)
    _helm_release(draft, f"{folder}/{release_file}", op, entry, kind, repo_name, repo_ns)
    files.append(release_file)
    deps = after_cni(draft, c)
    cni = draft.cni()
    owner = draft.namespace_owner(op.namespace)
    if owner:
        deps.append((owner, f"creates namespace {op.namespace}"))
    if entry and entry.webhooks and not runs_cilium(draft.model, draft.analysis.index):
        draft.note(
            f"{c} registers admission webhooks; this cluster does not run Cilium, so no "
            "CiliumNetworkPolicy was written (make sure your CNI lets the API server in)"
        )
    elif entry and entry.webhooks:
        files.append(_webhook_policy(draft, folder, op, entry))
        if cni and cni not in {d for d, _ in deps}:
            deps.append((cni, "CiliumNetworkPolicy CRD"))
        elif cni:
            deps = [(d, "CiliumNetworkPolicy CRD" if d == cni else why) for d, why in deps]
    for required in entry.requires if entry else ():
        provider = draft.installs(required)
        if provider and provider not in {d for d, _ in deps}:
            deps.append((provider, f"{c} needs {required}"))
        elif not provider:
            draft.note(f"{c} needs {required}, which this repository does not install")
    kustomization_file(draft, f"{folder}/kustomization.yaml", files)
    flux_kustomization(draft, c, deps, (), monitoring=False)
    if op.monitoring and entry and entry.metrics:
        _monitoring(draft, op, entry)


def _helm_release(
    draft: Draft,
    path: str,
    op: AddHelmComponent,
    entry: CatalogEntry | None,
    kind: str,
    repo_name: str,
    repo_ns: str | None,
) -> None:
    conv = draft.conv
    retries = conv.remediation_retries.value
    version = draft.pinned(op.chart.version)
    quoted = Quoted(version) if conv.version_quoted.value else version
    source: dict[str, Any] = {"kind": kind, "name": repo_name}
    if repo_ns:
        source["namespace"] = repo_ns
    values: dict[str, Any] = {}
    comments: dict[KeyPath, str] = {}
    for dotted, value in op.values.items():
        set_dotted(values, dotted, value)
    if entry and entry.metrics and entry.metrics.chart_monitors == "off":
        split = op.monitoring and bool(draft.providers(MONITORING_GROUP))
        monitor = monitor_kind(entry.metrics)
        why = (
            f"the {monitor} lives in {op.component}{SUFFIX}"
            if split
            else "monitoring objects belong in a <component>-monitoring Kustomization"
        )
        for dotted in entry.metrics.servicemonitor_values:
            set_dotted(values, dotted, False)
            comments[("spec", "values", *dotted.split("."))] = why
        for dotted, value in entry.metrics.service_values.items():
            set_dotted(values, dotted, value)
            what = "metrics port" if entry.metrics.scrape == "pods" else "metrics Service"
            comments[("spec", "values", *dotted.split("."))] = (
                f"keeps the {what} the {monitor} in {op.component}{SUFFIX} selects"
            )
    spec: dict[str, Any] = {"interval": conv.helm_release_interval.value}
    if kind == "OCIRepository":
        spec["chartRef"] = source
    else:
        spec["chart"] = {"spec": {"chart": op.chart.name, "version": quoted, "sourceRef": source}}
        note = (
            f"chart {op.chart.name} {op.chart.version} is the newest version the catalog "
            f"knows; pinned as {version} following this repository"
        )
        comments[("spec", "chart", "spec", "version")] = wrap_review(note)
    spec["install"] = {"remediation": {"retries": retries}}
    spec["upgrade"] = {"remediation": {"retries": retries}}
    if entry is not None and entry.provides and not entry.crd_values:
        # CRDs in the chart's crds/ folder: Helm installs them once and never upgrades
        # them unless the release says so.
        spec["install"] = {"crds": "CreateReplace", **spec["install"]}
        spec["upgrade"] = {"crds": "CreateReplace", **spec["upgrade"]}
        comments[("spec", "upgrade", "crds")] = (
            "CRDs a chart keeps in crds/ are upgraded only with CreateReplace"
        )
    if values:
        spec["values"] = values
    doc: dict[str, Any] = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": op.release_name or op.component, "namespace": op.namespace},
        "spec": spec,
    }
    api = draft.api_note("HelmRelease", str(doc["apiVersion"]))
    header = draft.review_header(path, [*op.review, *([api] if api else [])])
    draft.write(path, doc, comments, header)


def _webhook_policy(draft: Draft, folder: str, op: AddHelmComponent, entry: CatalogEntry) -> str:
    """The CiliumNetworkPolicy that lets the API server reach the chart's webhooks."""
    ports = sorted({w.container_port for w in entry.webhooks})
    dns = {
        "toEndpoints": [
            {
                "matchLabels": {
                    "k8s:io.kubernetes.pod.namespace": "kube-system",
                    "k8s:k8s-app": "kube-dns",
                }
            }
        ],
        "toPorts": [
            {"ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}]}
        ],
    }
    api = [{"port": "443", "protocol": "TCP"}, {"port": "6443", "protocol": "TCP"}]
    doc = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "allow-k8s-api", "namespace": op.namespace},
        "spec": {
            "endpointSelector": {},
            "ingress": [
                {
                    "fromEntities": ["kube-apiserver", "host"],
                    "toPorts": [{"ports": [{"port": str(p), "protocol": "TCP"} for p in ports]}],
                },
                {"fromEndpoints": [{}]},
            ],
            "egress": [
                {"toEntities": ["kube-apiserver"], "toPorts": [{"ports": api}]},
                dns,
                {"toEndpoints": [{}]},
            ],
        },
    }
    hooks = ", ".join(f"{w.name} {w.service_port}->{w.container_port}" for w in entry.webhooks)
    note = (
        f"CiliumNetworkPolicy for webhook admission ({hooks}); Cilium sees the pod port "
        "after the Service translation. Egress is limited to the API server, DNS and "
        "the namespace: widen it if the component calls out"
    )
    if draft.conv.network_policy_layout.value == "folder":
        sub = f"{folder}/cilium-network-policies"
        path = f"{sub}/allow-k8s-api.yaml"
        draft.write(path, doc, header=draft.review_header(path, [note]))
        kustomization_file(draft, f"{sub}/kustomization.yaml", ["allow-k8s-api.yaml"])
        return "cilium-network-policies"
    name = draft.file_name("CiliumNetworkPolicy", "cilium-network-policy.yaml", op.component)
    path = f"{folder}/{name}"
    draft.write(path, doc, header=draft.review_header(path, [note]))
    return name


def _monitoring(draft: Draft, op: AddHelmComponent, entry: CatalogEntry) -> None:
    assert entry.metrics is not None
    kind = monitor_kind(entry.metrics)
    if entry.metrics.chart_monitors == "keep":
        draft.note(f"{op.component} monitors itself as its chart intends; no {kind} written")
        return
    if not draft.providers(MONITORING_GROUP):
        draft.note(
            f"{op.component} has metrics, but no monitoring stack is installed here; "
            f"no {kind} written"
        )
        return
    if not entry.metrics.selector:
        draft.note(unknown_selector(entry))
        return
    monitoring_component(draft, op.component, op.namespace, entry, service_monitor=True)


def holds(op: AddHelmComponent, settled: Settled) -> Iterator[Check]:
    c = op.component
    if c in {ks.name for ks in settled.before.model.kustomizations}:
        yield check(f"component {c} already exists", True)
        return
    release_name = op.release_name or c
    by = settled.rendered.built_by.get(c, c)
    yield check(
        f"Flux Kustomization {by} exists and builds",
        by in settled.after.builds and settled.after.builds[by].error is None,
        f"no build of {by} in the changed tree",
    )
    releases = [r for label, r in settled.releases() if label == by and r.name == release_name]
    yield check(
        f"HelmRelease {release_name} is built by {by}",
        len(releases) == 1,
        f"{len(releases)} HelmRelease(s) named {release_name} in the build of {by}",
    )
    same = [
        label
        for label, r in settled.releases()
        if (settled.catalog_name(r) == op.catalog if op.catalog else r.chart == op.chart.name)
    ]
    yield check(
        f"chart {op.chart.name} is installed once",
        len(same) == 1,
        f"installed by {', '.join(same) or 'nothing'}",
    )
    entry = settled.after.model.catalog.get(op.catalog) if op.catalog else None
    for group in sorted({g.group for g in entry.provides}) if entry else ():
        # Two installations owning one set of CRDs break a cluster, whatever the charts.
        after = settled.after.index.providers_of(group)
        before = settled.before.index.providers_of(group)
        yield check(
            f"CRD group {group} has one provider",
            len(after) <= max(1, len(before)),
            f"provided by {', '.join(after)}",
        )
    if not releases:
        return
    release = releases[0]
    version = release.version
    if version is None:
        version = _oci_version(settled, by, release.doc.spec.get("chartRef"))
    yield check(
        f"its chart version admits {op.chart.version}",
        version is not None and admits(version, op.chart.version),
        f"the release asks for {version!r}",
    )
    wanted = {**op.values, **op.cluster_values.get(settled.after.model.cluster or "", {})}
    for dotted, value in sorted(wanted.items()):
        got = dotted_get(release.values, dotted)
        yield check(f"{release_name}: {dotted} is {value!r}", got == value, f"it is {got!r}")


def _oci_version(settled: Settled, label: str, chart_ref: Any) -> str | None:
    """The version (tag or semver range) of the OCIRepository a release's chartRef names."""
    name = chart_ref.get("name") if isinstance(chart_ref, dict) else None
    for obj in settled.objects(label, "OCIRepository"):
        if obj.name != name:
            continue
        ref = obj.spec.get("ref") or {}
        if isinstance(ref, dict):
            found = ref.get("semver") or ref.get("tag")
            return str(found) if found else None
    return None


def scope(op: AddHelmComponent, rendered: Rendered) -> set[str]:
    bundle = rendered.built_by.get(op.component)
    return {op.component, f"{op.component}{SUFFIX}", *([bundle] if bundle else [])}


OPERATION = Operation(AddHelmComponent, render, holds, scope)
