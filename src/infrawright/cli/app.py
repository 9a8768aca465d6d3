"""The ``infrawright`` command. Each command returns an exit code; ``main`` is the only
place exceptions become messages and codes (see :class:`infrawright.errors.ExitCode`)."""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable
from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from typer.exceptions import TyperException

import infrawright
from infrawright.cli.live import live
from infrawright.errors import ExitCode, InfrawrightError
from infrawright.repo.config import load_config
from infrawright.repo.loader import find_root, load_repo
from infrawright.report import formats
from infrawright.report.text import print_validation
from infrawright.scratch import background_copy
from infrawright.validate.engine import ValidationResult, analyze, validate
from infrawright.validate.kustomize import find_kustomize
from infrawright.validate.rules import RULES

if TYPE_CHECKING:
    from infrawright.implement import Outcome

app = typer.Typer(
    name="infrawright",
    help="Implement and validate infrastructure changes in Flux GitOps repositories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

RepoOpt = Annotated[
    Path | None,
    typer.Option("--repo", help="repository root (default: $INFRA_ROOT, else the git root)"),
]
ClusterOpt = Annotated[
    str | None, typer.Option("--cluster", help="folder under clusters/ (default: the only one)")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="config file overriding .infrawright.toml")
]


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class GraphFormat(StrEnum):
    text = "text"
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if not value:
        return
    try:
        tool = find_kustomize().describe()
    except InfrawrightError as exc:
        tool = f"no kustomize ({exc.message})"
    typer.echo(f"infrawright {infrawright.__version__}\n{tool}")
    raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show versions")
    ] = False,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="neither read nor fill the cache (~/.cache/infrawright)"),
    ] = False,
) -> None:
    """Implement and validate infrastructure changes in Flux GitOps repositories."""
    if no_cache:
        os.environ["INFRAWRIGHT_CACHE"] = "off"


@app.command("validate")
def validate_cmd(
    repo: RepoOpt = None,
    cluster: ClusterOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="output format")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", help="write the chosen format to this file")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="warnings fail too")] = False,
    crd_dir: Annotated[
        list[Path] | None, typer.Option("--crd-dir", help="folder of CRD manifests (repeatable)")
    ] = None,
    config: ConfigOpt = None,
    disable: Annotated[
        str, typer.Option("--disable", help="comma-separated rule IDs to skip")
    ] = "",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="show each step and the time per phase")
    ] = False,
) -> int:
    """Build every Kustomization with kustomize and check the repository's rules."""
    fmt = Format.github if fmt is Format.text and _in_actions() and output is None else fmt
    root = find_root(repo)
    _warn_unfinished(root)
    err = _err()
    progress = (lambda msg: err.print(f"[infrawright] {msg}")) if verbose else None
    with live(err, machine_output=fmt is not Format.text, verbose=verbose):
        model = load_repo(root, cluster=cluster, config_file=config)
        result = validate(
            model, crd_dirs=crd_dir or (), disable=disable.split(","), progress=progress
        )
    rendered = _render(result, fmt)
    if output is not None:
        output.write_text(rendered + "\n", encoding="utf-8")
        print_validation(result, _out())
    elif fmt is Format.text:
        print_validation(result, _out())
    else:
        sys.stdout.write(rendered + "\n")
    return int(result.exit_code(strict))


def _warn_unfinished(root: Path) -> None:
    """Read-only commands report an interrupted write instead of silently reading it."""
    if (root / ".infrawright" / "journal").exists():
        _err().print(
            "warning: an interrupted infrawright write is pending in this repository; "
            "files may be half changed. Run `infrawright recover` (any writing command "
            "also does it first).",
            markup=False,
        )


def _in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _render(result: ValidationResult, fmt: Format) -> str:
    if fmt is Format.json:
        return formats.dumps(formats.validation_json(result))
    if fmt is Format.sarif:
        return formats.dumps(formats.sarif(result))
    if fmt is Format.github:
        return formats.github(result)
    return "\n".join(formats.finding_line(f) for f in result.findings)


