"""YAML files as documents that remember where they came from.

Reading is the hot path, so it uses PyYAML's C loader. Valid YAML that PyYAML refuses
(an anchor defined twice, the ``=`` value, application tags such as ``!env_var``) is read
again with ruamel.yaml's tolerant pure loader, so real-world repositories load. Hostile
input is bounded: files larger than :data:`MAX_FILE_BYTES` and documents whose aliases
expand past :data:`MAX_EXPANDED_NODES` are refused with a message, never expanded.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_EXPANDED_NODES = 1_000_000

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    """One YAML document: its parsed data and where it starts (1-based line)."""

    file: str
    line: int
    index: int
    data: Any
    #: ``kind`` and ``apiVersion`` as strings ("" when absent), read once: the rules and
    #: the index ask for them many times per document.
    kind: str = field(init=False, compare=False, repr=False)
    api_version: str = field(init=False, compare=False, repr=False)
    #: A Kubernetes-style object: a mapping whose apiVersion and kind are strings.
    is_object: bool = field(init=False, compare=False, repr=False)
    #: API group ('' for the core group).
    group: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        data = self.data
        if isinstance(data, dict):
            kind = data.get("kind", "")
            api = data.get("apiVersion", "")
            is_object = isinstance(kind, str) and isinstance(api, str) and "kind" in data
            is_object = is_object and "apiVersion" in data
            set_ = object.__setattr__
            set_(self, "kind", kind if isinstance(kind, str) else str(kind))
            set_(self, "api_version", api if isinstance(api, str) else str(api))
            set_(self, "is_object", is_object)
            set_(self, "group", api_group(self.api_version))
        else:
            object.__setattr__(self, "kind", "")
            object.__setattr__(self, "api_version", "")
            object.__setattr__(self, "is_object", False)
            object.__setattr__(self, "group", "")

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.data.get("metadata") if isinstance(self.data, dict) else None
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return str(ns) if ns is not None else None

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.data.get("spec") if isinstance(self.data, dict) else None
        return spec if isinstance(spec, dict) else {}

    @property
    def resource(self) -> str:
        """``Kind/namespace/name``, or ``Kind/name`` when no namespace is set."""
        meta = self.metadata  # read once: asked of every object by several rules
        ns = meta.get("namespace")
        namespace = str(ns) if ns is not None else None
        name = str(meta.get("name", ""))
        return f"{self.kind}/{namespace}/{name}" if namespace else f"{self.kind}/{name}"


def document(file: str, line: int, index: int, data: Any) -> Document:
    """``Document(file, line, index, data)``, built several times faster: for the
    thousands restored from the cache on every run. A frozen dataclass sets each field
    through ``object.__setattr__``; this fills the instance's dict at once."""
    if isinstance(data, dict):
        kind = data.get("kind", "")
        api = data.get("apiVersion", "")
        is_object = isinstance(kind, str) and isinstance(api, str)
        is_object = is_object and "kind" in data and "apiVersion" in data
        kind = kind if isinstance(kind, str) else str(kind)
        api = api if isinstance(api, str) else str(api)
    else:
        kind = api = ""
        is_object = False
    return _made(
        Document,
        {
            "file": file,
            "line": line,
            "index": index,
            "data": data,
            "kind": kind,
            "api_version": api,
            "is_object": is_object,
            "group": api.rsplit("/", 1)[0] if "/" in api else "",
        },
    )


#: Every field of a :class:`Document`: what :func:`fields_of` keeps and
#: :func:`from_fields` restores.
FIELDS = ("file", "line", "index", "data", "kind", "api_version", "is_object", "group")


def fields_of(doc: Document) -> dict[str, Any]:
    """A document as plain data (for the parse cache), its derived fields included."""
    return {name: getattr(doc, name) for name in FIELDS}


def from_fields(fields: dict[str, Any]) -> Document:
    """The document :func:`fields_of` gave (the mapping is copied, not shared): nothing
    is worked out again, so thousands of documents come back from the cache at the cost
    of a dict copy each."""
    return _made(Document, dict(fields))


