"""IW010: a Flux Kustomization's path exists and has a kustomization.yaml, and every
YAML file in a component folder is reachable from it.

Default severity: error for a missing or escaping path, or a missing kustomization
file; warning for an orphan file. The kustomization-file and orphan parts are
flat-layout checks that ``flat_layout = false`` switches off (Flux generates a
kustomization for a folder without one); the bootstrap ``flux-system`` Kustomization
may always rely on that.

Why: Flux fails a Kustomization whose path is gone, and a file nobody lists is never
applied, so whatever it was meant to do silently does not happen.

Bad::

    namespaces/redis/kustomization.yaml   resources: [helm-release.yaml]
    namespaces/redis/network-policy.yaml  # listed nowhere

Good::

    resources:
      - helm-release.yaml
      - network-policy.yaml
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infrawright.model.repo import PathProblem
from infrawright.repo.documents import read_yaml_file
from infrawright.validate.builds import KUSTOMIZATION_FILES, has_kustomization_file
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW010", "paths exist; no orphan files", Severity.ERROR)

_LIST_KEYS = ("resources", "components", "crds", "patchesStrategicMerge", "configurations")
_ITEM_KEYS = ("patches", "patchesJson6902", "replacements")


def _referenced(kfile: Path) -> list[str]:
    """Paths a kustomization file names (resources, patches, generator inputs, ...)."""
    parsed = read_yaml_file(kfile, kfile.name)
    data: Any = parsed.documents[0].data if parsed.documents else None
    if not isinstance(data, dict):
        return []
    refs: list[str] = []
    for key in _LIST_KEYS:
        refs += [str(v) for v in data.get(key) or [] if isinstance(v, str)]
    for key in _ITEM_KEYS:
        for item in data.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                refs.append(item["path"])
    for key in ("configMapGenerator", "secretGenerator", "helmCharts"):
        for item in data.get(key) or []:
            if not isinstance(item, dict):
                continue
            for field in ("files", "envs"):
                for f in item.get(field) or []:
                    refs.append(str(f).split("=", 1)[-1])
            for field in ("env", "valuesFile"):
                if isinstance(item.get(field), str):
                    refs.append(item[field])
            for f in item.get("additionalValuesFiles") or []:
                refs.append(str(f))
    return refs


def reachable(folder: Path) -> set[Path]:
    """Files reachable from the kustomization in ``folder``, following sub-folders."""
    seen: set[Path] = set()
    todo = [folder]
    visited: set[Path] = set()
    while todo:
        current = todo.pop()
        if current in visited:
            continue
        visited.add(current)
        for name in KUSTOMIZATION_FILES:
            kfile = current / name
            if kfile.is_file():
                seen.add(kfile.resolve())
                for ref in _referenced(kfile):
                    if "://" in ref or ref.startswith("github.com/"):
                        continue
                    target = (current / ref).resolve()
                    if target.is_dir():
                        todo.append(target)
                    else:
                        seen.add(target)
                break
    return seen


def check(ctx: Context) -> Iterator[Finding]:
    model = ctx.model
    components_root = (model.root / model.config.components_dir).resolve()
    checked: set[Path] = set()
    for ks in model.kustomizations:
        if not model.is_local(ks):
            continue
        target = model.resolve(ks)
        if isinstance(target, PathProblem):
            yield RULE.at(
                ks.doc,
                f"Kustomization {ks.name}: {target.message}",
                "point spec.path at a folder inside the repository, relative to its root",
                line=ctx.line_of(ks.doc, ["spec", "path"]),
            )
            continue
        flat = model.config.flat_layout
        if flat and not has_kustomization_file(target) and not model.is_bootstrap(ks):
            yield RULE.at(
                ks.doc,
                f"{model.rel(target)} has no kustomization.yaml (path of {ks.name})",
                f"add {model.rel(target)}/kustomization.yaml listing its manifests",
                line=ctx.line_of(ks.doc, ["spec", "path"]),
            )
            continue
        if not model.config.flat_layout or components_root not in target.parents:
            continue
        if target in checked:
            continue
        checked.add(target)
        found = reachable(target)
        for path in sorted(target.rglob("*")):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            if path.resolve() in found or path.is_symlink():
                continue
            rel = model.rel(path)
            yield RULE.at(
                None,
                f"{rel} is not listed in any kustomization of {model.rel(target)}; "
                "Flux never applies it",
                f"list it under resources: in {model.rel(path.parent)}/kustomization.yaml, "
                "or delete it",
                file=rel,
                severity=Severity.WARNING,
            )
