"""Build a big folder whose kustomization only lists its files and renames or labels them,
in pieces.

kustomize's time grows much faster than the number of objects in one build. Measured here
(kubectl kustomize v5.5.0, 2 cores) on ConfigMaps with ``namespace`` and ``commonLabels``:
200 documents 0.25 s, 1,000 2.1 s, 2,000 17.5 s, 4,000 104 s; 20,000 do not finish in
five minutes. A folder whose kustomization file can be cut safely is therefore built like
a big generated folder (:mod:`infrawright.build.split`): its documents are cut into pieces
at content-defined document boundaries; each piece is a folder holding the folder's own
kustomization file, byte for byte, beside files named like its resources that hold only
that piece's documents (most of them empty), built under the same wrapper as the whole
folder. kustomize therefore reads the same fields with the same YAML rules (``note: n``
is a boolean to it and a string to PyYAML: a copy written from parsed data would differ).
The pieces are built in parallel and cached by their bytes. Measured on 20,000 ConfigMaps
in 100 files: 145 pieces, about 19 s of kustomize CPU time in all (pieces of about 256
documents cost the same, 512 a fifth more; ``bench/huge.py`` times the whole validate).

**When a folder is cut.** Its kustomization has only ``resources:`` that are plain files
in the folder itself (no sub-folder, remote base or URL) and the per-object fields
``namespace``, ``namePrefix``, ``nameSuffix``, ``commonLabels``, ``labels``,
``commonAnnotations`` (plus ``apiVersion``/``kind: Kustomization``/``metadata``), its
files hold at least :data:`~infrawright.build.split.SPLIT_MIN_DOCS` documents, and the
Flux Kustomization adds nothing on top (no ``targetNamespace``, patches, ...). Anything
else (generators, patches, replacements, components, helmCharts, crds, openapi,
configurations, images, replicas, vars, sortOptions, ...) is built whole.

**Why the output is exactly the whole build's.** Each of those transformers changes one
object from that object alone (``namespace`` also sets the namespace of a RoleBinding's
subjects named ``default``, from the binding itself). What reaches across objects is:

- *name references* (kustomize's nameReference pass): after ``namePrefix``,
  ``nameSuffix`` or ``namespace`` change an object, every field that refers to it by name
  is rewritten (a Deployment's ``configMapRef``, a RoleBinding's ``roleRef`` and
  ``subjects`` — namespace included —, an Ingress's service, ...). Only the kinds of
  :data:`REFERRERS` have such fields (kustomize's built-in nameReference field specs,
  every one of which names its kind; custom kinds get them only through
  ``configurations``/``crds``/``openapi``, which are not cut). A reference matches its
  target by name, so every document of a referrer kind, and every document whose name
  appears as a string anywhere in one, go into one piece together: every target
  kustomize could pick for a reference is in the referrer's piece.
- *duplicate IDs*: two pieces holding the same object (after the transformers) make
  :func:`~infrawright.build.split.assemble` give up, and the folder is built whole, so
  kustomize's own message is what the user sees; any piece failing does the same.
- *order*: kustomize sorts the output of the top kustomization, the wrapper, in its
  legacy order (a ``sortOptions`` of the folder's own is ignored there; measured), which
  is a total order on object IDs; the pieces' objects are sorted the same way
  (:func:`~infrawright.build.split.legacy_order`).

Objects point at the repository file they came from (each piece's parts are its files'
documents) and at their line, as a whole build's do (:class:`SourceLines`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infrawright import cache
from infrawright.build import split
from infrawright.build.kustomize import BUILD_PREFIX, Kustomize, build_wrapped
from infrawright.build.origin import strip_origin
from infrawright.model.repo import RepoModel
from infrawright.repo.documents import Document, api_group, parse_text
from infrawright.repo.segments import split_documents

#: The kustomization fields a cut folder may have (each changes one object by itself).
ALLOWED_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "commonLabels",
        "labels",
        "commonAnnotations",
    }
)
#: Kinds with fields kustomize's nameReference pass rewrites (kind -> API group the field
#: spec names, None for any), from kustomize v5's built-in nameReference configuration.
REFERRERS: dict[str, str | None] = {
    "HorizontalPodAutoscaler": None,
    "Pod": None,
    "PodTemplate": None,
    "ReplicationController": None,
    "Deployment": None,
    "ReplicaSet": None,
    "DaemonSet": None,
    "StatefulSet": None,
    "Job": None,
    "CronJob": None,
    "Node": None,
    "Role": None,
    "ClusterRole": None,
    "RoleBinding": None,
    "ClusterRoleBinding": None,
    "Ingress": None,
    "ServiceAccount": None,
    "StorageClass": None,
    "PersistentVolume": None,
    "PersistentVolumeClaim": None,
    "APIService": None,
    "ValidatingWebhookConfiguration": None,
    "MutatingWebhookConfiguration": None,
    "HTTPRoute": None,
    "Service": "serving.knative.dev",
}


@dataclass(frozen=True)
class Slice:
    """Some documents of a folder, built through the folder's own kustomization file
    (``kustomization``: its name and bytes, unchanged) beside files named like the
    folder's resource files (``parts``: repository path and this piece's documents of
    it, often none), so kustomize reads exactly what it reads in the folder."""

    kustomization: tuple[str, bytes]
    parts: tuple[tuple[str, bytes], ...]
    documents: int


def is_referrer(doc: Document) -> bool:
    if doc.kind not in REFERRERS:
        return False
    group = REFERRERS[doc.kind]
    return group is None or api_group(doc.api_version) == group


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def cuttable(model: RepoModel, folder: Path | str) -> tuple[str, list[str]] | None:
    """The folder's kustomization file and its resource files (repository paths) when
    the folder may be built in pieces and is big enough to be; None otherwise. Reads
    nothing from disk (the model has every file parsed), and is asked of every folder
    in every run: the common answer (too small) comes first. ``folder``: a path, or
    its repository-relative form."""
    rel = folder if isinstance(folder, str) else model.rel(folder)
    prefix = f"{rel}/" if rel != "." else ""
    files = model.files
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        parsed = files.get(prefix + name)
        if parsed is not None:
            own = prefix + name
            break
    else:
        return None
    if parsed.problem is not None or len(parsed.documents) != 1:
        return None
    data = parsed.documents[0].data
    entries = data.get("resources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    total = 0
    for entry in entries:
        found = files.get(prefix + entry) if isinstance(entry, str) else None
        if found is None or found.problem is not None:
            return None
        total += len(found.documents)
    if total < split.SPLIT_MIN_DOCS or not data.keys() <= ALLOWED_FIELDS:
        return None
    if data.get("kind", "Kustomization") != "Kustomization":
        return None  # a kustomize Component cannot be built on its own
    if len(set(entries)) != len(entries):
        return None
    if any("/" in entry or entry in ("", ".", "..") for entry in entries):
        return None  # only plain files right in the folder
    return own, [prefix + entry for entry in entries]


def plan_slices(model: RepoModel, folder: Path) -> list[Slice] | None:
    """The pieces of a folder with a kustomization file (see the module's docstring), or
    None when it is built whole."""
    found = cuttable(model, folder)
    if found is None:
        return None
    own, files = found
    try:
        kustomization = (own.rsplit("/", 1)[-1], (model.root / own).read_bytes())
    except OSError:
        return None
    stream: list[tuple[str, bytes, Document | None]] = []
    for rel in files:
        try:
            raw = (model.root / rel).read_bytes()
        except OSError:
            return None
        segments = split_documents(raw)
        owned = split.documents_by_segment(segments, model.files[rel].documents)
        if segments is None or owned is None:
            return None
        stream.extend((rel, text, owned.get(n)) for n, text in enumerate(segments))
    referrers = [doc for _rel, _text, doc in stream if doc is not None and is_referrer(doc)]
    names = {s for doc in referrers for s in _strings(doc.data)}
    together: list[tuple[str, bytes]] = []
    rest: list[tuple[str, bytes]] = []
    for rel, text, doc in stream:
        joined = doc is not None and doc.is_object and (is_referrer(doc) or doc.name in names)
        (together if joined else rest).append((rel, text))
    if not rest:
        return None  # all one piece: nothing to gain
    groups = split.cut_stream(rest)
    if together:
        groups.insert(0, together)
    return [_slice(kustomization, files, group) for group in groups]


def _slice(
    kustomization: tuple[str, bytes], files: list[str], segments: list[tuple[str, bytes]]
) -> Slice:
    texts: dict[str, list[bytes]] = {rel: [] for rel in files}
    for rel, text in segments:
        texts[rel].append(text if text.endswith(b"\n") else text + b"\n")
    parts = tuple((rel, b"".join(texts[rel])) for rel in files)
    return Slice(kustomization, parts, len(segments))


def build_slice(model: RepoModel, tool: Kustomize, piece: Slice) -> list[tuple[str, Any]] | None:
    """The objects kustomize builds from one piece, each with the repository file it
    came from (origin annotations removed), or None when the build fails. Cached by the
    piece's bytes and the kustomize version."""
    name, own = piece.kustomization
    digest = hashlib.sha256(name.encode() + b"\0" + own)
    for rel, text in piece.parts:
        digest.update(b"\0%s\0%d\0" % (rel.rsplit("/", 1)[-1].encode(), len(text)))
        digest.update(text)
    key = cache.key("slice", 1, tool.describe(), digest.hexdigest())
    stored = cache.load("pieces", key)
    if isinstance(stored, list):
        return [(piece.parts[n][0], data) for n, data in stored]
    by_name = {rel.rsplit("/", 1)[-1]: n for n, (rel, _text) in enumerate(piece.parts)}
    with tempfile.TemporaryDirectory(prefix=f"{BUILD_PREFIX}{os.getpid()}-") as tmp:
        folder = Path(tmp) / "piece"
        folder.mkdir()
        (folder / name).write_bytes(own)
        for rel, text in piece.parts:
            (folder / rel.rsplit("/", 1)[-1]).write_bytes(text)
        result = build_wrapped(tool, [folder])
    built = parse_text(result.output, "<piece build>") if result.ok else None
    if built is None or built.problem:
        return None
    rows: list[tuple[int, Any]] = []
    for doc in built.documents:
        if not isinstance(doc.data, dict):
            continue
        number = by_name.get((strip_origin(doc.data) or "").rsplit("/", 1)[-1])
        if number is None:
            return None
        rows.append((number, doc.data))
    cache.store("pieces", key, rows)
    return [(piece.parts[n][0], data) for n, data in rows]
