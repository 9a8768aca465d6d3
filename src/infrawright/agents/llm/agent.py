"""The LLM planner: a model works through the shared tools until a change is applied.

The model never touches the repository: it calls the tools of :class:`Tools` (which refuse
writes outside component folders and the cluster file, refuse banned fields, and validate
before writing) and reads their answers. The loop ends when a change is applied (by
``finish``, ``apply_plan`` or ``implement``), when the model answers without a tool call, or
after ``max_steps`` model turns. Unless a change was applied, whatever is still staged is
discarded, so the repository is exactly as it was. Applied changes are recorded as
sessions by the tools themselves. With ``dry_run`` every applying call is turned into a
dry run, and the first change that validates ends the loop with its diff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infrawright.agents.llm.prompt import build_system_prompt, user_message
from infrawright.agents.llm.providers import (
    DEFAULT_MODELS,
    PROVIDERS,
    ToolCall,
    ToolResult,
    open_client,
    result_text,
    start_conversation,
)
from infrawright.agents.tools import Tools
from infrawright.change.implement import Outcome, settle
from infrawright.errors import InfrawrightError
from infrawright.render.changeset import Review

APPLYING = ("finish", "apply_plan", "implement")
REVIEW_MARK = "REVIEW:"


@dataclass
class _Run:
    """What the loop remembers besides the conversation."""

    tools: Tools
    say: Callable[[str], None]
    dry_run: bool = False
    originals: dict[str, bytes | None] = field(default_factory=dict)
    # A "nothing to do" answer of an applying tool, kept while nothing was staged after it.
    settled: Outcome | None = None


def run_agent(
    tools: Tools,
    request: str,
    *,
    provider: str = "anthropic",
    model: str | None = None,
    base_url: str | None = None,
    max_steps: int = 20,
    client: object | None = None,
    progress: Callable[[str], None] | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Let a model implement ``request`` through ``tools``; return the Outcome.

    The Outcome is the applied change (``tools.last_outcome``; with ``dry_run`` the first
    change that validates, with its diff), a "no-op" when the model found nothing to do,
    or a failed one (nothing written) whose error says why: the step limit, or the model
    stopping without a validated change. A missing SDK or API key, or an API error, raises
    :class:`InfrawrightError` (nothing written either).
    """
    say = progress or (lambda _msg: None)
    if provider not in PROVIDERS:
        raise InfrawrightError(
            f"unknown provider {provider!r}", hint=f"use one of: {', '.join(PROVIDERS)}"
        )
    if max_steps < 1:
        raise InfrawrightError(f"max steps must be at least 1, not {max_steps}")
    chosen = model or DEFAULT_MODELS[provider]
    sdk = open_client(provider, base_url=base_url, client=client)  # fails before any work
    say("Loading repository patterns...")
    system = build_system_prompt(tools)
    conversation = start_conversation(
        provider,
        sdk,
        model=chosen,
        system=system,
        request=user_message(request),
        tools=tools.schemas(),
    )
    run = _Run(tools, say, dry_run)
    try:
        for step in range(1, max_steps + 1):
            say(f"Asking {provider} model {chosen} (step {step}/{max_steps})...")
            reply = conversation.ask()
            if reply.text.strip():
                say(f"model: {_one_line(reply.text)}")
            if not reply.calls:
                if run.settled is not None and not tools.pending.files:
                    return _note(run.settled, request, provider, chosen, step)
                why = "the model stopped without a validated change"
                if reply.text.strip():
                    why += f" (it said: {_one_line(reply.text, 300)})"
                elif reply.stop_reason:
                    why += f" (stop reason: {reply.stop_reason})"
                return _give_up(tools, request, why)
            results: list[ToolResult] = []
            for call in reply.calls:
                result, applied = _execute(run, call)
                if applied is not None:
                    tools.discard()  # anything staged besides what was applied is dropped
                    return _note(applied, request, provider, chosen, step)
                results.append(result)
            conversation.answer(results)
        return _give_up(
            tools, request, f"step limit reached ({max_steps} model turns) before a change applied"
        )
    except BaseException:
        tools.discard()
        raise


