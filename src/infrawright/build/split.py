"""Build a big folder that has no kustomization file in pieces.

kustomize's time grows faster than the number of objects in one build: here, 1,325 Flux
Kustomizations in one file take 2.4 s to build, a quarter of them 0.25 s (and starting
kustomize costs 50 ms, so pieces of 150–250 documents cost least per document). A folder Flux
builds without a kustomization file of its own (typically the cluster folder, whose file
lists every Kustomization) is therefore cut at document boundaries into pieces of about
:data:`PIECE_DOCS` documents. The pieces are built in parallel, each through its own
wrapper, and each is cached by its bytes: the cuts depend on the documents' content, not
their position, so adding or editing a Kustomization rebuilds one piece.

Cutting changes nothing kustomize checks within a piece; across pieces only duplicate
object IDs could differ, so when two pieces hold the same ID (or any piece fails) the
folder is built whole, and kustomize's own message is what the user sees.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from infrawright import cache
from infrawright.build.kustomize import Kustomize, build_wrapped
from infrawright.build.origin import SourceLines, attribute_objects, strip_origin
from infrawright.model.repo import RepoModel
from infrawright.repo.documents import Document, api_group, parse_text
from infrawright.repo.segments import split_documents

#: Folders with fewer documents than this are built whole.
SPLIT_MIN_DOCS = 200
#: Target documents per piece; a cut is made after a document whose hash is 0 modulo
#: this, but never before :data:`PIECE_MIN_DOCS` nor after :data:`PIECE_MAX_DOCS`.
PIECE_DOCS = 128
PIECE_MIN_DOCS = 32
PIECE_MAX_DOCS = 256

T = TypeVar("T")


@dataclass(frozen=True)
class Piece:
    """Consecutive documents of one repository file, as bytes for the wrapper folder; or
    a sub-folder with its own kustomization file (``text`` is None), built as it is."""

    source: str
    text: bytes | None
    documents: int


def _cut(source: str, segments: Sequence[bytes]) -> list[Piece]:
    return [
        _piece(source, [text for _s, text in group])
        for group in cut_stream([(source, text) for text in segments])
    ]


def cut_stream(segments: Sequence[tuple[T, bytes]]) -> list[list[tuple[T, bytes]]]:
    """Documents (each with what it belongs to) in consecutive groups, cut after a
    document whose hash is 0 modulo :data:`PIECE_DOCS`, within the size bounds: the cuts
    depend on the documents' bytes, so an edit moves at most the cuts beside it."""
    groups: list[list[tuple[T, bytes]]] = []
    current: list[tuple[T, bytes]] = []
    for item in segments:
        current.append(item)
        digest = int.from_bytes(hashlib.blake2b(item[1], digest_size=8).digest(), "big")
        at_cut = digest % PIECE_DOCS == 0 and len(current) >= PIECE_MIN_DOCS
        if at_cut or len(current) >= PIECE_MAX_DOCS:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def documents_by_segment(
    segments: Sequence[bytes] | None, documents: Sequence[Document]
) -> dict[int, Document] | None:
    """Which parsed document each segment of a file holds (by segment number; a segment
    of comments holds none), or None when a segment seems to hold two."""
    if segments is None:
        return None
    starts, line = [], 1
    for text in segments:
        starts.append(line)
        line += text.count(b"\n")
    owned: dict[int, Document] = {}
    for doc in documents:
        number = bisect.bisect_right(starts, doc.line) - 1
        if number < 0 or number in owned:
            return None
        owned[number] = doc
    return owned


def _piece(source: str, segments: list[bytes]) -> Piece:
    text = b"".join(segments)
    if not text.endswith(b"\n"):
        text += b"\n"
    return Piece(source, text, len(segments))


