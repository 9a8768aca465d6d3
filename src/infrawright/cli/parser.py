"""The command line's grammar: every command, its options and their help, on argparse.

argparse is in the standard library and loads in a few milliseconds; a framework that
reads type hints cost every start of the tool about 60 ms (a tenth of a warm
validation). Commands are declared once, in :data:`COMMANDS`; the parser and the shell
completion scripts (:mod:`infrawright.cli.completion`) are both made from it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn


class BadUsageError(Exception):
    """The command line did not parse: ``usage`` is the usage line of the command whose
    arguments were wrong, ``prog`` its name (``infrawright validate``)."""

    def __init__(self, usage: str, prog: str, message: str) -> None:
        super().__init__(message)
        self.usage = usage
        self.prog = prog
        self.message = message


class FinishedError(Exception):
    """``--help`` (or another action that ends the run) was handled; exit with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of ending the process, so the one place that
    maps errors to exit codes (``app.run``) stays the only one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # --rep is not --repo: options may be added
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise BadUsageError(self.format_usage(), self.prog, message)

    def parse_command_line(self, argv: Sequence[str]) -> argparse.Namespace:
        """``parse_args`` that reports through :meth:`error`."""
        return self.parse_args(argv)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message)
        raise FinishedError(status)


@dataclass(frozen=True)
class Opt:
    """One option (flags start with ``-``) or positional argument."""

    flags: tuple[str, ...]
    help: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")

    @property
    def takes_value(self) -> bool:
        return self.extra.get("action") not in ("store_true",)

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.extra.get("choices", ()))

    @property
    def is_path(self) -> bool:
        return self.extra.get("type") is Path


def opt(*flags: str, help: str, **extra: Any) -> Opt:
    return Opt(flags, help, extra)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


REPO = opt(
    "--repo",
    type=Path,
    metavar="PATH",
    help="repository root (default: $INFRA_ROOT, else the git root)",
)
ROOTS = opt(
    "--repo",
    dest="repos",
    type=Path,
    action="append",
    metavar="PATH",
    help="a repository the server serves (repeatable; default: $INFRA_ROOT, else the git root)",
)
CLUSTER = opt("--cluster", metavar="NAME", help="folder under clusters/ (default: the only one)")
CONFIG = opt("--config", type=Path, metavar="PATH", help="config file overriding .infrawright.toml")
CRD_DIR = opt(
    "--crd-dir",
    type=Path,
    action="append",
    metavar="PATH",
    help="folder of CRD manifests (repeatable)",
)
JSON = opt("--json", dest="as_json", action="store_true", help="one JSON object on stdout")
KUBERNETES_VERSION = opt(
    "--kubernetes-version",
    metavar="V",
    help="Kubernetes version whose schemas check built-in kinds, e.g. 1.30 "
    "(default: config kubernetes_version, else the newest installed)",
)
BUILD_TIMEOUT = opt(
    "--build-timeout",
    metavar="SECONDS",
    help="stop and report a kustomize build that runs longer (default: config "
    "build_timeout, else 120)",
)
SESSION = opt("--session", metavar="ID", help="session ID (default: the latest applied)")

FORMATS = ("text", "json", "sarif", "github")
GRAPH_FORMATS = ("text", "mermaid", "dot", "json")
PLANNERS = ("auto", "rules", "llm")
PROVIDERS = ("anthropic", "openai")
SHELLS = ("bash", "zsh", "fish")
SCHEMA_ACTIONS = ("pull",)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Opt, ...]


