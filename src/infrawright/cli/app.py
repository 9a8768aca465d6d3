"""The ``infrawright`` command. Each command returns an exit code; ``run`` is the only
place exceptions become messages and codes (see :class:`infrawright.errors.ExitCode`).

The grammar (commands, options, help) is declared in :mod:`infrawright.cli.parser`; each
command here is a function whose keyword parameters are the options' destinations.
Modules a command needs are imported inside it, so a start loads only what that command
uses.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import infrawright
from infrawright.cli.parser import (
    BadUsageError,
    FinishedError,
    build_parser,
    command,
    command_parser,
)
from infrawright.errors import ExitCode, InfrawrightError
from infrawright.report.console import Printer, console

if TYPE_CHECKING:
    from infrawright.change.implement import Outcome
    from infrawright.model.repo import RepoModel
    from infrawright.repo.config import Config
    from infrawright.validate.engine import ValidationResult
    from infrawright.validate.pull import PullReport


def _out() -> Printer:
    return console()


def _err() -> Printer:
    return console(stderr=True)


def _echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    (sys.stderr if err else sys.stdout).write(text + ("\n" if nl else ""))


def _version() -> int:
    from infrawright.build.kustomize import find_kustomize

    try:
        tool = find_kustomize().describe()
    except InfrawrightError as exc:
        tool = f"no kustomize ({exc.message})"
    _echo(f"infrawright {infrawright.__version__}\n{tool}")
    return int(ExitCode.OK)


def validate_cmd(
    repo: Path | None,
    cluster: str | None,
    fmt: str,
    output: Path | None,
    strict: bool,
    crd_dir: list[Path] | None,
    kubernetes_version: str | None,
    build_timeout: str | None,
    pull_schemas: bool,
    config: Path | None,
    disable: str,
    verbose: bool,
) -> int:
    from infrawright.build import ahead
    from infrawright.build.kustomize import build_plain, find_kustomize
    from infrawright.cli.live import live
    from infrawright.model.loader import clusters_to_check, find_root, load_repo, read_repo
    from infrawright.repo.config import load_config
    from infrawright.report.text import print_validations
    from infrawright.validate.engine import validate

    fmt = "github" if fmt == "text" and _in_actions() and output is None else fmt
    root = find_root(repo)
    _warn_unfinished(root)
    err = _err()
    progress = (lambda msg: err.print(f"[infrawright] {msg}")) if verbose else None

    def build_ahead(changed: list[str]) -> None:
        if changed:
            tool = find_kustomize().with_timeout(settings.build_timeout)
            ahead.start(root, changed, tool, build_plain)

    settings = (
        load_config(root, config)
        .with_kubernetes_version(kubernetes_version, "--kubernetes-version")
        .with_build_timeout(build_timeout, "--build-timeout")
    )
    pulled_ok = True
    if pull_schemas:
        pulled_ok = _pull(root, cluster, settings, list(crd_dir or []), None, err).ok
    results: list[tuple[str | None, ValidationResult]] = []
    with live(err, machine_output=fmt != "text", verbose=verbose):
        try:
            read = read_repo(root, on_read=build_ahead)
            for name in clusters_to_check(read, cluster, settings):
                model = load_repo(root, cluster=name, config=settings, read=read)
                result = validate(
                    model, crd_dirs=crd_dir or (), disable=disable.split(","), progress=progress
                )
                results.append((name, result))
        finally:
            ahead.settle()
    if output is not None:
        output.write_text(_render(results, fmt) + "\n", encoding="utf-8")
        print_validations(results, _out(), verbose=verbose)
    elif fmt == "text":
        print_validations(results, _out(), verbose=verbose)
    else:
        sys.stdout.write(_render(results, fmt) + "\n")
    worst = max(int(r.exit_code(strict)) for _name, r in results)
    return worst if pulled_ok else max(worst, int(ExitCode.FINDINGS))


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


def _render(results: Sequence[tuple[str | None, ValidationResult]], fmt: str) -> str:
    from infrawright.report import formats

    if fmt == "json":
        return formats.dumps(formats.validations_json(results))
    if fmt == "sarif":
        return formats.dumps(formats.sarifs(results))
    if fmt == "github":
        return formats.githubs(results)
    return "\n".join(formats.finding_line(f) for _n, r in results for f in r.findings)


def graph_cmd(repo: Path | None, cluster: str | None, fmt: str, config: Path | None) -> int:
    from infrawright.cli.live import live
    from infrawright.model.loader import clusters_to_check, find_root, load_repo, read_repo
    from infrawright.repo.config import load_config
    from infrawright.report import formats
    from infrawright.validate.engine import analyze

    root = find_root(repo)
    _warn_unfinished(root)
    settings = load_config(root, config)
    graphs = []
    with live(_err(), machine_output=fmt != "text", verbose=False):
        read = read_repo(root)
        for name in clusters_to_check(read, cluster, settings):
            model = load_repo(root, cluster=name, config=settings, read=read)
            graphs.append((name, analyze(model).graph))
    if fmt == "json":
        data = (
            formats.graph_json(graphs[0][1])
            if len(graphs) == 1
            else {"clusters": {str(n): formats.graph_json(g) for n, g in graphs}}
        )
        sys.stdout.write(formats.dumps(data) + "\n")
        return int(ExitCode.OK)
    show = {"mermaid": formats.graph_mermaid, "dot": formats.graph_dot}.get(fmt, formats.graph_text)
    for i, (name, graph) in enumerate(graphs):
        if len(graphs) > 1:
            comment = "%%" if fmt == "mermaid" else "//" if fmt == "dot" else ""
            sys.stdout.write(("\n" if i else "") + f"{comment} Cluster {name}".strip() + "\n")
        sys.stdout.write(show(graph) + "\n")
    return int(ExitCode.OK)


def conventions_cmd(
    repo: Path | None, cluster: str | None, config: Path | None, as_json: bool
) -> int:
    from infrawright.model.conventions import infer
    from infrawright.model.loader import find_root, load_repo
    from infrawright.repo.config import load_config
    from infrawright.report import formats

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
        _echo(f"{name:<{width}}  {shown:<40}  {evidence}")
    return int(ExitCode.OK)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def plan_schema_cmd() -> int:
    from infrawright.plan.model import plan_schema
    from infrawright.report import formats

    sys.stdout.write(formats.dumps(plan_schema()) + "\n")
    return int(ExitCode.OK)


def explain_cmd(rule: str | None) -> int:
    from infrawright.validate.rules import RULES

    if rule is None:
        for rule_id, (info, _check, _doc) in RULES.items():
            profile = "house" if info.house else "flux"
            _echo(f"{rule_id}  {info.severity:<7}  {profile:<5}  {info.title}")
        return int(ExitCode.OK)
    key = rule.strip().upper()
    if key not in RULES:
        raise InfrawrightError(f"unknown rule {rule!r}", hint=f"known rules: {', '.join(RULES)}")
    info = RULES[key][0]
    _echo(RULES[key][2])
    _echo(
        "\nProfile: house (the seed's conventions: runs under the house profile, or when "
        f"house_rules names {key})"
        if info.house
        else "\nProfile: flux (runs on every Flux repository)"
    )
    return int(ExitCode.OK)


def schemas_cmd(
    action: str,
    repo: Path | None,
    cluster: str | None,
    source: str | None,
    crd_dir: list[Path] | None,
    config: Path | None,
) -> int:
    from infrawright.model.loader import find_root
    from infrawright.repo.config import load_config

    assert action == "pull"  # the parser allows no other
    root = find_root(repo)
    _warn_unfinished(root)
    report = _pull(root, cluster, load_config(root, config), list(crd_dir or []), source, _err())
    return int(ExitCode.OK if report.ok else ExitCode.FINDINGS)


def _pull(
    root: Path,
    cluster: str | None,
    settings: Config,
    crd_dirs: list[Path],
    source: str | None,
    err: Printer,
) -> PullReport:
    """Download the missing schemas of every cluster's custom kinds; say what happened."""
    from infrawright.cli.live import live
    from infrawright.model.loader import clusters_to_check, load_repo, read_repo
    from infrawright.validate import pull, pulled
    from infrawright.validate.engine import kinds_without_schema

    template = source or settings.schema_source or pull.DEFAULT_SOURCE
    pull.check_template(template)

    def say(msg: str) -> None:
        err.print(f"[infrawright] {msg}", markup=False)

    kinds: set[str] = set()
    with live(err, machine_output=False, verbose=False):
        read = read_repo(root)
        for name in clusters_to_check(read, cluster, settings):
            model = load_repo(root, cluster=name, config=settings, read=read)
            kinds.update(kinds_without_schema(model, crd_dirs))
        todo = pull.wanted(kinds)
        if not todo:
            say("every custom kind the repository uses has a schema: nothing to pull")
            return pull.PullReport()
        say(f"pulling {len(todo)} schema(s) from {template}")
        report = pull.pull(todo, template, say)
    say(
        f"{len(report.fetched)} fetched into {pulled.folder()}, "
        f"{len(report.missing)} not in the catalog, {len(report.failed)} failed"
    )
    if report.missing:
        say(
            "not in the catalog: " + ", ".join(report.missing) + " (pass --crd-dir DIR with "
            "their CRDs, or --source TEMPLATE for another catalog)"
        )
    for kind, why in report.failed.items():
        err.print(f"error: {kind}: {why}", markup=False)
    if not report.ok:
        err.print(
            "error: no schema could be fetched; check the network and the URL above, "
            "or pass --source TEMPLATE",
            markup=False,
        )
    return report


