"""Schemas for a plain install (issue 17): core kinds from Kubernetes' own schemas with no
../shared and no network, and `schemas pull` from a CRD catalog on loopback.

The catalog is a real HTTP server (http.server in a thread, port 0) serving a temporary
folder laid out like the community catalog, ``{group}/{kind}_{version}.json``, made at
test time from the CRD manifests in ../shared/crds; anything else is a 404.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import crd_manifest
from infrawright import cache
from infrawright.cli.app import run
from infrawright.errors import ExitCode, UsageError
from infrawright.model.loader import load_repo
from infrawright.repo.config import load_config
from infrawright.repo.documents import Document
from infrawright.validate import kubernetes, pull, pulled
from infrawright.validate.engine import validate
from infrawright.validate.schema import SchemaStore

#: Served as the CRD manifest itself (YAML), not as a JSON schema.
AS_MANIFEST = ("monitoring.coreos.com", "servicemonitor")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own: pulled schemas go nowhere else."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(folder))
    return folder


def catalog_folder(crds: Path, dest: Path) -> Path:
    """The CRDs of ``crds`` laid out like the catalog: one JSON schema per kind and
    version; the ServiceMonitor CRD as its YAML manifest."""
    for manifest in sorted(crds.glob("*.yaml")):
        for doc in yaml.safe_load_all(manifest.read_text(encoding="utf-8")):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"].lower()
            for version in doc["spec"]["versions"]:
                path = dest / group / f"{kind}_{version['name']}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                if (group, kind) == AS_MANIFEST:
                    path.write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")
                else:
                    schema = version["schema"]["openAPIV3Schema"]
                    path.write_text(json.dumps(schema), encoding="utf-8")
    return dest


@pytest.fixture
def catalog(crds: Path, tmp_path: Path) -> Iterator[str]:
    """A loopback catalog; yields its URL template."""
    folder = catalog_folder(crds, tmp_path / "catalog")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{{group}}/{{kind}}_{{version}}.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_plain_install_checks_core_kinds(
    own_cache: Path, example_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --crd-dir, no schema cache: Namespaces are checked against Kubernetes' schema."""
    code, out, _ = cli(capsys, "validate", "--repo", str(example_copy), "--format", "json")
    assert code == ExitCode.OK
    data = json.loads(out)
    newest = kubernetes.default_version()
    assert data["schemas"]["v1/Namespace"] == {"source": "kubernetes", "location": newest}
    assert not [k for k in data["unchecked_kinds"] if kubernetes.is_builtin_group(_group(k))]
    code, out, _ = cli(capsys, "validate", "--repo", str(example_copy))
    assert f"Schemas of the checked kinds: 1 from Kubernetes {newest} (-v lists each kind)" in out
    assert "to check them: infrawright schemas pull downloads their schemas" in out


def _group(kind: str) -> str:
    return kind.rpartition("/")[0].rpartition("/")[0]


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: postgres
  creationTimestamp: null
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - containerPort: 80
          resource:
            limits: {memory: 64Mi}
