"""add-instance: an instance of an operator's resource — a PostgreSQL ``Cluster``, a
``Redis`` — in a component of its own (Namespace with the Pod Security level its pods
need, the instance, kustomization.yaml), whose Flux Kustomization depends on the one
installing the operator (its CRDs and webhook) and on the CNI as every component here.

Must hold afterwards: the component's build applies the instance in its namespace; its
Kustomization depends directly on the operator's; the operator is installed exactly
once; nothing else changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infrawright.plan.model import AddInstance
from infrawright.render.draft import Draft, Rendered
from infrawright.render.ops.base import Check, Operation, Settled, check
from infrawright.render.shapes import after_cni, flux_kustomization, kustomization_file, namespace


def render(draft: Draft, op: AddInstance) -> None:
    if op.component in draft.ks_names() or op.component in draft.model.components:
        held = any(d.kind == op.kind for d in draft.objects_of(op.component, op.kind))
        draft.noop(
            f"a {op.kind} runs here already, in component {op.component}"
            if held
            else f"component {op.component} already exists"
        )
        return
    folder = f"{draft.comp_dir}/{op.component}"
    files: list[str] = []
    ns_file = namespace(draft, folder, op.namespace, op.pss_level, op.pss_reason)
    if ns_file:
        files.append(ns_file.rsplit("/", 1)[1])
    name = draft.file_name(op.kind, f"{op.kind.lower()}.yaml", op.component)
    doc: dict[str, Any] = {
        "apiVersion": op.api_version,
        "kind": op.kind,
        "metadata": {"name": op.name, "namespace": op.namespace},
        "spec": op.spec,
    }
    path = f"{folder}/{name}"
    draft.write(path, doc, header=draft.review_header(path, list(op.review)))
    files.append(name)
    kustomization_file(draft, f"{folder}/kustomization.yaml", files)
    group = op.api_version.rpartition("/")[0]
    deps = [*after_cni(draft, op.component), (op.after, f"{group} {op.kind} CRD")]
    flux_kustomization(draft, op.component, deps, (), monitoring=False)


def holds(op: AddInstance, settled: Settled) -> Iterator[Check]:
    c = op.component
    if c in {ks.name for ks in settled.before.model.kustomizations}:
        yield check(f"component {c} already exists", True)
        return
    found = [
        o
        for o in settled.objects(c, op.kind)
        if o.name == op.name and o.api_version == op.api_version
    ]
    yield check(
        f"{op.kind} {op.name} is applied by {c} in namespace {op.namespace}",
        len(found) == 1 and (found[0].namespace or op.namespace) == op.namespace,
        f"{len(found)} {op.kind} named {op.name} in the build of {c}",
    )
    ks = next((k for k in settled.after.model.kustomizations if k.name == c), None)
    deps = {d.name for d in ks.depends_on} if ks else set()
    yield check(f"{c} depends on {op.after}", op.after in deps, f"it depends on {sorted(deps)}")
    installs = sorted(
        label for label, r in settled.releases() if settled.catalog_name(r) == op.operator
    )
    yield check(
        f"operator {op.operator} is installed once",
        len(installs) == 1,
        f"installed by {', '.join(installs) or 'nothing'}",
    )


def scope(op: AddInstance, _rendered: Rendered) -> set[str]:
    return {op.component}


OPERATION = Operation(AddInstance, render, holds, scope)