def doctor_cmd() -> int:
    from infrawright.build.kustomize import find_kustomize

    _echo(f"infrawright {infrawright.__version__} on Python {sys.version.split()[0]}")
    tool = find_kustomize()
    _echo(f"kustomize: {tool.describe()}")
    import yaml

    _echo(f"PyYAML C loader: {'yes' if getattr(yaml, '__with_libyaml__', False) else 'no'}")
    from infrawright.catalog import builtin_catalog

    _echo(f"catalog: {len(builtin_catalog())} charts")
    _echo(_kubernetes_schemas())
    from infrawright import cache

    if cache.enabled():
        entries, used = cache.size()
        _echo(f"cache: {cache.directory()} ({entries} entries, {used / 1e6:.1f} MB)")
    else:
        _echo("cache: off")
    return int(ExitCode.OK)


def _kubernetes_schemas() -> str:
    """Which Kubernetes version checks built-in kinds here (this repository's config when
    the working directory is in one), and the versions installed."""
    from infrawright.validate import kubernetes, pulled

    versions = kubernetes.available_versions()
    if not versions:
        return f"Kubernetes schemas: none ({kubernetes.PACKAGE} is not installed)"
    in_use, why = kubernetes.default_version(), "the newest installed"
    try:
        from infrawright.model.loader import find_root
        from infrawright.repo.config import load_config

        settings = load_config(find_root(None))
        if settings.kubernetes_version:
            in_use = kubernetes.resolve_version(
                settings.kubernetes_version, settings.kubernetes_version_origin or "config"
            )
            why = f"from {settings.source}"
    except InfrawrightError as exc:
        if "Kubernetes version" in exc.message:
            return f"Kubernetes schemas: {exc.message} ({exc.hint})"
    pulled_count = len(pulled.signature())
    return (
        f"Kubernetes schemas: {in_use} ({why}; {kubernetes.PACKAGE} "
        f"{kubernetes.package_version()} has {versions[0]} to {versions[-1]})\n"
        f"schema cache: {pulled.folder()} ({pulled_count} pulled)"
    )