status: {}
"""


def test_planted_error_in_a_deployment_is_found_with_file_line_and_path(
    own_cache: Path, example_copy: Path
) -> None:
    folder = example_copy / "namespaces" / "postgres"
    (folder / "deployment.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    kustomization = folder / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text(encoding="utf-8") + "  - deployment.yaml\n", encoding="utf-8"
    )
    result = validate(load_repo(example_copy))
    found = [f for f in result.findings if f.rule == "IW013"]
    assert [(f.file, f.line, f.resource) for f in found] == [
        ("namespaces/postgres/deployment.yaml", 15, "Deployment/postgres/web")
    ]
    assert found[0].message == (
        "Deployment web: spec.template.spec.containers.0: Additional properties are not "
        "allowed ('resource' was unexpected)"
    )
    assert f"(Kubernetes {kubernetes.default_version()})" in found[0].hint
    assert dict(result.schema_sources)["apps/v1/Deployment"].source == "kubernetes"
    # creationTimestamp: null and status: {} are what Kubernetes accepts: no finding there.
    (folder / "deployment.yaml").write_text(
        DEPLOYMENT.replace("resource:", "resources:"), encoding="utf-8"
    )
    again = validate(load_repo(example_copy))
    assert [f for f in again.findings if f.rule == "IW013"] == []


def test_remembered_valid_objects_do_not_hide_a_new_error(own_cache: Path) -> None:
    store = SchemaStore(kubernetes_version=kubernetes.default_version())
    good = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
    assert store.errors(Document("ns.yaml", 1, 0, good)) == []
    store.remember()
    fresh = SchemaStore(kubernetes_version=kubernetes.default_version())
    assert fresh.errors(Document("ns.yaml", 1, 0, good)) == []
    bad = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "label": {}}}
    assert fresh.errors(Document("ns.yaml", 1, 0, bad)) == [
        ("metadata", "Additional properties are not allowed ('label' was unexpected)")
    ]


def test_a_crd_group_that_shares_a_first_label_with_kubernetes_is_not_core() -> None:
    """apps.example.com/v1 Deployment is not apps/v1 Deployment."""
    version = kubernetes.default_version()
    assert version is not None
    assert kubernetes.schema(version, "apps", "v1", "Deployment") is not None
    assert kubernetes.schema(version, "apps.example.com", "v1", "Deployment") is None
    assert kubernetes.schema(version, "gateway.networking.k8s.io", "v1", "NetworkPolicy") is None


def test_kubernetes_version_from_config_and_flag(
    own_cache: Path, example_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oldest = kubernetes.available_versions()[0]
    (example_copy / ".infrawright.toml").write_text(f'kubernetes_version = "{oldest}"\n')
    result = validate(load_repo(example_copy, config=load_config(example_copy)))
    assert dict(result.schema_sources)["v1/Namespace"].location == oldest
    code, _, err = cli(
        capsys, "validate", "--repo", str(example_copy), "--kubernetes-version", "1.2"
    )
    assert code == ExitCode.USAGE
    assert "--kubernetes-version: Kubernetes version '1.2' has no schemas here" in err
    assert ", ".join(kubernetes.available_versions()) in err
    (example_copy / ".infrawright.toml").write_text('kubernetes_version = "9.9"\n')
    with pytest.raises(UsageError, match=r"\.infrawright\.toml kubernetes_version"):
        validate(load_repo(example_copy, config=load_config(example_copy)))


def test_pull_from_the_catalog_then_validate_offline(
    own_cache: Path,
    example_copy: Path,
    crds: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = validate(load_repo(example_copy))  # fills the findings memo of the old state
    assert "helm.toolkit.fluxcd.io/v2/HelmRelease" in before.unchecked_kinds
    folder = catalog_folder(crds, tmp_path / "catalog")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    template = f"http://127.0.0.1:{server.server_port}/{{group}}/{{kind}}_{{version}}.json"
    try:
        code, _, err = cli(
            capsys, "schemas", "pull", "--repo", str(example_copy), "--source", template
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert code == ExitCode.OK, err
    assert "[infrawright] pulling 11 schema(s) from http://127.0.0.1:" in err
    assert "10 fetched into" in err and "1 not in the catalog, 0 failed" in err
    assert "not in the catalog: postgresql.cnpg.io/v1/Cluster" in err
    # The server is gone: what follows is offline.
    result = validate(load_repo(example_copy))
    assert result.findings == ()
    assert result.unchecked_kinds == ("postgresql.cnpg.io/v1/Cluster",)
    assert result.schema_checked / result.objects >= 0.9
    sources = dict(result.schema_sources)
    assert sources["v1/Namespace"].describe() == f"Kubernetes {kubernetes.default_version()}"
    release = sources["helm.toolkit.fluxcd.io/v2/HelmRelease"]
    assert release.source == "schema-cache"
    assert release.location == template.format(
        group="helm.toolkit.fluxcd.io", kind="helmrelease", version="v2"
    )
    code, out, _ = cli(capsys, "validate", "--repo", str(example_copy), "-v")
    assert code == ExitCode.OK
    assert "Schemas of the checked kinds: 10 from the schema cache, 1 from Kubernetes" in out
    assert f"  helm.toolkit.fluxcd.io/v2/HelmRelease: schema cache ({release.location})" in out
    for kind in sources:
        assert f"  {kind}: " in out
    code, out, _ = cli(capsys, "validate", "--repo", str(example_copy), "--format", "json")
    data = json.loads(out)
    assert set(data["schemas"]) == set(sources)
    assert data["schemas"]["helm.toolkit.fluxcd.io/v2/HelmRelease"] == {
        "source": "schema-cache",
        "location": release.location,
    }


def test_a_crd_manifest_served_instead_of_a_json_schema(
    own_cache: Path, example_copy: Path, crds: Path, catalog: str
) -> None:
    key = ("monitoring.coreos.com", "v1", "ServiceMonitor")
    report = pull.pull([key], catalog)
    assert list(report.fetched) == ["monitoring.coreos.com/v1/ServiceMonitor"]
    manifest = yaml.safe_load((crds / "monitoring.coreos.com_servicemonitors.yaml").read_text())
    expected = manifest["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    hit = pulled.load(key)
    assert hit is not None and hit[0] == expected
    # The pulled schema checks: a planted error in a ServiceMonitor is found.
    monitor = example_copy / "namespaces" / "kong-monitoring" / "servicemonitor.yaml"
    text = monitor.read_text(encoding="utf-8")
    planted = text.replace("jobLabel: app.kubernetes.io/instance", "jobLabel: 5")
    assert planted != text
    monitor.write_text(planted, encoding="utf-8")
    result = validate(load_repo(example_copy))
    found = [f for f in result.findings if f.rule == "IW013"]
    assert [(f.file, f.line, f.message) for f in found] == [
        (
            "namespaces/kong-monitoring/servicemonitor.yaml",
            text.splitlines().index("  jobLabel: app.kubernetes.io/instance") + 1,
            "ServiceMonitor kong: spec.jobLabel: 5 is not of type 'string'",
        )
    ]
    assert f"(schema cache ({hit[1]}))" in found[0].hint


def test_a_server_that_is_down_is_named(
    own_cache: Path, example_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    template = f"http://127.0.0.1:{port}/{{group}}/{{kind}}_{{version}}.json"
    code, _, err = cli(capsys, "schemas", "pull", "--repo", str(example_copy), "--source", template)
    assert code == ExitCode.FINDINGS
    url = template.format(group="cert-manager.io", kind="certificate", version="v1")
    assert f"error: cert-manager.io/v1/Certificate: {url}: connection refused" in err
    assert "error: no schema could be fetched" in err
    assert not pulled.folder().exists()


def test_404_only_is_listed_not_an_error(
    own_cache: Path, example_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    template = empty.as_uri() + "/{group}/{kind}_{version}.json"
    code, _, err = cli(capsys, "schemas", "pull", "--repo", str(example_copy), "--source", template)
    assert code == ExitCode.OK
    assert "0 fetched into" in err and "11 not in the catalog, 0 failed" in err


def test_validate_pull_schemas_uses_the_config_source(
    own_cache: Path, example_copy: Path, catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (example_copy / ".infrawright.toml").write_text(f'schema_source = "{catalog}"\n')
    code, out, err = cli(
        capsys, "validate", "--repo", str(example_copy), "--pull-schemas", "--format", "json"
    )
    assert code == ExitCode.OK, err
    assert "10 fetched into" in err
    assert json.loads(out)["unchecked_kinds"] == ["postgresql.cnpg.io/v1/Cluster"]
    code, _, err = cli(capsys, "schemas", "pull", "--repo", str(example_copy))
    assert code == ExitCode.OK
    assert "pulling 1 schema(s) from " + catalog in err  # only what is still missing


def test_source_template_is_checked(
    own_cache: Path, example_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(
        capsys, "schemas", "pull", "--repo", str(example_copy), "--source", "http://x/{name}"
    )
    assert code == ExitCode.USAGE
    assert "--source 'http://x/{name}': not a URL template" in err


def test_parse_and_plural() -> None:
    key = ("example.com", "v1", "Widget")
    schema = {"type": "object", "properties": {"size": {"type": "integer"}}}
    assert pull.parse(json.dumps(schema).encode(), key, "u") == schema
    crd = {
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget"},
            "versions": [{"name": "v1", "schema": {"openAPIV3Schema": schema}}],
        },
    }
    assert pull.parse(json.dumps(crd).encode(), key, "u") == schema
    with pytest.raises(Exception, match="u: holds neither a JSON schema nor a CRD"):
        pull.parse(b"- just\n- a list\n", key, "u")
    assert [pull.plural(k) for k in ("Widget", "Ingress", "Policy", "Gateway")] == [
        "widgets",
        "ingresses",
        "policies",
        "gateways",
    ]
    assert pull.url_for("x/{plural}.{group}/{version}", key) == "x/widgets.example.com/v1"


def test_pulled_schemas_are_never_pruned(own_cache: Path) -> None:
    import os

    key = ("example.com", "v1", "Widget")
    path = pulled.save(key, {"type": "object"}, "http://catalog/widget_v1.json")
    cache.store("other", "abc", {"x": 1})
    old = 1_000_000_000
    for entry in [path, own_cache / "other" / f"abc{cache.SUFFIX}"]:
        os.utime(entry, (old, old))
    assert cache.prune() == 1
    assert pulled.load(key) == ({"type": "object"}, "http://catalog/widget_v1.json")


def test_sops_encrypted_objects_are_checked_as_flux_applies_them(own_cache: Path) -> None:
    """Flux decrypts a SOPS file before applying it: no `sops` key, no ENC[...] values."""
    store = SchemaStore(kubernetes_version=kubernetes.default_version())
    enc = "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:int]"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "token"},
        "stringData": {"token": "ENC[AES256_GCM,data:x,type:str]"},
        "sops": {"lastmodified": "2025-06-02T08:41:17Z", "mac": "ENC[...]"},
    }
    assert store.errors(Document("s.yaml", 1, 0, secret)) == []
    deployment = yaml.safe_load(DEPLOYMENT.replace("resource:", "resources:"))
    deployment["spec"]["replicas"] = enc
    deployment["spec"]["paused"] = "yes"
    deployment["sops"] = {"mac": "x"}
    assert store.errors(Document("d.yaml", 1, 0, deployment)) == [
        ("spec.paused", "'yes' is not of type 'boolean', 'null'")
    ]
    plain = {k: v for k, v in secret.items() if k != "sops"} | {"sops": "not a mapping"}
    assert store.errors(Document("s.yaml", 1, 0, plain)) == [
        ("(root)", "Additional properties are not allowed ('sops' was unexpected)")
    ]


def test_custom_kinds_under_k8s_io_are_pulled_too() -> None:
    unchecked = [
        "gateway.networking.k8s.io/v1/HTTPRoute",
        "cilium.io/v2/CiliumNetworkPolicy",
        "policy/v1beta1/PodSecurityPolicy",  # removed from Kubernetes: no catalog has it
        "v1/ComponentStatusX",
    ]
    assert pull.wanted(unchecked) == [
        ("cilium.io", "v2", "CiliumNetworkPolicy"),
        ("gateway.networking.k8s.io", "v1", "HTTPRoute"),
    ]


def test_an_object_is_remembered_valid_whatever_its_key_order(own_cache: Path) -> None:
    """A fresh build sorts keys, a kept one may not: the same object either way."""
    version = kubernetes.default_version()
    first = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {}}}
    store = SchemaStore(kubernetes_version=version)
    assert store.errors(Document("ns.yaml", 1, 0, first)) == []
    store.remember()
    turned = {"kind": "Namespace", "metadata": {"labels": {}, "name": "a"}, "apiVersion": "v1"}
    again = SchemaStore(kubernetes_version=version)
    again.errors(Document("ns.yaml", 1, 0, turned))
    assert again._newly_valid == {}  # known valid: not checked, nothing new to remember


WIDGET_CRD = crd_manifest("example.com", "Widget", {"size": {"type": "integer"}})

WIDGET = """apiVersion: example.com/v1
kind: Widget
metadata:
  name: big
  namespace: postgres