COMMANDS: tuple[Command, ...] = (
    Command(
        "validate",
        "Build every Kustomization with kustomize and check the repository's rules.",
        (
            REPO,
            CLUSTER,
            opt("--format", dest="fmt", choices=FORMATS, default="text", help="output format"),
            opt("--output", type=Path, metavar="PATH", help="write the chosen format to this file"),
            opt("--strict", action="store_true", help="warnings fail too"),
            CRD_DIR,
            KUBERNETES_VERSION,
            BUILD_TIMEOUT,
            opt(
                "--pull-schemas",
                action="store_true",
                help="first download the schemas of custom kinds that have none "
                "(as `schemas pull`)",
            ),
            CONFIG,
            opt("--disable", metavar="IDS", default="", help="comma-separated rule IDs to skip"),
            opt(
                "-v", "--verbose", action="store_true", help="show each step and the time per phase"
            ),
        ),
    ),
    Command(
        "graph",
        "Print the dependsOn graph with bootstrap layers (CRD edges marked).",
        (
            REPO,
            CLUSTER,
            opt(
                "--format", dest="fmt", choices=GRAPH_FORMATS, default="text", help="output format"
            ),
            CONFIG,
        ),
    ),
    Command(
        "conventions",
        "Print the conventions inferred from the repository, with their evidence.",
        (REPO, CLUSTER, CONFIG, JSON),
    ),
    Command(
        "plan-schema",
        "Print the JSON Schema of the Plan format (what any planner must produce).",
        (),
    ),
    Command(
        "explain",
        "Explain a rule (statement, reason, bad and good example), or list them all.",
        (opt("rule", nargs="?", metavar="RULE", help="rule ID, e.g. IW003"),),
    ),
    Command("doctor", "Show which kustomize is used and whether the environment is ready.", ()),
    Command(
        "schemas",
        "pull: download the schemas of the custom kinds the repository uses that have none.",
        (
            opt("action", choices=SCHEMA_ACTIONS, help="pull"),
            REPO,
            CLUSTER,
            opt(
                "--source",
                metavar="TEMPLATE",
                help="URL template with {group} {kind} {version} {plural} (default: config "
                "schema_source, else the CRD catalog kubeconform uses)",
            ),
            CRD_DIR,
            CONFIG,
        ),
    ),
    Command(
        "implement",
        "Turn a request into a validated change that follows the repository's patterns.",
        (
            opt(
                "request",
                nargs="?",
                metavar="REQUEST",
                help="what to implement, in plain words; - reads stdin",
            ),
            REPO,
            CLUSTER,
            opt("--dry-run", action="store_true", help="show the diff, write nothing"),
            JSON,
            opt(
                "--planner",
                choices=PLANNERS,
                default="auto",
                help="who plans the change; auto: the rule planner when it understands the "
                "request, else the LLM planner when an API key (or --base-url) is set",
            ),
            opt(
                "--chart",
                metavar="URL",
                help="REPO_URL/CHART or oci://REGISTRY/PATH/CHART",
            ),
            opt("--version", dest="chart_version", metavar="V", help="chart version for --chart"),
            opt("--request-file", type=Path, metavar="PATH", help="read the request from a file"),
            CRD_DIR,
            CONFIG,
            opt(
                "--provider",
                choices=PROVIDERS,
                default="anthropic",
                help="LLM provider for --planner llm",
            ),
            opt("--model", dest="llm_model", metavar="NAME", help="model name for --planner llm"),
            opt(
                "--base-url",
                metavar="URL",
                help="OpenAI-compatible server (vLLM, Ollama, LM Studio)",
            ),
            opt(
                "--max-steps",
                type=positive_int,
                default=20,
                metavar="N",
                help="tool calls the model may make (default: 20)",
            ),
            opt("--commit", action="store_true", help="commit the applied change (one commit)"),
            opt("--branch", metavar="NAME", help="create this branch for the change"),
            opt(
                "-v",
                "--verbose",
                action="store_true",
                help="print the time of each phase at the end",
            ),
        ),
    ),
    Command(
        "continue",
        "Re-run a session's request with a decision, replacing its previous result.",
        (
            opt(
                "--decision",
                required=True,
                metavar="TEXT",
                help='e.g. "use valkey instead of redis"',
            ),
            REPO,
            SESSION,
            CLUSTER,
            JSON,
            CRD_DIR,
            CONFIG,
        ),
    ),
    Command(
        "undo",
        "Revert an applied session whose files are still as it left them.",
        (REPO, SESSION),
    ),
    Command(
        "recover",
        "Finish what an interrupted run left: put back every file of an unfinished write.",
        (REPO,),
    ),
    Command(
        "mcp",
        "Serve the infrawright tools to an MCP client over stdio (nothing else on stdout).",
        (ROOTS, CRD_DIR),
    ),
    Command(
        "install-claude",
        "Install the /implement-infra command, its agent and the MCP server for Claude Code.",
        (
            REPO,
            opt(
                "--dir",
                dest="claude_dir",
                type=Path,
                metavar="PATH",
                help="Claude Code folder (default: <repo>/.claude)",
            ),
            opt(
                "--force",
                action="store_true",
                help="replace files you edited, and our .mcp.json entry",
            ),
        ),
    ),
    Command(
        "cluster-check",
        "Compare the live cluster's Flux Kustomizations with the repository (read-only).",
        (
            REPO,
            CLUSTER,
            opt("--ssh", metavar="USER@HOST", help="ask the cluster through ssh USER@HOST"),
            opt(
                "--kubeconfig",
                type=Path,
                metavar="PATH",
                help="kubeconfig file (on the ssh host with --ssh)",
            ),
            JSON,
            CONFIG,
        ),
    ),
    Command(
        "sessions",
        "List the recorded sessions of this repository, oldest first.",
        (REPO, JSON),
    ),
    Command(
        "completion",
        "Print a shell completion script (e.g. source <(infrawright completion bash)).",
        (opt("shell", choices=SHELLS, help="bash, zsh or fish"),),
    ),
)

ROOT_OPTIONS: tuple[Opt, ...] = (
    opt("--version", dest="show_version", action="store_true", help="show versions and exit"),
    opt(
        "--no-cache",
        action="store_true",
        help="neither read nor fill the cache (~/.cache/infrawright)",
    ),
)

DESCRIPTION = "Implement and validate infrastructure changes in Flux GitOps repositories."


def _add(parser: argparse.ArgumentParser, options: Sequence[Opt]) -> None:
    for option in options:
        parser.add_argument(*option.flags, help=option.help, **option.extra)


def command_parser(command: Command, prog: str) -> Parser:
    """The parser of one command on its own (``implement-infra`` is ``implement``)."""
    parser = Parser(prog=prog, description=command.help)
    _add(parser, command.options)
    return parser


def build_parser(prog: str = "infrawright") -> Parser:
    """The tool's own options and the command's name; the rest of the line is left for
    the command's parser (:func:`command_parser`), so a run builds only that one."""
    width = max(len(c.name) for c in COMMANDS)
    listing = "\n".join(f"  {c.name:<{width}}  {c.help}" for c in COMMANDS)
    parser = Parser(
        prog=prog,
        description=DESCRIPTION,
        epilog=f"commands:\n{listing}\n\n'{prog} COMMAND --help' shows a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add(parser, ROOT_OPTIONS)
    names = [c.name for c in COMMANDS]
    parser.add_argument(
        "command", nargs="?", choices=names, metavar="COMMAND", help="one of the commands below"
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def command(name: str) -> Command:
    return next(c for c in COMMANDS if c.name == name)
