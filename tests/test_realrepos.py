"""Real public Flux repositories from ``../shared/realrepos``, through the library API.

Each repository is loaded with its config from ``tests/testdata/realrepos/<folder>.toml``
and validated with the reference CRDs from ``../shared/crds``. The tests pin what was
checked by hand: how many Flux Kustomizations exist, which are not built and why, a few
true findings, the absence of specific false positives, and bootstrap layers.

Tests marked ``xfail(strict=True)`` document a bug that is not fixed yet; they start
passing (and then fail as XPASS, so the mark gets removed) once the bug is fixed.
The inputs are read-only and are never copied into this repository.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from infrawright.build.builds import Build
from infrawright.model.flux import FluxKustomization
from infrawright.model.loader import load_repo
from infrawright.repo.config import load_config
from infrawright.repo.documents import Document
from infrawright.validate.engine import ValidationResult, validate
from infrawright.validate.finding import Finding

SHARED = Path(__file__).resolve().parents[2] / "shared"
REALREPOS = SHARED / "realrepos"
CRDS = SHARED / "crds"
CONFIGS = Path(__file__).resolve().parent / "testdata" / "realrepos"

KHE = "fluxcd__flux2-kustomize-helm-example"
MON = "fluxcd__flux2-monitoring-example"
LINKERD = "stefanprodan__gitops-linkerd"
HOMEOPS = "onedr0p__home-ops"
ALL = (KHE, MON, LINKERD, HOMEOPS)

#: A validation of a real repository should take seconds; more than this is a hang.
MAX_SECONDS = 60.0

pytestmark = pytest.mark.shared


@dataclass(frozen=True)
class Run:
    """One repository validated with its config, and how long that took."""

    result: ValidationResult
    seconds: float


#: The house rules a repository that never adopted the seed's conventions can still ask for.
HOUSE_RULES = frozenset({"IW004", "IW005", "IW007", "IW008"})


@functools.cache
def _validate(name: str, house_rules: frozenset[str] = frozenset()) -> Run:
    root = REALREPOS / name
    started = time.monotonic()
    config = load_config(root, CONFIGS / f"{name}.toml")
    if house_rules:
        config = dataclasses.replace(config, house_rules=house_rules)
    model = load_repo(root, config=config)
    result = validate(model, crd_dirs=[CRDS])
    return Run(result, time.monotonic() - started)


def run(name: str, house_rules: frozenset[str] = frozenset()) -> Run:
    """The validated repository, or a skip when ../shared is not there."""
    for path in (REALREPOS / name, CRDS):
        if not path.is_dir():
            pytest.skip(f"real-repository test data not found: {path}; CI provides ../shared")
    return _validate(name, house_rules)


def result(name: str) -> ValidationResult:
    return run(name).result


def with_house_rules(name: str) -> ValidationResult:
    """The repository validated under its flux profile with the house rules asked for."""
    return run(name, HOUSE_RULES).result


# --- helpers -----------------------------------------------------------------------------


def findings(res: ValidationResult, rule: str) -> list[Finding]:
    return [f for f in res.findings if f.rule == rule]


def kustomizations(res: ValidationResult) -> tuple[FluxKustomization, ...]:
    return res.analysis.model.kustomizations


def ks_names(res: ValidationResult) -> list[str]:
    return sorted(ks.name for ks in kustomizations(res))


def build_of(res: ValidationResult, name: str) -> Build:
    """The build of the Kustomization called ``name`` (however the builds are keyed)."""
    matches = [b for b in res.analysis.builds.values() if b.kustomization.name == name]
    assert matches, f"no build for Kustomization {name}"
    return matches[0]


def not_built(res: ValidationResult) -> dict[str, str]:
    """Kustomization name -> why it was not built."""
    return {
        b.kustomization.name: b.skipped
        for b in res.analysis.builds.values()
        if b.skipped is not None
    }


def layer(res: ValidationResult, name: str) -> int | None:
    """Bootstrap layer of ``name`` (graph keys may be ``name`` or ``namespace/name``)."""
    layers = res.analysis.graph.layers
    if name in layers:
        return layers[name]
    keyed = [k for k in layers if k.endswith(f"/{name}")]
    assert len(keyed) == 1, f"{name} is not (uniquely) in the graph: {sorted(layers)}"
    return layers[keyed[0]]


def built_objects(res: ValidationResult) -> list[Document]:
    return [obj for b in res.analysis.builds.values() for obj in b.objects]


# --- every repository ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_loads_and_validates_without_error(name: str) -> None:
    """No exception, no hang, every file parsed (incl. YAML PyYAML alone rejects)."""
    done = run(name)
    assert done.seconds < MAX_SECONDS
    res = done.result
    assert kustomizations(res)
    assert res.analysis.model.problems == ()
    assert res.analysis.graph.cycles == ()


@pytest.mark.parametrize("name", ALL)
def test_no_schema_findings(name: str) -> None:
    """Upstream manifests match the reference CRDs; old apiVersions are only unchecked."""
    assert findings(result(name), "IW013") == []


@pytest.mark.parametrize("name", ALL)
def test_config_file_is_used(name: str) -> None:
    config = result(name).analysis.model.config
    assert config.source == str(CONFIGS / f"{name}.toml")
    assert config.flat_layout is False


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        (MON, "monitoring/controllers"),
        (LINKERD, "apps"),
        (HOMEOPS, "kubernetes/apps"),
    ],
)
def test_generated_kustomization_is_not_a_finding(name: str, folder: str) -> None:
    res = result(name)
    generated = [b for b in res.analysis.builds.values() if b.folder == folder]
    assert generated and all(b.generated and b.error is None for b in generated)
    assert [f for f in findings(res, "IW010") if "has no kustomization" in f.message] == []


@pytest.mark.parametrize(
    "name",
    [MON, LINKERD, HOMEOPS],
)
def test_bootstrap_source_is_known(name: str) -> None:
    bootstrap = "GitRepository/flux-system/flux-system"
    assert [f for f in findings(result(name), "IW011") if bootstrap in f.message] == []


# --- fluxcd/flux2-kustomize-helm-example (cluster: production) ---------------------------


def test_khe_kustomization_names() -> None:
    res = result(KHE)
    assert res.analysis.model.cluster == "production"
    assert set(ks_names(res)) == {"apps", "infra-configs", "infra-controllers"}


def test_khe_only_the_chosen_cluster() -> None:
    res = result(KHE)
    assert len(kustomizations(res)) == 3
    assert all(not ks.doc.file.startswith("clusters/staging/") for ks in kustomizations(res))
    assert findings(res, "IW009") == []


def test_khe_external_artifact_sources_are_built_from_the_repository() -> None:
    res = result(KHE)
    assert not_built(res) == {}
    builds = res.analysis.builds
    assert {label: b.folder for label, b in builds.items()} == {
        "apps": "apps/production",
        "infra-configs": "infrastructure/configs",
        "infra-controllers": "infrastructure/controllers",
    }
    assert all(b.error is None and b.objects for b in builds.values())
    # The objects point at the repository's own files.
    files = {o.file for o in builds["apps"].objects}
    assert any(f.startswith("apps/base/") for f in files), files


def test_khe_external_artifact_paths_raise_no_findings() -> None:
    """./controllers, ./configs, ./production are paths inside the artifact, not the repo."""
    res = result(KHE)
    assert findings(res, "IW010") == []
    assert findings(res, "IW000") == []
    assert not any("spec.path" in f.message for f in res.findings)


def test_khe_artifact_generator_provides_external_artifacts() -> None:
    assert findings(result(KHE), "IW011") == []


def test_khe_graph_layers() -> None:
    res = result(KHE)
    assert layer(res, "infra-controllers") == 0
    assert layer(res, "infra-configs") == 1
    assert layer(res, "apps") == 2


# --- fluxcd/flux2-monitoring-example (cluster: test) -------------------------------------


def test_mon_kustomizations() -> None:
    res = result(MON)
    model = res.analysis.model
    assert (model.cluster, model.cluster_file) == ("test", "clusters/test/monitoring.yaml")
    assert ks_names(res) == ["monitoring-configs", "monitoring-controllers"]
    assert all(ks.doc.file == "clusters/test/monitoring.yaml" for ks in kustomizations(res))
    assert not_built(res) == {}


def test_mon_controllers_built_like_flux_without_kustomization_file() -> None:
    build = build_of(result(MON), "monitoring-controllers")
    assert build.generated and build.error is None
    releases = {(o.namespace, o.name) for o in build.objects if o.kind == "HelmRelease"}
    assert releases == {
        ("monitoring", "kube-prometheus-stack"),
        ("monitoring", "loki"),
        ("monitoring", "promtail"),
    }


def test_mon_missing_dashboards_fail_the_configs_build() -> None:
    """Known gap of the stored copy: dashboards/*.json were not copied."""
    res = result(MON)
    assert "dashboards/control-plane.json" in (build_of(res, "monitoring-configs").error or "")
    [iw000] = findings(res, "IW000")
    assert iw000.file == "monitoring/configs/kustomization.yaml"


def test_mon_true_findings() -> None:
    res = result(MON)
    # kube-prometheus-stack registers webhooks, but this cluster does not run Cilium: a
    # CiliumNetworkPolicy could not be applied, so IW008 has nothing to ask for.
    assert findings(res, "IW008") == []
    # The values switch on no chart ServiceMonitor.
    assert findings(res, "IW005") == []


def test_mon_graph_layers() -> None:
    res = result(MON)
    assert layer(res, "monitoring-controllers") == 0
    assert layer(res, "monitoring-configs") == 1


# --- stefanprodan/gitops-linkerd (cluster: my-cluster) -----------------------------------


def test_linkerd_kustomizations() -> None:
    res = result(LINKERD)
    assert ks_names(res) == [
        "apps",
        "cert-manager",
        "flagger",
        "ingress-nginx",
        "linkerd",
        "loadtester",
        "podinfo",
        "podinfo",
        "weave-gitops",
    ]


def test_linkerd_remote_sources_are_not_built() -> None:
    res = result(LINKERD)
    skipped = not_built(res)
    assert set(skipped) == {"loadtester", "podinfo"}
    assert "OCIRepository" in skipped["loadtester"] and "flagger-manifests" in skipped["loadtester"]
    assert "GitRepository" in skipped["podinfo"] and "/podinfo," in skipped["podinfo"]


def test_linkerd_remote_paths_raise_no_findings() -> None:
    """./tester/ and ./kustomize/ live in the OCI artifact and the podinfo repository."""
    res = result(LINKERD)
    assert not any("tester" in f.message or "./kustomize/" in f.message for f in res.findings)
    assert not any("spec.path" in f.message for f in res.findings)


def test_linkerd_missing_ca_fails_the_linkerd_build() -> None:
    """Known gap of the stored copy: ca.crt/ca.key were not copied."""
    res = result(LINKERD)
    assert "ca.crt" in (build_of(res, "linkerd").error or "")
    assert [f.resource for f in findings(res, "IW000")] == ["Kustomization/flux-system/linkerd"]


@pytest.mark.parametrize("name", ALL)
def test_house_rules_are_off_where_the_house_is_not(name: str) -> None:
    res = result(name)
    assert res.analysis.model.profile.name == "flux"
    house = {f.rule for f in res.findings} & {*HOUSE_RULES, "IW001", "IW002"}
    assert house == set()


def test_linkerd_true_findings() -> None:
    res = with_house_rules(LINKERD)
    assert {f.resource for f in findings(res, "IW007")} == {
        "Namespace/backend",
        "Namespace/cert-manager",
        "Namespace/flagger-system",
        "Namespace/frontend",
        "Namespace/ingress-nginx",
    }
    # No Cilium here (Linkerd on any CNI): IW008 stays silent.
    assert findings(res, "IW008") == []


def test_linkerd_old_api_versions_are_unchecked_not_wrong() -> None:
    res = result(LINKERD)
    assert "kustomize.toolkit.fluxcd.io/v1beta2/Kustomization" in res.unchecked_kinds
    assert "helm.toolkit.fluxcd.io/v2beta1/HelmRelease" in res.unchecked_kinds


def test_linkerd_nested_kustomizations_are_built_into_their_namespaces() -> None:
    objects = build_of(result(LINKERD), "apps").objects
    nested = {(o.namespace, o.name) for o in objects if o.kind == "Kustomization"}
    assert nested == {("backend", "podinfo"), ("frontend", "podinfo")}


def test_linkerd_podinfo_namespaces() -> None:
    res = result(LINKERD)
    keys = {ks.key for ks in kustomizations(res) if ks.name == "podinfo"}
    assert keys == {"backend/podinfo", "frontend/podinfo"}
    assert findings(res, "IW009") == []


def test_linkerd_one_build_per_kustomization() -> None:
    res = result(LINKERD)
    assert len(res.analysis.builds) == len(kustomizations(res)) == 9


def test_linkerd_graph_layers() -> None:
    res = result(LINKERD)
    assert layer(res, "cert-manager") == 0
    assert layer(res, "weave-gitops") == 0
    assert layer(res, "linkerd") == 1
    assert layer(res, "flagger") == 2
    assert layer(res, "ingress-nginx") == 2
    assert layer(res, "apps") == 3


# --- onedr0p/home-ops (kubernetes/ only; no clusters/ folder) ----------------------------


def test_homeops_kustomizations() -> None:
    res = result(HOMEOPS)
    model = res.analysis.model
    # its one cluster, from the flux-instance HelmRelease's instance.sync.path
    assert (model.cluster, model.cluster_dir) == ("cluster", "kubernetes/flux/cluster")
    assert len(kustomizations(res)) == 78
    assert "cluster-apps" in ks_names(res)
    assert not_built(res) == {}
    failed = [b.kustomization.name for b in res.analysis.builds.values() if b.error]
    assert failed == ["sonarr"]
    built = [b for b in res.analysis.builds.values() if b.error is None and b.skipped is None]
    assert len(built) == 77
    assert res.schema_checked > 0


def test_homeops_yaml_pyyaml_rejects_is_read() -> None:
    """Anchor redefined, bare `=` value: valid for Go YAML, read via the ruamel fallback."""
    files = result(HOMEOPS).analysis.model.files
    for rel in (
        "kubernetes/apps/network/certificates/export/pushsecret.yaml",
        "kubernetes/apps/network/cloudflare-dns/app/helmrelease.yaml",
        "kubernetes/apps/o11y/kube-prometheus-stack/app/alertmanagerconfig.yaml",
        "kubernetes/apps/default/recyclarr/app/resources/recyclarr.yml",
    ):
        assert files[rel].problem is None
        assert files[rel].documents


def test_homeops_missing_scripts_fail_only_sonarr() -> None:
    """Known gap of the stored copy: sonarr's resources/*.sh were not copied."""
    res = result(HOMEOPS)
    [iw000] = findings(res, "IW000")
    assert iw000.file == "kubernetes/apps/default/sonarr/app/kustomization.yaml"
    assert "resources/refresh-series.sh" in iw000.message


def test_homeops_nested_patch_workarounds_found_once_at_cluster_apps() -> None:
    """cluster-apps patches every child Kustomization with HelmRelease patches that set
    cleanupOnFail and remediateLastFailure: reported at the patch, nowhere else."""
    iw006 = findings(result(HOMEOPS), "IW006")
    assert {(f.file, f.line, f.resource) for f in iw006} == {
        ("kubernetes/flux/cluster/ks.yaml", 20, "Kustomization/flux-system/cluster-apps")
    }
    assert sorted(f.message.split("(nested patch: ")[1].rstrip(")") for f in iw006) == [
        "spec.rollback.cleanupOnFail",
        "spec.upgrade.cleanupOnFail",
        "spec.upgrade.remediation.remediateLastFailure",
    ]


def test_homeops_substitution_variables_cause_no_nonsense() -> None:
    res = result(HOMEOPS)
    assert not any("${" in f.message or "${" in f.hint for f in res.findings)
    assert not any("${" in o.name or "${" in (o.namespace or "") for o in built_objects(res))
    # ${CLOUDFLARE_TUNNEL_ID} comes from substituteFrom at apply time; kept verbatim.
    [endpoint] = [o for o in built_objects(res) if o.kind == "DNSEndpoint"]
    assert "${CLOUDFLARE_TUNNEL_ID}" in json.dumps(endpoint.data)


def test_homeops_true_findings() -> None:
    res = with_house_rules(HOMEOPS)
    iw005 = {(f.resource, f.message) for f in findings(res, "IW005")}
    assert (
        "HelmRelease/cert-manager/cert-manager",
        "HelmRelease cert-manager switches on the cert-manager chart's ServiceMonitor "
        "(prometheus.servicemonitor.enabled: true)",
    ) in iw005
    iw003 = [f for f in findings(res, "IW003") if f.resource == "Kustomization/certificates-export"]
    assert any("applies Certificate (cert-manager.io" in f.message for f in iw003)
    iw004 = {f.resource for f in findings(res, "IW004")}
    assert "ServiceMonitor/o11y/grafana" in iw004
    assert "PodMonitor/flux-system/flux-components" in iw004


def test_homeops_cross_namespace_depends_on() -> None:
    res = result(HOMEOPS)
    [multus] = [ks for ks in kustomizations(res) if ks.name == "multus-networks"]
    assert multus.key == "kube-system/multus-networks"
    assert findings(res, "IW009") == []


def test_homeops_target_namespace_applied() -> None:
    res = result(HOMEOPS)
    [release] = [o for o in build_of(res, "cert-manager").objects if o.kind == "HelmRelease"]
    assert release.namespace == "cert-manager"
    assert not any("namespace  " in f.message for f in findings(res, "IW008"))


def test_homeops_flux_components_are_built() -> None:
    objects = build_of(result(HOMEOPS), "home-assistant").objects
    kopiur = {o.kind: o.name for o in objects if o.group == "kopiur.home-operations.com"}
    assert set(kopiur) == {"Restore", "SnapshotPolicy", "SnapshotSchedule"}
    assert kopiur["Restore"] == "home-assistant"  # ${APP} substituted


def test_homeops_no_dependency_on_own_child() -> None:
    iw003 = findings(result(HOMEOPS), "IW003")
    assert not [
        f
        for f in iw003
        if f.resource == "Kustomization/flux-system/cluster-apps"
        and "spec.dependsOn of cluster-apps" in f.hint
    ]
    [moved] = [f for f in iw003 if "so it cannot wait for it" in f.message]
    assert moved.file == "kubernetes/components/alerts/github-status/externalsecret.yaml"
    assert "external-secrets" in moved.hint


def test_homeops_hints_use_components_dir() -> None:
    res = with_house_rules(HOMEOPS)
    hints = [f.hint for f in findings(res, "IW004") + findings(res, "IW005")]
    assert hints
    assert not any("namespaces/" in h for h in hints)


def test_homeops_renamed_objects_keep_their_line() -> None:
    iw007 = findings(with_house_rules(HOMEOPS), "IW007")
    assert len(iw007) == 12
    assert all(f.line is not None for f in iw007)


def test_homeops_graph_layers() -> None:
    res = result(HOMEOPS)
    assert layer(res, "cluster-apps") == 0
    assert layer(res, "external-secrets") == 0
    assert layer(res, "multus") == 0
    assert layer(res, "multus-networks") == 1
    assert layer(res, "flux-instance") == 1
    assert layer(res, "home-assistant") == 2
    assert layer(res, "rook-ceph-cluster") == 2
    crd_edges = {(e.source, e.target) for e in res.analysis.graph.edges if e.crd}
    assert ("onepassword-connect", "external-secrets") in crd_edges
