"""The engine: render a Plan into a Changeset in the repository's own style.

dependsOn is computed, never guessed: CRD providers of every kind the new objects use
(from the CRD index), components the chart requires (catalog), and what the repository's
conventions require (every Kustomization after the CNI).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from infrawright.catalog import CatalogEntry
from infrawright.catalog.schema import Metrics
from infrawright.model.conventions import PSS_PREFIX, Conventions, pin_as
from infrawright.model.flux import HelmRelease
from infrawright.plan.model import AddHelmComponent, AddPlainComponent, Plan
from infrawright.render.changeset import Changeset, Review
from infrawright.render.emit import KeyPath, Quoted, Style, dump
from infrawright.validate.context import helm_repository_urls, runs_cilium
from infrawright.validate.engine import Analysis

CILIUM_GROUP = "cilium.io"
MONITORING_GROUP = "monitoring.coreos.com"


@dataclass
class Rendered:
    """A rendered plan: the changes, the Kustomizations it adds, and why it is a no-op."""

    changes: Changeset = field(default_factory=Changeset)
    added: list[str] = field(default_factory=list)
    depends: dict[str, list[str]] = field(default_factory=dict)
    noop: list[str] = field(default_factory=list)


def wrap_review(note: str) -> str:
    lines = textwrap.wrap(f"REVIEW: {note}", width=88, subsequent_indent="  ")
    return "\n".join(lines)


class Renderer:
    """Renders operations for one repository, following its conventions."""

    def __init__(self, analysis: Analysis, conventions: Conventions) -> None:
        self.analysis = analysis
        self.model = analysis.model
        self.conv = conventions
        self.style = Style(indent_sequences=bool(conventions.sequence_indent.value))
        self.out = Rendered()
        self.comp_dir = self.model.config.components_dir.strip("/")

    # -- helpers ---------------------------------------------------------------------
    def _file(self, kind: str, default: str) -> str:
        conv = self.conv.file_names.get(kind)
        return str(conv.value) if conv and conv.value else default

    def _write(
        self,
        path: str,
        doc: dict[str, Any],
        comments: dict[KeyPath, str] | None = None,
        header: tuple[str, ...] = (),
    ) -> None:
        comments = comments or {}
        for note in comments.values():
            for line in note.splitlines():
                if line.startswith("REVIEW: "):
                    self.out.changes.reviews.append(Review(path, None, _unwrap(note)))
                    break
        self.out.changes.write(path, dump(doc, self.style, comments, header))

    def _review_header(self, path: str, notes: list[str]) -> tuple[str, ...]:
        lines: list[str] = []
        for note in notes:
            self.out.changes.reviews.append(Review(path, None, note))
            lines.extend(wrap_review(note).splitlines())
        return tuple(lines)

    def ks_names(self) -> set[str]:
        return {ks.name for ks in self.model.kustomizations} | set(self.out.added)

    def providers(self, group: str) -> list[str]:
        return self.analysis.index.providers_of(group)

    def cni(self) -> str | None:
        found = self.providers(CILIUM_GROUP)
        return found[0] if found else None

    def installs(self, catalog_name: str) -> str | None:
        """The Kustomization whose HelmRelease installs a catalog chart."""
        urls = helm_repository_urls(self.model)
        for build in self.analysis.builds.values():
            for obj in build.objects:
                if obj.kind != "HelmRelease":
                    continue
                release = HelmRelease.parse_doc(obj)
                url = urls.get(release.source.name) if release.source else None
                entry = self.model.catalog.for_chart(release.chart, url)
                if entry is not None and entry.name == catalog_name:
                    return build.kustomization.name
        return None

    def pss_labels(self, level: str) -> dict[str, str]:
        keys = tuple(self.conv.pss_labels.value)
        labels: dict[str, str] = {}
        for key in keys:
            suffix = key[len(PSS_PREFIX) :]
            labels[key] = str(self.conv.pss_version.value) if suffix.endswith("-version") else level
        labels.setdefault(PSS_PREFIX + "enforce", level)
        return labels

    # -- operations ------------------------------------------------------------------
    def render(self, plan: Plan) -> Rendered:
        for op in plan.ops:
            if isinstance(op, AddHelmComponent | AddPlainComponent):
                self.render_op(op)
        self.out.changes.locate_reviews()
        return self.out

    def render_op(self, op: AddHelmComponent | AddPlainComponent) -> None:
        if op.component in self.ks_names() or op.component in self.model.components:
            self.out.noop.append(f"component {op.component} already exists")
            return
        if isinstance(op, AddHelmComponent):
            self.helm_component(op)
        elif isinstance(op, AddPlainComponent):
            self.plain_component(op)

    def namespace_owner(self, name: str) -> str | None:
        """The Kustomization that already creates Namespace ``name``, if any."""
        for build in self.analysis.builds.values():
            if any(o.kind == "Namespace" and o.name == name for o in build.objects):
                return build.kustomization.name
        return None

    def namespace(self, folder: str, name: str, level: str, reason: str) -> str | None:
        if name in ("kube-system", "default", "flux-system") or self.namespace_owner(name):
            return None
        path = f"{folder}/{self._file('Namespace', 'namespace.yaml')}"
        doc = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": self.pss_labels(level)},
        }
        comments: dict[KeyPath, str] = {
            ("metadata", "labels", PSS_PREFIX + "enforce"): "\n".join(
                textwrap.wrap(f"{level}: {reason}", width=86)
            )
        }
        self._write(path, doc, comments)
        return path

    def helm_repository(self, folder: str, op: AddHelmComponent) -> tuple[str, str, str | None]:
        """(kind, name, namespace) of the chart source, writing one when needed."""
        wanted = op.chart.repository.rstrip("/")
        for doc in self.model.objects():
            if doc.kind == "HelmRepository" and str(doc.spec.get("url", "")).rstrip("/") == wanted:
                return "HelmRepository", doc.name, doc.namespace
        name = repository_name(op.chart.repository, op.component)
        taken = {d.name for d in self.model.objects() if d.kind == "HelmRepository"}
        if name in taken:
            name = op.component
        namespace = (
            "flux-system"
            if self.conv.helm_repository_namespace.value == "flux-system"
            else op.namespace
        )
        spec: dict[str, Any] = {"interval": self.conv.helm_repository_interval.value}
        if op.chart.repository.startswith("oci://"):
            spec["type"] = "oci"
        spec["url"] = op.chart.repository
        manifest: dict[str, Any] = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
        self._write(f"{folder}/{self._file('HelmRepository', 'helm-repository.yaml')}", manifest)
        return "HelmRepository", name, namespace

    def oci_repository(self, folder: str, op: AddHelmComponent) -> tuple[str, str, str | None]:
        """An OCIRepository for the chart (the repository's way for OCI charts)."""
        url = f"{op.chart.repository.rstrip('/')}/{op.chart.name}"
        for doc in self.model.objects():
            if doc.kind == "OCIRepository" and str(doc.spec.get("url", "")).rstrip("/") == url:
                return "OCIRepository", doc.name, doc.namespace
        namespace = (
            "flux-system"
            if self.conv.helm_repository_namespace.value == "flux-system"
            else op.namespace
        )
        pinned = self.pinned(op.chart.version)
        ref = {"tag": pinned} if pinned == op.chart.version else {"semver": Quoted(pinned)}
        manifest: dict[str, Any] = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": op.component, "namespace": namespace},
            "spec": {
                "interval": self.conv.helm_repository_interval.value,
                "url": url,
                "layerSelector": {
                    "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "operation": "copy",
                },
                "ref": ref,
            },
        }
        path = f"{folder}/{self._file('OCIRepository', 'oci-repository.yaml')}"
        note = (
            f"chart {op.chart.name} {op.chart.version} is the newest version the catalog "
            f"knows; pinned as {pinned} following this repository"
        )
        self._write(path, manifest, {("spec", "ref"): wrap_review(note)})
        return "OCIRepository", op.component, namespace

    def pinned(self, version: str) -> str:
        return pin_as(version, str(self.conv.version_style.value))

    def helm_component(self, op: AddHelmComponent) -> None:
        c = op.component
        folder = f"{self.comp_dir}/{c}"
        entry = self.model.catalog.get(op.catalog) if op.catalog else None
        files: list[str] = []
        ns_file = self.namespace(folder, op.namespace, op.pss_level, op.pss_reason)
        if ns_file:
            files.append(ns_file.rsplit("/", 1)[1])
        oci = op.chart.repository.startswith("oci://")
        if oci and self.conv.oci_source.value == "OCIRepository":
            kind, repo_name, repo_ns = self.oci_repository(folder, op)
            files.append(self._file("OCIRepository", "oci-repository.yaml"))
        else:
            kind, repo_name, repo_ns = self.helm_repository(folder, op)
            if f"{folder}/{self._file('HelmRepository', 'helm-repository.yaml')}" in (
                self.out.changes.files
            ):
                files.append(self._file("HelmRepository", "helm-repository.yaml"))
        release_file = self._file("HelmRelease", "helm-release.yaml")
        self.helm_release(f"{folder}/{release_file}", op, entry, kind, repo_name, repo_ns)
        files.append(release_file)
        deps: list[tuple[str, str]] = []
        cni = self.cni()
        if cni and cni != c and self.conv.depend_on_cni.value:
            deps.append((cni, "after the CNI, as every component here"))
        owner = self.namespace_owner(op.namespace)
        if owner:
            deps.append((owner, f"creates namespace {op.namespace}"))
        if entry and entry.webhooks and not runs_cilium(self.model, self.analysis.index):
            self.out.changes.messages.append(
                f"{c} registers admission webhooks; this cluster does not run Cilium, so no "
                "CiliumNetworkPolicy was written (make sure your CNI lets the API server in)"
            )
        elif entry and entry.webhooks:
            files.append(self.webhook_policy(folder, op, entry))
            if cni and cni not in {d for d, _ in deps}:
                deps.append((cni, "CiliumNetworkPolicy CRD"))
            elif cni:
                deps = [(d, "CiliumNetworkPolicy CRD" if d == cni else why) for d, why in deps]
        for required in entry.requires if entry else ():
            provider = self.installs(required)
            if provider and provider not in {d for d, _ in deps}:
                deps.append((provider, f"{c} needs {required}"))
            elif not provider:
                self.out.changes.messages.append(
                    f"{c} needs {required}, which this repository does not install"
                )
        kfile = f"{folder}/kustomization.yaml"
        self.kustomization_file(kfile, files)
        self.flux_kustomization(c, deps, (), monitoring=False)
        if op.monitoring and entry and entry.metrics:
            self.monitoring(op, entry)

    def helm_release(
        self,
        path: str,
        op: AddHelmComponent,
        entry: CatalogEntry | None,
        kind: str,
        repo_name: str,
        repo_ns: str | None,
    ) -> None:
        retries = self.conv.remediation_retries.value
        version = self.pinned(op.chart.version)
        quoted = Quoted(version) if self.conv.version_quoted.value else version
        source: dict[str, Any] = {"kind": kind, "name": repo_name}
        if repo_ns:
            source["namespace"] = repo_ns
        values: dict[str, Any] = {}
        comments: dict[KeyPath, str] = {}
        for dotted, value in op.values.items():
            _set_dotted(values, dotted, value)
        if entry and entry.metrics and entry.metrics.chart_monitors == "off":
            split = op.monitoring and bool(self.providers(MONITORING_GROUP))
            monitor = monitor_kind(entry.metrics)
            why = (
                f"the {monitor} lives in {op.component}-monitoring"
                if split
                else "monitoring objects belong in a <component>-monitoring Kustomization"
            )
            for dotted in entry.metrics.servicemonitor_values:
                _set_dotted(values, dotted, False)
                comments[("spec", "values", *dotted.split("."))] = why
            for dotted, value in entry.metrics.service_values.items():
                _set_dotted(values, dotted, value)
                what = "metrics port" if entry.metrics.scrape == "pods" else "metrics Service"
                comments[("spec", "values", *dotted.split("."))] = (
                    f"keeps the {what} the {monitor} in {op.component}-monitoring selects"
                )
        spec: dict[str, Any] = {"interval": self.conv.helm_release_interval.value}
        if kind == "OCIRepository":
            spec["chartRef"] = source
        else:
            spec["chart"] = {
                "spec": {"chart": op.chart.name, "version": quoted, "sourceRef": source}
            }
            note = (
                f"chart {op.chart.name} {op.chart.version} is the newest version the catalog "
                f"knows; pinned as {version} following this repository"
            )
            comments[("spec", "chart", "spec", "version")] = wrap_review(note)
        spec["install"] = {"remediation": {"retries": retries}}
        spec["upgrade"] = {"remediation": {"retries": retries}}
        if entry is not None and entry.provides and not entry.crd_values:
            # CRDs in the chart's crds/ folder: Helm installs them once and never
            # upgrades them unless the release says so.
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
        header = self._review_header(path, list(op.review))
        self._write(path, doc, comments, header)

    def webhook_policy(self, folder: str, op: AddHelmComponent, entry: CatalogEntry) -> str:
        ports = sorted({w.container_port for w in entry.webhooks})
        doc = {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "allow-k8s-api", "namespace": op.namespace},
            "spec": {
                "endpointSelector": {},
                "ingress": [
                    {
                        "fromEntities": ["kube-apiserver", "host"],
                        "toPorts": [
                            {"ports": [{"port": str(p), "protocol": "TCP"} for p in ports]}
                        ],
                    },
                    {"fromEndpoints": [{}]},
                ],
                "egress": [
                    {
                        "toEntities": ["kube-apiserver"],
                        "toPorts": [
                            {
                                "ports": [
                                    {"port": "443", "protocol": "TCP"},
                                    {"port": "6443", "protocol": "TCP"},
                                ]
                            }
                        ],
                    },
                    {
                        "toEndpoints": [
                            {
                                "matchLabels": {
                                    "k8s:io.kubernetes.pod.namespace": "kube-system",
                                    "k8s:k8s-app": "kube-dns",
                                }
                            }
                        ],
                        "toPorts": [
                            {
                                "ports": [
                                    {"port": "53", "protocol": "UDP"},
                                    {"port": "53", "protocol": "TCP"},
                                ]
                            }
                        ],
                    },
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
        if self.conv.network_policy_layout.value == "folder":
            sub = f"{folder}/cilium-network-policies"
            self._write(
                f"{sub}/allow-k8s-api.yaml",
                doc,
                header=self._review_header(f"{sub}/allow-k8s-api.yaml", [note]),
            )
            self.kustomization_file(f"{sub}/kustomization.yaml", ["allow-k8s-api.yaml"])
            return "cilium-network-policies"
        name = self._file("CiliumNetworkPolicy", "cilium-network-policy.yaml")
        path = f"{folder}/{name}"
        self._write(path, doc, header=self._review_header(path, [note]))
        return name

    def kustomization_file(self, path: str, resources: list[str]) -> None:
        doc = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        }
        self._write(path, doc)

    def flux_kustomization(
        self,
        name: str,
        deps: list[tuple[str, str]],
        notes: tuple[str, ...],
        *,
        monitoring: bool,
    ) -> None:
        conv = self.conv
        spec: dict[str, Any] = {}
        comments: dict[KeyPath, str] = {}
        if deps:
            spec["dependsOn"] = [{"name": d} for d, _ in deps]
            for i, (_d, why) in enumerate(deps):
                comments[("spec", "dependsOn", i)] = why
        spec["interval"] = conv.ks_interval.value
        if conv.ks_retry_interval.value:
            spec["retryInterval"] = conv.ks_retry_interval.value
        spec["path"] = f"./{self.comp_dir}/{name}"
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
        cluster_file = self.model.cluster_file
        assert cluster_file is not None
        placed = ", ".join(d for d, _ in deps) or "nothing"
        review = [f"{name} placed after {placed} in the bootstrap order", *notes]
        header = self._review_header(cluster_file, review)
        text = dump(doc, self.style, comments, header)
        current = self.out.changes.files.get(cluster_file)
        if current is None:
            current = (self.model.root / cluster_file).read_bytes()
        base = current.decode("utf-8")
        newline = "\r\n" if "\r\n" in base else "\n"  # follow the file's line ends
        if base and not base.endswith("\n"):
            base += newline
        added = ("---\n" + text).replace("\n", newline)
        self.out.changes.files[cluster_file] = (base + added).encode("utf-8")
        self.out.added.append(name)
        self.out.depends[name] = [d for d, _ in deps]

    def monitoring(self, op: AddHelmComponent, entry: CatalogEntry) -> None:
        assert entry.metrics is not None
        kind = monitor_kind(entry.metrics)
        if entry.metrics.chart_monitors == "keep":
            self.out.changes.messages.append(
                f"{op.component} monitors itself as its chart intends; no {kind} written"
            )
            return
        if not self.providers(MONITORING_GROUP):
            self.out.changes.messages.append(
                f"{op.component} has metrics, but no monitoring stack is installed here; "
                f"no {kind} written"
            )
            return
        if not entry.metrics.selector:
            self.out.changes.messages.append(unknown_selector(entry))
            return
        self.monitoring_component(op.component, op.namespace, entry, service_monitor=True)

    def monitoring_labels(self, kind: str) -> dict[str, str]:
        """Labels every existing object of ``kind`` carries (e.g. ``release: ...`` that a
        Prometheus selects rules by); empty when the repository has none."""
        labels = [
            dict(d.metadata.get("labels") or {})
            for d in self.model.objects()
            if d.kind == kind and d.group == MONITORING_GROUP
        ]
        if not labels:
            return {}
        common = {k: v for k, v in labels[0].items() if all(x.get(k) == v for x in labels)}
        return {str(k): str(v) for k, v in common.items()}

    def write_monitor(
        self, folder: str, component: str, namespace: str, entry: CatalogEntry
    ) -> str:
        """Write the ServiceMonitor or PodMonitor of ``entry`` into ``folder``, with a
        REVIEW note on where its selector came from; its file name."""
        metrics = entry.metrics
        assert metrics is not None
        kind = monitor_kind(metrics)
        endpoint: dict[str, Any] = {}
        if metrics.port_name:
            endpoint["port"] = metrics.port_name
        elif kind == "PodMonitor" and isinstance(metrics.port, int):
            endpoint["portNumber"] = metrics.port
        else:
            endpoint["port" if kind == "PodMonitor" else "targetPort"] = metrics.port
        endpoint["path"] = metrics.path
        if kind == "PodMonitor":
            name = self._file(kind, "podmonitor.yaml")
            labels = self.monitoring_labels(kind) or self.monitoring_labels("ServiceMonitor")
            target = "the chart's pods and their metrics port"
        else:
            name = self._file(kind, "servicemonitor.yaml")
            labels = self.monitoring_labels(kind)
            target = "the chart's metrics Service"
        doc = _monitor(kind, component, namespace, labels, dict(metrics.selector), endpoint)
        note = (
            f"selector and port from the catalog entry for {entry.name}; check them "
            f"against {target}"
        )
        path = f"{folder}/{name}"
        self._write(path, doc, header=self._review_header(path, [note]))
        return name

    def prometheus_rule(
        self, component: str, namespace: str, rules: list[dict[str, Any]]
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": component, "namespace": namespace}
        labels = self.monitoring_labels("PrometheusRule")
        if labels:
            meta["labels"] = labels
        return {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": meta,
            "spec": {"groups": [{"name": component, "rules": rules}]},
        }

    def monitoring_component(
        self,
        component: str,
        namespace: str,
        entry: CatalogEntry | None,
        *,
        service_monitor: bool,
        rules: list[dict[str, Any]] | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        """A new ``<component>-monitoring`` folder and its Flux Kustomization."""
        stacks = self.providers(MONITORING_GROUP)
        name = f"{component}-monitoring"
        folder = f"{self.comp_dir}/{name}"
        files: list[str] = []
        kind = "ServiceMonitor"
        if (
            service_monitor
            and entry is not None
            and entry.metrics is not None
            and entry.metrics.chart_monitors == "off"
            and entry.metrics.selector
        ):
            kind = monitor_kind(entry.metrics)
            sm_file = self.write_monitor(folder, component, namespace, entry)
            files.append(sm_file)
        if rules:
            rule_file = self._file("PrometheusRule", "prometheus-rules.yaml")
            path = f"{folder}/{rule_file}"
            self._write(path, self.prometheus_rule(component, namespace, rules))
            files.append(rule_file)
        self.kustomization_file(f"{folder}/kustomization.yaml", files)
        deps = [(stacks[0], f"{kind} CRD"), (component, "namespace and endpoints")]
        cni = self.cni()
        if cni and self.conv.depend_on_cni.value and cni not in (stacks[0], component):
            deps.append((cni, "after the CNI, as every component here"))
        self.flux_kustomization(
            name,
            deps,
            (f"monitoring objects of {component} live here, apart from it", *notes),
            monitoring=True,
        )

    def plain_component(self, op: AddPlainComponent) -> None:
        folder = f"{self.comp_dir}/{op.component}"
        files = []
        ns_file = self.namespace(folder, op.namespace, op.pss_level, op.pss_reason)
        if ns_file:
            files.append(ns_file.rsplit("/", 1)[1])
        self.kustomization_file(f"{folder}/kustomization.yaml", files)
        deps: list[tuple[str, str]] = []
        cni = self.cni()
        if cni and self.conv.depend_on_cni.value:
            deps.append((cni, "after the CNI, as every component here"))
        self.flux_kustomization(op.component, deps, op.review, monitoring=False)


def _monitor(
    kind: str,
    component: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    endpoint: dict[str, Any],
) -> dict[str, Any]:
    """A ServiceMonitor or PodMonitor selecting ``selector`` in ``namespace``."""
    meta: dict[str, Any] = {"name": component, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    endpoints = "podMetricsEndpoints" if kind == "PodMonitor" else "endpoints"
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": kind,
        "metadata": meta,
        "spec": {
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [namespace]},
            endpoints: [endpoint],
        },
    }


def unknown_selector(entry: CatalogEntry) -> str:
    """Why no monitor is written for a chart whose catalog entry has no selector."""
    assert entry.metrics is not None
    what = "pods" if entry.metrics.scrape == "pods" else "metrics Service"
    return (
        f"the catalog entry for {entry.name} records no labels of its {what}; no "
        f"{monitor_kind(entry.metrics)} written (one that selects nothing scrapes nothing)"
    )


def monitor_kind(metrics: Metrics) -> str:
    """The monitor infrawright writes for a chart: a PodMonitor where the chart renders
    only pods to scrape, else a ServiceMonitor."""
    return "PodMonitor" if metrics.scrape == "pods" else "ServiceMonitor"


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _unwrap(note: str) -> str:
    text = " ".join(line.strip() for line in note.splitlines())
    return text.removeprefix("REVIEW: ")


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
