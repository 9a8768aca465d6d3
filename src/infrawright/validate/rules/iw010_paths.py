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

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infrawright.model.repo import PathProblem, RepoModel
from infrawright.repo.documents import read_yaml_file
from infrawright.validate.builds import KUSTOMIZATION_FILES, has_kustomization_file
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW010", "paths exist; no orphan files", Severity.ERROR)

_LIST_KEYS = ("resources", "components", "crds", "patchesStrategicMerge", "configurations")
_ITEM_KEYS = ("patches", "patchesJson6902", "replacements")


def _referenced(data: Any) -> list[str]:
    """Paths a kustomization file names (resources, patches, generator inputs, ...)."""
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


def _kustomization_data(model: RepoModel, kfile: str) -> Any:
    """The first document of a kustomization file: from the model when it was read
    there, else from disk (a file outside the repository's YAML set)."""
    rel = os.path.relpath(kfile, model.real_root)
    parsed = model.files.get(rel) if not rel.startswith("..") else None
    if parsed is None:
        parsed = read_yaml_file(Path(kfile), os.path.basename(kfile))
    return parsed.documents[0].data if parsed.documents else None


def _real(folder: str, ref: str) -> str:
    """``realpath(folder/ref)`` for a real ``folder``; a plain name is only checked for
    being a symlink (the common case, and ten times cheaper)."""
    path = os.path.join(folder, ref)
    if "/" in ref or ref in (".", "..") or os.path.islink(path):
        return os.path.realpath(path)
    return path


def reachable(model: RepoModel, folder: str) -> set[str]:
    """Real paths of the files reachable from the kustomization in ``folder`` (a real
    path), following sub-folders."""
    seen: set[str] = set()
    todo = [folder]
    visited: set[str] = set()
    while todo:
        current = todo.pop()
        if current in visited:
            continue
        visited.add(current)
        for name in KUSTOMIZATION_FILES:
            kfile = os.path.join(current, name)
            if os.path.isfile(kfile):
                seen.add(_real(current, name))
                for ref in _referenced(_kustomization_data(model, kfile)):
                    if "://" in ref or ref.startswith("github.com/"):
                        continue
                    target = _real(current, ref)
                    if os.path.isdir(target):
                        todo.append(target)
                    else:
                        seen.add(target)
                break
    return seen


def _yaml_files(folder: str) -> list[str]:
    """Every YAML file under ``folder`` (symlinks neither followed nor listed), sorted."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if name.endswith((".yaml", ".yml")) and not os.path.islink(path):
                out.append(path)
    return sorted(out)


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
        found = reachable(model, str(target))
        # target is a real path and the walk enters no symlink, so these paths are real
        for path in _yaml_files(str(target)):
            if path in found:
                continue
            rel = os.path.relpath(path, model.real_root)
            yield RULE.at(
                None,
                f"{rel} is not listed in any kustomization of {model.rel(target)}; "
                "Flux never applies it",
                f"list it under resources: in {os.path.dirname(rel)}/kustomization.yaml, "
                "or delete it",
                file=rel,
                severity=Severity.WARNING,
            )