def implement_cmd(
    request: str | None,
    repo: Path | None,
    cluster: str | None,
    dry_run: bool,
    as_json: bool,
    planner: str,
    chart: str | None,
    chart_version: str | None,
    request_file: Path | None,
    crd_dir: list[Path] | None,
    config: Path | None,
    provider: str,
    llm_model: str | None,
    base_url: str | None,
    max_steps: int,
    commit: bool,
    branch: str | None,
    verbose: bool,
) -> int:
    from infrawright.change.workflow import recover_unfinished, rule_planner, run_request
    from infrawright.cli.live import live
    from infrawright.model.loader import clusters_to_check, find_root, load_repo, read_repo
    from infrawright.plan.rules import ChartOption
    from infrawright.repo.config import load_config

    err = _err()
    with live(err, machine_output=as_json, verbose=verbose):
        text = _read_request(request, request_file)
        root = find_root(repo)
        os.environ.get("REPOS_ROOT")  # read for the record, as the seed command passes it
        if not dry_run:
            recover_unfinished(root, _progress(err))
        settings = load_config(root, config)
        read = read_repo(root)
        models = [
            _for_layout(load_repo(root, cluster=c, config=settings, read=read))
            for c in clusters_to_check(read, cluster, settings)
        ]
        model, others = models[0], models[1:]
        option = ChartOption.parse(chart, chart_version) if chart else None
        err.print(
            "[infrastructure-implementor] Starting infrastructure implementation...",
            markup=False,
        )
        if branch and not dry_run:
            from infrawright.change.vcs import prepare_branch

            prepare_branch(root, branch)
        if planner == "auto":
            planner = _auto_planner(text, model, option, provider, base_url, err)
        if planner == "llm":
            from infrawright.agents.llm import run_agent
            from infrawright.agents.tools import Tools

            if chart:  # the model gets --chart/--version in words
                text += f"\n\nUse the chart {chart}" + (
                    f" version {chart_version}" if chart_version else ""
                )
            tools = Tools(root, cluster=cluster, crd_dirs=list(crd_dir or []), config_file=config)
            outcome = run_agent(
                tools,
                text,
                provider=provider,
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
                others=others,
            )
        if outcome.status == "applied" and (commit or branch):
            _commit(root, outcome, _progress(err))
        return _finish(outcome, as_json, err)