@app.command("graph")
def graph_cmd(
    repo: RepoOpt = None,
    cluster: ClusterOpt = None,
    fmt: Annotated[GraphFormat, typer.Option("--format")] = GraphFormat.text,
    config: ConfigOpt = None,
) -> int:
    """Print the dependsOn graph with bootstrap layers (CRD edges marked)."""
    root = find_root(repo)
    _warn_unfinished(root)
    with live(_err(), machine_output=fmt is not GraphFormat.text, verbose=False):
        model = load_repo(root, cluster=cluster, config=load_config(root, config))
        graph = analyze(model).graph
    if fmt is GraphFormat.json:
        text = formats.dumps(formats.graph_json(graph))
    elif fmt is GraphFormat.mermaid:
        text = formats.graph_mermaid(graph)
    elif fmt is GraphFormat.dot:
        text = formats.graph_dot(graph)
    else:
        text = formats.graph_text(graph)
    sys.stdout.write(text + "\n")
    return int(ExitCode.OK)


@app.command("conventions")
def conventions_cmd(
    repo: RepoOpt = None,
    cluster: ClusterOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> int:
    """Print the conventions inferred from the repository, with their evidence."""
    from infrawright.repo.conventions import infer

    root = find_root(repo)
    _warn_unfinished(root)
    model = load_repo(root, cluster=cluster, config=load_config(root, config))
    rows = infer(model).rows()
    if as_json:
        data = {
            name: {"value": _plain(c.value), "agree": c.agree, "total": c.total} for name, c in rows
        }
        sys.stdout.write(formats.dumps({"conventions": data}) + "\n")
        return int(ExitCode.OK)
    width = max(len(name) for name, _ in rows)
    for name, conv in rows:
        evidence = f"{conv.agree} of {conv.total} agree" if conv.total else "default (no files)"
        value = _plain(conv.value)
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        typer.echo(f"{name:<{width}}  {shown:<40}  {evidence}")
    return int(ExitCode.OK)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


@app.command("plan-schema")
def plan_schema_cmd() -> int:
    """Print the JSON Schema of the Plan format (what any planner must produce)."""
    from infrawright.plan.model import plan_schema

    sys.stdout.write(formats.dumps(plan_schema()) + "\n")
    return int(ExitCode.OK)


@app.command("explain")
def explain_cmd(
    rule: Annotated[str | None, typer.Argument(help="rule ID, e.g. IW003")] = None,
) -> int:
    """Explain a rule (statement, reason, bad and good example), or list them all."""
    if rule is None:
        for rule_id, (info, _check, _doc) in RULES.items():
            typer.echo(f"{rule_id}  {info.severity:<7}  {info.title}")
        return int(ExitCode.OK)
    key = rule.strip().upper()
    if key not in RULES:
        raise InfrawrightError(f"unknown rule {rule!r}", hint=f"known rules: {', '.join(RULES)}")
    typer.echo(RULES[key][2])
    return int(ExitCode.OK)


@app.command("doctor")
def doctor_cmd() -> int:
    """Show which kustomize is used and whether the environment is ready."""
    typer.echo(f"infrawright {infrawright.__version__} on Python {sys.version.split()[0]}")
    tool = find_kustomize()
    typer.echo(f"kustomize: {tool.describe()}")
    import yaml

    typer.echo(f"PyYAML C loader: {'yes' if getattr(yaml, '__with_libyaml__', False) else 'no'}")
    from infrawright.catalog import builtin_catalog

    typer.echo(f"catalog: {len(builtin_catalog())} charts")
    from infrawright import cache

    if cache.enabled():
        entries, used = cache.size()
        typer.echo(f"cache: {cache.directory()} ({entries} entries, {used / 1e6:.1f} MB)")
    else:
        typer.echo("cache: off")
    return int(ExitCode.OK)


class Planner(StrEnum):
    rules = "rules"
    llm = "llm"


class Provider(StrEnum):
    anthropic = "anthropic"
    openai = "openai"


@app.command("implement")
def implement_cmd(
    request: Annotated[
        str | None, typer.Argument(help="what to implement, in plain words; - reads stdin")
    ] = None,
    repo: RepoOpt = None,
    cluster: ClusterOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show the diff, write nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
    planner: Annotated[Planner, typer.Option("--planner")] = Planner.rules,
    chart: Annotated[
        str | None, typer.Option("--chart", help="REPO_URL/CHART or oci://REGISTRY/PATH/CHART")
    ] = None,
    chart_version: Annotated[
        str | None, typer.Option("--version", help="chart version for --chart")
    ] = None,
    request_file: Annotated[
        Path | None, typer.Option("--request-file", help="read the request from a file")
    ] = None,
    crd_dir: Annotated[
        list[Path] | None, typer.Option("--crd-dir", help="folder of CRD manifests (repeatable)")
    ] = None,
    config: ConfigOpt = None,
    provider: Annotated[
        Provider, typer.Option("--provider", help="LLM provider for --planner llm")
    ] = Provider.anthropic,
    llm_model: Annotated[
        str | None, typer.Option("--model", help="model name for --planner llm")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="OpenAI-compatible server (vLLM, Ollama, LM Studio)"),
    ] = None,
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, help="tool calls the model may make")
    ] = 20,
    commit: Annotated[
        bool, typer.Option("--commit", help="commit the applied change (one commit)")
    ] = False,
    branch: Annotated[
        str | None, typer.Option("--branch", help="create this branch for the change")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="print the time of each phase at the end")
    ] = False,
) -> int:
    """Turn a request into a validated change that follows the repository's patterns."""
    from infrawright.plan.rules import ChartOption
    from infrawright.workflow import recover_unfinished, rule_planner, run_request

    err = _err()
    with live(err, machine_output=as_json, verbose=verbose):
        text = _read_request(request, request_file)
        root = find_root(repo)
        os.environ.get("REPOS_ROOT")  # read for the record, as the seed command passes it
        if not dry_run:
            recover_unfinished(root, _progress(err))
        # The copy the change is validated in is brought up to date from now on, while the
        # repository is read (the LLM planner's tools make their own).
        early = background_copy(root, detach_removal=True) if planner is Planner.rules else None
        with early if early is not None else nullcontext() as copy:
            model = load_repo(root, cluster=cluster, config=load_config(root, config))
            _need_cluster_file(model.cluster_file)
            option = ChartOption.parse(chart, chart_version) if chart else None
            err.print(
                "[infrastructure-implementor] Starting infrastructure implementation...",
                markup=False,
            )
            if branch and not dry_run:
                from infrawright.vcs import prepare_branch

                prepare_branch(root, branch)
            if planner is Planner.llm:
                from infrawright.llm import run_agent
                from infrawright.tools import Tools

                if chart:  # the model gets --chart/--version in words
                    text += f"\n\nUse the chart {chart}" + (
                        f" version {chart_version}" if chart_version else ""
                    )
                tools = Tools(
                    root, cluster=cluster, crd_dirs=list(crd_dir or []), config_file=config
                )
                outcome = run_agent(
                    tools,
                    text,
                    provider=provider.value,
                    model=llm_model,
                    base_url=base_url,
                    max_steps=max_steps,
                    dry_run=dry_run,
                    progress=_progress(err),
                )
            else:
                outcome = run_request(
                    model,
                    text,
                    planner=rule_planner(option),
                    dry_run=dry_run,
                    crd_dirs=list(crd_dir or []),
                    progress=_progress(err),
                    copy=copy,
                )
        if outcome.status == "applied" and (commit or branch):
            _commit(root, outcome, _progress(err))
        return _finish(outcome, as_json, err)


