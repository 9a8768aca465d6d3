"""Conventions: every value the repository has an opinion on follows the repository.

For every field of :class:`~infrawright.model.conventions.Conventions` a :class:`Case`
rewrites a copy of ``examples/local-kube`` so that its files hold a different value (all
HelmReleases ``interval: 30m``, HelmRepositories in the components' namespaces, sequences
written ``key:\\n- item`` ...), then

* ``test_infer_follows_the_rewritten_repo``: :func:`infer` reports the new value, and every
  file agrees with it (``agree == total``);
* ``test_output_follows_the_rewritten_repo``: a real ``implement(dry_run=True)`` on the
  rewritten copy writes the new value, where the unchanged example makes it write the old
  one (both are checked, so a case whose rewrite does not matter fails);
* ``test_silent_repo_gets_the_default``: with the evidence removed (a repository silent on
  the convention) :func:`infer` reports the documented default with no evidence, and
  ``implement`` writes that default.

Every rewrite keeps the repository clean: the output test asserts that the rewritten copy
has no finding before the change, so a rewrite cannot "work" by breaking the repository.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLE, SHARED, copy_repo
from infrawright.catalog import builtin_catalog
from infrawright.change.implement import implement
from infrawright.model.conventions import PSS_PREFIX, Convention, Conventions, infer
from infrawright.model.loader import load_repo
from infrawright.plan.rules import plan_request

CLUSTER_FILE = "clusters/local-kube/infrastructure.yaml"
CRD_DIRS = [SHARED / "crds"] if (SHARED / "crds").is_dir() else []
# external-dns writes a Namespace, HelmRepository, HelmRelease, two Flux Kustomizations and a
# ServiceMonitor; kyverno also registers webhooks, so it gets a CiliumNetworkPolicy.
EXTERNAL_DNS = "install external-dns"
KYVERNO = "install kyverno"

Generated = dict[str, str]
"""What implement writes: repo-relative path -> text (the cluster file: the appended part)."""
Mutation = Callable[[Path], None]
Observe = Callable[[Generated], object]


def _chart_version(name: str) -> str:
    entry = builtin_catalog().get(name)
    assert entry is not None and entry.chart is not None
    return entry.chart.version


EDNS = _chart_version("external-dns")  # e.g. 1.22.0
EDNS_MAJOR, EDNS_MINOR = EDNS.split(".")[:2]


# -- reading the repository and the output -----------------------------------------------
def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]


def files_of_kind(root: Path, kind: str) -> list[Path]:
    """Every YAML file under namespaces/ holding an object of ``kind``, sorted."""
    return [
        p
        for p in sorted((root / "namespaces").rglob("*.yaml"))
        if any(d.get("kind") == kind for d in documents(p))
    ]


def generated(root: Path, changes: dict[str, bytes | None]) -> Generated:
    out: Generated = {}
    for path, data in changes.items():
        assert data is not None, f"{path} deleted"
        text = data.decode("utf-8")
        if path == CLUSTER_FILE:
            old = (root / path).read_text(encoding="utf-8")
            assert text.startswith(old), "the cluster file is only appended to"
            text = text[len(old) :]
        out[path] = text
    return out


def load(files: Generated, path: str) -> dict[str, Any]:
    assert path in files, f"{path} not written; written: {sorted(files)}"
    doc = yaml.safe_load(files[path])
    assert isinstance(doc, dict)
    return doc


def new_kustomizations(files: Generated) -> list[dict[str, Any]]:
    """The Flux Kustomizations appended to the cluster file, in order."""
    return [d for d in yaml.safe_load_all(files[CLUSTER_FILE]) if isinstance(d, dict)]


def run(root: Path, request: str) -> Generated:
    """implement(dry_run=True) through the library API on a clean repository."""
    model = load_repo(root)
    outcome = implement(
        model, plan_request(request, model.catalog), dry_run=True, crd_dirs=CRD_DIRS
    )
    assert outcome.status == "dry-run", (
        outcome.error,
        [(f.rule, f.file, f.message) for f in outcome.new_findings],
    )
    assert [(f.rule, f.file, f.message) for f in outcome.findings] == []
    return generated(root, outcome.changes.files)


# -- rewriting the repository ------------------------------------------------------------
def sub_in_kind(kind: str, pattern: str, repl: str | Callable[[re.Match[str]], str]) -> Mutation:
    """re.sub (multiline) in every file holding a ``kind``; each file must change."""

    def mutate(root: Path) -> None:
        paths = files_of_kind(root, kind)
        assert paths, f"no {kind} in {root}"
        for path in paths:
            text = path.read_text(encoding="utf-8")
            new = re.sub(pattern, repl, text, flags=re.M)
            assert new != text, f"{pattern!r} not found in {path}"
            path.write_text(new, encoding="utf-8")

    return mutate


def edit_flux_kustomizations(
    root: Path, which: str, edit: Callable[[str, str], str], *, must_change: bool = True
) -> None:
    """Apply ``edit(name, text)`` to the cluster file's documents: all, plain or monitoring."""
    path = root / CLUSTER_FILE
    chunks = path.read_text(encoding="utf-8").split("\n---\n")
    for i, chunk in enumerate(chunks):
        doc = yaml.safe_load(chunk)
        if not isinstance(doc, dict):
            continue  # the header comment
        name = doc["metadata"]["name"]
        is_monitoring = name.endswith("-monitoring")
        if which == "all" or (which == "monitoring") == is_monitoring:
            new = edit(name, chunk)
            assert new != chunk or not must_change, f"{name}: not changed"
            chunks[i] = new
    path.write_text("\n---\n".join(chunks), encoding="utf-8")