def _commit(root: Path, outcome: Outcome, say: Callable[[str], None]) -> None:
    from infrawright.change.vcs import commit

    files = [*outcome.created, *outcome.modified, *outcome.deleted]
    lines = [outcome.request, "", "Files:", *(f"- {f}" for f in files), ""]
    lines.append(f"REVIEW notes: {len(outcome.changes.reviews)}")
    if outcome.session:
        lines.append(f"infrawright session: {outcome.session}")
    sha = commit(root, files, "\n".join(lines))
    outcome.changes.messages.append(f"committed as {sha[:12]}")
    say(f"Committed {sha[:12]}")


def _auto_planner(
    text: str,
    model: RepoModel,
    option: Any,
    provider: str,
    base_url: str | None,
    err: Printer,
) -> str:
    """``--planner auto``: the rule planner when it understands the request; else the LLM
    planner when it can be reached (its API key is set, or --base-url names a server);
    else the rule planner's refusal. Both end in the same validation and post-conditions."""
    from infrawright.agents.llm.providers import API_KEY_VARS
    from infrawright.plan.facts import RepoFacts
    from infrawright.plan.matching import NotUnderstoodError
    from infrawright.plan.rules import plan_request

    try:
        plan_request(text, model.catalog, chart=option, facts=RepoFacts.from_model(model))
    except NotUnderstoodError as refused:
        if not (os.environ.get(API_KEY_VARS[provider]) or base_url):
            raise
        err.print(
            f"[infrastructure-implementor] The rule planner did not understand it "
            f"({refused.message}); asking the {provider} model",
            markup=False,
        )
        return "llm"
    return "rules"


def _for_layout(model: RepoModel) -> RepoModel:
    """The model read with the folders the repository's layout keeps components in,
    where no config file chose them (see :func:`infrawright.model.layout.learnt_config`)."""
    from infrawright.model.layout import learnt_config
    from infrawright.model.loader import load_repo

    learnt = learnt_config(model)
    return model if learnt is None else load_repo(model.root, cluster=model.cluster, config=learnt)