def _commit(root: Path, outcome: Outcome, say: Callable[[str], None]) -> None:
    from infrawright.vcs import commit

    files = [*outcome.created, *outcome.modified, *outcome.deleted]
    lines = [outcome.request, "", "Files:", *(f"- {f}" for f in files), ""]
    lines.append(f"REVIEW notes: {len(outcome.changes.reviews)}")
    if outcome.session:
        lines.append(f"infrawright session: {outcome.session}")
    sha = commit(root, files, "\n".join(lines))
    outcome.changes.messages.append(f"committed as {sha[:12]}")
    say(f"Committed {sha[:12]}")


def _need_cluster_file(cluster_file: str | None) -> None:
    if cluster_file is None:
        raise InfrawrightError(
            "no cluster folder found under clusters/; implement needs the cluster file",
            hint="pass --cluster NAME",
        )


def _progress(err: Console) -> Callable[[str], None]:
    return lambda msg: err.print(f"[infrastructure-implementor] {msg}", markup=False)


def _finish(outcome: Outcome, as_json: bool, err: Console) -> int:
    from infrawright.report.implement import print_outcome

    if as_json:
        sys.stdout.write(formats.dumps(outcome.to_json()) + "\n")
    else:
        print_outcome(outcome, _out())
    if outcome.status == "failed":
        err.print("[infrastructure-implementor] Failed: nothing written", markup=False)
        return int(ExitCode.FINDINGS)
    if outcome.session:
        err.print(f"[infrastructure-implementor] Session {outcome.session}", markup=False)
    err.print("[infrastructure-implementor] Complete ✓", markup=False)
    return int(ExitCode.OK)


