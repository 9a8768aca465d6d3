"""Load a repository into a :class:`RepoModel`: find it, read every YAML file once."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from infrawright.catalog import builtin_catalog
from infrawright.errors import RepoLoadError, UsageError
from infrawright.model.artifacts import mapped
from infrawright.model.entries import Entries, find_entries
from infrawright.model.flux import FluxKustomization, is_flux_kustomization
from infrawright.model.repo import RepoModel
from infrawright.progress import phase
from infrawright.repo.config import Config, load_config
from infrawright.repo.documents import Document, ParseProblem, YamlFile, parse_bytes
from infrawright.repo.inclusion import Inclusion, index_inclusion
from infrawright.repo.listing import DIR, LINK, Listing, flags_of, patched, scan
from infrawright.repo.segments import reparse
from infrawright.repo.snapshot import file_digest, paused_gc, read_files

SKIP_DIRS = frozenset({"node_modules", "vendor", "__pycache__"})
YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_CLUSTER = "local-kube"


def find_root(explicit: Path | None, cwd: Path | None = None) -> Path:
    """``--repo``, else ``$INFRA_ROOT``, else the git root of the working directory."""
    where = "--repo"
    if explicit is None and os.environ.get("INFRA_ROOT"):
        explicit, where = Path(os.environ["INFRA_ROOT"]), "$INFRA_ROOT"
    if explicit is not None:
        if not explicit.is_dir():
            raise RepoLoadError(f"{explicit}: not a directory ({where})")
        return explicit.resolve()
    start = cwd or Path.cwd()
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        out = None
    if out is None or out.returncode != 0 or not out.stdout.strip():
        raise UsageError(
            f"{start}: not inside a git repository, and neither --repo nor $INFRA_ROOT is set",
            hint="pass --repo PATH or set INFRA_ROOT",
        )
    return Path(out.stdout.strip()).resolve()


def iter_yaml_paths(root: Path) -> tuple[list[str], list[ParseProblem], dict[str, Listing]]:
    """Every YAML file under root (hidden and vendored folders skipped), sorted, as path
    strings, and the listing of every folder walked (by repository-relative path, "."
    for the root).

    Symlinked folders are not entered; a symlink that points outside the repository is
    reported, never read.
    """
    found: list[str] = []
    problems: list[ParseProblem] = []
    listings: dict[str, Listing] = {}
    real_root = os.path.realpath(root)
    base = str(root).rstrip(os.sep) + os.sep

    def outside(path: str) -> bool:
        target = os.path.realpath(path)
        return target != real_root and not target.startswith(real_root.rstrip(os.sep) + os.sep)

    def report(path: str) -> None:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        problems.append(ParseProblem(rel, None, "symlink points outside the repository; not read"))

    stack = [str(root)]
    while stack:
        here = stack.pop()
        with os.scandir(here) as it:
            entries = sorted(it, key=_name)
        rel_here = here[len(base) :].replace(os.sep, "/") if here.startswith(base) else "."
        listing: list[tuple[str, int]] = []
        folders: list[str] = []
        for entry in entries:
            name = entry.name
            flags = flags_of(entry)
            listing.append((name, flags))
            if flags & DIR:  # follows symlinks: a symlinked folder is reported, not entered
                if name.startswith(".") or name in SKIP_DIRS:
                    continue
                if flags & LINK:
                    if outside(entry.path):
                        report(entry.path)
                    continue
                folders.append(entry.path)
            elif name.endswith(YAML_SUFFIXES):
                if flags & LINK and outside(entry.path):
                    report(entry.path)
                    continue
                found.append(entry.path)
        listings[rel_here] = tuple(listing)
        stack.extend(reversed(folders))
    return found, problems, listings


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


@dataclass(frozen=True)
class RepoRead:
    """A repository's files read once (walked, read and parsed), before a model is made
    of them for one cluster: every cluster's model can be made from the same read."""

    root: Path
    files: dict[str, YamlFile]
    problems: list[ParseProblem]
    listings: dict[str, Listing]

    @cached_property
    def entries(self) -> Entries:
        """The repository's entry points and clusters (see :mod:`infrawright.model.entries`)."""
        with paused_gc():
            return find_entries(self.files, self.listings)


