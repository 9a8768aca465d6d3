"""Install infrawright into a project for Claude Code.

Three things are written: the ``/implement-infra`` slash command, the
``infrastructure-implementor`` agent, and the ``infrawright`` entry of the project's
``.mcp.json``. Re-running brings them up to date, but never replaces what the user changed:

- each Markdown file ends with ``<!-- infrawright:sha256=HEX -->``, the hash of the text
  above it as we wrote it. A file whose text no longer matches its hash was edited; a file
  without the marker is the user's own. Both are kept unless ``force``.
- in ``.mcp.json`` only ``mcpServers.infrawright`` is ours; other servers and keys are kept
  as they are. An ``infrawright`` entry that differs from every entry we ever wrote is the
  user's and is kept unless ``force``.

Nothing is written when ``.mcp.json`` cannot be read as a JSON object, and every write
goes to a temporary sibling that is then renamed over the target.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Final

from infrawright.agents.tools import TOOL_NAMES
from infrawright.errors import InfrawrightError

CREATED: Final = "created"
UPDATED: Final = "updated"
UNCHANGED: Final = "unchanged"
KEPT: Final = "kept (edited; use --force)"

SERVER_NAME = "infrawright"
MCP_ENTRY: dict[str, Any] = {"command": "infrawright", "args": ["mcp", "--repo", "."]}
#: Entries earlier versions wrote, recognised as ours (and so replaced) on re-runs.
PREVIOUS_MCP_ENTRIES: tuple[dict[str, Any], ...] = ()

#: The infrawright MCP tools the agent drives.
MCP_TOOLS: tuple[str, ...] = TOOL_NAMES

COMMAND_PATH = "commands/implement-infra.md"
AGENT_PATH = "agents/infrastructure-implementor.md"

MARKER = re.compile(r"<!-- infrawright:sha256=([0-9a-f]{64}) -->\n?\Z")

COMMAND_TEMPLATE = """\
---
description: Change this Flux GitOps repository with infrawright (validated before it is written)
argument-hint: "<the change, in plain words>"
allowed-tools: Bash(implement-infra:*), Bash(infrawright:*), Task
---

# /implement-infra

Request: $ARGUMENTS

infrawright does the work; your part is to call it and relay its answer. Do not touch the
repository with Edit, Write or shell redirection, and never run `kubectl apply`: infrawright
renders the change in the repository's own style, validates it in a scratch copy, writes it
only when it adds no finding, and records a session that `infrawright undo` can revert.

## 1. Run infrawright

Pass the request on standard input through a quoted here-document, so that quotes, `$` or
backticks in it reach infrawright as plain text:

```sh
implement-infra --json - <<'INFRAWRIGHT_REQUEST'
$ARGUMENTS
INFRAWRIGHT_REQUEST
```

This is `implement-infra --json "$ARGUMENTS"` without the quoting pitfalls. Add `--dry-run`
when the user only wants to see the change.

The exit code tells you what happened; the JSON object on stdout has the details:

- **0**: `status` is `applied`, `no-op` (already satisfied) or `dry-run`.
- **1**: `status` is `failed`: the change was refused or did not validate, and nothing
  was written; `error` and `validation.findings` say why.
- **2**: the request was not understood (stderr lists phrasings it knows), or the
  repository cannot be loaded or is locked by another run.
- **3**: internal error: show stderr and stop.

If the request was not understood and the infrawright MCP tools are connected, give the
request, word for word, to the `infrastructure-implementor` agent with the Task tool and
report what it returns. Without the tools, show the suggested phrasings and let the user
rephrase. Either way, do not make the change by hand.

## 2. Report

Keep it short, in this order:

1. **Outcome**: the `status`, and the `session` ID when there is one.
2. **Files**: `files.created`, `files.modified`, `files.deleted`.
3. **REVIEW notes**: every entry of `review` as `file:line - note`. Each one is an
   assumption infrawright made instead of asking; list all of them and invite the user to
   check them.
4. **Validation**: whether `validation.passed`; each new finding as
   `rule file:line message`; anything in `validation.fixed`.
5. **Cluster**: when `recreate.required` is true, say clearly that the cluster has to be
   recreated, give `recreate.reasons` and the command in `recreate.command`. Otherwise say
   that Flux will reconcile the change after it is committed and pushed.
6. **Notes**: anything in `notes`. For a dry run, show `diff`.