def sub_in_kustomizations(which: str, pattern: str, repl: str) -> Mutation:
    def mutate(root: Path) -> None:
        edit_flux_kustomizations(root, which, lambda _n, t: re.sub(pattern, repl, t, flags=re.M))

    return mutate


def helm_repositories_in_component_namespaces(root: Path) -> None:
    """Each HelmRepository moves to the namespace of the HelmRelease next to it."""
    for repo_file in files_of_kind(root, "HelmRepository"):
        (release_file,) = [
            p for p in files_of_kind(root, "HelmRelease") if p.parent == repo_file.parent
        ]
        (release,) = [d for d in documents(release_file) if d["kind"] == "HelmRelease"]
        namespace = release["metadata"]["namespace"]
        for path in (repo_file, release_file):
            text = path.read_text(encoding="utf-8")
            new, count = re.subn(
                r"^( +)namespace: flux-system$", rf"\1namespace: {namespace}", text, flags=re.M
            )
            assert count == 1, (path, count)
            path.write_text(new, encoding="utf-8")


def add_pss_warn_labels(root: Path) -> None:
    sub_in_kind(
        "Namespace",
        r"^( +)(pod-security\.kubernetes\.io/)enforce: (\S+)\n\1\2enforce-version: (\S+)\n",
        r"\g<0>\1\2warn: \3\n\1\2warn-version: \4\n",
    )(root)


def network_policies_in_a_file(name: str) -> Mutation:
    """cilium-network-policies/allow-k8s-api.yaml -> <component>/<name>, folder removed."""

    def mutate(root: Path) -> None:
        folders = sorted((root / "namespaces").glob("*/cilium-network-policies"))
        assert folders
        for folder in folders:
            component = folder.parent
            shutil.move(folder / "allow-k8s-api.yaml", component / name)
            shutil.rmtree(folder)
            kfile = component / "kustomization.yaml"
            text = kfile.read_text(encoding="utf-8")
            assert "- cilium-network-policies\n" in text
            kfile.write_text(text.replace("- cilium-network-policies\n", f"- {name}\n"))

    return mutate


_ITEM = re.compile(r"^( *)- ")
_KEY = re.compile(r"^( *)((?:- )*)[^\s#][^:#]*:\s*(#.*)?$")


def dedent_sequences(text: str) -> str:
    """Rewrite ``key:\\n  - item`` as ``key:\\n- item`` (the same data, checked by callers)."""
    out: list[str] = []
    stack: list[int] = []  # original columns of the sequences being moved left
    key_col: int | None = None  # column of the key that ends the previous content line
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        col = len(line) - len(stripped)
        if not stripped or stripped.startswith("#"):
            shift = 2 * sum(1 for s in stack if s <= col)
            out.append(line[min(shift, col) :])
            continue
        while stack and stack[-1] > col:
            stack.pop()
        item = _ITEM.match(line) and key_col is not None and col == key_col + 2
        if item and (not stack or stack[-1] != col):
            stack.append(col)
        out.append(line[2 * len(stack) :])
        key = _KEY.match(line)
        key_col = len(key.group(1)) + len(key.group(2)) if key else None
    return "\n".join(out)


