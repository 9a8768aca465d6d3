"""A big folder with a transformer-only kustomization is built in pieces, and the pieces
give exactly what kustomize gives for the whole folder: the same objects, byte for byte,
in the same order, pointing at the same files and lines.

Each case is a generated folder (several files, mixed kinds, objects that refer to each
other by name) with one combination of the transformers the pieces may copy; the same
model is built once in pieces and once whole (splitting off, cache off).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLE, copy_repo
from infrawright.build import split
from infrawright.build.builds import Build, build_all, split_plan
from infrawright.build.kustomize import Kustomize
from infrawright.build.sliced import Slice, cuttable
from infrawright.build.split import legacy_order
from infrawright.model.loader import load_repo
from infrawright.model.repo import RepoModel

FOLDER = "namespaces/big"
FLUX_KS = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: big
  namespace: flux-system
spec:
  interval: 10m
  path: ./namespaces/big
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def _config_map(n: int, rng: random.Random) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"setting-{n:04d}"}
    if rng.random() < 0.3:
        meta["namespace"] = rng.choice(["team-a", "team-b"])
    if rng.random() < 0.2:
        meta["labels"] = {"tier": rng.choice(["a", "b"])}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"v": str(n)}}


def _referrers(n: int) -> list[dict[str, Any]]:
    """Objects that refer to others by name: a Deployment (ConfigMaps, a Secret, a
    ServiceAccount), a RoleBinding (Role, the ServiceAccount, `default`, one outside the
    build), a ClusterRoleBinding, an Ingress (a Service) and an HPA (the Deployment)."""
    app = f"app-{n}"
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": f"{app}-sa", "namespace": "old"},
        },
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{app}-creds"}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": app},
            "spec": {
                "selector": {"matchLabels": {"app": app}},
                "template": {
                    "metadata": {"labels": {"app": app}},
                    "spec": {
                        "serviceAccountName": f"{app}-sa",
                        "containers": [
                            {
                                "name": "c",
                                "image": "nginx:1.27",
                                "envFrom": [{"configMapRef": {"name": f"setting-{n:04d}"}}],
                                "env": [
                                    {
                                        "name": "P",
                                        "valueFrom": {
                                            "secretKeyRef": {"name": f"{app}-creds", "key": "p"}
                                        },
                                    }
                                ],
                            }
                        ],
                        "volumes": [{"name": "v", "configMap": {"name": f"setting-{n + 1:04d}"}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": app},
            "spec": {"selector": {"app": app}, "ports": [{"port": 80}]},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": f"{app}-reader"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "resourceNames": [f"setting-{n + 2:04d}"],
                    "verbs": ["get"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{app}-reader"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": f"{app}-reader",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": f"{app}-sa", "namespace": "old"},
                {"kind": "ServiceAccount", "name": "default", "namespace": "old"},
                {"kind": "ServiceAccount", "name": "elsewhere", "namespace": "old"},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{app}-view"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [{"kind": "ServiceAccount", "name": f"{app}-sa", "namespace": "old"}],
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": app},
            "spec": {
                "rules": [
                    {
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": app, "port": {"number": 80}}},
                                }
                            ]
                        }
                    }
                ]
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": app},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicas": 1,
                "maxReplicas": 2,
            },
        },
    ]


def _others(n: int) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": f"w-{n}"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": f"role-{n}"},
            "rules": [],
        },
    ]


def write_folder(repo: Path, seed: int, transformers: dict[str, Any], mixed: bool) -> Path:
    """A component of about 300 documents in four files, with ``transformers`` in its
    kustomization.yaml; ``mixed`` adds referrers and other kinds between ConfigMaps."""
    rng = random.Random(seed)
    folder = repo / FOLDER
    folder.mkdir(parents=True)
    docs: list[dict[str, Any]] = [_config_map(n, rng) for n in range(300)]
    if mixed:  # one Namespace: `namespace:` renames every Namespace object
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "big"}})
        for n in rng.sample(range(295), 4):
            at = rng.randrange(len(docs))
            docs[at:at] = _referrers(n) + _others(n)
    rng.shuffle(docs)
    files = [f"part-{c}.yaml" for c in "abcd"]
    cuts = sorted(rng.sample(range(1, len(docs)), 3))
    for name, (a, b) in zip(files, zip([0, *cuts], [*cuts, len(docs)], strict=True), strict=True):
        text = "".join(f"---\n# doc {i}\n" + yaml.safe_dump(d) for i, d in enumerate(docs[a:b]))
        (folder / name).write_text(text)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        **transformers,
        "resources": files,
    }
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    cluster = repo / "clusters" / "local-kube" / "infrastructure.yaml"
    cluster.write_text(cluster.read_text() + FLUX_KS)
    return folder


def built(model: RepoModel, kustomize: Kustomize) -> Build:
    ks = next(k for k in model.kustomizations if k.name == "big")
    (build,) = build_all(model, kustomize, only=[ks])
    return build


def exact(build: Build) -> list[tuple[str, int, int, str]]:
    return [(o.file, o.line, o.index, json.dumps(o.data)) for o in build.objects]


CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "namespace": ({"namespace": "big"}, True),
    "commonLabels": ({"commonLabels": {"app.kubernetes.io/part-of": "big"}}, True),
    "labels with selectors and templates": (
        {"labels": [{"pairs": {"team": "x"}, "includeSelectors": True, "includeTemplates": True}]},
        True,
    ),
    "commonAnnotations": ({"commonAnnotations": {"owner": "team-x"}}, True),
    "namePrefix with referrers": ({"namePrefix": "p-"}, True),
    "nameSuffix with referrers": ({"nameSuffix": "-s"}, True),
    "every transformer": (
        {
            "namespace": "big",
            "namePrefix": "p-",
            "nameSuffix": "-s",
            "commonLabels": {"app": "big"},
            "commonAnnotations": {"note": "hello"},
        },
        True,
    ),
    "namespace, ConfigMaps only": ({"namespace": "big", "commonLabels": {"app": "big"}}, False),
}


SEEDS = [(case, 0) for case in CASES] + [("every transformer", 1), ("namespace", 2)]


@pytest.mark.parametrize(("case", "seed"), SEEDS)
def test_pieces_give_exactly_the_whole_build(
    case: str, seed: int, tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    transformers, mixed = CASES[case]
    write_folder(repo, seed, transformers, mixed)
    model = load_repo(repo)
    ks = next(k for k in model.kustomizations if k.name == "big")
    plan = split_plan(model, ks)
    assert plan is not None and len(plan[1]) >= 2, "about 300 documents make several pieces"
    slices = [p for p in plan[1] if isinstance(p, Slice)]
    assert len(slices) == len(plan[1])
    if mixed:  # referrers and what they name are in the first piece, together
        first = b"".join(text for _rel, text in slices[0].parts)
        assert b"kind: Deployment" in first and b"kind: RoleBinding" in first
        assert not any(b"kind: Deployment" in t for p in slices[1:] for _r, t in p.parts)
    pieced = built(model, kustomize)

    monkeypatch.setenv("INFRAWRIGHT_CACHE", "off")
    monkeypatch.setattr(split, "SPLIT_MIN_DOCS", 10**9)  # the same folder, built whole
    assert split_plan(model, ks) is None
    whole = built(model, kustomize)
    assert pieced.error is None and whole.error is None
    assert len(whole.objects) >= 300
    assert exact(pieced) == exact(whole)
    assert not pieced.generated
    assert {o.file for o in pieced.objects} == {f"{FOLDER}/part-{c}.yaml" for c in "abcd"}
    if "namePrefix" not in transformers and "nameSuffix" not in transformers:
        assert all(o.line > 0 for o in pieced.objects), "every object points at its line"


def test_a_reference_across_pieces_is_rewritten_as_in_the_whole_build(
    tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Deployment refers to ConfigMaps that, by position, would be in other pieces."""
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    write_folder(repo, 3, {"namePrefix": "p-", "namespace": "big"}, True)
    build = built(load_repo(repo), kustomize)
    deployments = [o for o in build.objects if o.kind == "Deployment"]
    assert len(deployments) == 4
    for dep in deployments:
        spec = dep.data["spec"]["template"]["spec"]
        assert spec["serviceAccountName"].startswith("p-")
        assert spec["containers"][0]["envFrom"][0]["configMapRef"]["name"].startswith("p-setting-")
        assert spec["volumes"][0]["configMap"]["name"].startswith("p-setting-")
    bindings = [o for o in build.objects if o.kind == "RoleBinding"]
    subjects = [s for b in bindings for s in b.data["subjects"]]
    assert {(s["name"].startswith("p-"), s["namespace"]) for s in subjects} == {
        (True, "big"),  # the ServiceAccount in the build, renamed and moved
        (False, "big"),  # `default`: namespace set by the namespace transformer itself
        (False, "old"),  # a ServiceAccount elsewhere: left alone
    }


