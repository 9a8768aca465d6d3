"""Phrasing tables: requests across every family of the rule planner, each with the Plan
it must give (op types, components and key fields) or the refusal it must raise.

Two repositories whose component names differ from their charts' names:
``examples/local-kube`` (kube-prometheus-stack runs as ``monitoring``) and
``tests/testdata/repos/role-named`` (every component named after its role, two clusters).
Upper-case, polite and terse forms of the same request are rows of their own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import EXAMPLE, FIXTURES
from infrawright.errors import InfrawrightError
from infrawright.model.loader import load_repo
from infrawright.plan.facts import RepoFacts
from infrawright.plan.matching import NotUnderstoodError
from infrawright.plan.model import Plan
from infrawright.plan.rules import plan_request

ROLE = FIXTURES / "role-named"


@functools.cache
def _facts(root: Path) -> tuple[RepoFacts, Any]:
    model = load_repo(root)
    return RepoFacts.from_model(model), model.catalog


def plan(root: Path, text: str) -> Plan:
    facts, catalog = _facts(root)
    return plan_request(text, catalog, facts=facts)


@dataclass(frozen=True)
class Refused:
    """The request must raise ``error`` with ``phrase`` in its message."""

    phrase: str
    error: type[InfrawrightError] = NotUnderstoodError


def op(kind: str, component: str | None = None, **fields: Any) -> dict[str, Any]:
    """An expected operation: its type, component and the fields to compare. A field
    ``review`` is a phrase one of the operation's REVIEW notes must contain."""
    want: dict[str, Any] = {"op": kind, **fields}
    if component is not None:
        want["component"] = component
    return want


def helm(component: str, **fields: Any) -> dict[str, Any]:
    return op("add-helm-component", component, **fields)


Expected = list[dict[str, Any]] | Refused
Row = tuple[Path, str, Expected]


def forms(root: Path, text: str, want: Expected) -> list[Row]:
    """The request as written, in capitals, and asked politely."""
    polite = f"Could you please {text[0].lower()}{text[1:]}?"
    return [(root, text, want), (root, text.upper(), want), (root, polite, want)]


