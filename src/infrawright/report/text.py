"""Human-readable reports, coloured only on a terminal (see :mod:`infrawright.report.console`)."""

from __future__ import annotations

from collections.abc import Sequence

from infrawright.model.repo import RepoModel
from infrawright.report.console import Printer, escape
from infrawright.validate.engine import ValidationResult
from infrawright.validate.finding import Severity
from infrawright.validate.kubernetes import may_be_custom

#: Validation results of a repository, one per cluster (the name is None where the
#: repository has one cluster, or none that an entry point names).
PerCluster = Sequence[tuple[str | None, ValidationResult]]


def print_validations(results: PerCluster, console: Printer, *, verbose: bool = False) -> None:
    """One cluster's report as :func:`print_validation`; several: the profile, then each
    cluster's findings and summary under its name, then the totals. ``verbose`` lists
    where each kind's schema came from."""
    if len(results) == 1:
        print_validation(results[0][1], console, verbose=verbose)
        return
    first = results[0][1].analysis.model
    console.print(f"Profile: {escape(first.profile.describe())}", highlight=False)
    _print_not_followed(first, console)
    for name, result in results:
        console.print()
        found = result.analysis.model.cluster_entry
        where = f": {found.describe()}" if found else ""
        console.print(
            f"[bold]Cluster {escape(name or '(repository)')}[/bold]{escape(where)}",
            highlight=False,
        )
        _print_body(result, console, verbose)
    errors = sum(len(r.errors) for _n, r in results)
    warnings = sum(len(r.warnings) for _n, r in results)
    console.print()
    colour = "red" if errors else "yellow" if warnings else "green"
    console.print(
        f"[{colour}]{len(results)} clusters: {errors} error(s), {warnings} warning(s)[/{colour}]",
        highlight=False,
    )


def print_validation(result: ValidationResult, console: Printer, *, verbose: bool = False) -> None:
    model = result.analysis.model
    console.print(f"Profile: {escape(model.profile.describe())}", highlight=False)
    found = model.cluster_entry
    if found is not None:
        console.print(f"Cluster {escape(found.name)}: {escape(found.describe())}", highlight=False)
    _print_not_followed(model, console)
    if result.findings:
        console.print()
    _print_body(result, console, verbose)


def _print_body(result: ValidationResult, console: Printer, verbose: bool = False) -> None:
    model = result.analysis.model
    for f in result.findings:
        colour = "red" if f.severity is Severity.ERROR else "yellow"
        res = f" [dim]\\[{escape(f.resource)}][/dim]" if f.resource else ""
        console.print(
            f"[bold]{escape(f.location())}[/bold]: [{colour}]{f.severity} {f.rule}[/{colour}]"
            f"{res}: {escape(f.message)}",
            highlight=False,
        )
        console.print(f"    [dim]hint:[/dim] {escape(f.hint)}", highlight=False)
    builds = result.analysis.builds.values()
    built = sum(1 for b in builds if b.error is None and b.skipped is None)
    skipped = [b for b in builds if b.skipped]
    if result.findings:
        console.print()
    console.print(
        f"Kustomizations: {len(model.kustomizations)} ({built} built with kustomize "
        f"{result.analysis.kustomize.version}"
        + (f", {len(skipped)} not built" if skipped else "")
        + ")",
        highlight=False,
    )
    for b in skipped:
        console.print(f"  not built: {b.kustomization.name}: {escape(b.skipped or '')}")
    for b in builds:
        if b.kustomization.via and b.skipped is None:
            console.print(
                f"  from an artifact: {b.kustomization.name}: {escape(b.kustomization.via)}",
                highlight=False,
            )
    console.print(
        f"Schema-checked objects: {result.schema_checked}; kinds without a schema "
        f"(unchecked): {len(result.unchecked_kinds)}",
        highlight=False,
    )
    if result.unchecked_kinds:
        console.print("  " + ", ".join(result.unchecked_kinds), highlight=False)
        if any(_custom(kind) for kind in result.unchecked_kinds):
            console.print(
                f"  to check them: [bold]{PULL_COMMAND}[/bold] downloads their schemas "
                "from the CRD catalog once (or pass --crd-dir DIR with their CRDs)",
                highlight=False,
            )
    if result.cel_evaluated or result.cel_skipped:
        not_done = sum(count for _reason, count in result.cel_skipped)
        console.print(
            f"CEL rules evaluated: {result.cel_evaluated}; not evaluated: {not_done}"
            + (
                " (" + ", ".join(f"{r}: {n}" for r, n in result.cel_skipped) + ")"
                if not_done
                else ""
            ),
            highlight=False,
        )
    _print_sources(result, console, verbose)
    errors, warnings = len(result.errors), len(result.warnings)
    if not errors and not warnings:
        console.print("[green]✓ no findings[/green]")
    else:
        colour = "red" if errors else "yellow"
        console.print(f"[{colour}]{errors} error(s), {warnings} warning(s)[/{colour}]")


def _print_not_followed(model: RepoModel, console: Printer) -> None:
    """The entry points that make no cluster, and why (another source, no such folder)."""
    for e in model.entries.elsewhere:
        console.print(
            f"Entry point not followed: {escape(e.describe())}: {escape(e.not_a_cluster or '')}",
            highlight=False,
        )


def _custom(kind: str) -> bool:
    """Is ``group/version/Kind`` a custom kind (one a CRD catalog may have)?"""
    return may_be_custom(kind.rpartition("/")[0].rpartition("/")[0])


#: The one command that gives unchecked custom kinds a schema.
PULL_COMMAND = "infrawright schemas pull"


def _print_sources(result: ValidationResult, console: Printer, verbose: bool) -> None:
    """One line: how many kinds' schemas came from each source; ``verbose``: each kind."""
    if not result.schema_sources:
        return
    counts: dict[str, int] = {}
    order = {"crd-file": 0, "schema-cache": 1, "kubernetes": 2}  # the lookup order
    for _kind, source in sorted(result.schema_sources, key=lambda ks: order[ks[1].source]):
        label = {
            "kubernetes": f"Kubernetes {source.location}",
            "crd-file": "CRD files",
            "schema-cache": "the schema cache",
        }[source.source]
        counts[label] = counts.get(label, 0) + 1
    parts = [f"{n} from {label}" for label, n in counts.items()]
    more = "" if verbose else " (-v lists each kind)"
    console.print(f"Schemas of the checked kinds: {', '.join(parts)}{more}", highlight=False)
    if verbose:
        for kind, source in result.schema_sources:
            console.print(f"  {escape(kind)}: {escape(source.describe())}", highlight=False)