def test_the_output_is_in_kustomizes_legacy_order(
    tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    write_folder(repo, 4, {"namespace": "big"}, True)
    build = built(load_repo(repo), kustomize)
    keys = [legacy_order(o.data) for o in build.objects]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    kinds = [o.kind for o in build.objects]
    assert kinds[0] == "Namespace" and kinds.index("ServiceAccount") < kinds.index("ConfigMap")
    assert kinds.index("Deployment") < kinds.index("Widget") < kinds.index("Ingress")


def test_legacy_order_compares_namespace_and_name_as_one_string() -> None:
    """kustomize compares ``namespace|name``: namespace `a-b` sorts before `a`."""
    a = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "z", "namespace": "a"}}
    ab = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a-b"}}
    bare = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert sorted([a, ab, bare], key=legacy_order) == [ab, a, bare]  # "~X" sorts last
    assert legacy_order({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}}) == (
        0,
        "example.com_v1_Widget",
        "~X|~N",
    )


REFUSED: dict[str, dict[str, Any]] = {
    "a patch": {"patches": [{"patch": "[]", "target": {"kind": "ConfigMap"}}]},
    "a generator": {"configMapGenerator": [{"name": "gen", "literals": ["a=b"]}]},
    "images": {"images": [{"name": "nginx", "newTag": "2"}]},
    "replicas": {"replicas": [{"name": "app-1", "count": 2}]},
    "sortOptions": {"sortOptions": {"order": "fifo"}},
    "components": {"components": ["../other"]},
}