def read_repo(root: Path, on_read: Callable[[list[str]], None] | None = None) -> RepoRead:
    """Walk, read and parse the YAML files of ``root``. ``on_read`` is told which files
    changed since the last read (parsed again)."""
    if not root.is_dir():
        raise RepoLoadError(f"{root}: not a directory")
    with phase("find YAML files"):
        paths, problems, listings = iter_yaml_paths(root)
    with phase("read and parse", total=len(paths)):
        files = read_files(root, paths)
    if on_read is not None:
        on_read([rel for rel, f in files.items() if f.fresh])
    return RepoRead(root, files, problems, listings)


def clusters_to_check(read: RepoRead, wanted: str | None, config: Config) -> list[str | None]:
    """The clusters a command reads: the one asked for (``--cluster``, else the config's;
    by name or folder), else every cluster when there are several, else the one the
    loader picks (None)."""
    if wanted or config.cluster:
        return [pick_cluster(read.entries, wanted or config.cluster)]
    names = read.entries.names
    return list(names) if len(names) > 1 else [None]


def pick_cluster(entries: Entries, wanted: str | None) -> str | None:
    """The name of the cluster ``wanted`` (a name or a folder; a usage error listing the
    known ones when there is none), else the only cluster, else ``local-kube`` when it is
    one of several, else None (the whole repository)."""
    if wanted:
        found = entries.named(wanted)
        if found is None:
            raise UsageError(
                f"no cluster {wanted!r} in this repository (known: {entries.known()})",
                hint="pass --cluster (or the config's cluster) with one of the known names "
                "or folders",
            )
        return found.name
    names = entries.names
    if len(names) == 1:
        return names[0]
    if DEFAULT_CLUSTER in names:
        return DEFAULT_CLUSTER
    return None


def load_repo(
    root: Path,
    *,
    cluster: str | None = None,
    config: Config | None = None,
    config_file: Path | None = None,
    on_read: Callable[[list[str]], None] | None = None,
    read: RepoRead | None = None,
) -> RepoModel:
    """Read a repository into a :class:`RepoModel` for one cluster (a name or folder;
    None: the only one, see :func:`pick_cluster`). ``on_read`` is told which files
    changed since the last read (parsed again), before the model is made; ``read``: the
    files already read by :func:`read_repo` (then read again not at all).

    Raises :class:`RepoLoadError` when nothing can be checked: no Flux Kustomization
    anywhere, or a cluster file that cannot be read.
    """
    if not root.is_dir():
        raise RepoLoadError(f"{root}: not a directory")
    config = config or load_config(root, config_file)
    if read is None:
        read = read_repo(root, on_read)
    with phase("repository model"), paused_gc():  # entries: the first pass over objects
        chosen = pick_cluster(read.entries, cluster or config.cluster)
        return model_from_files(
            root,
            read.files,
            read.problems,
            config=config,
            cluster=chosen,
            listings=read.listings,
            entries=read.entries,
        )


def with_changes(model: RepoModel, root: Path, changes: Mapping[str, bytes | None]) -> RepoModel:
    """The model of ``root``, a copy of ``model.root`` with ``changes`` (path -> new bytes,
    None to delete) applied: only the changed files are parsed again."""
    files = {rel: f for rel, f in model.files.items() if rel not in changes}
    for rel, data in changes.items():
        if data is not None and rel.endswith(YAML_SUFFIXES):
            parsed = _reparsed(model, rel, data) or parse_bytes(data, rel)
            files[rel] = replace(parsed, digest=file_digest(data).hex(), fresh=True)
    ordered = dict(sorted(files.items(), key=lambda item: walk_order(item[0])))
    kept = [p for p in model.problems if p.file not in model.files and p.file not in changes]
    origin = model.origin or model.root
    return model_from_files(
        root,
        ordered,
        kept,
        config=model.config,
        cluster=model.cluster,
        listings=patched(model.listed, origin, changes),
        origin=origin,
        rewritten=model.rewritten | frozenset(changes),
    )


#: Changed files with more documents than this are parsed again only where they changed.
REPARSE_MIN_DOCS = 50


def _reparsed(model: RepoModel, rel: str, data: bytes) -> YamlFile | None:
    old = model.files.get(rel)
    if old is None or len(old.documents) < REPARSE_MIN_DOCS or not old.digest:
        return None
    try:
        raw = (model.root / rel).read_bytes()
    except OSError:
        return None
    if file_digest(raw).hex() != old.digest:
        return None  # not what the model was read from
    return reparse(old, raw, data)


def walk_order(rel: str) -> str:
    """Sort key that puts paths in the order :func:`iter_yaml_paths` finds them: a
    folder's files (by name) before its sub-folders (by name). Each folder becomes
    ``\x02name\x01`` and the file ``\x00name``, so comparing the keys as strings
    compares files before folders, then names, level by level."""
    *folders, name = rel.split("/")
    return "".join(f"\x02{f}\x01" for f in folders) + "\x00" + name