def unindented_sequences(root: Path) -> None:
    changed = 0
    for path in sorted(root.rglob("*.yaml")):
        if ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        new = dedent_sequences(text)
        assert list(yaml.safe_load_all(new)) == list(yaml.safe_load_all(text)), path
        changed += new != text
        path.write_text(new, encoding="utf-8")
    assert changed > 10


TENANTS = ("tenant-a", "tenant-b", "tenant-c")


def no_cni_dependency(root: Path) -> None:
    """Only the Kustomizations that need Cilium's CRDs depend on it; three tenants do not."""
    dropped: list[str] = []

    def drop(name: str, text: str) -> str:
        # The uncommented "- name: cilium" lines are the "every component after the CNI"
        # ones; the commented ones are CRD (CiliumNetworkPolicy) or metrics dependencies.
        if "    - name: cilium\n" in text:
            dropped.append(name)
        return text.replace("    - name: cilium\n", "")

    edit_flux_kustomizations(root, "all", drop, must_change=False)
    assert dropped == [
        "cert-manager-config",
        "postgres",
        "cert-manager-monitoring",
        "kong-monitoring",
        "cloudnative-pg-monitoring",
    ]
    cluster = root / CLUSTER_FILE
    text = cluster.read_text(encoding="utf-8")
    for tenant in TENANTS:
        folder = root / "namespaces" / tenant
        folder.mkdir()
        (folder / "namespace.yaml").write_text(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n"
            f"  name: {tenant}\n  labels:\n"
            "    pod-security.kubernetes.io/enforce: restricted\n"
            "    pod-security.kubernetes.io/enforce-version: latest\n"
        )
        (folder / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            "resources:\n  - namespace.yaml\n"
        )
        text += (
            "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            f"metadata:\n  name: {tenant}\n  namespace: flux-system\nspec:\n"
            f"  interval: 10m\n  path: ./namespaces/{tenant}\n  prune: false\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
            "  wait: true\n  timeout: 10m\n"
        )
    cluster.write_text(text, encoding="utf-8")


RENAMES = {
    "helm-release.yaml": "release.yaml",
    "helm-repository.yaml": "repository.yaml",
    "namespace.yaml": "ns.yaml",
    "servicemonitor.yaml": "service-monitor.yaml",
    "prometheus-rules.yaml": "alerts.yaml",
}


