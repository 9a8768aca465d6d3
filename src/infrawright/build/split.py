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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Piece:
    """Consecutive documents of one repository file, as bytes for the wrapper folder; or
    a sub-folder with its own kustomization file (``text`` is None), built as it is."""

    source: str
    text: bytes | None
    documents: int


def _cut(source: str, segments: Sequence[bytes]) -> list[Piece]:
    pieces: list[Piece] = []
    current: list[bytes] = []
    for segment in segments:
        current.append(segment)
        digest = int.from_bytes(hashlib.blake2b(segment, digest_size=8).digest(), "big")
        at_cut = digest % PIECE_DOCS == 0 and len(current) >= PIECE_MIN_DOCS
        if at_cut or len(current) >= PIECE_MAX_DOCS:
            pieces.append(_piece(source, current))
            current = []
    if current:
        pieces.append(_piece(source, current))
    return pieces


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


def assemble(
    model: RepoModel, built: Sequence[list[tuple[str, Any]] | None]
) -> list[Document] | None:
    """Objects of the whole folder from its built pieces, each pointing at its file and
    line; None when a piece failed or two pieces hold the same object."""

    lines = SourceLines(model)
    objects: list[Document] = []
    seen: set[tuple[str, str, str, str]] = set()
    for result in built:
        if result is None:
            return None
        for file, data in result:
            index = len(objects)  # position in the output, as in a whole build
            doc = Document(file, 0, index, data)
            # kustomize may treat no namespace as "default": such a pair counts as the
            # same object here, which only costs a whole build.
            ident = (api_group(doc.api_version), doc.kind, doc.namespace or "default", doc.name)
            if ident in seen:
                return None
            seen.add(ident)
            objects.append(Document(file, lines.line(file, doc) or 0, index, data))
    return objects
