"""The repository's own style, inferred from the majority of its files.

Every value infrawright writes that the repository already has an opinion on comes from
here; the defaults apply only where the repository is silent. Each convention keeps how
many files agreed, so ``infrawright conventions`` can show its evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from infrawright import cache
from infrawright.model.flux import HELM_GROUP, SOURCE_GROUP, dotted_get, is_flux_kustomization
from infrawright.model.repo import RepoModel
from infrawright.repo.listing import DIR

PSS_PREFIX = "pod-security.kubernetes.io/"


@dataclass(frozen=True)
class Convention:
    """One inferred value, how many places agreed, and out of how many."""

    value: Any
    agree: int
    total: int

    @property
    def inferred(self) -> bool:
        return self.total > 0


def _majority(values: Iterable[Any], default: Any) -> Convention:
    counts = Counter(v for v in values if v is not None)
    total = sum(counts.values())
    if not counts:
        return Convention(default, 0, 0)
    # Ties go to the value seen first in file order, so output is deterministic.
    best = max(counts.items(), key=lambda kv: kv[1])
    return Convention(best[0], best[1], total)


@dataclass(frozen=True)
class Conventions:
    """The style a new change follows; see :func:`infer`."""

    helm_repository_namespace: Convention  # "flux-system" or "<component>"
    helm_repository_interval: Convention
    helm_release_interval: Convention
    version_style: Convention  # "exact", "major" (1.x), "minor" (1.2.x)
    version_quoted: Convention
    remediation_retries: Convention
    ks_interval: Convention
    ks_prune: Convention
    ks_wait: Convention
    ks_timeout: Convention
    ks_retry_interval: Convention
    monitoring_wait: Convention
    monitoring_timeout: Convention
    pss_labels: Convention  # tuple of label keys
    pss_version: Convention
    network_policy_layout: Convention  # "folder" or "file"
    sequence_indent: Convention  # True: "key:\n  - item"; False: "key:\n- item"
    file_names: dict[str, Convention] = field(default_factory=dict)
    depend_on_cni: Convention = Convention(True, 0, 0)
    oci_source: Convention = Convention("HelmRepository", 0, 0)  # or "OCIRepository"

    def rows(self) -> list[tuple[str, Convention]]:
        out = [(k, v) for k, v in vars(self).items() if isinstance(v, Convention)]
        out += [(f"file name for {k}", v) for k, v in sorted(self.file_names.items())]
        return out


_RANGE = re.compile(r"^[v]?\d+(\.\d+)?\.(x|X|\*)$")


def pin_as(version: str, style: str) -> str:
    """``version`` written in a pin style: ``exact`` as is, ``major`` ``1.x``, ``minor``
    ``1.2.x`` (a leading ``v`` is kept)."""
    match = re.match(r"^(v?)(\d+)(?:\.(\d+))?", version)
    if not match or style not in ("major", "minor"):
        return version
    v, major, minor = match.groups()
    if style == "major":
        return f"{v}{major}.x"
    return f"{v}{major}.{minor}.x" if minor is not None else version


def version_style(version: str) -> str:
    if _RANGE.match(version):
        return "major" if version.count(".") == 1 else "minor"
    if version[:1] in "^~>=<" or "*" in version or " " in version:
        return "range"
    return "exact"


#: Bump when what :class:`Conventions` holds changes.
FORMAT = 2


def _pattern(rel: str, components_dir: str) -> str:
    """A file's name as a pattern over its component: ``servicemonitor-kong.yaml`` in
    ``namespaces/kong-monitoring/`` is ``servicemonitor-{name}.yaml``, so a new
    component's file is named after it, never after another component."""
    parts = rel[len(components_dir.strip("/")) + 1 :].split("/")
    base = parts[-1]
    component = parts[0].removesuffix("-monitoring") if len(parts) > 1 else ""
    if not component:
        return base
    return re.sub(rf"(?<![a-z0-9]){re.escape(component)}(?![a-z0-9])", "{name}", base)


def infer(model: RepoModel) -> Conventions:
    """Infer the conventions of a repository (majority of files; defaults if silent).

    They are kept in the cache under the model's content key: the same files, listings
    and settings give the same conventions (unless inferring them had to ask the file
    system for more, which is then done every time)."""
    key = cache.quick_key("conventions", FORMAT, model.content_key) if model.content_key else None
    if key is not None and cache.enabled():
        known = _restored(cache.load("conventions", key))
        if known is not None:
            return known
    asked = len(model.looked_up)
    conventions = _infer(model)
    if key is not None and len(model.looked_up) == asked:
        cache.store("conventions", key, _stored(conventions))
    return conventions


Stored = tuple[dict[str, tuple[Any, int, int]], dict[str, tuple[Any, int, int]]]


def _stored(conventions: Conventions) -> Stored:
    plain = {
        k: (v.value, v.agree, v.total) for k, v in vars(conventions).items() if k != "file_names"
    }
    names = {k: (v.value, v.agree, v.total) for k, v in conventions.file_names.items()}
    return plain, names


def _restored(stored: object) -> Conventions | None:
    try:
        plain, names = cast(Stored, stored)
        fields = {k: Convention(*v) for k, v in plain.items()}
        return Conventions(**fields, file_names={k: Convention(*v) for k, v in names.items()})
    except (TypeError, ValueError):
        return None