def reindexed(doc: Document, index: int) -> Document:
    """``doc`` with another index (a built object whose data is its source's)."""
    return _made(Document, {**doc.__dict__, "index": index})


T = TypeVar("T")


def _made(cls: type[T], fields: dict[str, Any]) -> T:
    """An instance of the frozen dataclass ``cls`` holding ``fields`` (every field given),
    made without its ``__init__``, which sets each field through ``object.__setattr__``:
    several times faster, for the thousands of documents and files each run restores."""
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", fields)
    return made


#: (Is the first ``version:`` value quoted? None without one; for each block sequence
#: under a key, is it indented below the key?) The repository's conventions vote with
#: these; they are found when a file is parsed and kept with its parse.
Style = tuple[bool | None, tuple[bool, ...]]

_VERSION = re.compile(r"^\s*version:\s*(\S)", re.M)
_SEQUENCE = re.compile(r"^( *)[A-Za-z]+:\n( *)- ", re.M)


def text_style(text: str) -> Style:
    """The :data:`Style` of a file's text."""
    match = _VERSION.search(text)
    quoted = match.group(1) in "\"'" if match else None
    indents = tuple(len(m.group(2)) > len(m.group(1)) for m in _SEQUENCE.finditer(text))
    return quoted, indents


def api_group(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def resource_id(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


@dataclass(frozen=True)
class ParseProblem:
    """Why a file could not be read, and where."""

    file: str
    line: int | None
    message: str


@dataclass(frozen=True)
class YamlFile:
    """A parsed file: its documents, or the problem that stopped reading it."""

    path: str
    documents: tuple[Document, ...] = ()
    problem: ParseProblem | None = None
    sops: bool = field(default=False)
    #: Hash of the file's bytes when it was read from disk ("" otherwise).
    digest: str = field(default="", compare=False)
    #: Parsed in this run: new, or changed since the parsed-file cache last saw it.
    fresh: bool = field(default=False, compare=False)
    #: How the text was written, where parsing forgets it (see :func:`text_style`).
    style: Style = field(default=(None, ()), compare=False)

    @cached_property
    def objects(self) -> tuple[Document, ...]:
        return tuple(d for d in self.documents if d.is_object)


def yaml_file(
    path: str,
    documents: tuple[Document, ...],
    problem: ParseProblem | None,
    sops: bool,
    digest: str,
    fresh: bool,
    style: Style,
) -> YamlFile:
    """``YamlFile(...)`` with every field given, built the way :func:`document` builds a
    document (several times faster than the frozen dataclass's ``__init__``): for the
    thousands restored from the parse cache on every run."""
    return _made(
        YamlFile,
        {
            "path": path,
            "documents": documents,
            "problem": problem,
            "sops": sops,
            "digest": digest,
            "fresh": fresh,
            "style": style,
        },
    )


@cache
def _tolerant() -> type[Any]:
    """ruamel safe constructor that accepts any tag as plain data. ruamel is imported
    here, on the first file PyYAML refuses, not by every command."""
    from ruamel.yaml.constructor import SafeConstructor

    class Tolerant(SafeConstructor):
        pass

    def unknown(constructor: Any, node: Any) -> Any:
        if node.id == "scalar":
            return constructor.construct_scalar(node)
        if node.id == "sequence":
            return constructor.construct_sequence(node, deep=True)
        return constructor.construct_mapping(node, deep=True)

    Tolerant.add_constructor("tag:yaml.org,2002:value", SafeConstructor.construct_yaml_str)
    Tolerant.add_constructor(None, unknown)
    return Tolerant


class _TooLargeError(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _check_expansion(root: Any) -> None:
    """Refuse a node graph whose aliases would expand past the limit (alias bombs).

    Shared nodes are counted once per reference, which is what expansion costs; the count
    itself is memoised per node so the check is linear in the graph, and iterative so
    deeply nested input cannot exhaust the stack.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if not done:
            if key in open_nodes:  # an alias inside its own anchor: endless expansion
                raise _TooLargeError(node.start_mark.line + 1)
            open_nodes.add(key)
        children: list[Any]
        if node.id == "scalar":
            children = []
        elif node.id == "sequence":
            children = list(node.value)
        else:
            children = [part for pair in node.value for part in pair]
        if done:
            total = 1 + sum(sizes.get(id(c), 0) for c in children)
            if total > MAX_EXPANDED_NODES:
                raise _TooLargeError(node.start_mark.line + 1)
            sizes[key] = total
            open_nodes.discard(key)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)


def _with_pyyaml(text: str, rel: str) -> list[Document]:
    aliases = "*" in text  # without an alias there is nothing to expand
    loader = _Loader(text)
    docs: list[Document] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if aliases:
                _check_expansion(node)
            data = loader.construct_document(node)
            docs.append(Document(rel, node.start_mark.line + 1, index, data))
            index += 1
    finally:
        loader.dispose()
    return docs


def _with_ruamel(text: str, rel: str) -> list[Document]:
    from ruamel.yaml import YAML

    parser = YAML(typ="safe", pure=True)
    parser.Constructor = _tolerant()
    docs: list[Document] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, node in enumerate(parser.compose_all(text)):
            if node is None:
                continue
            _check_expansion(node)
            data = parser.constructor.construct_document(node)
            docs.append(Document(rel, node.start_mark.line + 1, index, data))
    return docs


def _mark_line(exc: Exception) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else None


def _first_line(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    parts = [str(p) for p in (context, problem) if p]
    return ", ".join(parts) if parts else str(exc).splitlines()[0]


def decode(raw: bytes, rel: str) -> tuple[str | None, ParseProblem | None]:
    """Bytes to text (UTF-8, optional BOM), or the problem naming the offending line."""
    if b"\x00" in raw[:8192]:
        return None, ParseProblem(rel, None, "binary file (NUL bytes): not YAML")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, ParseProblem(
            rel, line, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        )


def parse_text(text: str, rel: str) -> YamlFile:
    """Parse YAML text into documents; problems become a :class:`ParseProblem`."""
    try:
        try:
            docs = _with_pyyaml(text, rel)
        except (yaml.composer.ComposerError, yaml.constructor.ConstructorError) as first:
            from ruamel.yaml.error import YAMLError as RuamelError

            try:
                docs = _with_ruamel(text, rel)
            except RuamelError:
                raise first from None
    except _TooLargeError as exc:
        return YamlFile(
            rel,
            problem=ParseProblem(
                rel, exc.line, f"aliases expand past {MAX_EXPANDED_NODES:,} nodes (alias bomb?)"
            ),
        )
    except yaml.YAMLError as exc:
        return YamlFile(rel, problem=ParseProblem(rel, _mark_line(exc), _first_line(exc)))
    except RecursionError:
        return YamlFile(rel, problem=ParseProblem(rel, None, "nesting too deep to read"))
    sops = any(isinstance(d.data, dict) and "sops" in d.data for d in docs)
    return YamlFile(rel, tuple(docs), sops=sops, style=text_style(text))


def read_bytes(path: Path, rel: str) -> tuple[bytes | None, ParseProblem | None]:
    """A file's bytes, or why they cannot be read (too big, unreadable)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, ParseProblem(
                rel, None, f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,} byte limit"
            )
        return path.read_bytes(), None
    except OSError as exc:
        return None, ParseProblem(rel, None, f"cannot read: {exc.strerror}")


def parse_bytes(raw: bytes, rel: str) -> YamlFile:
    text, problem = decode(raw, rel)
    if text is None:
        return YamlFile(rel, problem=problem)
    return parse_text(text, rel)


def read_yaml_file(path: Path, rel: str) -> YamlFile:
    """Read and parse one file from disk with all the limits applied."""
    raw, problem = read_bytes(path, rel)
    return parse_bytes(raw, rel) if raw is not None else YamlFile(rel, problem=problem)


def iter_objects(files: Iterator[YamlFile]) -> Iterator[Document]:
    for f in files:
        yield from f.objects
