"""Generate a large, deterministic Flux repository in the layout of examples/local-kube.

    python bench/gen_repo.py OUT_DIR --components N [--seed S] [--no-git]

The example's cilium, cert-manager and monitoring (kube-prometheus-stack) components and
their Flux Kustomizations are copied as they are; then N synthetic components follow, each
with a Namespace (Pod Security labels), a HelmRepository (shared ones in flux-system), a
HelmRelease pinned to an exact chart version and a kustomization.yaml. About 30% get a
``<c>-monitoring`` folder, some a CiliumNetworkPolicy, some a cert-manager Certificate,
and some depend on earlier synthetic components (so the graph stays acyclic). The same
N and seed always give the same bytes; unless ``--no-git``, the tree is committed with a
fixed author and date, so the commit is reproducible too.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "examples" / "local-kube"
CLUSTER = "local-kube"
COMPONENTS_DIR = "namespaces"
#: Example components copied verbatim, in their bootstrap order.
COPIED = (
    "cilium",
    "cert-manager",
    "monitoring",
    "cert-manager-config",
    "cilium-monitoring",
    "cert-manager-monitoring",
)
TEAMS = (
    "payments",
    "orders",
    "billing",
    "search",
    "catalog",
    "identity",
    "inventory",
    "shipping",
    "reporting",
    "notifications",
    "analytics",
    "checkout",
    "pricing",
    "media",
    "ledger",
    "support",
)
ROLES = ("api", "worker", "gateway", "web", "scheduler", "indexer", "sync", "consumer")
GIT_DATE = "2025-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class ChartRepo:
    """A public Helm repository shared in flux-system, and the charts taken from it."""

    name: str
    url: str
    charts: tuple[tuple[str, tuple[str, ...]], ...]


SHARED_REPOS = (
    ChartRepo("podinfo", "https://stefanprodan.github.io/podinfo", (("podinfo", ("6.7.1",)),)),
    ChartRepo(
        "bjw-s",
        "https://bjw-s-labs.github.io/helm-charts",
        (("app-template", ("3.7.3", "4.0.1")),),
    ),
    ChartRepo(
        "bitnami",
        "https://charts.bitnami.com/bitnami",
        (("nginx", ("18.2.4", "19.0.1")), ("memcached", ("7.5.2",))),
    ),
)
PSS_REASONS = {
    "restricted": "the chart's pods run as non-root with no extra capabilities.",
    "baseline": "an init container changes file ownership, which restricted rejects.",
    "privileged": "a node agent DaemonSet mounts hostPath volumes.",
}


@dataclass
class Component:
    """One synthetic component and every choice made for it."""

    name: str
    team: str
    pss: str
    repo_name: str
    repo_namespace: str
    repo_url: str
    chart: str
    version: str
    defines_repo: bool
    monitored: bool
    policy: bool
    certificate: bool
    replicas: int
    port: int
    depends: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- choices


def _pick_pss(rng: random.Random) -> str:
    roll = rng.random()
    return "restricted" if roll < 0.7 else "baseline" if roll < 0.95 else "privileged"


def _pick_chart(
    rng: random.Random, name: str, team: str, defined: set[str]
) -> tuple[str, str, str, str, str, bool]:
    """(repo name, repo namespace, url, chart, version, defines the repo here)."""
    if rng.random() < 0.6:
        repo = SHARED_REPOS[rng.randrange(len(SHARED_REPOS))]
        chart, versions = repo.charts[rng.randrange(len(repo.charts))]
        version = versions[rng.randrange(len(versions))]
        first = repo.name not in defined
        defined.add(repo.name)
        return repo.name, "flux-system", repo.url, chart, version, first
    url = f"https://charts.{team}.example.com"
    version = f"{rng.randint(0, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
    return name, name, url, name.rsplit("-", 1)[0], version, True


def _pick_depends(rng: random.Random, earlier: Sequence[str]) -> list[str]:
    """Zero to two earlier synthetic components, mostly recent ones (chains)."""
    if not earlier or rng.random() >= 0.35:
        return []
    window = earlier[-25:]
    count = 1 if rng.random() < 0.75 else 2
    return sorted(set(rng.sample(window, min(count, len(window)))))


def plan_components(count: int, seed: int) -> list[Component]:
    rng = random.Random(seed)
    width = max(4, len(str(count)))
    defined: set[str] = set()
    out: list[Component] = []
    for i in range(1, count + 1):
        team, role = TEAMS[rng.randrange(len(TEAMS))], ROLES[rng.randrange(len(ROLES))]
        name = f"{team}-{role}-{i:0{width}d}"
        pss = _pick_pss(rng)
        repo_name, repo_ns, url, chart, version, defines = _pick_chart(rng, name, team, defined)
        comp = Component(
            name=name,
            team=team,
            pss=pss,
            repo_name=repo_name,
            repo_namespace=repo_ns,
            repo_url=url,
            chart=chart,
            version=version,
            defines_repo=defines,
            monitored=rng.random() < 0.3,
            policy=rng.random() < 0.4,
            certificate=rng.random() < 0.25,
            replicas=rng.choice((1, 2, 3)),
            port=rng.choice((8080, 8000, 3000, 9000)),
            depends=_pick_depends(rng, [c.name for c in out]),
        )
        out.append(comp)
    return out


# --------------------------------------------------------------------------- files


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-") if not part.isdigit())


def namespace_yaml(c: Component) -> str:
    return (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n"
        f"  name: {c.name}\n  labels:\n"
        f"    # {c.pss}: {PSS_REASONS[c.pss]}\n"
        f"    pod-security.kubernetes.io/enforce: {c.pss}\n"
        "    pod-security.kubernetes.io/enforce-version: latest\n"
    )


def helm_repository_yaml(c: Component) -> str:
    shared = "# Shared by every component using this repository.\n" * (
        c.repo_namespace == "flux-system"
    )
    return (
        f"{shared}apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n"
        f"  name: {c.repo_name}\n  namespace: {c.repo_namespace}\n"
        f"spec:\n  interval: 1h\n  url: {c.repo_url}\n"
    )


def _values(c: Component) -> str:
    lines = [
        f"    replicaCount: {c.replicas}",
        "    resources:",
        "      requests:",
        f"        cpu: {25 * c.replicas}m",
        f"        memory: {64 * c.replicas}Mi",
        "      limits:",
        f"        memory: {128 * c.replicas}Mi",
        "    service:",
        f"      port: {c.port}",
    ]
    if c.monitored:
        lines += [
            "    metrics:",
            "      enabled: true             # keeps the metrics Service",
            "    serviceMonitor:",
            f"      enabled: false            # monitoring lives in {c.name}-monitoring",
        ]
    if c.certificate:
        lines += ["    tls:", "      enabled: true", f"      secretName: {c.name}-tls"]
    return "\n".join(lines) + "\n"


def helm_release_yaml(c: Component) -> str:
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
        f"  name: {c.name}\n  namespace: {c.name}\n"
        "spec:\n  interval: 1h\n  chart:\n    spec:\n"
        f"      chart: {c.chart}\n"
        f'      version: "{c.version}"\n'
        "      sourceRef:\n        kind: HelmRepository\n"
        f"        name: {c.repo_name}\n        namespace: {c.repo_namespace}\n"
        "  install:\n    remediation:\n      retries: 3\n"
        "  upgrade:\n    remediation:\n      retries: 3\n"
        "  values:\n" + _values(c)
    )


def certificate_yaml(c: Component) -> str:
    return (
        "# Serving certificate signed by the lab CA (cert-manager-config).\n"
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n"
        f"  name: {c.name}-tls\n  namespace: {c.name}\n"
        f"spec:\n  secretName: {c.name}-tls\n  dnsNames:\n"
        f"    - {c.name}.{c.name}.svc\n    - {c.name}.{c.name}.svc.cluster.local\n"
        "  duration: 2160h              # 90 days\n  renewBefore: 360h            # 15 days\n"
        "  privateKey:\n    algorithm: ECDSA\n    size: 256\n"
        "  issuerRef:\n    group: cert-manager.io\n    kind: ClusterIssuer\n"
        "    name: local-kube-ca\n"
    )


def _namespace_peer(key: str, ns: str, app: str | None = None) -> str:
    extra = f"\n            app.kubernetes.io/name: {app}" if app else ""
    return (
        f"    - {key}:\n        - matchLabels:\n"
        f"            k8s:io.kubernetes.pod.namespace: {ns}{extra}\n"
    )


def _ports(*ports: int, protocol: str = "TCP") -> str:
    body = "".join(
        f'            - port: "{p}"\n              protocol: {protocol}\n' for p in ports
    )
    return "      toPorts:\n        - ports:\n" + body


def network_policy_yaml(c: Component) -> str:
    """Ingress from the namespace (and Prometheus); egress to DNS, the namespace and
    the components this one depends on."""
    ingress = "    - fromEndpoints:\n        - {}\n"
    if c.monitored:
        ingress += _namespace_peer("fromEndpoints", "monitoring", "prometheus") + _ports(9090)
    egress = (
        "    - toEndpoints:\n        - matchLabels:\n"
        "            k8s:io.kubernetes.pod.namespace: kube-system\n"
        "            k8s:k8s-app: kube-dns\n"
        + _ports(53, protocol="UDP")
        + '            - port: "53"\n              protocol: TCP\n'
        + "    - toEndpoints:\n        - {}\n"
    )
    egress += "".join(_namespace_peer("toEndpoints", dep) for dep in c.depends)
    return (
        "# Default deny for the component's pods, except what is listed here.\n"
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n"
        f"  name: allow-traffic\n  namespace: {c.name}\n"
        f"spec:\n  endpointSelector:\n    matchLabels:\n      app.kubernetes.io/name: {c.name}\n"
        "  ingress:\n" + ingress + "  egress:\n" + egress
    )


def kustomization_yaml(resources: Sequence[str], note: str = "") -> str:
    items = "".join(f"  - {r}\n" for r in resources)
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + items
        + note
    )


def servicemonitor_yaml(c: Component) -> str:
    return (
        f"# Replaces the chart's ServiceMonitor (serviceMonitor.enabled: false in\n"
        f"# ../{c.name}/helm-release.yaml).\n"
        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n"
        f"  name: {c.name}\n  namespace: {c.name}\n"
        "spec:\n  selector:\n    matchLabels:\n"
        f"      app.kubernetes.io/name: {c.name}\n      app.kubernetes.io/instance: {c.name}\n"
        f"  namespaceSelector:\n    matchNames:\n      - {c.name}\n"
        "  endpoints:\n    - port: http-metrics\n      path: /metrics\n"
        "      interval: 30s\n      scrapeTimeout: 10s\n"
    )


def prometheus_rules_yaml(c: Component) -> str:
    alert = _camel(c.name)
    return (
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n"
        f"  name: {c.name}\n  namespace: {c.name}\n"
        f"spec:\n  groups:\n    - name: {c.name}\n      rules:\n"
        f"        - alert: {alert}Down\n"
        f'          expr: up{{namespace="{c.name}", service="{c.name}"}} == 0\n'
        "          for: 5m\n          labels:\n            severity: critical\n"
        "          annotations:\n"
        f"            summary: {c.name} is not being scraped\n"
        f"            description: Every {c.name} pod is down or unreachable from Prometheus.\n"
        f"        - alert: {alert}HighErrorRate\n"
        f'          expr: sum(rate(http_requests_total{{namespace="{c.name}", code=~"5.."}}[5m]))'
        f' / sum(rate(http_requests_total{{namespace="{c.name}"}}[5m])) > 0.05\n'
        "          for: 15m\n          labels:\n            severity: warning\n"
        "          annotations:\n"
        f"            summary: More than 5% of {c.name} requests fail\n"
        "            description: Check the pod logs and the latest rollout.\n"
    )


def component_files(c: Component) -> dict[str, str]:
    """Relative path (under the components dir) -> text, for one component."""
    base = f"{c.name}/"
    files = {base + "namespace.yaml": namespace_yaml(c)}
    resources = ["namespace.yaml"]
    if c.defines_repo:
        files[base + "helm-repository.yaml"] = helm_repository_yaml(c)
        resources.append("helm-repository.yaml")
    files[base + "helm-release.yaml"] = helm_release_yaml(c)
    resources.append("helm-release.yaml")
    if c.certificate:
        files[base + "certificate.yaml"] = certificate_yaml(c)
        resources.append("certificate.yaml")
    if c.policy:
        folder = base + "cilium-network-policies/"
        files[folder + "allow-traffic.yaml"] = network_policy_yaml(c)
        files[folder + "kustomization.yaml"] = kustomization_yaml(["allow-traffic.yaml"])
        resources.append("cilium-network-policies")
    note = f"  # ServiceMonitor and PrometheusRule live in ../{c.name}-monitoring\n"
    files[base + "kustomization.yaml"] = kustomization_yaml(resources, note * c.monitored)
    if c.monitored:
        mon = f"{c.name}-monitoring/"
        files[mon + "servicemonitor.yaml"] = servicemonitor_yaml(c)
        files[mon + "prometheus-rules.yaml"] = prometheus_rules_yaml(c)
        files[mon + "kustomization.yaml"] = kustomization_yaml(
            ["servicemonitor.yaml", "prometheus-rules.yaml"]
        )
    return files


# --------------------------------------------------------------------------- cluster file


def flux_kustomization(
    name: str, depends: Sequence[tuple[str, str]], *, wait: bool, timeout: str
) -> str:
    deps = ""
    if depends:
        deps = "  dependsOn:\n" + "".join(
            f"    - name: {d}" + (f"  # {why}" if why else "") + "\n" for d, why in depends
        )
    return (
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
        f"  name: {name}\n  namespace: flux-system\nspec:\n{deps}"
        f"  interval: 10m\n  path: ./{COMPONENTS_DIR}/{name}\n  prune: false\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        f"  wait: {'true' if wait else 'false'}\n  timeout: {timeout}\n"
    )


def component_depends(c: Component) -> list[tuple[str, str]]:
    why = "CiliumNetworkPolicy CRD" if c.policy else "pod networking"
    deps = [("cilium", why)]
    if c.certificate:
        deps += [("cert-manager", "Certificate CRD"), ("cert-manager-config", "ClusterIssuer")]
    deps += [(d, "") for d in c.depends]
    return deps


def monitoring_depends(c: Component) -> list[tuple[str, str]]:
    return [
        ("monitoring", "ServiceMonitor and PrometheusRule CRDs"),
        (c.name, "namespace and metrics Service"),
        ("cilium", ""),
    ]


def example_kustomizations() -> dict[str, str]:
    """The example cluster file's documents by Kustomization name, comments kept."""
    text = (EXAMPLE / "clusters" / CLUSTER / "infrastructure.yaml").read_text(encoding="utf-8")
    docs: dict[str, str] = {}
    for chunk in text.split("\n---\n")[1:]:
        match = re.search(r"^  name: (\S+)$", chunk, re.M)
        if match:
            docs[match.group(1)] = "---\n" + chunk.rstrip("\n") + "\n"
    return docs


