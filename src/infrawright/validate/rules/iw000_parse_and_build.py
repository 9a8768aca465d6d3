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
"""

from __future__ import annotations

from collections.abc import Iterator

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