@app.command("continue")
def continue_cmd(
    decision: Annotated[str, typer.Option("--decision", help='e.g. "use valkey instead of redis"')],
    repo: RepoOpt = None,
    session: Annotated[
        str | None, typer.Option("--session", help="session ID (default: the latest applied)")
    ] = None,
    cluster: ClusterOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
    crd_dir: Annotated[
        list[Path] | None, typer.Option("--crd-dir", help="folder of CRD manifests (repeatable)")
    ] = None,
    config: ConfigOpt = None,
) -> int:
    """Re-run a session's request with a decision, replacing its previous result."""
    from infrawright.workflow import continue_session

    root = find_root(repo)
    err = _err()
    err.print(f"[infrastructure-implementor] Continuing with: {decision}", markup=False)
    outcome, previous = continue_session(
        root,
        decision,
        session_id=session,
        cluster=cluster,
        config_file=config,
        crd_dirs=list(crd_dir or []),
        progress=_progress(err),
    )
    err.print(f"[infrastructure-implementor] Replacing session {previous.id}", markup=False)
    return _finish(outcome, as_json, err)


@app.command("undo")
def undo_cmd(
    repo: RepoOpt = None,
    session: Annotated[
        str | None, typer.Option("--session", help="session ID (default: the latest applied)")
    ] = None,
) -> int:
    """Revert an applied session whose files are still as it left them."""
    from infrawright.workflow import undo_session

    root = find_root(repo)
    done, reverted = undo_session(root, session)
    typer.echo(f"undone session {done.id}: {done.request}")
    for rel, data in sorted(reverted.files.items()):
        typer.echo(f"  {'deleted' if data is None else 'restored'} {rel}")
    return int(ExitCode.OK)


@app.command("recover")
def recover_cmd(repo: RepoOpt = None) -> int:
    """Finish what an interrupted run left: put back every file of an unfinished write."""
    from infrawright.workflow import recover_unfinished

    root = find_root(repo)
    restored = recover_unfinished(root)
    if restored:
        typer.echo(f"rolled back an unfinished write: {len(restored)} file(s)")
        for rel in restored:
            typer.echo(f"  {rel}")
    else:
        typer.echo("nothing to recover")
    return int(ExitCode.OK)


@app.command("mcp")
def mcp_cmd(
    repo: RepoOpt = None,
    crd_dir: Annotated[
        list[Path] | None, typer.Option("--crd-dir", help="folder of CRD manifests (repeatable)")
    ] = None,
) -> int:
    """Serve the infrawright tools to an MCP client over stdio (nothing else on stdout)."""
    from infrawright.mcp_server import serve

    gc.enable()  # a long-running server: see _short_lived
    serve(find_root(repo) if repo is not None else None, crd_dirs=list(crd_dir or []))
    return int(ExitCode.OK)


@app.command("install-claude")
def install_claude_cmd(
    repo: RepoOpt = None,
    claude_dir: Annotated[
        Path | None, typer.Option("--dir", help="Claude Code folder (default: <repo>/.claude)")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="replace files you edited, and our .mcp.json entry")
    ] = False,
) -> int:
    """Install the /implement-infra command, its agent and the MCP server for Claude Code."""
    from infrawright.integrations.claude import KEPT, install_claude

    results = install_claude(find_root(repo), claude_dir, force=force)
    for path, action in results:
        typer.echo(f"{action:<10}  {path}")
    if any(action == KEPT for _path, action in results):
        typer.echo("edited files were kept; rerun with --force to replace them", err=True)
    return int(ExitCode.OK)