def renamed_files(root: Path) -> None:
    """Rename the component files and every reference to them (lists and comments)."""
    moved = 0
    for path in sorted((root / "namespaces").rglob("*.yaml")):
        if path.name in RENAMES:
            path.rename(path.with_name(RENAMES[path.name]))
            moved += 1
    assert moved > 10
    for path in sorted((root / "namespaces").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        for old, new in RENAMES.items():
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")


# -- silent repositories -----------------------------------------------------------------
def empty_repo(root: Path) -> None:
    """No component at all, and no block sequence in any kustomization.yaml: silent."""
    shutil.rmtree(root / "namespaces")
    (root / "namespaces").mkdir()
    (root / CLUSTER_FILE).write_text("# Flux Kustomizations for local-kube: none yet.\n")
    kfile = root / "clusters/local-kube/flux-system/kustomization.yaml"
    text = kfile.read_text(encoding="utf-8")
    new = re.sub(r"resources:\n  - (\S+)\n  - (\S+)\n", r"resources: [\1, \2]\n", text)
    assert new != text
    kfile.write_text(new, encoding="utf-8")


def without_monitoring_kustomizations(root: Path) -> None:
    """The monitoring stack stays; no <c>-monitoring Kustomization exists yet."""
    for folder in sorted((root / "namespaces").glob("*-monitoring")):
        shutil.rmtree(folder)
    path = root / CLUSTER_FILE
    chunks = path.read_text(encoding="utf-8").split("\n---\n")
    kept = [c for c in chunks if not re.search(r"^  name: \S+-monitoring$", c, re.M)]
    assert len(kept) == len(chunks) - 4
    path.write_text("\n---\n".join(kept).rstrip("\n") + "\n", encoding="utf-8")


def cilium_only(root: Path) -> None:
    """Only the CNI: no other Kustomization says whether it depends on it."""
    for folder in sorted((root / "namespaces").iterdir()):
        if folder.name != "cilium":
            shutil.rmtree(folder)
    path = root / CLUSTER_FILE
    chunks = path.read_text(encoding="utf-8").split("\n---\n")
    kept = chunks[:1] + [c for c in chunks[1:] if "\n  name: cilium\n" in c]
    assert len(kept) == 2
    path.write_text("\n---\n".join(kept) + "\n", encoding="utf-8")


# -- what the output shows ---------------------------------------------------------------
def helm_repository_namespace(files: Generated) -> object:
    repo = load(files, "namespaces/external-dns/helm-repository.yaml")
    release = load(files, "namespaces/external-dns/helm-release.yaml")
    source = release["spec"]["chart"]["spec"]["sourceRef"]
    return (repo["metadata"]["namespace"], source.get("namespace"))


def helm_repository_interval(files: Generated) -> object:
    return load(files, "namespaces/external-dns/helm-repository.yaml")["spec"]["interval"]


def helm_release_spec(*keys: str) -> Observe:
    def observe(files: Generated) -> object:
        node: Any = load(files, "namespaces/external-dns/helm-release.yaml")["spec"]
        for key in keys:
            node = node[key]
        return node

    return observe


def version_line(files: Generated) -> object:
    found = re.findall(
        r"^ +version: (.*)$", files["namespaces/external-dns/helm-release.yaml"], re.M
    )
    assert len(found) == 1
    return found[0]


def remediation(files: Generated) -> object:
    spec = load(files, "namespaces/external-dns/helm-release.yaml")["spec"]
    return (spec["install"]["remediation"]["retries"], spec["upgrade"]["remediation"]["retries"])


def ks_spec(key: str) -> Observe:
    """``spec.<key>`` of every new Flux Kustomization, in order (None: not written)."""

    def observe(files: Generated) -> object:
        return tuple(ks["spec"].get(key) for ks in new_kustomizations(files))

    return observe


def ks_depends(files: Generated) -> object:
    return tuple(
        tuple(d["name"] for d in ks["spec"].get("dependsOn", []))
        for ks in new_kustomizations(files)
    )


def namespace_labels(files: Generated) -> object:
    labels = load(files, "namespaces/external-dns/namespace.yaml")["metadata"]["labels"]
    assert isinstance(labels, dict)
    return labels


def pss_version(files: Generated) -> object:
    labels = namespace_labels(files)
    assert isinstance(labels, dict)
    return labels[PSS_PREFIX + "enforce-version"]


def kyverno_layout(files: Generated) -> tuple[list[str], list[str]]:
    """The kyverno files written, and what its kustomization.yaml lists."""
    kyverno = sorted(p for p in files if p.startswith("namespaces/kyverno/"))
    return (kyverno, load(files, "namespaces/kyverno/kustomization.yaml")["resources"])


_SEQUENCE = re.compile(r"^( *)((?:- )*)[\w./-]+:[ ]*\n(?: *#.*\n)*( *)- ", re.M)


def sequence_styles(files: Generated) -> object:
    """{True}: every block sequence indented under its key; {False}: none is."""
    styles = set()
    for text in files.values():
        for m in _SEQUENCE.finditer(text):
            styles.add(len(m.group(3)) > len(m.group(1)) + len(m.group(2)))
    return styles


def file_layout(files: Generated) -> object:
    """Every path written, with the resources of each kustomization.yaml."""
    return {
        p: load(files, p)["resources"] if p.endswith("/kustomization.yaml") else None
        for p in sorted(files)
        if p != CLUSTER_FILE
    }


def _layout(names: dict[str, str]) -> dict[str, list[str] | None]:
    ns, repo, rel, sm = (names[k] for k in ("ns", "repo", "release", "sm"))
    c, m = "namespaces/external-dns", "namespaces/external-dns-monitoring"
    return {
        f"{c}/kustomization.yaml": [ns, repo, rel],
        f"{c}/{ns}": None,
        f"{c}/{repo}": None,
        f"{c}/{rel}": None,
        f"{m}/kustomization.yaml": [sm],
        f"{m}/{sm}": None,
    }


TRUST_MANAGER = "install trust-manager"  # an OCI chart (oci://quay.io/jetstack/charts)


def cert_manager_from_oci_repository(root: Path) -> None:
    """cert-manager's chart comes through an OCIRepository and spec.chartRef."""
    folder = root / "namespaces/cert-manager"
    (folder / "helm-repository.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\n"
        "kind: OCIRepository\n"
        "metadata:\n  name: cert-manager\n  namespace: flux-system\n"
        "spec:\n  interval: 1h\n  url: oci://quay.io/jetstack/charts/cert-manager\n"
        "  layerSelector:\n"
        '    mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip"\n'
        "    operation: copy\n"
        '  ref:\n    semver: "v1.19.x"\n',
        encoding="utf-8",
    )
    release = folder / "helm-release.yaml"
    text = release.read_text(encoding="utf-8")
    block = text[text.index("  chart:\n") : text.index("  install:\n")]
    chart_ref = "  chartRef:\n    kind: OCIRepository\n    name: cert-manager\n"
    release.write_text(text.replace(block, chart_ref + "    namespace: flux-system\n"))


def trust_manager_source(files: Generated) -> object:
    """Kind of the chart source written for trust-manager."""
    kinds = {
        d.get("kind")
        for path, text in files.items()
        if path.startswith("namespaces/trust-manager/")
        for d in yaml.safe_load_all(text)
        if isinstance(d, dict)
    }
    found = kinds & {"HelmRepository", "OCIRepository"}
    return found.pop() if len(found) == 1 else sorted(str(k) for k in found)


# -- the cases ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Case:
    """One convention: a rewrite of the example, and how the output must follow it."""

    field: str
    mutate: Mutation
    inferred: object  # what infer() must report after the rewrite
    observe: Observe  # the convention as seen in implement's output
    before: object  # ... for the unchanged example
    after: object  # ... for the rewritten one
    request: str = EXTERNAL_DNS
    agree: int | None = None  # None: every file agrees (agree == total)
    silence: Mutation = empty_repo  # a repository silent on the convention
    default_seen: object = None  # observe() there (the documented default)


K = PSS_PREFIX
KYVERNO_FOLDER = (
    [
        "namespaces/kyverno/cilium-network-policies/allow-k8s-api.yaml",
        "namespaces/kyverno/cilium-network-policies/kustomization.yaml",
        "namespaces/kyverno/helm-release.yaml",
        "namespaces/kyverno/helm-repository.yaml",
        "namespaces/kyverno/kustomization.yaml",
        "namespaces/kyverno/namespace.yaml",
    ],
    ["namespace.yaml", "helm-repository.yaml", "helm-release.yaml", "cilium-network-policies"],
)
CASES: dict[str, Case] = {
    "helm_repository_namespace": Case(
        "helm_repository_namespace",
        helm_repositories_in_component_namespaces,
        "<component>",
        helm_repository_namespace,
        ("flux-system", "flux-system"),
        ("external-dns", "external-dns"),
        default_seen=("flux-system", "flux-system"),
    ),
    "helm_repository_interval": Case(
        "helm_repository_interval",
        sub_in_kind("HelmRepository", r"^  interval: 1h$", "  interval: 12h"),
        "12h",
        helm_repository_interval,
        "1h",
        "12h",
        default_seen="1h",
    ),
    "helm_release_interval": Case(
        "helm_release_interval",
        sub_in_kind("HelmRelease", r"^  interval: 1h$", "  interval: 30m"),
        "30m",
        helm_release_spec("interval"),
        "1h",
        "30m",
        default_seen="1h",
    ),
    "version_style-exact": Case(
        "version_style",
        sub_in_kind("HelmRelease", r'^( +version: "v?\d+\.\d+)\.x"$', r'\1.0"'),
        "exact",
        helm_release_spec("chart", "spec", "version"),
        f"{EDNS_MAJOR}.{EDNS_MINOR}.x",
        EDNS,
        default_seen=f"{EDNS_MAJOR}.{EDNS_MINOR}.x",
    ),
    "version_style-major": Case(
        "version_style",
        sub_in_kind("HelmRelease", r'^( +version: "v?\d+)\.\d+\.x"$', r'\1.x"'),
        "major",
        helm_release_spec("chart", "spec", "version"),
        f"{EDNS_MAJOR}.{EDNS_MINOR}.x",
        f"{EDNS_MAJOR}.x",
        default_seen=f"{EDNS_MAJOR}.{EDNS_MINOR}.x",
    ),
    "version_quoted": Case(
        "version_quoted",
        sub_in_kind("HelmRelease", r'^( +version: )"([^"]+)"$', r"\1\2"),
        False,
        version_line,
        f'"{EDNS_MAJOR}.{EDNS_MINOR}.x"',
        f"{EDNS_MAJOR}.{EDNS_MINOR}.x",
        default_seen=f'"{EDNS_MAJOR}.{EDNS_MINOR}.x"',
    ),
    "remediation_retries": Case(
        "remediation_retries",
        sub_in_kind("HelmRelease", r"^( +retries:) 3$", r"\1 5"),
        5,
        remediation,
        (3, 3),
        (5, 5),
        default_seen=(3, 3),
    ),
    "ks_interval": Case(
        "ks_interval",
        sub_in_kustomizations("all", r"^  interval: 10m$", "  interval: 15m"),
        "15m",
        ks_spec("interval"),
        ("10m", "10m"),
        ("15m", "15m"),
        default_seen=("10m",),
    ),
    "ks_prune": Case(
        "ks_prune",
        sub_in_kustomizations("all", r"^  prune: false$", "  prune: true"),
        True,
        ks_spec("prune"),
        (False, False),
        (True, True),
        default_seen=(False,),
    ),
    "ks_wait": Case(
        "ks_wait",
        sub_in_kustomizations("plain", r"^  wait: true$", "  wait: false"),
        False,
        ks_spec("wait"),
        (True, False),
        (False, False),
        default_seen=(True,),
    ),
    "ks_timeout": Case(
        "ks_timeout",
        sub_in_kustomizations("plain", r"^  timeout: 10m$", "  timeout: 20m"),
        "20m",
        ks_spec("timeout"),
        ("10m", "5m"),
        ("20m", "5m"),
        default_seen=("10m",),
    ),
    "ks_retry_interval": Case(
        "ks_retry_interval",
        sub_in_kustomizations("all", r"^(  interval: 10m\n)", r"\1  retryInterval: 2m\n"),
        "2m",
        ks_spec("retryInterval"),
        (None, None),
        ("2m", "2m"),
        default_seen=(None,),
    ),
    "monitoring_wait": Case(
        "monitoring_wait",
        sub_in_kustomizations("monitoring", r"^  wait: false$", "  wait: true"),
        True,
        ks_spec("wait"),
        (True, False),
        (True, True),
        silence=without_monitoring_kustomizations,
        default_seen=(True, False),
    ),
    "monitoring_timeout": Case(
        "monitoring_timeout",
        sub_in_kustomizations("monitoring", r"^  timeout: 5m$", "  timeout: 3m"),
        "3m",
        ks_spec("timeout"),
        ("10m", "5m"),
        ("10m", "3m"),
        silence=without_monitoring_kustomizations,
        default_seen=("10m", "5m"),
    ),
    "pss_labels": Case(
        "pss_labels",
        add_pss_warn_labels,
        (K + "enforce", K + "enforce-version", K + "warn", K + "warn-version"),
        namespace_labels,
        {K + "enforce": "restricted", K + "enforce-version": "latest"},
        {
            K + "enforce": "restricted",
            K + "enforce-version": "latest",
            K + "warn": "restricted",
            K + "warn-version": "latest",
        },
        default_seen={K + "enforce": "restricted", K + "enforce-version": "latest"},
    ),
    "pss_version": Case(
        "pss_version",
        sub_in_kind(
            "Namespace", r"^( +pod-security\.kubernetes\.io/enforce-version:) latest$", r"\1 v1.33"
        ),
        "v1.33",
        pss_version,
        "latest",
        "v1.33",
        default_seen="latest",
    ),
    "network_policy_layout": Case(
        "network_policy_layout",
        network_policies_in_a_file("cilium-network-policy.yaml"),
        "file",
        kyverno_layout,
        KYVERNO_FOLDER,
        (
            [
                "namespaces/kyverno/cilium-network-policy.yaml",
                "namespaces/kyverno/helm-release.yaml",
                "namespaces/kyverno/helm-repository.yaml",
                "namespaces/kyverno/kustomization.yaml",
                "namespaces/kyverno/namespace.yaml",
            ],
            [
                "namespace.yaml",
                "helm-repository.yaml",
                "helm-release.yaml",
                "cilium-network-policy.yaml",
            ],
        ),
        request=KYVERNO,
        silence=cilium_only,  # a policy is only written where the cluster runs Cilium
        default_seen=KYVERNO_FOLDER,
    ),
    "sequence_indent": Case(
        "sequence_indent",
        unindented_sequences,
        False,
        sequence_styles,
        {True},
        {False},
        default_seen={True},
    ),
    "depend_on_cni": Case(
        "depend_on_cni",
        no_cni_dependency,
        False,
        ks_depends,
        (("cilium",), ("monitoring", "external-dns", "cilium")),
        ((), ("monitoring", "external-dns")),
        agree=5,  # postgres, cert-manager-config and the tenants; 4 of 9 still need Cilium
        silence=cilium_only,
        default_seen=(("cilium",),),
    ),
    "oci_source": Case(
        "oci_source",
        cert_manager_from_oci_repository,
        "OCIRepository",
        trust_manager_source,
        "HelmRepository",
        "OCIRepository",
        request=TRUST_MANAGER,
        default_seen="HelmRepository",
    ),
    "file_names": Case(
        "file_names",
        renamed_files,
        {
            "HelmRelease": "release.yaml",
            "HelmRepository": "repository.yaml",
            "Namespace": "ns.yaml",
            "ServiceMonitor": "service-monitor.yaml",
            "PrometheusRule": "alerts.yaml",
        },
        file_layout,
        _layout(
            {
                "ns": "namespace.yaml",
                "repo": "helm-repository.yaml",
                "release": "helm-release.yaml",
                "sm": "servicemonitor.yaml",
            }
        ),
        _layout(
            {
                "ns": "ns.yaml",
                "repo": "repository.yaml",
                "release": "release.yaml",
                "sm": "service-monitor.yaml",
            }
        ),
        # Silent: no component, so no monitoring stack and no ServiceMonitor either.
        default_seen={
            k: v
            for k, v in _layout(
                {
                    "ns": "namespace.yaml",
                    "repo": "helm-repository.yaml",
                    "release": "helm-release.yaml",
                    "sm": "servicemonitor.yaml",
                }
            ).items()
            if "-monitoring/" not in k
        },
    ),
}
#: The documented defaults (model/conventions.py), used where the repository is silent.
DEFAULTS: dict[str, object] = {
    "helm_repository_namespace": "flux-system",
    "helm_repository_interval": "1h",
    "helm_release_interval": "1h",
    "version_style": "minor",
    "version_quoted": True,
    "remediation_retries": 3,
    "ks_interval": "10m",
    "ks_prune": False,
    "ks_wait": True,
    "ks_timeout": "10m",
    "ks_retry_interval": None,
    "monitoring_wait": False,
    "monitoring_timeout": "5m",
    "pss_labels": (K + "enforce", K + "enforce-version"),
    "pss_version": "latest",
    "network_policy_layout": "folder",
    "sequence_indent": True,
    "depend_on_cni": True,
    "oci_source": "HelmRepository",
}

#: Known bugs: case id -> reason (the case is expected to fail until src/ is fixed).
XFAIL_INFER: dict[str, str] = {}
XFAIL_OUTPUT: dict[str, str] = {}


def _params(xfail: dict[str, str]) -> list[Any]:
    return [
        pytest.param(
            case,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=xfail[name])] if name in xfail else [],
        )
        for name, case in CASES.items()
    ]