def cluster_file(components: Sequence[Component], seed: int) -> str:
    copied = example_kustomizations()
    header = (
        f"# Flux Kustomizations for the {CLUSTER} cluster: the whole bootstrap graph in one file.\n"
        f"# Generated by bench/gen_repo.py ({len(components)} synthetic components, "
        f"seed {seed}).\n"
        "# Every Kustomization except cilium depends on cilium; custom-resource users depend\n"
        "# directly on the Kustomization installing the CRDs; prune stays false.\n"
    )
    parts = [header] + [copied[name] for name in COPIED]
    for c in components:
        parts.append(flux_kustomization(c.name, component_depends(c), wait=True, timeout="10m"))
    for c in components:
        if c.monitored:
            name = f"{c.name}-monitoring"
            parts.append(flux_kustomization(name, monitoring_depends(c), wait=False, timeout="5m"))
    return "".join(parts)


# --------------------------------------------------------------------------- writing


def readme(components: Sequence[Component], seed: int) -> str:
    monitored = sum(c.monitored for c in components)
    return (
        f"# Generated Flux repository ({len(components)} components, seed {seed})\n\n"
        "Written by `bench/gen_repo.py` of infrawright for benchmarks. cilium, cert-manager\n"
        "and monitoring are copied from examples/local-kube; every other component is\n"
        f"synthetic ({monitored} with a `<c>-monitoring` folder). The Flux Kustomizations\n"
        f"are in `clusters/{CLUSTER}/infrastructure.yaml`.\n"
    )


