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
is one ("did you mean").
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Iterator

from infrawright.build.builds import Build
from infrawright.repo.documents import Document
from infrawright.repo.listing import DIR, FILE
from infrawright.repo.references import Reference, references
from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

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
        precise = _missing_reference(ctx, build)
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