def test_every_field_has_a_case() -> None:
    fields = {f.name for f in dataclasses.fields(Conventions)}
    assert fields == {c.field for c in CASES.values()}
    assert set(DEFAULTS) | {"file_names"} == fields


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(EXAMPLE, tmp_path / "repo")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Generated]:
    """What implement writes on the unchanged example, per request (computed once)."""
    cache: dict[str, Generated] = {}

    def get(request: str) -> Generated:
        if request not in cache:
            root = copy_repo(EXAMPLE, tmp_path_factory.mktemp("baseline") / "repo")
            cache[request] = run(root, request)
        return cache[request]

    return get


@pytest.fixture(scope="module")
def silent(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Mutation, str], Generated]:
    """What implement writes on a silent repository, per (silence, request)."""
    cache: dict[tuple[Mutation, str], Generated] = {}

    def get(silence: Mutation, request: str) -> Generated:
        if (silence, request) not in cache:
            root = copy_repo(EXAMPLE, tmp_path_factory.mktemp("silent") / "repo")
            silence(root)
            cache[silence, request] = run(root, request)
        return cache[silence, request]

    return get


def inferred(conventions: Conventions, field: str) -> object:
    if field == "file_names":
        return {k: c.value for k, c in conventions.file_names.items()}
    return getattr(conventions, field).value