def _progress(err: Printer) -> Callable[[str], None]:
    return lambda msg: err.print(f"[infrastructure-implementor] {msg}", markup=False)


def _finish(outcome: Outcome, as_json: bool, err: Printer) -> int:
    from infrawright.report import formats
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
    if outcome.left:
        err.print(
            f"[infrastructure-implementor] Partial: {len(outcome.left)} thing(s) left for you "
            "(see Post-conditions)",
            markup=False,
        )
        return int(ExitCode.FINDINGS)
    err.print("[infrastructure-implementor] Complete ✓", markup=False)
    return int(ExitCode.OK)


def continue_cmd(
    decision: str,
    repo: Path | None,
    session: str | None,
    cluster: str | None,
    as_json: bool,
    crd_dir: list[Path] | None,
    config: Path | None,
) -> int:
    from infrawright.change.workflow import continue_session
    from infrawright.model.loader import find_root

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


def undo_cmd(repo: Path | None, session: str | None) -> int:
    from infrawright.change.workflow import undo_session
    from infrawright.model.loader import find_root

    root = find_root(repo)
    done, reverted = undo_session(root, session)
    _echo(f"undone session {done.id}: {done.request}")
    for rel, data in sorted(reverted.files.items()):
        _echo(f"  {'deleted' if data is None else 'restored'} {rel}")
    return int(ExitCode.OK)


def recover_cmd(repo: Path | None) -> int:
    from infrawright.change.workflow import recover_unfinished
    from infrawright.model.loader import find_root

    root = find_root(repo)
    restored = recover_unfinished(root)
    if restored:
        _echo(f"rolled back an unfinished write: {len(restored)} file(s)")
        for rel in restored:
            _echo(f"  {rel}")
    else:
        _echo("nothing to recover")
    return int(ExitCode.OK)


def mcp_cmd(repos: list[Path] | None, crd_dir: list[Path] | None) -> int:
    from infrawright.agents.mcp_server import serve, served_roots

    gc.enable()  # a long-running server: see _short_lived
    serve(served_roots(repos or []), crd_dirs=list(crd_dir or []))
    return int(ExitCode.OK)


def install_claude_cmd(repo: Path | None, claude_dir: Path | None, force: bool) -> int:
    from infrawright.agents.claude import KEPT, install_claude
    from infrawright.model.loader import find_root

    root = find_root(repo)
    results = install_claude(root, claude_dir, force=force)
    for path, action in results:
        _echo(f"{action:<10}  {path}")
    _echo(
        f"the MCP server in .mcp.json serves {root} only (`--repo .`); "
        "add `--repo PATH` to its args for each other repository it may use"
    )
    if any(action == KEPT for _path, action in results):
        _echo("edited files were kept; rerun with --force to replace them", err=True)
    return int(ExitCode.OK)


def cluster_check_cmd(
    repo: Path | None,
    cluster: str | None,
    ssh: str | None,
    kubeconfig: Path | None,
    as_json: bool,
    config: Path | None,
) -> int:
    from infrawright.integrations.cluster_check import check_cluster, dependency_graph, render_text
    from infrawright.model.loader import find_root, load_repo
    from infrawright.repo.config import load_config
    from infrawright.report import formats

    root = find_root(repo)
    model = load_repo(root, cluster=cluster, config=load_config(root, config))
    report = check_cluster(model, dependency_graph(model), ssh=ssh, kubeconfig=kubeconfig)
    if as_json:
        sys.stdout.write(formats.dumps(report.to_json()) + "\n")
    else:
        _echo(render_text(report), nl=False)
    return int(report.exit_code())


