"""Does a change need the cluster recreated to prove it? Compare the repo before and after.

A running cluster already went through its bootstrap; a change that only adds a leaf is
applied by Flux in place. A change that would have altered how a fresh cluster comes up
(ordering of existing Kustomizations, objects moving between them, a new CRD provider that
existing components should wait for, the bootstrap itself, a Kustomization others need
disappearing) is only proven by a fresh bootstrap.
"""

from __future__ import annotations

from collections.abc import Iterable

from infrawright.validate.engine import Analysis


def _objects(analysis: Analysis, labels: set[str]) -> dict[tuple[str, str, str], str]:
    """(kind, namespace, name) of every object built by the Kustomizations ``labels`` ->
    label of its Kustomization."""
    out: dict[tuple[str, str, str], str] = {}
    for label, build in analysis.builds.items():
        if label in labels:
            for obj in build.objects:
                out.setdefault((obj.kind, obj.namespace or "", obj.name), label)
    return out


def _rebuilt(before: Analysis, after: Analysis) -> set[str]:
    """Labels whose objects may differ: an object can only move between two of them
    (a build reused unchanged shares its objects with the one before)."""
    old, new = before.builds, after.builds
    return {
        label
        for label in old.keys() | new.keys()
        if label not in old or label not in new or old[label].objects is not new[label].objects
    }


def _deps(analysis: Analysis) -> dict[str, set[str]]:
    model = analysis.model
    return {
        label: {model.label_of(d) for d in ks.depends_on} for label, ks in model.by_label.items()
    }


def recreate_reasons(before: Analysis, after: Analysis, changed: Iterable[str]) -> list[str]:
    """Why the change is structural (empty: a fresh bootstrap is not needed to prove it)."""
    reasons: list[str] = []
    old_deps, new_deps = _deps(before), _deps(after)
    for label in sorted(old_deps.keys() & new_deps.keys()):
        added = sorted(new_deps[label] - old_deps[label])
        dropped = sorted(old_deps[label] - new_deps[label])
        if added or dropped:
            parts = [f"+{d}" for d in added] + [f"-{d}" for d in dropped]
            reasons.append(f"bootstrap order of {label} changes (dependsOn {', '.join(parts)})")
    rebuilt = _rebuilt(before, after)
    old_objects, new_objects = _objects(before, rebuilt), _objects(after, rebuilt)
    moved = sorted(
        (key, old_objects[key], new_objects[key])
        for key in old_objects.keys() & new_objects.keys()
        if old_objects[key] != new_objects[key]
    )
    for (kind, ns, name), src, dst in moved:
        where = f"{kind}/{ns}/{name}" if ns else f"{kind}/{name}"
        reasons.append(f"{where} moves from {src} to {dst}")
    new_labels = new_deps.keys() - old_deps.keys()
    old_groups = {p.group for p in before.index.provisions}
    for provision in after.index.provisions:
        if provision.provider not in new_labels or provision.group in old_groups:
            continue
        users = sorted(
            {
                label
                for label, uses in before.index.unprovided.items()
                if label in old_deps and any(u.startswith(provision.group + "/") for u in uses)
            }
        )
        if users:
            reasons.append(
                f"new CRD provider {provision.provider} ({provision.group}) that existing "
                f"{', '.join(users)} should wait for"
            )
    cluster_dir = before.model.cluster_dir
    if cluster_dir and any(p.startswith(f"{cluster_dir}/flux-system/") for p in changed):
        reasons.append("the change touches the Flux bootstrap (flux-system)")
    for label in sorted(old_deps.keys() - new_deps.keys()):
        needed_by = sorted(k for k, deps in old_deps.items() if label in deps and k in new_deps)
        uses = [u for u in before.index.uses.values() for x in u if label in x.providers]
        if needed_by or uses:
            reasons.append(f"Kustomization {label}, which other components need, is removed")
    return list(dict.fromkeys(reasons))
