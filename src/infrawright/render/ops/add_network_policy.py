"""add-network-policy: a CiliumNetworkPolicy in a component (a plain component is
created when none exists), listed in its kustomization, the component after Cilium.

Must hold afterwards: the component's build applies the policy in the namespace asked
for, admitting the namespaces, entities and ports asked for; nothing else changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infrawright.errors import InfrawrightError
from infrawright.plan.model import AddNetworkPolicy, AddPlainComponent
from infrawright.render.draft import CILIUM_GROUP, Draft, Rendered
from infrawright.render.ops.base import Check, Operation, Settled, check
from infrawright.render.shapes import kustomization_file, plain_component
from infrawright.render.splice import append_to_list

NS_LABEL = "k8s:io.kubernetes.pod.namespace"
DNS = {
    "toEndpoints": [
        {
            "matchLabels": {
                "k8s:io.kubernetes.pod.namespace": "kube-system",
                "k8s:k8s-app": "kube-dns",
            }
        }
    ],
    "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}]}],
}


def render(draft: Draft, op: AddNetworkPolicy) -> None:
    exists = draft.exists(op.component)
    deployed = draft.model.by_label.get(op.component)
    if op.component not in draft.model.components and deployed is not None:
        raise InfrawrightError(
            f"{op.component} is deployed by the Flux Kustomization {deployed.name} from "
            f"{deployed.path or '(no path)'} ({deployed.doc.file}:{deployed.doc.line}), not "
            f"from a component folder under {draft.comp_dir}/; infrawright adds network "
            "policies only to component folders",
            hint="add the CiliumNetworkPolicy to that folder yourself, or set "
            "components_dir in .infrawright.toml to where this repository keeps components",
        )
    if not exists:
        plain_component(draft, AddPlainComponent(component=op.component, namespace=op.namespace))
    folder = f"{draft.comp_dir}/{op.component}"
    for doc in draft.model.objects():
        if (
            doc.kind == "CiliumNetworkPolicy"
            and doc.name == op.name
            and doc.file.startswith(folder + "/")
        ):
            draft.noop(f"CiliumNetworkPolicy {op.name} already exists in {doc.file}")
            return
    policy = _policy(op)
    notes = list(op.review)
    notes.append(
        "a policy that selects a pod makes its ingress default-deny: everything else "
        "that must reach these pods needs an allow rule too"
    )
    if draft.conv.network_policy_layout.value == "folder":
        sub = f"{folder}/cilium-network-policies"
        path = f"{sub}/{op.name}.yaml"
        draft.write(path, policy, header=draft.review_header(path, notes))
        if (draft.model.root / sub / "kustomization.yaml").is_file():
            draft.list_in_kustomization(sub, f"{op.name}.yaml")
        else:
            kustomization_file(draft, f"{sub}/kustomization.yaml", [f"{op.name}.yaml"])
        entry = "cilium-network-policies"
    else:
        entry = (
            f"cilium-network-policy-{op.name}.yaml"
            if op.name != "default"
            else "cilium-network-policy.yaml"
        )
        path = f"{folder}/{entry}"
        draft.write(path, policy, header=draft.review_header(path, notes))
    if exists:
        draft.list_in_kustomization(folder, entry)
    else:
        kfile = f"{folder}/kustomization.yaml"
        draft.put(kfile, append_to_list(draft.text(kfile), 0, ("resources",), entry))
    cni = draft.cni()
    if cni is None:
        draft.note("no Kustomization installs Cilium here; the policy needs its CRDs")
        return
    if not exists:
        return  # the new Kustomization already depends on the CNI
    cni_ks = draft.model.by_label.get(cni)
    for ks in draft.kustomizations_of(op.component):
        if cni_ks is not None and cni not in {draft.model.label_of(d) for d in ks.depends_on}:
            draft.add_depends_on(ks, cni_ks, "CiliumNetworkPolicy CRD")


def _policy(op: AddNetworkPolicy) -> dict[str, Any]:
    ingress: list[dict[str, Any]] = []
    ports = [{"port": str(p), "protocol": "TCP"} for p in op.ports]
    for ns in op.allow_from_namespaces:
        rule: dict[str, Any] = {
            "fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": ns}}]
        }
        if ports:
            rule["toPorts"] = [{"ports": ports}]
        ingress.append(rule)
    if op.allow_from_entities:
        rule = {"fromEntities": list(op.allow_from_entities)}
        if ports:
            rule["toPorts"] = [{"ports": ports}]
        ingress.append(rule)
    spec: dict[str, Any] = {"endpointSelector": {}, "ingress": ingress}
    if op.name == "default":
        spec["egress"] = [{"toEndpoints": [{}]}, DNS, {"toEntities": ["kube-apiserver"]}]
    return {
        "apiVersion": f"{CILIUM_GROUP}/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": op.name, "namespace": op.namespace},
        "spec": spec,
    }


def holds(op: AddNetworkPolicy, settled: Settled) -> Iterator[Check]:
    found = [
        o
        for label, build in settled.after.builds.items()
        if label.rsplit("/", 1)[-1] == op.component
        for o in build.objects
        if o.kind == "CiliumNetworkPolicy" and o.name == op.name
    ]
    yield check(
        f"CiliumNetworkPolicy {op.name} is applied by {op.component}",
        bool(found),
        f"not in the build of {op.component}",
    )
    if not found:
        return
    policy = found[0]
    yield check(
        f"it is in namespace {op.namespace}",
        (policy.namespace or op.namespace) == op.namespace,
        f"it is in {policy.namespace}",
    )
    namespaces, entities, ports = _admitted(policy.spec.get("ingress"))
    for ns in op.allow_from_namespaces:
        yield check(f"it admits namespace {ns}", ns in namespaces, "no ingress rule names it")
    for entity in op.allow_from_entities:
        yield check(f"it admits {entity}", entity in entities, "no ingress rule names it")
    for port in op.ports:
        yield check(f"it admits port {port}", str(port) in ports, "no ingress rule names it")


def _admitted(ingress: Any) -> tuple[set[str], set[str], set[str]]:
    """Namespaces, entities and ports the ingress rules of a policy name."""
    namespaces: set[str] = set()
    entities: set[str] = set()
    ports: set[str] = set()
    for rule in ingress if isinstance(ingress, list) else ():
        if not isinstance(rule, dict):
            continue
        for sel in rule.get("fromEndpoints") or ():
            labels = sel.get("matchLabels") if isinstance(sel, dict) else None
            if isinstance(labels, dict) and NS_LABEL in labels:
                namespaces.add(str(labels[NS_LABEL]))
        entities.update(str(e) for e in rule.get("fromEntities") or ())
        for to in rule.get("toPorts") or ():
            for p in (to.get("ports") or ()) if isinstance(to, dict) else ():
                if isinstance(p, dict):
                    ports.add(str(p.get("port")))
    return namespaces, entities, ports


def scope(op: AddNetworkPolicy, _rendered: Rendered) -> set[str]:
    return {op.component}


OPERATION = Operation(AddNetworkPolicy, render, holds, scope)