@pytest.mark.parametrize("field", REFUSED)
def test_a_kustomization_with_anything_else_is_built_whole(
    field: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    write_folder(repo, 0, {"namespace": "big", **REFUSED[field]}, False)
    model = load_repo(repo)
    ks = next(k for k in model.kustomizations if k.name == "big")
    assert cuttable(model, model.root / FOLDER) is None
    assert split_plan(model, ks) is None


def test_a_resource_in_a_sub_folder_or_a_small_folder_is_built_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    folder = write_folder(repo, 0, {"namespace": "big"}, False)
    model = load_repo(repo)
    assert cuttable(model, folder) is not None
    text = (folder / "kustomization.yaml").read_text()
    (folder / "sub").mkdir()
    (folder / "sub" / "x.yaml").write_text((folder / "part-a.yaml").read_text())
    (folder / "kustomization.yaml").write_text(text.replace("- part-a.yaml", "- sub/x.yaml"))
    assert cuttable(load_repo(repo), folder) is None
    (folder / "kustomization.yaml").write_text(text)
    monkeypatch.setattr(split, "SPLIT_MIN_DOCS", 10**6)
    assert cuttable(load_repo(repo), folder) is None


def test_the_same_object_in_two_pieces_gets_kustomizes_own_error(
    tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    folder = write_folder(repo, 0, {"namespace": "big"}, False)
    first = (folder / "part-a.yaml").read_text().split("---\n")[1]
    (folder / "part-d.yaml").write_text((folder / "part-d.yaml").read_text() + "---\n" + first)
    build = built(load_repo(repo), kustomize)
    assert build.error is not None
    assert "already registered" in build.error or "conflict" in build.error


def test_the_pieces_read_the_kustomization_file_as_kustomize_does(
    tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`n` is a string to PyYAML and a boolean to kustomize: the pieces use the file's own
    bytes, so they fail as the whole build does, and its message is reported."""
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    write_folder(repo, 0, {"namespace": "big", "commonAnnotations": {"note": "n"}}, False)
    build = built(load_repo(repo), kustomize)
    assert build.error is not None
    assert "cannot unmarshal bool" in build.error and "commonAnnotations" in build.error


def test_one_changed_document_builds_one_piece_again(
    tmp_path: Path, kustomize: Kustomize, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    folder = write_folder(repo, 0, {"namespace": "big", "commonLabels": {"a": "b"}}, False)
    pieces = tmp_path / "cache" / "pieces"
    built(load_repo(repo), kustomize)
    before = set(pieces.iterdir())
    path = folder / "part-b.yaml"
    text = path.read_text()
    target = next(line for line in text.splitlines() if line.startswith("  v: "))
    path.write_text(text.replace(target, "  v: changed", 1))
    again = built(load_repo(repo), kustomize)
    assert again.error is None
    assert len(set(pieces.iterdir()) - before) == 1
    assert any(o.data.get("data") == {"v": "changed"} for o in again.objects)
