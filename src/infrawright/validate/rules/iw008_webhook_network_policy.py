"""IW008: a component whose chart registers admission webhooks has a
CiliumNetworkPolicy admitting the ``kube-apiserver`` entity.

Default severity: error. Applies where the cluster runs Cilium: some Kustomization installs
the cilium.io CRDs, or the repository already has Cilium policies. Elsewhere a
CiliumNetworkPolicy could not even be applied, so the rule stays silent.
The webhook ports come from the chart catalog; when the policy
lists ports, the webhook's container port must be among them (Cilium sees the pod port
after the Service translation, e.g. 10250 for cert-manager, not 443).

Why: with a default-deny policy in the namespace, the API server cannot reach the
webhook and every matching API request fails. A plain NetworkPolicy cannot select the
API server reliably under Cilium (its traffic is not from a pod IP block).

Bad::

    kind: NetworkPolicy
    spec:
      ingress:
        - from: [{ipBlock: {cidr: 10.0.0.0/8}}]

Good::

    kind: CiliumNetworkPolicy
    spec:
      endpointSelector: {}
      ingress:
        - fromEntities: [kube-apiserver]
          toPorts:
            - ports: [{port: "10250", protocol: TCP}]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infrawright.repo.documents import Document
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW008", "webhooks admitted by a CiliumNetworkPolicy", Severity.ERROR, house=True)
CILIUM = "cilium.io"


def _admitted_ports(policy: Document) -> set[str] | None:
    """Ports opened to kube-apiserver; empty set = none; None = every port."""
    spec = policy.spec
    rules: list[Any] = []
    for key in ("ingress",):
        rules += spec.get(key) or []
    for extra in spec.get("specs") or []:
        if isinstance(extra, dict):
            rules += extra.get("ingress") or []
    ports: set[str] = set()
    for rule in rules:
        if not isinstance(rule, dict) or "kube-apiserver" not in (rule.get("fromEntities") or []):
            continue
        to_ports = rule.get("toPorts")
        if not to_ports:
            return None
        for block in to_ports:
            for port in (block or {}).get("ports") or []:
                if isinstance(port, dict) and "port" in port:
                    ports.add(str(port["port"]))
    return ports


def check(ctx: Context) -> Iterator[Finding]:
    if not ctx.runs_cilium():
        return
    urls = ctx.helm_repository_urls()
    policies: dict[str, list[Document]] = {}
    plain: set[str] = set()
    policy_kinds = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy")
    for _ks, obj in ctx.of_kind(*policy_kinds):
        if obj.group == CILIUM and obj.kind == "CiliumNetworkPolicy":
            policies.setdefault(obj.namespace or "", []).append(obj)
        elif obj.group == CILIUM and obj.kind == "CiliumClusterwideNetworkPolicy":
            policies.setdefault("*", []).append(obj)
        elif obj.kind == "NetworkPolicy":
            plain.add(obj.namespace or "")
    for _ks, release in ctx.helm_releases():
        entry = ctx.model.catalog.for_chart(
            release.chart, urls.get(release.source.name) if release.source else None
        )
        if entry is None or not entry.webhooks:
            continue
        target = release.doc.spec.get("targetNamespace") or release.namespace or ""
        candidates = policies.get(str(target), []) + policies.get("*", [])
        admitted: set[str] = set()
        open_all = False
        for policy in candidates:
            ports = _admitted_ports(policy)
            if ports is None:
                open_all = True
            else:
                admitted |= ports
        needed = sorted({str(w.container_port) for w in entry.webhooks})
        missing = [p for p in needed if p not in admitted]
        if open_all or not missing:
            continue
        if not admitted:
            extra = " (a plain NetworkPolicy does not count)" if target in plain else ""
            message = (
                f"{entry.name} registers admission webhooks but no CiliumNetworkPolicy in "
                f"namespace {target} admits the kube-apiserver entity{extra}"
            )
        else:
            message = (
                f"the CiliumNetworkPolicy in {target} admits kube-apiserver only to port(s) "
                f"{', '.join(sorted(admitted))}, not to the webhook port(s) {', '.join(missing)}"
            )
        yield RULE.at(
            release.doc,
            message,
            f"add a CiliumNetworkPolicy in {target} with ingress fromEntities [kube-apiserver] "
            f"to TCP port(s) {', '.join(needed)}, listed in the component's kustomization.yaml",
        )
