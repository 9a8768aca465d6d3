"""IW006 understands every patch form Flux applies."""

from __future__ import annotations

from typing import Any

import pytest

from infrawright.validate.rules.iw006_banned_workarounds import banned_in_patch, banned_in_spec

STRATEGIC = {
    "target": {"kind": "HelmRelease"},
    "patch": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: x}\n"
    "spec:\n  upgrade:\n    cleanupOnFail: true\n",
}
STRATEGIC_NO_KIND = {
    "target": {"kind": "HelmRelease", "name": "x"},
    "patch": "spec:\n  install:\n    remediation:\n      remediateLastFailure: true\n",
}
JSON6902_LEAF = {
    "target": {"kind": "HelmRelease"},
    "patch": "- op: add\n  path: /spec/upgrade/force\n  value: true\n",
}
JSON6902_OBJECT = {
    "target": {"kind": "HelmRelease"},
    "patch": "- op: replace\n  path: /spec/upgrade\n  value:\n    remediation:\n"
    "      strategy: uninstall\n",
}
# A Kustomization patched so that it patches its HelmReleases (as home-ops does).
NESTED = {
    "target": {"kind": "Kustomization"},
    "patch": """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: all}
spec:
  patches:
    - target: {kind: HelmRelease}
      patch: |-
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: all}
        spec:
          upgrade:
            remediation:
              strategy: uninstall
""",
}
HARMLESS = {
    "target": {"kind": "HelmRelease"},
    "patch": "spec:\n  upgrade:\n    remediation:\n      retries: 3\n      strategy: rollback\n",
}


@pytest.mark.parametrize(
    ("patch", "setting"),
    [
        (STRATEGIC, "cleanupOnFail: true"),
        (STRATEGIC_NO_KIND, "remediateLastFailure: true"),
        (JSON6902_LEAF, "force: true"),
        (JSON6902_OBJECT, "remediation strategy uninstall"),
        (NESTED, "remediation strategy uninstall"),
    ],
)
def test_banned_setting_in_patch_is_found(patch: dict[str, Any], setting: str) -> None:
    assert [s for _path, s in banned_in_patch(patch)] == [setting]


def test_harmless_patch_and_broken_patch_text() -> None:
    assert banned_in_patch(HARMLESS) == []
    assert banned_in_patch({"patch": "a: [unclosed"}) == []
    assert banned_in_patch({"path": "patch.yaml"}) == []


def test_banned_in_spec_paths() -> None:
    spec = {"rollback": {"force": True, "cleanupOnFail": True}, "upgrade": {"force": False}}
    assert banned_in_spec(spec) == [
        ("spec.rollback.force", "force: true"),
        ("spec.rollback.cleanupOnFail", "cleanupOnFail: true"),
    ]