def _execute(run: _Run, call: ToolCall) -> tuple[ToolResult, Outcome | None]:
    """Run one tool call; the Outcome is set when it ends the run (a change applied, or
    with ``dry_run`` a change that validated)."""
    tools = run.tools
    run.say(f"{call.name}{_about(call)}")
    outcome: Outcome | None = None
    if call.problem:
        ok, result = False, call.problem
    elif run.dry_run and call.name == "finish":
        ok, result, outcome = _finish_dry(tools, str(call.arguments.get("summary", "")))
    elif run.dry_run and call.name in APPLYING:
        ok, result = tools.call(call.name, {**call.arguments, "dry_run": True})
        outcome = tools.last_outcome
    else:
        ok, result = tools.call(call.name, call.arguments)
        outcome = tools.last_outcome
    if not ok:
        run.say(f"  refused: {_one_line(str(result))}")
        return ToolResult(call, False, result_text(result)), None
    if call.name == "write_file" and isinstance(result, dict):
        staged = str(result.get("staged", ""))
        if staged and staged not in run.originals:
            target = tools.root / staged  # the tool checked it is inside the repository
            run.originals[staged] = target.read_bytes() if target.is_file() else None
        run.settled = None
    if call.name in APPLYING and isinstance(result, dict):
        status = result.get("status")
        if status == ("dry-run" if run.dry_run else "applied") and outcome is not None:
            if call.name == "finish":
                _collect_reviews(outcome, run.originals)
            return ToolResult(call, True, result_text(result)), outcome
        run.settled = outcome if status == "no-op" else None
    return ToolResult(call, True, result_text(result)), None


def _finish_dry(tools: Tools, summary: str) -> tuple[bool, Any, Outcome | None]:
    """What ``finish`` would do, without writing: validate the staged change, keep it
    staged. Like :meth:`Tools.call`, an error is an answer, not an exception."""
    try:
        outcome = settle(
            tools.model(),
            tools.before(),
            Outcome(summary, "no-op", None, tools.pending),
            crd_dirs=tools.crd_dirs,
            dry_run=True,
        )
    except Exception as exc:  # the tool boundary: the model gets a message
        return False, f"finish: {exc}", None
    return True, outcome.to_json(), outcome


def _collect_reviews(outcome: Outcome, originals: dict[str, bytes | None]) -> None:
    """The ``# REVIEW:`` lines a hand-written change added, for the report's assumptions."""
    if outcome.changes.reviews:
        return
    for rel, data in sorted(outcome.changes.files.items()):
        if data is None:
            continue
        old = originals.get(rel)
        before = set(old.decode("utf-8", "replace").splitlines()) if old is not None else set()
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if REVIEW_MARK in line and line not in before:
                note = line.split(REVIEW_MARK, 1)[1].strip()
                outcome.changes.reviews.append(Review(rel, number, note))


def _give_up(tools: Tools, request: str, why: str) -> Outcome:
    dropped = sorted(tools.pending.files)
    tools.discard()
    outcome = Outcome(request, "failed", None, error=f"{why}; nothing written")
    last = tools.last_outcome
    if last is not None and last.status == "failed":
        outcome.new_findings = list(last.new_findings)
        outcome.findings = list(last.findings)
        outcome.layers = dict(last.layers)
        if last.error:
            outcome.error += f" (last attempt: {last.error})"
    if dropped:
        outcome.changes.messages.append(f"discarded the staged files: {', '.join(dropped)}")
    return outcome


def _note(outcome: Outcome, request: str, provider: str, model: str, steps: int) -> Outcome:
    """The report shows the user's request; the model's own wording becomes a note."""
    if outcome.request != request:
        outcome.changes.messages.append(f"the model's summary: {outcome.request}")
        outcome.request = request
    outcome.changes.messages.append(
        f"planned by the {provider} model {model} in {steps} step(s) through the tools"
    )
    return outcome


def _about(call: ToolCall) -> str:
    for key in ("path", "request", "rule_id", "summary"):
        value = call.arguments.get(key)
        if isinstance(value, str) and value:
            return f" {_one_line(value, 100)}"
    return ""


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
