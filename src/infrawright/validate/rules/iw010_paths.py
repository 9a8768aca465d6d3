"""IW010: a Flux Kustomization's path exists and has a kustomization.yaml, and every
YAML file in a component folder is reachable from it.

Default severity: error for a missing or escaping path, or a missing kustomization
file; warning for an orphan file. The kustomization-file and orphan parts are house
checks: they run under the house profile only (and ``flat_layout = false`` switches
them off), since Flux itself generates a kustomization for a folder without one; the
bootstrap ``flux-system`` Kustomization may always rely on that.

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

from infrawright.build.builds import KUSTOMIZATION_FILES
from infrawright.model.repo import PathProblem, RepoModel
from infrawright.repo.documents import read_yaml_file
from infrawright.repo.listing import DIR, FILE, LINK, scan
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW010", "paths exist; no orphan files", Severity.ERROR, needs_builds=False)

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
    prefix = model.real_root.rstrip(os.sep) + os.sep
    rel = kfile[len(prefix) :] if kfile.startswith(prefix) else None
    parsed = model.files.get(rel) if rel is not None else None
    if parsed is None:
        model.looked_up.append(kfile)
        parsed = read_yaml_file(Path(kfile), os.path.basename(kfile))
    return parsed.documents[0].data if parsed.documents else None


class _Listings:
    """Folder listings by real path: the repository's own (see ``RepoModel.listings``),
    and folders outside it listed once per check."""

    def __init__(self, model: RepoModel) -> None:
        self._model = model
        self._root = model.real_root
        self._prefix = model.real_root.rstrip(os.sep) + os.sep
        self._known: dict[str, dict[str, int]] = {}

    def entries(self, folder: str) -> dict[str, int]:
        known = self._known.get(folder)
        if known is None:
            if folder == self._root:
                known = self._model.listings.names(".")
            elif folder.startswith(self._prefix):
                known = self._model.listings.names(folder[len(self._prefix) :])
            else:
                self._model.looked_up.append(folder)
                known = dict(scan(folder))
            self._known[folder] = known
        return known

    def real(self, folder: str, ref: str) -> str:
        """``realpath(folder/ref)`` for a real ``folder``; a plain name is only looked up
        in the folder's listing (the common case, and far cheaper)."""
        flags = self.entries(folder).get(ref) if "/" not in ref else None
        if flags is None or ref in (".", "..") or flags & LINK:
            self._model.looked_up.append(f"{folder}/{ref}")
            return os.path.realpath(os.path.join(folder, ref))
        return f"{folder}/{ref}"  # a plain name in a real folder: real already

    def is_dir(self, path: str) -> bool:
        parent, _sep, name = path.rpartition("/")
        flags = self.entries(parent or "/").get(name)
        if flags is None:
            self._model.looked_up.append(path)
            return os.path.isdir(path)
        return bool(flags & DIR)

    def has_kustomization_file(self, folder: str) -> bool:
        names = self.entries(folder)
        return any(names.get(n, 0) & FILE for n in KUSTOMIZATION_FILES)

    def yaml_files(self, folder: str) -> list[str]:
        """Every YAML file under ``folder`` (symlinks neither followed nor listed), sorted."""
        out: list[str] = []
        todo = [folder]
        while todo:
            current = todo.pop()
            for name, flags in self.entries(current).items():
                if flags & LINK:
                    continue
                if flags & DIR:
                    todo.append(f"{current}/{name}")
                elif name.endswith((".yaml", ".yml")):
                    out.append(f"{current}/{name}")
        return sorted(out)


def reachable(model: RepoModel, folder: str, listings: _Listings | None = None) -> set[str]:
    """Real paths of the files reachable from the kustomization in ``folder`` (a real
    path), following sub-folders."""
    listings = listings or _Listings(model)
    seen: set[str] = set()
    todo = [folder]
    visited: set[str] = set()
    while todo:
        current = todo.pop()
        if current in visited:
            continue
        visited.add(current)
        entries = listings.entries(current)
        for name in KUSTOMIZATION_FILES:
            if entries.get(name, 0) & FILE:
                seen.add(listings.real(current, name))
                kfile = f"{current}/{name}"
                for ref in _referenced(_kustomization_data(model, kfile)):
                    if "://" in ref or ref.startswith("github.com/"):
                        continue
                    target = listings.real(current, ref)
                    if listings.is_dir(target):
                        todo.append(target)
                    else:
                        seen.add(target)
                break
    return seen


def check(ctx: Context) -> Iterator[Finding]:
    model = ctx.model
    plain = model.plain_folder(model.config.components_dir)
    if plain is not None:
        components_root = plain[1]
    elif model.absent(model.config.components_dir):  # nothing can be inside it
        components_root = os.path.join(model.real_root, model.config.components_dir.strip("/"))
    else:
        model.looked_up.append(model.config.components_dir)
        components_root = os.path.realpath(model.root / model.config.components_dir)
    inside_components = components_root.rstrip(os.sep) + os.sep
    checked: set[Path] = set()
    listings = _Listings(model)
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
        # The house asks for an explicit kustomization file and for no orphans; Flux
        # itself builds a path without one from every manifest under it.
        house = model.profile.name == "house" and model.config.flat_layout
        if (
            house
            and not listings.has_kustomization_file(str(target))
            and not model.is_bootstrap(ks)
        ):
            yield RULE.at(
                ks.doc,
                f"{model.rel(target)} has no kustomization.yaml (path of {ks.name})",
                f"add {model.rel(target)}/kustomization.yaml listing its manifests",
                line=ctx.line_of(ks.doc, ["spec", "path"]),
            )
            continue
        if not house or not str(target).startswith(inside_components):
            continue
        if target in checked:
            continue
        checked.add(target)
        found = reachable(model, str(target), listings)
        # target is a real path and the walk enters no symlink, so these paths are real
        for path in listings.yaml_files(str(target)):
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