def model_from_files(
    root: Path,
    files: dict[str, YamlFile],
    problems: list[ParseProblem],
    *,
    config: Config,
    cluster: str | None,
    listings: Mapping[str, Listing] | None = None,
    origin: Path | None = None,
    rewritten: frozenset[str] = frozenset(),
    entries: Entries | None = None,
) -> RepoModel:
    """A model of the parsed ``files`` of the repository at ``root`` for the cluster
    named ``cluster`` (``problems``: what could not be read beyond the files' own parse
    problems; ``listings``: the folders listed while finding them; ``entries``: the
    clusters, found from the files when not given)."""
    if entries is None:
        entries = find_entries(files, listings or {})
    chosen = cluster
    found = entries.named(chosen) if chosen else None
    cluster_dir = (found.folder if found else f"clusters/{chosen}") if chosen else None
    cluster_file = (
        (config.cluster_file if cluster_dir == "." else f"{cluster_dir}/{config.cluster_file}")
        if cluster_dir
        else None
    )
    problems = [*problems, *(f.problem for f in files.values() if f.problem)]

    if cluster_file and cluster_file in files and files[cluster_file].problem:
        p = files[cluster_file].problem
        assert p is not None
        where = f"{p.file}:{p.line}" if p.line else p.file
        raise RepoLoadError(
            f"{where}: the cluster file cannot be read: {p.message}",
            hint="fix the file so it parses; every infrastructure Kustomization lives there",
        )

    keeps = entries.keeps(chosen)  # this cluster's files and those of no cluster
    read = [(rel, f) for rel, f in files.items() if keeps(rel)]
    inclusion = index_inclusion(files)
    defined = [
        (d, inclusion.namespace_of(rel))
        for rel, f in read
        for d in f.objects
        if is_flux_kustomization(d)
    ]
    kustomizations = mapped(
        _with_target_namespaces(root, inclusion, defined),
        (d for _rel, f in read for d in f.objects),
    )
    if not kustomizations:
        detail = (
            f"{cluster_file} does not exist"
            if cluster_file and cluster_file not in files
            else "no file defines one"
        )
        raise RepoLoadError(
            f"{root}: no Flux Kustomization (kustomize.toolkit.fluxcd.io) found; {detail}",
            hint="point --repo at a Flux repository, or --cluster at the right cluster folder",
        )

    comp_rel = config.components_dir.strip("/") or "."
    comp_listing = (listings or {}).get(comp_rel)
    if comp_listing is None:  # not walked (or changed since): listed now
        comp_listing = scan(str(root / config.components_dir))
    components = tuple(n for n, flags in comp_listing if flags == DIR)
    catalog = builtin_catalog().merged(config.catalog)
    return RepoModel(
        root=root,
        config=config,
        catalog=catalog,
        cluster=chosen,
        cluster_dir=cluster_dir,
        cluster_file=cluster_file,
        entries=entries,
        files=files,
        kustomizations=kustomizations,
        components=components,
        problems=tuple(problems),
        listed=listings or {},
        origin=origin,
        rewritten=rewritten,
    )


def _with_target_namespaces(
    root: Path, inclusion: Inclusion, found: list[tuple[Document, str | None]]
) -> tuple[FluxKustomization, ...]:
    """Parse Kustomizations with their real namespace.

    A definition's namespace comes from the kustomization.yaml files that include it;
    when the outermost of those folders is the path of a Flux Kustomization with
    ``spec.targetNamespace``, Flux puts everything it applies there, which wins.
    """
    first = [FluxKustomization.parse_doc(d, ns) for d, ns in found]
    targets: dict[str, str] = {}
    real_root = root.resolve()
    for ks in first:
        if ks.target_namespace and "${" not in ks.target_namespace and ks.path:
            folder = (real_root / ks.path.lstrip("/")).resolve()
            try:
                rel = folder.relative_to(real_root).as_posix() or "."
            except ValueError:
                continue
            targets.setdefault(rel, ks.target_namespace)
    if not targets:
        return tuple(first)
    out: list[FluxKustomization] = []
    for (doc, ns), ks in zip(found, first, strict=True):
        top = inclusion.top(doc.file) or _folder(doc.file)
        target = targets.get(top)
        out.append(FluxKustomization.parse_doc(doc, target) if target and target != ns else ks)
    return tuple(out)


def _folder(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else "."
