"""What every operation is: how it renders, and what must hold once it is done.

An operation module defines ``OPERATION = Operation(SomeOp, render, holds)``. ``render``
writes the change into a :class:`Draft`; ``holds`` states the operation's post-conditions
on the validated tree (:class:`Settled`) as :class:`Check` values. A change is complete
only when every check of every operation holds; one that fails is not written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from infrawright.build.builds import Build
from infrawright.model.flux import HelmRelease, is_flux_kustomization
from infrawright.render.changeset import Changeset
from infrawright.render.draft import Draft, Rendered
from infrawright.repo.documents import Document
from infrawright.validate.context import helm_repository_urls
from infrawright.validate.engine import Analysis
from infrawright.validate.finding import Finding

T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    """One post-condition and whether it holds. A check that does not hold because
    nothing mechanical can make it hold (``left``) makes the change partial, not wrong:
    what was done is written and the report lists what is left."""

    statement: str
    holds: bool
    why: str = ""
    left: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "holds": self.holds,
            "why": self.why,
            "left": self.left,
        }


def check(statement: str, holds: bool, why: str = "") -> Check:
    return Check(statement, holds, "" if holds else why)


@dataclass(frozen=True)
class Settled:
    """The repository before the change and the validated tree after it."""

    before: Analysis
    after: Analysis
    findings_before: tuple[Finding, ...]
    findings_after: tuple[Finding, ...]
    changes: Changeset
    rendered: Rendered

    def build(self, label: str) -> Build | None:
        return self.after.builds.get(label)

    def objects(self, label: str, kind: str) -> list[Document]:
        build = self.after.builds.get(label)
        return [o for o in build.objects if o.kind == kind] if build else []

    def releases(self) -> Iterator[tuple[str, HelmRelease]]:
        """Every HelmRelease of the changed tree's builds, with its Kustomization."""
        for label, build in sorted(self.after.builds.items()):
            for obj in build.objects:
                if obj.kind == "HelmRelease":
                    yield label, HelmRelease.parse_doc(obj)

    def catalog_name(self, release: HelmRelease) -> str | None:
        """The catalog entry a built HelmRelease installs, if the catalog knows its chart."""
        urls = helm_repository_urls(self.after.model)
        url = urls.get(release.source.name) if release.source else None
        entry = self.after.model.catalog.for_chart(release.chart, url)
        return entry.name if entry else None

    def kustomization_names(self) -> set[str]:
        return {ks.name for ks in self.after.model.kustomizations}


@dataclass(frozen=True)
class Operation(Generic[T]):
    """An operation type, how to render it and its post-conditions."""

    kind: type[T]
    render: Callable[[Draft, T], None]
    holds: Callable[[T, Settled], Iterable[Check]]
    #: Flux Kustomizations (by name) the operation may change.
    scope: Callable[[T, Rendered], set[str]]


def unchanged_elsewhere(scope: set[str], settled: Settled) -> Check:
    """Nothing outside ``scope`` changed: every build of another Kustomization renders the
    same objects as before, and the Flux Kustomization objects of the others are as they
    were."""
    changed: list[str] = []
    before, after = settled.before.builds, settled.after.builds
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label), after.get(label)
        name = label.rsplit("/", 1)[-1]
        if old is new:
            continue
        if old is None or new is None:
            if name not in scope:
                changed.append(f"{label} {'added' if old is None else 'removed'}")
            continue
        if name in scope:
            continue
        if _differ(old.objects, new.objects, ignore=frozenset(scope)):
            changed.append(f"{label} renders other objects")
    return check(
        "nothing changed beyond the components it names",
        not changed,
        "; ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else ""),
    )


def _differ(old: Iterable[Document], new: Iterable[Document], *, ignore: frozenset[str]) -> bool:
    """Do two builds render different objects? Flux Kustomizations named in ``ignore``
    are left out (the operation adds, edits or removes those)."""

    def kept(docs: Iterable[Document]) -> list[Any]:
        out = []
        for d in docs:
            if is_flux_kustomization(d) and d.name in ignore:
                continue
            out.append(d.data)
        return out

    a, b = kept(old), kept(new)
    if len(a) != len(b):
        return True
    key = _identity
    return sorted(a, key=key) != sorted(b, key=key)


def _identity(data: Any) -> tuple[str, str, str, str]:
    meta = data.get("metadata") or {} if isinstance(data, dict) else {}
    return (
        str(data.get("apiVersion", "")) if isinstance(data, dict) else "",
        str(data.get("kind", "")) if isinstance(data, dict) else "",
        str(meta.get("namespace", "")),
        str(meta.get("name", "")),
    )