def evidence(conventions: Conventions, field: str) -> list[Convention]:
    if field == "file_names":
        return list(conventions.file_names.values())
    conv = getattr(conventions, field)
    assert isinstance(conv, Convention)
    return [conv]


@pytest.mark.parametrize("case", _params(XFAIL_INFER))
def test_infer_follows_the_rewritten_repo(case: Case, repo: Path) -> None:
    before = infer(load_repo(repo))
    assert inferred(before, case.field) != case.inferred
    case.mutate(repo)
    after = infer(load_repo(repo))
    assert inferred(after, case.field) == case.inferred
    for conv in evidence(after, case.field):
        assert conv.total > 0
        expected = conv.total if case.agree is None else case.agree
        assert (conv.agree, conv.total) == (expected, conv.total)


@pytest.mark.parametrize("case", _params(XFAIL_OUTPUT))
def test_output_follows_the_rewritten_repo(
    case: Case, repo: Path, baseline: Callable[[str], Generated]
) -> None:
    assert case.before != case.after
    assert case.observe(baseline(case.request)) == case.before
    case.mutate(repo)
    assert case.observe(run(repo, case.request)) == case.after


@pytest.mark.parametrize("case", _params({}))
def test_silent_repo_gets_the_default(
    case: Case, repo: Path, silent: Callable[[Mutation, str], Generated]
) -> None:
    case.silence(repo)
    conventions = infer(load_repo(repo))
    if case.field == "file_names":
        assert conventions.file_names == {}  # the renderer's defaults apply
    else:
        assert getattr(conventions, case.field) == Convention(DEFAULTS[case.field], 0, 0)
    assert case.observe(silent(case.silence, case.request)) == case.default_seen