## 3. Follow-ups

When the user answers a REVIEW note or decides something about the result ("use valkey
instead of redis", "pin the chart to 1.2.3"), do not edit files and do not start a new
request. Hand the decision to the session, which redoes the original request with it and
replaces the earlier result:

```sh
infrawright continue --json --decision '<the decision>'
```

Single-quote the decision (write a `'` inside it as `'\\''`); add `--session ID` to pick a
session other than the latest. Report the answer the same way as above. `infrawright
sessions` lists the sessions and `infrawright undo` reverts the latest applied one.
"""

AGENT_TEMPLATE = """\
---
name: infrastructure-implementor
description: >-
  Makes infrastructure changes in a Flux GitOps repository (components, HelmReleases,
  Flux Kustomizations, network policies, monitoring) through the infrawright MCP tools,
  which validate every change before anything is written. Works on its own and marks its
  assumptions with REVIEW instead of asking.
tools: {tools}
---

# infrastructure-implementor

You turn one infrastructure request into a validated change of the repository, using the
tools of the `infrawright` MCP server. The server is bound to the repository: paths you
give it are relative to the repository root.

## Ground rules

- **Only the tools write.** Never create or edit files yourself, and never run commands
  that change anything. `write_file` stages a file; nothing reaches the repository until
  `finish` (or `implement` / `apply_plan`) has validated the whole change.
- **Do not ask.** When something is unspecified, pick what the repository already does
  (its conventions come with `inspect_repo`), write the choice down as a `# REVIEW: ...`
  comment next to it in the YAML, and carry on. Your report lists every such note.
- **No workarounds.** Never switch on `force`, `cleanupOnFail`, `uninstall` remediation or
  `remediateLastFailure`; a failing install is fixed by ordering (`dependsOn`) or values.
  `explain_rule IW006` says why.
- **The cluster is read-only.** Changes reach it through Git and Flux, never `kubectl`.

## Tools

{tool_list}

## How to work

1. `inspect_repo`: the components, each Flux Kustomization with its dependencies and
   layer, the conventions, the files you may write. `graph` shows the bootstrap layers.
2. Try the rule planner first: `implement` with `dry_run: true`. If it understands the
   request and the dry run passes, run `implement` again without `dry_run` and you are
   done. `plan` shows what it understood without rendering anything.
3. If the rule planner does not understand the request, describe the change as a Plan and
   give it to `apply_plan` (first with `dry_run: true`); the error messages name the
   fields that are wrong.
4. When a Plan cannot express the change, write it yourself: `read_file` what you change,
   `write_file` each file in full (component folders and the cluster file only), then
   `validate` and fix every new finding (`explain_rule` explains a rule) until it passes,
   and `finish` with a one-line summary. `discard` throws the staged change away.
5. Dependencies: a Kustomization that uses a CRD depends directly on the one that installs
   it; ServiceMonitor, PodMonitor, PrometheusRule and the like go in `<component>-monitoring`;
   webhook charts get a CiliumNetworkPolicy that admits the API server. `validate` checks
   all of it; do not argue with a finding, fix its cause.

## Report

Return the report of the call that wrote the change (`implement`, `apply_plan` or
`finish`): its status and session, the files created, modified and deleted, every REVIEW
note with file and line, the validation result, and whether the cluster must be recreated
(`recreate.required`, its reasons and `recreate.command`). If nothing could be written,
say why, with the findings, and state that the repository is unchanged.

If you are started again with a decision about earlier work, redo the original request
with the decision applied so that it replaces the earlier result instead of adding to it;
the command line does the same with `infrawright continue --decision "..."`.
"""

_TOOL_HELP: dict[str, str] = {
    "inspect_repo": "layout, components, Kustomizations with dependsOn and layer, conventions",
    "read_file": "a repository file, as staged when a pending write changed it",
    "graph": "the dependsOn graph with bootstrap layers (CRD edges marked)",
    "validate": "kustomize builds, schema checks and every rule on the staged change",
    "explain_rule": "what a rule (IW001...) demands and why, with examples",
    "plan": "the rule planner's Plan for a request, rendered nowhere",
    "implement": "the whole pipeline for a request: plan, render, validate, write",
    "apply_plan": "render, validate and write a Plan you composed",
    "write_file": "stage one YAML file (whole content); nothing is written yet",
    "finish": "validate the staged change and write it if it adds no finding",
    "discard": "drop the staged change",
}

MANAGED_NOTE = (
    "<!-- Installed by `infrawright install-claude`. Edit it if you like: later runs keep "
    "an edited file (use --force to replace it). -->\n"
)


def command_text() -> str:
    """The slash command, without the marker."""
    return COMMAND_TEMPLATE + "\n" + MANAGED_NOTE


def agent_text() -> str:
    """The agent definition, without the marker."""
    tools = ", ".join(f"mcp__{SERVER_NAME}__{name}" for name in MCP_TOOLS)
    listing = "\n".join(
        f"- `{name}`: {_TOOL_HELP.get(name, 'see its description')}" for name in MCP_TOOLS
    )
    body = AGENT_TEMPLATE.replace("{tools}", f"{tools}, Read, Grep, Glob")
    return body.replace("{tool_list}", listing) + "\n" + MANAGED_NOTE


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_marker(body: str) -> str:
    """``body`` followed by the marker that records its hash."""
    if not body.endswith("\n"):
        body += "\n"
    return f"{body}<!-- infrawright:sha256={digest(body)} -->\n"


def is_pristine(text: str) -> bool:
    """True when ``text`` ends with our marker and the text above it still has its hash."""
    match = MARKER.search(text)
    return match is not None and digest(text[: match.start()]) == match.group(1)


def install_claude(
    project_root: Path, claude_dir: Path | None = None, *, force: bool = False
) -> list[tuple[str, str]]:
    """Write the command, the agent and the MCP server entry; return (path, action) pairs.

    Paths are relative to ``project_root`` when inside it. An action is ``created``,
    ``updated``, ``unchanged`` or ``kept (edited; use --force)``.
    """
    if not project_root.is_dir():
        raise InfrawrightError(f"{project_root}: not a directory")
    base = claude_dir if claude_dir is not None else project_root / ".claude"
    if not base.is_absolute():
        base = project_root / base
    # .mcp.json first: when it cannot be read, nothing at all is written.
    mcp_path = project_root / ".mcp.json"
    mcp_text, mcp_action = _plan_mcp(mcp_path, force)
    results: list[tuple[str, str]] = []
    for rel, body in ((COMMAND_PATH, command_text()), (AGENT_PATH, agent_text())):
        target = base / rel
        action = _install_markdown(target, body, force)
        results.append((_display(target, project_root), action))
    if mcp_text is not None:
        write_atomic(mcp_path, mcp_text)
    results.append((_display(mcp_path, project_root), mcp_action))
    return results


def _install_markdown(target: Path, body: str, force: bool) -> str:
    wanted = with_marker(body)
    if not target.exists() and not target.is_symlink():
        write_atomic(target, wanted)
        return CREATED
    try:
        current = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    if current == wanted:
        return UNCHANGED
    if force or (current is not None and is_pristine(current)):
        write_atomic(target, wanted)
        return UPDATED
    return KEPT


def _plan_mcp(path: Path, force: bool) -> tuple[str | None, str]:
    """The new text of ``.mcp.json`` (None: leave it) and the action to report."""
    if not path.exists():
        return json.dumps({"mcpServers": {SERVER_NAME: MCP_ENTRY}}, indent=2) + "\n", CREATED
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise InfrawrightError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InfrawrightError(
            f"{path}: not valid JSON ({exc}); left untouched",
            hint="fix or remove the file, then run install-claude again",
        ) from None
    if not isinstance(data, dict):
        raise InfrawrightError(f"{path}: expected a JSON object at the top; left untouched")
    servers = data.setdefault("mcpServers", {})
    if not isinstance(servers, dict):
        raise InfrawrightError(f'{path}: "mcpServers" is not a JSON object; left untouched')
    current = servers.get(SERVER_NAME)
    if current == MCP_ENTRY:
        return None, UNCHANGED
    ours = current is None or current in PREVIOUS_MCP_ENTRIES
    if not ours and not force:
        return None, KEPT
    servers[SERVER_NAME] = MCP_ENTRY
    return json.dumps(data, indent=_indent_of(text), ensure_ascii=False) + "\n", UPDATED


def _indent_of(text: str) -> int | str:
    """The indentation the file already uses (two spaces when it has none)."""
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and stripped != line:
            lead = line[: len(line) - len(stripped)]
            return lead if "\t" in lead else len(lead)
    return 2


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary sibling, flush it, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