def copy_example(out: Path) -> None:
    shutil.copy2(EXAMPLE / ".sops.yaml", out / ".sops.yaml")
    flux = Path("clusters") / CLUSTER / "flux-system"
    shutil.copytree(EXAMPLE / flux, out / flux)
    for name in COPIED:
        shutil.copytree(EXAMPLE / COMPONENTS_DIR / name, out / COMPONENTS_DIR / name)


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


def git_commit(out: Path, message: str) -> None:
    """``git init`` and one commit with a fixed identity and date (reproducible hash)."""
    env = {**os.environ, "GIT_AUTHOR_DATE": GIT_DATE, "GIT_COMMITTER_DATE": GIT_DATE}
    ident = ["-c", "user.name=infrawright bench", "-c", "user.email=bench@example.invalid"]
    settings = ["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"]

    def git(*args: str) -> None:
        cmd = ["git", *ident, *settings, "-C", str(out), *args]
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", message)


def generate(out: Path, components: int, seed: int = 0, *, git: bool = True) -> None:
    """Write the repository into ``out`` (which must not exist or be empty).

    ``git=True`` also runs ``git init`` and commits the tree, as the command line does
    unless ``--no-git``.
    """
    if components < 0:
        raise ValueError("components must be >= 0")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    comps = plan_components(components, seed)
    copy_example(out)
    files: dict[str, str] = {"README.md": readme(comps, seed)}
    files[f"clusters/{CLUSTER}/infrastructure.yaml"] = cluster_file(comps, seed)
    for c in comps:
        for rel, text in component_files(c).items():
            files[f"{COMPONENTS_DIR}/{rel}"] = text
    write_files(out, files)
    if git:
        git_commit(out, f"Generated repository: {components} components, seed {seed}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="output folder (must not exist, or be empty)")
    parser.add_argument(
        "--components", type=int, default=1000, help="synthetic components (default 1000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--no-git", action="store_true", help="do not git init and commit")
    args = parser.parse_args(argv)
    try:
        generate(args.out, args.components, args.seed, git=not args.no_git)
    except (FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({args.components} synthetic components, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
