"""The draft a Plan is rendered into: the repository as the operations see it, and the
changes they make to it so far.

Every operation module of :mod:`infrawright.render.ops` works through one :class:`Draft`:
it reads files as the earlier operations of the plan left them, writes new files in the
repository's style, edits existing ones in place (see :mod:`splice`) and collects the
notes, REVIEW notes and no-op reasons the report shows.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from infrawright.catalog import CatalogEntry
from infrawright.errors import InfrawrightError
from infrawright.model.conventions import PSS_PREFIX, Conventions, pin_as
from infrawright.model.exemplar import SERVED, Exemplar, exemplar
from infrawright.model.flux import FluxKustomization, HelmRelease
from infrawright.model.layout import Choice, choose, infer_layout
from infrawright.render.changeset import Changeset, Review
from infrawright.render.emit import KeyPath, Style, dump
from infrawright.render.splice import append_to_list, find_document, remove_from_list, set_value
from infrawright.repo.documents import Document
from infrawright.validate.context import helm_repository_urls
from infrawright.validate.engine import Analysis

CILIUM_GROUP = "cilium.io"
MONITORING_GROUP = "monitoring.coreos.com"
MONITOR_KINDS = frozenset(
    {"ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "ScrapeConfig"}
)
#: ``<component>-monitoring``: where a component's monitoring objects live.
SUFFIX = "-monitoring"

Edit = Callable[[str, int], str]


@dataclass
class Rendered:
    """A rendered plan: the changes, the Kustomizations it adds, and why it is a no-op."""

    changes: Changeset = field(default_factory=Changeset)
    added: list[str] = field(default_factory=list)
    depends: dict[str, list[str]] = field(default_factory=dict)
    noop: list[str] = field(default_factory=list)
    #: Existing Flux Kustomizations (by name) whose own object the change edits.
    touched: set[str] = field(default_factory=set)
    #: New components applied by an existing Kustomization (a bundle's): component ->
    #: that Kustomization's label.
    built_by: dict[str, str] = field(default_factory=dict)


def wrap_review(note: str) -> str:
    lines = textwrap.wrap(f"REVIEW: {note}", width=88, subsequent_indent="  ")
    return "\n".join(lines)


def unwrap_review(note: str) -> str:
    text = " ".join(line.strip() for line in note.splitlines())
    return text.removeprefix("REVIEW: ")


def is_object(kind: str, name: str, namespace: str | None = None) -> Callable[[Any], bool]:
    """A document matcher for :meth:`Draft.edit_doc`."""

    def match(data: Any) -> bool:
        if not isinstance(data, dict) or data.get("kind") != kind:
            return False
        meta = data.get("metadata") or {}
        if not isinstance(meta, dict) or meta.get("name") != name:
            return False
        return namespace is None or meta.get("namespace") in (None, namespace)

    return match


def setting(keys: tuple[str | int, ...], value: Any, comment: str | None = None) -> Edit:
    return lambda text, i: set_value(text, i, keys, value, comment=comment)


def removing(keys: tuple[str | int, ...], match: Callable[[Any], bool]) -> Edit:
    return lambda text, i: remove_from_list(text, i, keys, match)


def appending(keys: tuple[str | int, ...], item: Any) -> Edit:
    return lambda text, i: append_to_list(text, i, keys, item)


class Draft:
    """One repository's pending change, following its conventions."""

    def __init__(
        self, analysis: Analysis, conventions: Conventions, out: Rendered | None = None
    ) -> None:
        """``out``: the change so far, when one plan is rendered for several clusters
        (each cluster's Draft adds its part to the same change)."""
        self.analysis = analysis
        self.model = analysis.model
        self.conv = conventions
        self.style = Style(indent_sequences=bool(conventions.sequence_indent.value))
        self.out = out if out is not None else Rendered()
        #: Flux Kustomizations this Draft added (to its cluster).
        self.added: list[str] = []
        self.changes = self.out.changes
        self.comp_dir = self.model.config.components_dir.strip("/")

    # -- what the report shows -------------------------------------------------------
    def note(self, message: str) -> None:
        self.changes.messages.append(message)

    def noop(self, message: str) -> None:
        self.out.noop.append(message)

    def review(self, path: str, note: str) -> None:
        self.changes.reviews.append(Review(path, None, note))

    def review_header(self, path: str, notes: list[str]) -> tuple[str, ...]:
        lines: list[str] = []
        for note in notes:
            self.review(path, note)
            lines.extend(wrap_review(note).splitlines())
        return tuple(lines)

    # -- files -------------------------------------------------------------------------
    def file_name(self, kind: str, default: str, component: str | None = None) -> str:
        """The file name this repository gives a kind in ``component`` (by convention, a
        pattern such as ``servicemonitor-{name}.yaml``), else ``default``."""
        conv = self.conv.file_names.get(kind)
        value = str(conv.value) if conv and conv.value else default
        if "{name}" in value:
            return value.replace("{name}", component) if component else default
        return value

    def text(self, rel: str) -> str:
        """A file as the earlier operations left it."""
        if rel in self.changes.files:
            data = self.changes.files[rel]
            return data.decode("utf-8") if data is not None else ""
        return (self.model.root / rel).read_text(encoding="utf-8")

    def put(self, rel: str, text: str) -> None:
        self.changes.write(rel, text)

    def write(
        self,
        path: str,
        doc: dict[str, Any],
        comments: dict[KeyPath, str] | None = None,
        header: tuple[str, ...] = (),
    ) -> None:
        """A new file holding ``doc`` in the repository's style."""
        comments = comments or {}
        for note in comments.values():
            for line in note.splitlines():
                if line.startswith("REVIEW: "):
                    self.review(path, unwrap_review(note))
                    break
        self.changes.write(path, dump(doc, self.style, comments, header))

    def edit_doc(self, rel: str, match: Callable[[Any], bool], edit: Edit) -> None:
        text = self.text(rel)
        index = find_document(text, match)
        if index is None:
            raise InfrawrightError(f"{rel}: the document to edit was not found")
        new = edit(text, index)
        if new != text:
            self.put(rel, new)

    def list_in_kustomization(self, folder: str, entry: str) -> None:
        """Add ``entry`` to ``folder/kustomization.yaml`` resources unless it is there."""
        rel = f"{folder}/kustomization.yaml"
        if rel not in self.changes.files and not (self.model.root / rel).is_file():
            raise InfrawrightError(
                f"{rel} does not exist, so nothing would apply {entry}; infrawright adds to "
                "the folders the repository has and does not invent new ones",
                hint="name a namespace or folder the repository has, e.g. "
                '"... into namespace kube-system"',
            )
        text = self.text(rel)
        index = find_document(text, lambda d: isinstance(d, dict))
        if index is None:
            raise InfrawrightError(f"{rel}: empty kustomization")
        listed = (_plain_doc(text, index) or {}).get("resources") or []
        if entry in listed or f"./{entry}" in listed:
            return
        self.put(rel, append_to_list(text, index, ("resources",), entry))

    def unlist_in_kustomization(self, folder: str, entry: str) -> None:
        rel = f"{folder}/kustomization.yaml"
        if not (self.model.root / rel).is_file() and rel not in self.changes.files:
            return
        text = self.text(rel)
        index = find_document(text, lambda d: isinstance(d, dict))
        if index is None:
            return
        wanted = {entry, f"./{entry}"}
        new = remove_from_list(text, index, ("resources",), lambda item: item in wanted)
        if new != text:
            self.put(rel, new)

    # -- the repository as it is -------------------------------------------------------
    def ks_names(self) -> set[str]:
        return {ks.name for ks in self.model.kustomizations} | set(self.added)

    def providers(self, group: str) -> list[str]:
        return self.analysis.index.providers_of(group)

    def cni(self) -> str | None:
        found = self.providers(CILIUM_GROUP)
        return found[0] if found else None

    def installs(self, catalog_name: str) -> str | None:
        """The Kustomization whose HelmRelease installs a catalog chart."""
        urls = helm_repository_urls(self.model)
        for build in self.analysis.builds.values():
            for obj in build.objects:
                if obj.kind != "HelmRelease":
                    continue
                release = HelmRelease.parse_doc(obj)
                url = urls.get(release.source.name) if release.source else None
                entry = self.model.catalog.for_chart(release.chart, url)
                if entry is not None and entry.name == catalog_name:
                    return build.kustomization.name
        return None

    def namespace_owner(self, name: str) -> str | None:
        """The Kustomization that already creates Namespace ``name``, if any."""
        for build in self.analysis.builds.values():
            if any(o.kind == "Namespace" and o.name == name for o in build.objects):
                return build.kustomization.name
        return None

    def pss_labels(self, level: str) -> dict[str, str]:
        keys = tuple(self.conv.pss_labels.value)
        labels: dict[str, str] = {}
        for key in keys:
            suffix = key[len(PSS_PREFIX) :]
            labels[key] = str(self.conv.pss_version.value) if suffix.endswith("-version") else level
        labels.setdefault(PSS_PREFIX + "enforce", level)
        return labels

    def placement(self, entry: CatalogEntry | None) -> Choice | None:
        """Where a new component like ``entry``'s goes, learnt from the repository's
        layout; None for the house layout (its conventions decide)."""
        if self.model.profile.name == "house":
            return None
        return choose(self.model, infer_layout(self.model), self.model.cluster, entry)

    def exemplar(self, chart: str | None) -> Exemplar | None:
        """The existing component a new one of ``chart`` is written like."""
        return exemplar(self.model, infer_layout(self.model), self.model.cluster, chart)

    def api_note(self, kind: str, written: str) -> str | None:
        """A REVIEW note when the repository writes ``kind`` with another (older)
        apiVersion than the served one written here; None when it agrees."""
        seen = Counter(d.api_version for d in self.model.objects() if d.kind == kind)
        if not seen or written in seen:
            return None
        theirs = seen.most_common(1)[0][0]
        served, since = SERVED.get(kind, (written, ""))
        if served != written:
            return None
        return (
            f"the repository's {kind} objects use {theirs}, deprecated since {since}; this "
            f"one is written as the served {written}"
        )

    def pinned(self, version: str) -> str:
        return pin_as(version, str(self.conv.version_style.value))

    def exists(self, component: str) -> bool:
        return component in self.model.components or component in self.model.by_label

    def objects_of(self, component: str, kind: str) -> Iterator[Document]:
        prefix = f"{self.comp_dir}/{component}/"
        for rel, parsed in sorted(self.model.files.items()):
            if rel.startswith(prefix):
                yield from (d for d in parsed.objects if d.kind == kind)

    def kustomizations_of(self, component: str) -> list[FluxKustomization]:
        """Flux Kustomizations whose path is the component's folder (or inside it)."""
        folder = (self.model.root / self.comp_dir / component).resolve()
        out = []
        for ks in self.model.kustomizations:
            target = self.model.resolve(ks)
            if not isinstance(target, type(folder)):
                continue
            if target == folder or folder in target.parents:
                out.append(ks)
        return out

    def release_of(self, component: str) -> tuple[HelmRelease, CatalogEntry | None]:
        releases = [HelmRelease.parse_doc(d) for d in self.objects_of(component, "HelmRelease")]
        if not releases:
            raise InfrawrightError(
                f"{component} has no HelmRelease under {self.comp_dir}/{component}/",
                hint="versions and values can only be changed on Helm components",
            )
        release = releases[0]
        urls = helm_repository_urls(self.model)
        url = urls.get(release.source.name) if release.source else None
        return release, self.model.catalog.for_chart(release.chart, url)

    def namespace_of(self, component: str) -> str:
        for doc in self.objects_of(component, "Namespace"):
            return doc.name
        for doc in self.objects_of(component, "HelmRelease"):
            return doc.namespace or component
        return component

    def add_depends_on(self, ks: FluxKustomization, target: FluxKustomization, why: str) -> None:
        item: dict[str, Any] = {"name": target.name}
        if target.namespace != ks.namespace:
            item["namespace"] = target.namespace
        self.edit_doc(
            ks.doc.file,
            is_object("Kustomization", ks.name, ks.namespace),
            appending(("spec", "dependsOn"), item),
        )
        self.out.touched.add(ks.name)
        self.note(f"{self.model.label(ks)} now depends on {self.model.label(target)} ({why})")


def _plain_doc(text: str, index: int) -> dict[str, Any] | None:
    import yaml

    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    data = docs[index] if index < len(docs) else None
    return data if isinstance(data, dict) else None