def test_majority_not_unanimity(repo: Path) -> None:
    """Three of five HelmReleases say 30m: 30m wins 3 to 2; two of five: 1h wins 3 to 2."""
    releases = files_of_kind(repo, "HelmRelease")
    assert len(releases) == 5
    for count, value in ((2, "1h"), (3, "30m")):
        for path in releases[:count]:
            text = path.read_text(encoding="utf-8")
            path.write_text(re.sub(r"^  interval: 1h$", "  interval: 30m", text, flags=re.M))
        assert infer(load_repo(repo)).helm_release_interval == Convention(value, 3, 5)


def test_network_policy_file_name_follows_the_repo(repo: Path) -> None:
    network_policies_in_a_file("network-policy.yaml")(repo)
    assert infer(load_repo(repo)).network_policy_layout == Convention("file", 4, 4)
    files, resources = kyverno_layout(run(repo, KYVERNO))
    assert "namespaces/kyverno/network-policy.yaml" in files
    assert resources[-1] == "network-policy.yaml"


def test_conventions_from_the_cache_equal_inferred_ones_and_follow_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    first = infer(load_repo(repo))
    assert list((tmp_path / "cache" / "conventions").iterdir()), "kept"
    assert infer(load_repo(repo)) == first
    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    assert infer(load_repo(repo)) == first
    monkeypatch.delenv("INFRAWRIGHT_CACHE")
    for path in repo.glob("namespaces/*/helm-release.yaml"):
        path.write_text(re.sub(r"(?m)^  interval: \S+", "  interval: 45m", path.read_text()))
    edited = infer(load_repo(repo))
    assert edited.helm_release_interval.value == "45m"