EX, RN = EXAMPLE, ROLE
ROWS: list[Row] = [
    # --- new Helm components, from the catalog --------------------------------------
    *forms(EX, "install trust-manager", [helm("trust-manager", catalog="trust-manager")]),
    *forms(EX, "we need metallb", [helm("metallb", namespace="metallb-system")]),
    *forms(EX, "add the external-dns chart", [helm("external-dns")]),
    *forms(EX, "deploy kyverno", [helm("kyverno")]),
    *forms(EX, "set up sealed secrets", [helm("sealed-secrets")]),
    # an operator is installed with what it runs when the request asks for that
    *forms(
        EX,
        "Add MinIO for S3-compatible object storage",
        [helm("minio-operator"), op("add-instance", "minio", after="minio-operator")],
    ),
    # what describes Ceph's object store: a CephCluster is needed, which infrawright cannot
    # make; refused, not the operator alone (which serves nothing); MinIO is archived
    (EX, "add object storage", Refused("CephCluster", InfrawrightError)),
    # a CephCluster cannot be made on request: refused, not the operator alone
    (EX, "install ceph", Refused("CephCluster", InfrawrightError)),
    (EX, "deploy valkey as a cache", [helm("valkey")]),
    # a chart whose name holds a monitoring word is that chart, not monitoring
    (EX, "we should run metrics-server too", [helm("metrics-server")]),
    (EX, "Install Metrics-Server", [helm("metrics-server")]),
    (EX, "please set up Cert Manager for TLS", [helm("cert-manager")]),
    (EX, "Install Velero for backups", [helm("velero")]),
    (EX, "metallb", [helm("metallb")]),
    (EX, "keda pls", [helm("keda")]),
    (EX, "need vault", [helm("vault")]),
    (EX, "add loki for logs", [helm("loki")]),
    (EX, "I'd like to add grafana dashboards", [helm("grafana")]),
    (EX, "go ahead and install reloader", [helm("reloader")]),
    (
        EX,
        "Create HelmRelease for Redis caching",
        [
            helm("redis-operator", catalog="redis"),
            op(
                "add-instance",
                "redis",
                after="redis-operator",
                api_version="redis.redis.opstreelabs.in/v1beta2",
            ),
        ],
    ),
    (EX, "Create a HelmRelease for ingress-nginx", [helm("ingress-nginx")]),
    (EX, "roll out traefik", [helm("traefik")]),
    (EX, "provision longhorn for block storage", [helm("longhorn")]),
    # the repository runs it already under another name: that component, no second copy
    (
        EX,
        "install prometheus",
        [helm("monitoring", catalog="kube-prometheus-stack", review="already runs here")],
    ),
    (EX, "install kube-prometheus-stack", [helm("monitoring", review="as component monitoring")]),
    *forms(RN, "install cert-manager", [helm("certificates", catalog="cert-manager")]),
    *forms(RN, "we need kong", [helm("edge", catalog="kong")]),
    (RN, "install cloudnative-pg", [helm("database-operators", catalog="cloudnative-pg")]),
    (RN, "add the CloudNativePG operator", [helm("database-operators")]),
    (RN, "install prometheus", [helm("metrics", review="as component metrics")]),
    (RN, "Install Cilium", [helm("network", catalog="cilium")]),
    (RN, "install metallb", [helm("metallb")]),
    # --- several products: one operation each, in the order given -------------------
    *forms(
        EX,
        "install cert-manager and external-dns",
        [helm("cert-manager"), helm("external-dns")],
    ),
    *forms(
        EX,
        "install metallb, kyverno and velero",
        [helm("metallb"), helm("kyverno"), helm("velero")],
    ),
    (
        EX,
        "install velero, kyverno, and metallb",
        [helm("velero"), helm("kyverno"), helm("metallb")],
    ),
    (EX, "add keda & reloader", [helm("keda"), helm("reloader")]),
    (
        EX,
        "deploy trust-manager plus sealed-secrets",
        [helm("trust-manager"), helm("sealed-secrets")],
    ),
    (EX, "Install External-DNS and MetalLB", [helm("external-dns"), helm("metallb")]),
    (EX, "install the metallb chart and the kyverno chart", [helm("metallb"), helm("kyverno")]),
    (EX, "install prometheus and grafana", [helm("monitoring"), helm("grafana")]),
    (RN, "install kong and metallb", [helm("edge"), helm("metallb")]),
    (RN, "install metallb and kong", [helm("metallb"), helm("edge")]),
    (
        EX,
        "remove kong and metallb",
        [op("remove-component", "kong"), op("remove-component", "metallb")],
    ),
    (
        EX,
        "add monitoring for cert-manager and kong",
        [op("add-monitoring", "cert-manager"), op("add-monitoring", "kong")],
    ),
    (
        RN,
        "add monitoring for certificates and edge",
        [op("add-monitoring", "certificates"), op("add-monitoring", "edge")],
    ),
    *forms(EX, "upgrade cert-manager and cilium to 1.2.3", Refused("one version for 2 charts")),
    (
        EX,
        "install metallb and frobnicator",
        Refused("'frobnicator', which is not in the chart catalog"),
    ),
    (
        EX,
        "install frobnicator and metallb",
        Refused("'frobnicator', which is not in the chart catalog"),
    ),
    # --- unknown products: refused, never replaced by another entry -------------------
    *forms(EX, "install frobnicator", Refused("installing 'frobnicator', which is not in the")),
    *forms(EX, "add acme-db for caching", Refused("installing 'acme-db'")),
    (EX, "Create HelmRelease for frobnicator", Refused("installing 'frobnicator'")),
    (EX, "add the frobnicator chart", Refused("installing 'frobnicator'")),
    (EX, "install the zorblax operator", Refused("installing 'zorblax'")),
    (EX, "we need redis-ha for caching", Refused("installing 'redis-ha'")),
    (EX, "deploy jenkins", Refused("installing 'jenkins'")),
    (EX, "install metalb", Refused("nearest catalog entries: metallb")),
    # --- operator instances are rows once main has their spec facts -------------------
    # --- network policy ---------------------------------------------------------------
    *forms(
        EX,
        "Add CiliumNetworkPolicy for new-service namespace",
        [op("add-network-policy", "new-service", name="default")],
    ),
    (
        EX,
        "create a network policy for the payments namespace",
        [op("add-network-policy", "payments")],
    ),
    (
        EX,
        "add a network policy in the payments namespace",
        [op("add-network-policy", "payments", namespace="payments")],
    ),
    (
        EX,
        "Add a CiliumNetworkPolicy into namespace billing",
        [op("add-network-policy", "billing", namespace="billing")],
    ),
    *forms(
        EX,
        "allow monitoring to scrape cloudnative-pg",
        [
            op(
                "add-network-policy",
                "cloudnative-pg",
                name="allow-monitoring-scrape",
                allow_from_namespaces=["monitoring"],
                ports=[8080],
            )
        ],
    ),
    (EX, "allow monitoring to scrape kong", [op("add-network-policy", "kong", ports=[8100])]),
    (EX, "netpol for kong", [op("add-network-policy", "kong", name="default")]),
    (
        RN,
        "allow metrics to scrape database-operators",
        [op("add-network-policy", "database-operators", namespace="cnpg-system", ports=[8080])],
    ),
    (RN, "add a network policy for edge", [op("add-network-policy", "edge", namespace="kong")]),
    (EX, "allow monitoring to scrape nothing-here", Refused("nothing-here is not a component")),
    # --- ordering fixes ---------------------------------------------------------------
    *forms(EX, "Fix bootstrap ordering for monitoring dependencies", [op("fix-ordering")]),
    (EX, "fix the ordering", [op("fix-ordering", component=None)]),
    (
        EX,
        "repair the dependsOn of cert-manager-config",
        [op("fix-ordering", "cert-manager-config")],
    ),
    (EX, "please fix dependsOn for every component", [op("fix-ordering", component=None)]),
    (EX, "sort out the bootstrap order", [op("fix-ordering")]),
    (
        EX,
        "make sure every kustomization that uses CRDs depends on the component that installs them",
        [op("fix-ordering", component=None)],
    ),
    (RN, "fix the dependencies of edge", [op("fix-ordering", "edge")]),
    (EX, "FIX ORDERING", [op("fix-ordering")]),
    # --- plain components -------------------------------------------------------------
    *forms(
        EX,
        "Add new component team-a with Flux Kustomization",
        [op("add-plain-component", "team-a", namespace="team-a")],
    ),
    (EX, "create a namespace called payments", [op("add-plain-component", "payments")]),
    (EX, "new component billing", [op("add-plain-component", "billing")]),
    (EX, "create a new component named team-b", [op("add-plain-component", "team-b")]),
    (
        EX,
        "add component team-c into namespace team-c-ns",
        [op("add-plain-component", "team-c", namespace="team-c-ns", review="team-c-ns taken")],
    ),
    # --- monitoring and alerts --------------------------------------------------------
    *forms(EX, "add monitoring for cloudnative-pg", [op("add-monitoring", "cloudnative-pg")]),
    (EX, "monitor cilium please", [op("add-monitoring", "cilium")]),
    (EX, "add monitoring for postgres", [op("add-monitoring", "postgres")]),
    *forms(
        EX,
        "alert when cert-manager certificates expire within 7 days",
        [
            op(
                "add-monitoring",
                "cert-manager",
                alerts=[{"name": "CertManagerCertificateExpiringSoon", "params": {"days": 7}}],
            )
        ],
    ),
    (
        EX,
        "alert when cert-manager certificates expire within seven days",
        [
            op(
                "add-monitoring",
                "cert-manager",
                alerts=[{"name": "CertManagerCertificateExpiringSoon", "params": {"days": 7}}],
            )
        ],
    ),
    (
        EX,
        "alert when cert-manager certificates expire within two weeks",
        [
            op(
                "add-monitoring",
                "cert-manager",
                alerts=[{"name": "CertManagerCertificateExpiringSoon", "params": {"days": 14}}],
            )
        ],
    ),
    (
        EX,
        "page me if a TLS certificate expires in less than 3 days",
        [
            op(
                "add-monitoring",
                "cert-manager",
                alerts=[{"name": "CertManagerCertificateExpiringSoon", "params": {"days": 3}}],
            )
        ],
    ),
    (
        EX,
        "alert when cert-manager certificates expire",
        [op("add-monitoring", "cert-manager", review="days = 21, the catalog default")],
    ),
    *forms(
        EX,
        "alert on too many errors for kong",
        [
            op(
                "add-monitoring",
                "kong",
                alerts=[{"name": "KongHigh5xxRate", "params": {}}],
                review="KongHigh5xxRate: percent = 5, the catalog default",
            )
        ],
    ),
    (
        RN,
        "alert when certificates expire within 3 days",
        [
            op(
                "add-monitoring",
                "certificates",
                alerts=[{"name": "CertManagerCertificateExpiringSoon", "params": {"days": 3}}],
            )
        ],
    ),
    (RN, "add monitoring for edge", [op("add-monitoring", "edge")]),
    (RN, "add monitoring for kong", [op("add-monitoring", "edge")]),
    (EX, "add monitoring for metallb", Refused("metallb is not installed")),
    # --- versions ---------------------------------------------------------------------
    *forms(
        EX,
        "upgrade cert-manager to v1.20.1",
        [op("set-chart-version", "cert-manager", version="v1.20.1", exact=False)],
    ),
    (EX, "bump the cilium chart to 1.19.4", [op("set-chart-version", "cilium", version="1.19.4")]),
    (
        EX,
        "update cert-manager to 1.20.1",
        [op("set-chart-version", "cert-manager", version="v1.20.1")],
    ),
    *forms(
        EX,
        "pin cert-manager to 1.20.1",
        [op("set-chart-version", "cert-manager", version="v1.20.1", exact=True)],
    ),
    (
        EX,
        "lock cilium at 1.19.4",
        [op("set-chart-version", "cilium", version="1.19.4", exact=True)],
    ),
    (EX, "upgrade cilium to exactly 1.19.4", [op("set-chart-version", "cilium", exact=True)]),
    (
        EX,
        "upgrade cilium to =1.19.4",
        [op("set-chart-version", "cilium", version="1.19.4", exact=True)],
    ),
    (EX, "set the cilium version to 1.19.4", [op("set-chart-version", "cilium", exact=False)]),
    (
        EX,
        "upgrade cert-manager to 1.20.x",
        [
            op(
                "set-chart-version",
                "cert-manager",
                version="1.20.x",
                exact=True,
                review="range 1.20.x",
            )
        ],
    ),
    (
        EX,
        "move kong to >=2.52.0 <3.0.0",
        [op("set-chart-version", "kong", version=">=2.52.0 <3.0.0")],
    ),
    (EX, "upgrade kong to ^2.53", [op("set-chart-version", "kong", version="^2.53", exact=True)]),
    (
        EX,
        "upgrade kong to the latest version",
        [op("set-chart-version", "kong", review="newest version")],
    ),
    *forms(RN, "upgrade kong to 2.53.0", [op("set-chart-version", "edge", version="2.53.0")]),
    (
        RN,
        "pin prometheus to 85.2.0",
        [op("set-chart-version", "metrics", version="85.2.0", exact=True)],
    ),
    (RN, "upgrade cloudnative-pg to 0.28.0", [op("set-chart-version", "database-operators")]),
    (EX, "upgrade flux-operator to 1.0.0", Refused("no existing component")),
    (RN, "upgrade kong to 2.53.0 on staging", [op("set-chart-version", "edge", version="2.53.0")]),
    # --- values -----------------------------------------------------------------------
    *forms(
        EX,
        "set Prometheus retention to 15d",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "15d"})],
    ),
    (
        EX,
        "change the prometheus retention to 30d",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "30d"})],
    ),
    (
        EX,
        "set Prometheus retention to two weeks",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "14d"})],
    ),
    (
        EX,
        "set monitoring prometheus.prometheusSpec.replicas to 2",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.replicas": 2})],
    ),
    *forms(
        EX,
        "hold metrics for two weeks",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "14d"})],
    ),
    *forms(
        EX,
        "keep metrics 30 days",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "30d"})],
    ),
    (
        EX,
        "retain metrics for a fortnight",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "14d"})],
    ),
    (
        EX,
        "keep the metrics for ten days",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "10d"})],
    ),
    (
        EX,
        "keep metrics for one month",
        [
            op(
                "set-values",
                "monitoring",
                values={"prometheus.prometheusSpec.retention": "30d"},
                review="30 days",
            )
        ],
    ),
    (
        EX,
        "store metrics for 12 hours",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "12h"})],
    ),
    (
        EX,
        "we want a 7 day retention",
        [op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "7d"})],
    ),
    *forms(
        RN,
        "set Prometheus retention to 15d",
        [op("set-values", "metrics", values={"prometheus.prometheusSpec.retention": "15d"})],
    ),
    (
        RN,
        "hold metrics for three weeks",
        [op("set-values", "metrics", values={"prometheus.prometheusSpec.retention": "21d"})],
    ),
    (
        EX,
        "install metallb and keep metrics for two weeks",
        [
            helm("metallb"),
            op("set-values", "monitoring", values={"prometheus.prometheusSpec.retention": "14d"}),
        ],
    ),
    # --- removal ----------------------------------------------------------------------
    *forms(EX, "remove kong", [op("remove-component", "kong")]),
    (EX, "uninstall the kong ingress controller", [op("remove-component", "kong")]),
    (EX, "decommission metallb", [op("remove-component", "metallb")]),
    (EX, "get rid of cloudnative-pg", [op("remove-component", "cloudnative-pg")]),
    (EX, "tear down postgres", [op("remove-component", "postgres")]),
    *forms(RN, "remove kong", [op("remove-component", "edge")]),
    (RN, "delete the edge component", [op("remove-component", "edge")]),
    (RN, "uninstall cloudnative-pg", [op("remove-component", "database-operators")]),
    # --- slots: namespace -------------------------------------------------------------
    *forms(
        EX,
        "install metallb into namespace lb",
        [helm("metallb", namespace="lb", review="namespace lb taken from the request")],
    ),
    (EX, "install metallb in the lb namespace", [helm("metallb", namespace="lb")]),
    (EX, "deploy kyverno into the policy namespace", [helm("kyverno", namespace="policy")]),
    (
        EX,
        "install external-dns and metallb into namespace infra",
        [helm("external-dns", namespace="infra"), helm("metallb", namespace="infra")],
    ),
    (EX, "install metallb into namespace Bad_Name", Refused("is not a valid namespace name")),
    (EX, "upgrade kong in the kong namespace to 2.53.0", [op("set-chart-version", "kong")]),
    (
        EX,
        "upgrade kong in the payments namespace to 2.53.0",
        Refused("which runs in namespace kong"),
    ),
    # --- slots: clusters ----------------------------------------------------------------
    *forms(RN, "install metallb on staging", [helm("metallb")]),
    (RN, "install metallb in production and staging", [helm("metallb")]),
    (RN, "install metallb on the staging cluster", [helm("metallb")]),
    (RN, "install metallb on cluster production", [helm("metallb")]),
    (RN, "install metallb on qa", Refused("cluster qa is not in this repository")),
    (RN, "install metallb on the edge-1 cluster", Refused("cluster edge-1 is not in this")),
    (EX, "install metallb on staging", Refused("(its clusters: local-kube)")),
    (EX, "install metallb on local-kube", [helm("metallb")]),
    (EX, "install metallb on the cluster", [helm("metallb")]),
    (EX, "install metallb on this cluster", [helm("metallb")]),
    # --- slots: monitoring on and off -------------------------------------------------
    *forms(
        EX,
        "install metallb without monitoring",
        [helm("metallb", monitoring=False, review="no metallb-monitoring")],
    ),
    *forms(EX, "install kyverno but skip the monitoring part", [helm("kyverno", monitoring=False)]),
    (EX, "install kyverno, no alerts", [helm("kyverno", monitoring=False)]),
    (EX, "install kyverno with no monitoring please", [helm("kyverno", monitoring=False)]),
    (EX, "add velero and leave out the monitoring", [helm("velero", monitoring=False)]),
    (EX, "install keda, but don't add monitoring", [helm("keda", monitoring=False)]),
    (EX, "install keda with monitoring", [helm("keda", monitoring=True)]),
    (
        EX,
        "install metallb and kyverno without monitoring",
        [helm("metallb", monitoring=False), helm("kyverno", monitoring=False)],
    ),
    (
        EX,
        "upgrade kong to 2.53.0 without monitoring",
        Refused("does not apply to set-chart-version"),
    ),
    # --- fail closed: words that change the meaning -------------------------------------
    *forms(EX, "install cert-manager but not the webhook", Refused("'but not the webhook'")),
    *forms(EX, "install redis except on production", Refused("'except on production'")),
    *forms(EX, "upgrade kong unless it breaks", Refused("'unless it breaks'")),
    (EX, "install metallb instead of kong", Refused("'instead of kong'")),
    (EX, "only upgrade kong to 2.53.0", Refused("'only upgrade kong to 2.53.0'")),
    (EX, "remove kong but keep its CRDs", Refused("'but keep its crds'")),
    (EX, "install metallb, not kyverno", Refused("'not kyverno'")),
    (EX, "install traefik rather than kong", Refused("'rather than kong'")),
    (EX, "add monitoring for kong excluding the proxy", Refused("'excluding the proxy'")),
    (EX, "don't remove kong", Refused("don't remove kong")),
    (EX, "install metallb apart from the speaker", Refused("'apart from the speaker'")),
    (EX, "never upgrade cilium", Refused("'never upgrade cilium'")),
    # --- other refusals -----------------------------------------------------------------
    (EX, "make it faster please", Refused("no chart from the catalog")),
    (EX, "   ", Refused("the request is empty")),
    (
        EX,
        "set kong frobulation to 3",
        Refused("no key in its HelmRelease values", InfrawrightError),
    ),
    # a key named outright that the release does not set yet: set, with a REVIEW note
    (EX, "set kong replicaCount to 3", [op("set-values", "kong", values={"replicaCount": 3})]),
    (EX, "set kong's replicaCount to 3", [op("set-values", "kong", values={"replicaCount": 3})]),
    # --- every word of an install accounted for: what it would drop is refused ----------
    *forms(EX, "install metallb with 3 replicas", Refused("but 'with 3 replicas' asks")),
    (EX, "we need external-dns with debug logging", Refused("'with debug logging'")),
    (EX, "add metallb in HA mode", Refused("'in ha mode'")),
    (EX, "install redis for orders with 3 replicas", Refused("'with 3 replicas'")),
    (EX, "set up backups for the postgres database", Refused("'backups' is not a change")),
    # what runs already, asked to change in words no parser reads: not "nothing to do"
    *forms(EX, "upgrade kong", Refused("kong runs here already (component kong)")),
    (EX, "scale kong to 3", Refused("'scale kong to 3' is not a change")),
    (EX, "enable tls for kong", Refused("'enable tls for kong' is not a change")),
    (EX, "give kong 3 replicas", Refused("is not a change the planner understands")),
    (RN, "upgrade kong", Refused("kong runs here already (component edge)")),
    (EX, "install prometheus with 30 days of retention in HA", Refused("'in ha'")),
    # one more copy of what runs: refused, whatever the words
    *forms(
        EX, "add another cert-manager", Refused("never installs a second copy", InfrawrightError)
    ),
    (EX, "install an extra kong", Refused("never installs a second copy", InfrawrightError)),
    (RN, "we need a second kong", Refused("(component edge)", InfrawrightError)),
    # what the words describe runs already under another product: nothing to do, it says
    *forms(EX, "we need an ingress controller", [helm("kong", review="which is one")]),
    (RN, "we need an ingress controller", [helm("edge", review="component edge runs kong")]),
    (EX, "add an ingress controller named ingress-nginx", [helm("ingress-nginx")]),
    (EX, "add a cni", [helm("cilium")]),
    # an alert whose condition the catalog knows no alert for: refused, not every alert
    (EX, "add alerts for kong when it is down", Refused("is about 'when it is down'")),
    # the words of a catalog alert ask for that alert, with the request's threshold
    (
        EX,
        "monitor cert-manager certificates expiring in 7 days",
        [op("add-monitoring", "cert-manager")],
    ),
    # a component's monitoring switched off: its <c>-monitoring goes, not the component
    # called monitoring, and never "nothing to do"
    *forms(EX, "remove monitoring for kong", [op("remove-component", "kong-monitoring")]),
    (EX, "stop scraping kong", [op("remove-component", "kong-monitoring")]),
    (EX, "remove kong's monitoring", [op("remove-component", "kong-monitoring")]),
    (EX, "disable monitoring for kong", Refused("switching its monitoring off")),
    (EX, "install kong without monitoring", Refused("switching its monitoring off")),
    # one request, two kinds of change: refused, not the one the planner read first
    *forms(EX, "install metallb and remove kong", Refused("it names metallb, which the plan")),
    (EX, "upgrade kong to 3.4.1 and install metallb", Refused("it names metallb")),
    # a change to what is not installed is not an install of it
    (EX, "add a network policy for metallb", Refused("which is not installed here")),
    # the source and ports of a policy are read, never a default policy in their place
    (
        EX,
        "allow ingress from kong to postgres on port 5432",
        [op("add-network-policy", "postgres", allow_from_namespaces=["kong"], ports=[5432])],
    ),
    (
        EX,
        "allow traffic from kong into postgres on ports 5432 and 9187",
        [op("add-network-policy", "postgres", allow_from_namespaces=["kong"], ports=[5432, 9187])],
    ),
    # the words between the source and the destination are not the destination
    (
        EX,
        "allow kong to reach the postgres database",
        [op("add-network-policy", "postgres", allow_from_namespaces=["kong"])],
    ),
    (
        EX,
        "let kong talk to postgres",
        [op("add-network-policy", "postgres", allow_from_namespaces=["kong"])],
    ),
    (
        EX,
        "permit kong pods to connect to postgres on port 5432",
        [op("add-network-policy", "postgres", allow_from_namespaces=["kong"], ports=[5432])],
    ),
    # "the cluster" names no cluster
    (EX, "install metallb to the cluster", [helm("metallb")]),
    (EX, "deploy kyverno in the cluster", [helm("kyverno")]),
]