def sessions_cmd(repo: Path | None, as_json: bool) -> int:
    from dataclasses import asdict

    from infrawright.change.sessions import SessionStore
    from infrawright.model.loader import find_root
    from infrawright.report import formats

    sessions = SessionStore(find_root(repo)).all()
    if as_json:
        sys.stdout.write(formats.dumps({"sessions": [asdict(s) for s in sessions]}) + "\n")
        return int(ExitCode.OK)
    if not sessions:
        _echo("no sessions yet")
    for s in sessions:
        extra = f" (decisions: {'; '.join(s.decisions)})" if s.decisions else ""
        _echo(f"{s.id}  {s.status:<10}  {len(s.files)} file(s)  {s.request}{extra}")
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


def completion_cmd(shell: str) -> int:
    from infrawright.cli.completion import script

    sys.stdout.write(script(shell))
    return int(ExitCode.OK)


#: The function of each command in :data:`infrawright.cli.parser.COMMANDS`.
HANDLERS: dict[str, Callable[..., int]] = {
    "validate": validate_cmd,
    "graph": graph_cmd,
    "conventions": conventions_cmd,
    "plan-schema": plan_schema_cmd,
    "explain": explain_cmd,
    "doctor": doctor_cmd,
    "schemas": schemas_cmd,
    "implement": implement_cmd,
    "continue": continue_cmd,
    "undo": undo_cmd,
    "recover": recover_cmd,
    "mcp": mcp_cmd,
    "install-claude": install_claude_cmd,
    "cluster-check": cluster_check_cmd,
    "sessions": sessions_cmd,
    "completion": completion_cmd,
}


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, map errors to exit codes, no tracebacks."""
    _short_lived()
    _on_terminate()
    _exit(run(argv))


def _stop_builds() -> None:
    """Kill the kustomize builds still running, if the build stage was ever loaded."""
    kustomize = sys.modules.get("infrawright.build.kustomize")
    if kustomize is not None:
        kustomize.kill_builds()


def _on_terminate() -> None:
    """SIGTERM (a CI job's cancel, ``kill``) and SIGINT (Ctrl-C) kill the running builds
    at once (they run in their own process groups, which a terminal's Ctrl-C does not
    reach); then SIGTERM ends the run and SIGINT interrupts it as usual."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        _stop_builds()
        os._exit(128 + signum)

    def interrupt(_signum: int, _frame: object) -> None:
        _stop_builds()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, interrupt)


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


def _dispatch(argv: list[str], prog: str, only: str | None) -> int:
    """Parse ``argv`` and run the command it names (``only``: the one command this
    program is, as ``implement-infra`` is ``implement``)."""
    if only is None:
        parser = build_parser(prog)
        tool = vars(parser.parse_command_line(argv))
        if tool["no_cache"]:
            os.environ["INFRAWRIGHT_CACHE"] = "off"
        if tool["show_version"]:
            return _version()
        if tool["command"] is None:
            parser.print_help()
            return int(ExitCode.USAGE)
        name, argv, prog = tool["command"], tool["arguments"], f"{prog} {tool['command']}"
    else:
        name = only
    values: dict[str, Any] = vars(command_parser(command(name), prog).parse_command_line(argv))
    code = HANDLERS[name](**values)
    from infrawright import cache

    cache.prune()
    return code


def run(argv: list[str] | None = None, prog: str = "infrawright", only: str | None = None) -> int:
    """Run one command line; every exception ends here as a message and an exit code."""
    try:
        return _dispatch(sys.argv[1:] if argv is None else argv, prog, only)
    except FinishedError as done:
        return done.code
    except BadUsageError as bad:  # the way argparse reports it: usage line, then the error
        sys.stderr.write(f"{bad.usage}{bad.prog}: error: {bad.message}\n")
        return int(ExitCode.USAGE)
    except InfrawrightError as exc:
        console = _err()
        console.print(f"[red]error:[/red] {exc.message}", highlight=False, markup=True)
        if exc.hint:
            console.print(f"  hint: {exc.hint}", highlight=False, markup=False)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _stop_builds()
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # as a process killed by SIGPIPE
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


def implement_main() -> None:
    """``implement-infra``: the same as ``infrawright implement``."""
    _short_lived()
    _on_terminate()
    _exit(run(sys.argv[1:], prog="implement-infra", only="implement"))