spec:
  size: large
"""


def _with_widget(repo: Path) -> None:
    folder = repo / "namespaces" / "postgres"
    (folder / "widget.yaml").write_text(WIDGET, encoding="utf-8")
    kustomization = folder / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text(encoding="utf-8") + "  - widget.yaml\n", encoding="utf-8"
    )


def _iw013(repo: Path, crd_dirs: list[Path]) -> list[tuple[str, int | None, str]]:
    result = validate(load_repo(repo), crd_dirs=crd_dirs)
    return [(f.file, f.line, f.message) for f in result.findings if f.rule == "IW013"]


def test_a_build_remembered_clean_is_checked_again_when_the_schemas_change(
    own_cache: Path, example_copy: Path, tmp_path: Path
) -> None:
    """IW013 skips the objects of a build that had no finding with the same schemas; a
    new schema for one of its kinds (the build itself unchanged) brings its error out,
    and dropping the schema again takes it away."""
    _with_widget(example_copy)
    crds = tmp_path / "crds"
    crds.mkdir()
    assert _iw013(example_copy, []) == []  # no schema for Widget: unchecked
    assert _iw013(example_copy, []) == []  # the same, from the memo
    (crds / "widget.yaml").write_text(WIDGET_CRD, encoding="utf-8")
    expected = [
        (
            "namespaces/postgres/widget.yaml",
            7,
            "Widget big: spec.size: 'large' is not of type 'integer'",
        )
    ]
    assert _iw013(example_copy, [crds]) == expected
    assert _iw013(example_copy, [crds]) == expected  # a build with a finding is not skipped
    assert _iw013(example_copy, []) == []


def test_an_error_planted_in_a_build_remembered_clean_is_found(
    own_cache: Path, example_copy: Path, tmp_path: Path
) -> None:
    crds = tmp_path / "crds"
    crds.mkdir()
    (crds / "widget.yaml").write_text(WIDGET_CRD, encoding="utf-8")
    _with_widget(example_copy)
    widget = example_copy / "namespaces" / "postgres" / "widget.yaml"
    widget.write_text(WIDGET.replace("size: large", "size: 3"), encoding="utf-8")
    assert _iw013(example_copy, [crds]) == []
    widget.write_text(WIDGET.replace("size: large", "size: 3\n  colour: {}"), encoding="utf-8")
    assert _iw013(example_copy, [crds]) == []  # the schema allows unknown fields here
    widget.write_text(WIDGET, encoding="utf-8")
    assert [line for _f, line, _m in _iw013(example_copy, [crds])] == [7]