def plan_pieces(model: RepoModel, resources: Sequence[Path]) -> list[Piece] | None:
    """The pieces of a generated build's ``resources`` (files and sub-folders), or None
    when it should be built whole: small, or a file that cannot be cut safely."""
    pieces: list[Piece] = []
    total = 0
    for path in resources:
        rel = model.rel(path)
        if path.is_dir():
            pieces.append(Piece(rel, None, model.documents_under(rel)))
            continue
        parsed = model.files.get(rel)
        if parsed is None or parsed.problem is not None or not path.is_file():
            return None
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        segments = split_documents(raw)
        if segments is None:
            return None
        total += len(parsed.documents)
        pieces.extend(_cut(rel, segments))
    return pieces if total >= SPLIT_MIN_DOCS else None


def build_piece(model: RepoModel, tool: Kustomize, piece: Piece) -> list[tuple[str, Any]] | None:
    """The objects kustomize builds from one piece, each with the repository file it
    came from (origin annotations removed), or None when the build fails. Pieces of
    files are cached by their bytes and the kustomize version."""

    if piece.text is None:
        whole = build_wrapped(tool, [model.root / piece.source], relaxed=True)
        parsed = parse_text(whole.output, "<piece build>") if whole.ok else None
        if parsed is None or parsed.problem:
            return None
        return [(d.file, d.data) for d in attribute_objects(model, list(parsed.documents))]
    key = cache.key("piece", 1, tool.describe(), hashlib.sha256(piece.text).hexdigest())
    stored = cache.load("pieces", key)
    if isinstance(stored, list):
        return [(piece.source, data) for data in stored]
    result = build_wrapped(tool, [], files={"piece.yaml": piece.text})
    built = parse_text(result.output, "<piece build>") if result.ok else None
    if built is None or built.problem:
        return None
    out = [d.data for d in built.documents if isinstance(d.data, dict)]
    for data in out:
        strip_origin(data)
    cache.store("pieces", key, out)
    return [(piece.source, data) for data in out]


#: kustomize's legacy output order: these kinds first, in this order, then every other
#: kind, then the last ones (kustomize's ``SortOrderTransformer``, which sorts the output
#: of the top kustomization of every build here: the wrapper has no ``sortOptions``).
ORDER_FIRST = (
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_RANK = {kind: n - len(ORDER_FIRST) for n, kind in enumerate(ORDER_FIRST)} | {
    kind: n + 1 for n, kind in enumerate(ORDER_LAST)
}


def legacy_order(data: dict[str, Any]) -> tuple[int, str, str]:
    """Where kustomize's legacy sort puts an object: the rank of its kind, then
    ``group_version_kind``, then ``namespace|name`` (``~G``, ``~V``, ``~K``, ``~X``,
    ``~N`` for empty parts), compared as strings like Go does."""
    api = str(data.get("apiVersion") or "")
    group, slash, version = api.partition("/")
    if not slash:
        group, version = "", api
    kind = str(data.get("kind") or "")
    meta = data.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    gvk = f"{group or '~G'}_{version or '~V'}_{kind or '~K'}"
    where = f"{meta.get('namespace') or '~X'}|{meta.get('name') or '~N'}"
    return (_RANK.get(kind, 0), gvk, where)


def assemble(
    model: RepoModel, built: Sequence[list[tuple[str, Any]] | None]
) -> list[Document] | None:
    """Objects of the whole folder from its built pieces, each pointing at its file and
    line, in the order kustomize gives a whole build (:func:`legacy_order`); None when a
    piece failed or two pieces hold the same object."""

    lines = SourceLines(model)
    found: list[tuple[str, dict[str, Any]]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for result in built:
        if result is None:
            return None
        for file, data in result:
            doc = Document(file, 0, 0, data)
            # kustomize may treat no namespace as "default": such a pair counts as the
            # same object here, which only costs a whole build.
            ident = (api_group(doc.api_version), doc.kind, doc.namespace or "default", doc.name)
            if ident in seen:
                return None
            seen.add(ident)
            found.append((file, data))
    found.sort(key=lambda item: legacy_order(item[1]))
    objects: list[Document] = []
    for index, (file, data) in enumerate(found):
        doc = Document(file, 0, index, data)
        objects.append(Document(file, lines.line(file, doc) or 0, index, data))
    return objects