@app.command("cluster-check")
def cluster_check_cmd(
    repo: RepoOpt = None,
    cluster: ClusterOpt = None,
    ssh: Annotated[
        str | None, typer.Option("--ssh", help="ask the cluster through ssh USER@HOST")
    ] = None,
    kubeconfig: Annotated[
        Path | None,
        typer.Option("--kubeconfig", help="kubeconfig file (on the ssh host with --ssh)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
    config: ConfigOpt = None,
) -> int:
    """Compare the live cluster's Flux Kustomizations with the repository (read-only)."""
    from infrawright.cluster_check import check_cluster, dependency_graph, render_text

    root = find_root(repo)
    model = load_repo(root, cluster=cluster, config=load_config(root, config))
    report = check_cluster(model, dependency_graph(model), ssh=ssh, kubeconfig=kubeconfig)
    if as_json:
        sys.stdout.write(formats.dumps(report.to_json()) + "\n")
    else:
        typer.echo(render_text(report), nl=False)
    return int(report.exit_code())


@app.command("sessions")
def sessions_cmd(
    repo: RepoOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> int:
    """List the recorded sessions of this repository, oldest first."""
    from dataclasses import asdict

    from infrawright.sessions import SessionStore

    sessions = SessionStore(find_root(repo)).all()
    if as_json:
        sys.stdout.write(formats.dumps({"sessions": [asdict(s) for s in sessions]}) + "\n")
        return int(ExitCode.OK)
    if not sessions:
        typer.echo("no sessions yet")
    for s in sessions:
        extra = f" (decisions: {'; '.join(s.decisions)})" if s.decisions else ""
        typer.echo(f"{s.id}  {s.status:<10}  {len(s.files)} file(s)  {s.request}{extra}")
    return int(ExitCode.OK)


MAX_REQUEST_BYTES = 4 * 1024 * 1024


def _read_request(request: str | None, request_file: Path | None) -> str:
    if request_file is not None:
        try:
            raw = request_file.read_bytes()[:MAX_REQUEST_BYTES]
        except OSError as exc:
            raise InfrawrightError(f"{request_file}: cannot read: {exc.strerror}") from None
        text = raw.decode("utf-8", errors="replace")
    elif request == "-":
        text = sys.stdin.buffer.read(MAX_REQUEST_BYTES).decode("utf-8", errors="replace")
    elif request:
        text = request
    else:
        raise InfrawrightError(
            "no request given", hint='e.g. implement-infra "Create HelmRelease for Redis caching"'
        )
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return " ".join(cleaned.split())


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, map errors to exit codes, no tracebacks."""
    _short_lived()
    _exit(run(argv))


def _short_lived() -> None:
    """A command lives for one run: the cycle collector would only walk the repository's
    many small objects again and again (they hold no cycles). ``mcp``, which serves until
    its client leaves, turns it back on."""
    gc.disable()


def _exit(code: int) -> NoReturn:
    """End the process without tearing down every object one by one (a tenth of a second
    on a big repository). Output is flushed first; when another thread still runs, or
    flushing fails, the normal exit is taken."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    if threading.active_count() > 1:
        sys.exit(code)
    os._exit(code)


def run(argv: list[str] | None = None, prog: str = "infrawright") -> int:
    try:
        result = app(args=argv, prog_name=prog, standalone_mode=False)
        from infrawright import cache

        cache.prune()
    except typer.Exit as exc:
        return int(exc.exit_code)
    except TyperException as exc:  # bad usage, reported the way the CLI framework does
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _err().print(f"error: {exc.format_message()}", markup=False)
        return int(ExitCode.USAGE)
    except typer.Abort:
        _err().print("aborted")
        return int(ExitCode.USAGE)
    except InfrawrightError as exc:
        console = _err()
        console.print(f"[red]error:[/red] {exc.message}", highlight=False, markup=True)
        if exc.hint:
            console.print(f"  hint: {exc.hint}", highlight=False, markup=False)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # disk full, file too large, permissions: the tree is as before
        where = f"{exc.filename}: " if exc.filename else ""
        _err().print(
            f"error: {where}{exc.strerror or exc}; nothing was changed "
            "(an interrupted write is rolled back)",
            markup=False,
        )
        return int(ExitCode.USAGE)
    except Exception:  # the one place an unexpected error is turned into exit 3
        _err().print("internal error (please report it with the text below):", markup=False)
        import traceback

        traceback.print_exc()
        return int(ExitCode.INTERNAL)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


def implement_main() -> None:
    """``implement-infra``: the same as ``infrawright implement``."""
    _short_lived()
    _exit(run(["implement", *sys.argv[1:]], prog="implement-infra"))