def _infer(model: RepoModel) -> Conventions:
    objects = model.objects()
    releases = [d for d in objects if d.kind == "HelmRelease" and d.group == HELM_GROUP]
    repos = [d for d in objects if d.kind == "HelmRepository" and d.group == SOURCE_GROUP]
    kss = [d for d in objects if is_flux_kustomization(d) and not d.file.endswith("gotk-sync.yaml")]
    plain = [d for d in kss if not d.name.endswith("-monitoring")]
    monitoring = [d for d in kss if d.name.endswith("-monitoring")]
    namespaces = [d for d in objects if d.kind == "Namespace" and d.group == ""]

    def repo_ns(doc: Any) -> str:
        return "flux-system" if doc.namespace == "flux-system" else "<component>"

    versions = [str(dotted_get(r.data, "spec.chart.spec.version") or "") for r in releases]
    oci_repos = {
        d.name: d for d in objects if d.kind == "OCIRepository" and d.group == SOURCE_GROUP
    }
    oci_kinds: list[str] = []
    for release in releases:
        ref = release.spec.get("chartRef")
        if isinstance(ref, dict) and ref.get("kind") == "OCIRepository":
            oci_kinds.append("OCIRepository")
            source = oci_repos.get(str(ref.get("name")))
            pin = (source.spec.get("ref") or {}) if source is not None else {}
            if isinstance(pin, dict):
                versions.append(str(pin.get("semver") or pin.get("tag") or ""))
    oci_urls = {r.name for r in repos if r.spec.get("type") == "oci"}
    for release in releases:
        ref = dotted_get(release.data, "spec.chart.spec.sourceRef")
        if isinstance(ref, dict) and ref.get("name") in oci_urls:
            oci_kinds.append("HelmRepository")
    quoted = []
    for release in releases:  # how each file was written is kept from its parse
        first_version_quoted = model.files[release.file].style[0]
        if first_version_quoted is not None:
            quoted.append(first_version_quoted)
    labels = [
        tuple(sorted(k for k in (d.metadata.get("labels") or {}) if k.startswith(PSS_PREFIX)))
        for d in namespaces
    ]
    pss_versions = [
        (d.metadata.get("labels") or {}).get(PSS_PREFIX + "enforce-version") for d in namespaces
    ]
    comp_dir = model.config.components_dir.strip("/")
    with_policies = {
        model.component_of(f)
        for f, yf in model.files.items()
        if any(d.kind == "CiliumNetworkPolicy" for d in yf.objects)
    }
    policy_layout = []
    for comp in model.components:
        inside = model.listings.names(f"{comp_dir}/{comp}" if comp_dir else comp)
        if inside.get("cilium-network-policies", 0) & DIR:
            policy_layout.append("folder")
        elif comp in with_policies:
            policy_layout.append("file")
    indents: list[bool] = []
    for file in {d.file for d in kss} | {
        f for f in model.files if f.endswith("kustomization.yaml")
    }:
        indents.extend(model.files[file].style[1])
    names: dict[str, list[str]] = {}
    for doc in objects:
        if doc.file.startswith(model.config.components_dir + "/"):
            nested = doc.file.count("/") > model.config.components_dir.strip("/").count("/") + 2
            if doc.kind == "CiliumNetworkPolicy" and nested:
                continue  # policies in a folder are named per policy, not by convention
            names.setdefault(doc.kind, []).append(_pattern(doc.file, model.config.components_dir))
    file_names = {
        kind: _majority(values, None)
        for kind, values in names.items()
        if kind
        in {
            "Namespace",
            "HelmRepository",
            "OCIRepository",
            "HelmRelease",
            "ServiceMonitor",
            "PrometheusRule",
            "CiliumNetworkPolicy",
        }
    }
    cni = {ks.name for ks in model.kustomizations if ks.name == "cilium"}
    deps = [
        any(d.get("name") in cni for d in (doc.spec.get("dependsOn") or []) if isinstance(d, dict))
        for doc in plain
        if doc.name not in cni
    ]
    return Conventions(
        helm_repository_namespace=_majority((repo_ns(r) for r in repos), "flux-system"),
        helm_repository_interval=_majority((r.spec.get("interval") for r in repos), "1h"),
        helm_release_interval=_majority((r.spec.get("interval") for r in releases), "1h"),
        version_style=_majority((version_style(v) for v in versions if v), "minor"),
        version_quoted=_majority(quoted, True),
        remediation_retries=_majority(
            (dotted_get(r.data, "spec.install.remediation.retries") for r in releases), 3
        ),
        ks_interval=_majority((d.spec.get("interval") for d in plain), "10m"),
        ks_prune=_majority((d.spec.get("prune") for d in plain), False),
        ks_wait=_majority((d.spec.get("wait") for d in plain), True),
        ks_timeout=_majority((d.spec.get("timeout") for d in plain), "10m"),
        ks_retry_interval=_majority((d.spec.get("retryInterval") for d in plain), None),
        monitoring_wait=_majority((d.spec.get("wait") for d in monitoring), False),
        monitoring_timeout=_majority((d.spec.get("timeout") for d in monitoring), "5m"),
        pss_labels=_majority(
            (lbl for lbl in labels if lbl),
            (PSS_PREFIX + "enforce", PSS_PREFIX + "enforce-version"),
        ),
        pss_version=_majority(pss_versions, "latest"),
        network_policy_layout=_majority(policy_layout, "folder"),
        sequence_indent=_majority(indents, True),
        file_names=file_names,
        oci_source=_majority(oci_kinds, "HelmRepository"),
        depend_on_cni=_cni_convention(deps),
    )


def _cni_convention(deps: list[bool]) -> Convention:
    """Do components depend on the CNI? Ties go to yes (the safe bootstrap order)."""
    yes = sum(deps)
    value = not deps or yes * 2 >= len(deps)
    return Convention(value, yes if value else len(deps) - yes, len(deps))
