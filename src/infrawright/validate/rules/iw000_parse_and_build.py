"""IW000: every file parses and every Kustomization builds.

Default severity: error.

Why: a file Flux cannot parse, or a folder kustomize cannot build, stops the whole
Kustomization from reconciling; every other check is blind to what it would produce.

Bad::

    # namespaces/redis/kustomization.yaml
    resources:
      - helm-release.yml      # the file is helm-release.yaml

Good::

    resources:
      - helm-release.yaml

A build that fails on a missing file or folder is reported at the reference that names
it (the kustomization file and line), with a close name from the same folder when there
is one ("did you mean"). One that fails on a strategic-merge patch naming a resource the
kustomization does not have is reported at that patch's entry.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Iterator

from infrawright.build.builds import Build
from infrawright.repo.documents import Document, parse_text
from infrawright.repo.listing import DIR, FILE
from infrawright.repo.references import Reference, references
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity
from infrawright.validate.patches import kustomization_files

RULE = Rule("IW000", "files parse and kustomizations build", Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    for problem in ctx.model.problems:
        yield RULE.at(
            None,
            problem.message,
            "fix the file so it is valid UTF-8 YAML, or move it out of the repository",
            file=problem.file,
            line=problem.line,
        )
    for build in ctx.builds.values():
        if build.error is None:
            continue
        ks = build.kustomization
        if build.timed_out:
            yield RULE.at(
                None,
                build.error,
                "raise the limit (`--build-timeout SECONDS`, config `build_timeout`) or split "
                "the folder into smaller Kustomizations",
                file=f"{build.folder}/kustomization.yaml"
                if not build.generated
                else build.folder or "",
                line=None,
                resource=ks.doc.resource,
            )
            continue
        precise = _missing_reference(ctx, build) or _unmatched_patch(ctx, build)
        if precise is not None:
            yield precise
            continue
        yield RULE.at(
            None,
            f"kustomize build {build.folder} failed: {build.error}",
            f"run `kubectl kustomize {build.folder}` and fix what it reports",
            file=f"{build.folder}/kustomization.yaml"
            if not build.generated
            else build.folder or "",
            line=None,
            resource=ks.doc.resource,
        )


#: How kustomize names a file or folder it cannot find (paths relative to the repository
#: once the build's message is tidied).
_MISSING = (
    re.compile(r"evalsymlink failure on '([^']+)'"),
    re.compile(r"open ([^\s':]+): no such file or directory"),
    re.compile(r"lstat ([^\s':]+): no such file or directory"),
)


def _missing_reference(ctx: Context, build: Build) -> Finding | None:
    """The finding for a build that failed on a missing file or folder, located at the
    kustomization file and line that name it; None when that cannot be told."""
    assert build.error is not None
    missing = next((m.group(1) for p in _MISSING if (m := p.search(build.error))), None)
    if missing is None or build.folder is None:
        return None
    missing = posixpath.normpath(missing)
    model = ctx.model
    candidates = [f"{build.folder}/{n}" for n in ("kustomization.yaml", "kustomization.yml")]
    best: tuple[int, Document, str, Reference, str] | None = None
    for rel in [*candidates, *model.kustomization_files_under(build.folder)]:
        parsed = model.files.get(rel)
        if parsed is None:
            continue
        folder = posixpath.dirname(rel)
        for doc in parsed.documents:
            if not isinstance(doc.data, dict):
                continue
            for ref in references(doc.data):
                target = posixpath.normpath(posixpath.join(folder, ref.name))
                # The reference closest to the missing path: a folder listed above it
                # leads there, the name of the missing file itself is the one to fix.
                if (target == missing or missing.startswith(target + "/")) and (
                    best is None or len(target) > best[0]
                ):
                    best = (len(target), doc, rel, ref, target)
    return _at(ctx, build, *best[1:]) if best is not None else None


#: kustomize's words for a strategic-merge patch that names no resource:
#: ``no matches for Id ConfigMap.v1.[noGrp]/name.namespace; failed to find unique target``.
_NO_MATCH = re.compile(r"no matches for Id ([^.\s]+)\.[^/\s]*/(\S+?)\.([^.;\s\"]+);")


def _unmatched_patch(ctx: Context, build: Build) -> Finding | None:
    """The finding for a build that failed on a strategic-merge patch naming a resource
    that is not there, at the patch entry that names it; None when none is found."""
    assert build.error is not None
    found = _NO_MATCH.search(build.error)
    if found is None or build.folder is None:
        return None
    kind, name, namespace = found.groups()
    for rel in kustomization_files(ctx.model, build.folder, build.generated):
        parsed = ctx.model.files.get(rel)
        if parsed is None or not parsed.documents or not isinstance(parsed.documents[0].data, dict):
            continue
        doc = parsed.documents[0]
        folder = posixpath.dirname(rel)
        for keys, patch in _untargeted_patches(doc.data):
            if any(d.kind == kind and d.name == name for d in _patch_docs(ctx, folder, patch)):
                ns = "" if namespace == "[noNs]" else f"{namespace}/"
                where = ".".join(str(k) for k in keys)
                return RULE.at(
                    doc,
                    f"kustomize build {build.folder} failed: {where} patches {kind} "
                    f"{ns}{name}, which no resource of this kustomization is",
                    f"fix the kind, name or namespace in the patch, or add {kind} {name} to "
                    f"the resources of {rel}",
                    file=rel,
                    line=ctx.line_of(doc, list(keys)),
                    resource=build.kustomization.doc.resource,
                )
    return None


def _untargeted_patches(data: dict[str, object]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(keys, inline patch or file name) of each strategic-merge patch without a target."""
    patches = data.get("patches")
    for i, item in enumerate(patches if isinstance(patches, list) else []):
        if isinstance(item, dict) and "target" not in item:
            for field in ("patch", "path"):
                if isinstance(item.get(field), str):
                    yield ("patches", i), item[field]
    merges = data.get("patchesStrategicMerge")
    for i, item in enumerate(merges if isinstance(merges, list) else []):
        if isinstance(item, str):
            yield ("patchesStrategicMerge", i), item


def _patch_docs(ctx: Context, folder: str, patch: str) -> list[Document]:
    if "\n" in patch or ":" in patch:
        return list(parse_text(patch, folder).objects)
    parsed = ctx.model.files.get(posixpath.normpath(posixpath.join(folder, patch)))
    return list(parsed.documents) if parsed is not None else []


def _at(
    ctx: Context, build: Build, doc: Document, rel: str, ref: Reference, target: str
) -> Finding:
    where = ".".join(str(k) for k in ref.keys)
    close = _close_name(ctx, target)
    guess = f"; did you mean {close!r}?" if close else ""
    return RULE.at(
        doc,
        f"kustomize build {build.folder} failed: {where} names {ref.name!r}, which does not "
        f"exist{guess}",
        f"fix the {ref.kind} name in {rel}, or add {target}",
        file=rel,
        line=ctx.line_of(doc, list(ref.keys)),
        resource=build.kustomization.doc.resource,
    )


def _close_name(ctx: Context, target: str) -> str | None:
    """A name in the missing path's folder that looks like the one written."""
    folder, name = posixpath.split(target)
    listing = ctx.model.listed.get(folder or ".")
    if listing is None:
        return None
    names = [n for n, flags in listing if flags & (FILE | DIR) and not n.startswith(".")]
    found = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
    return found[0] if found else None