def _lists(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def _check(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key, value in want.items():
        if key == "review":
            notes = " | ".join(got.get("review", ()))
            assert value in notes, f"no REVIEW note with {value!r}: {notes}"
        else:
            assert _lists(got.get(key)) == value, f"{key}: {got.get(key)!r} != {value!r}"


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 200
    assert len({(root, text) for root, text, _ in ROWS}) == len(ROWS), "a row is repeated"


@pytest.mark.parametrize(
    ("root", "text", "want"),
    ROWS,
    ids=[f"{root.name}:{text.strip() or '<empty>'}"[:90] for root, text, _ in ROWS],
)
def test_phrasing(root: Path, text: str, want: Expected) -> None:
    if isinstance(want, Refused):
        with pytest.raises(want.error) as err:
            plan(root, text)
        assert want.phrase.lower() in err.value.message.lower()
        return
    got = [msgspec.to_builtins(o) for o in plan(root, text).ops]
    assert [g["op"] for g in got] == [w["op"] for w in want], got
    for g, w in zip(got, want, strict=True):
        _check(g, w)


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("install metallb on staging", ("staging",)),
        ("INSTALL METALLB ON STAGING", ("staging",)),
        ("install metallb in production and staging", ("production", "staging")),
        ("install metallb on the staging cluster", ("staging",)),
        ("install metallb on clusters staging and production", ("staging", "production")),
        ("upgrade kong to 2.53.0 on production", ("production",)),
        ("install metallb", ()),
    ],
)
def test_clusters_are_recorded_on_the_plan(text: str, clusters: tuple[str, ...]) -> None:
    assert plan(ROLE, text).clusters == clusters


def test_the_fixture_knows_its_clusters() -> None:
    facts, _ = _facts(ROLE)
    assert facts.clusters == ("production", "staging")
    assert {c.name: c.catalog for c in facts.components.values() if "/" not in c.name} == {
        "network": "cilium",
        "certificates": "cert-manager",
        "metrics": "kube-prometheus-stack",
        "edge": "kong",
        "database-operators": "cloudnative-pg",
    }


def test_an_unknown_product_names_the_chart_form() -> None:
    with pytest.raises(NotUnderstoodError) as err:
        plan(EXAMPLE, "install frobnicator")
    assert err.value.hint is not None
    assert '--chart URL/CHART --version V "install frobnicator"' in err.value.hint


def test_an_upgrade_without_a_version_says_how_to_give_one() -> None:
    facts, catalog = _facts(EXAMPLE)
    with pytest.raises(NotUnderstoodError) as err:
        plan_request("upgrade kong", catalog, facts=facts)
    kong = catalog.get("kong")
    assert kong is not None and kong.chart is not None
    assert (err.value.hint or "").startswith(
        f'give the version: "upgrade kong to X.Y.Z" or "upgrade kong to latest" '
        f"(the catalog's newest: {kong.chart.version})"
    )
