"""Model providers behind one small interface: a conversation that asks and is answered.

``anthropic`` speaks the Messages API through the official ``anthropic`` SDK. ``openai``
speaks through the official ``openai`` SDK: the Responses API on api.openai.com (its
current models refuse function tools on Chat Completions) and Chat Completions on any
other ``--base-url`` (vLLM, Ollama, LM Studio, gateways), which is what those servers
implement. Both SDKs are optional (``pip install 'infrawright[llm]'``) and imported only
when a provider is used.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from infrawright.errors import InfrawrightError

PROVIDERS = ("anthropic", "openai")
DEFAULT_MODELS = {"anthropic": "claude-sonnet-5-5", "openai": "gpt-5.5"}
API_KEY_VARS = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
INSTALL_HINT = "pip install 'infrawright[llm]'"
# Longest tool result sent back; a file is never cut (read_file stops at 512 KiB), only a
# runaway result, so a model cannot rewrite a file from a truncated copy unawares.
MAX_RESULT_CHARS = 600_000


@dataclass(frozen=True)
class ToolCall:
    """One tool call of the model. ``problem`` is set when its arguments cannot be read;
    it goes back to the model as the tool's error."""

    id: str
    name: str
    arguments: dict[str, Any]
    problem: str = ""


@dataclass(frozen=True)
class Reply:
    """What the model answered: its text and the tools it calls (none: it has stopped)."""

    text: str
    calls: list[ToolCall]
    stop_reason: str = ""


@dataclass(frozen=True)
class ToolResult:
    """The answer to one tool call; ``ok`` is False for an error."""

    call: ToolCall
    ok: bool
    text: str


class Conversation(Protocol):
    """A conversation with one model: the system prompt, the request and the tools are
    given when it starts; each :meth:`ask` sends the history so far."""

    provider: str
    model: str

    def ask(self) -> Reply: ...

    def answer(self, results: list[ToolResult]) -> None: ...


def parse_arguments(call_id: str, name: str, raw: str | None) -> ToolCall:
    """A tool call whose arguments come as JSON text (the OpenAI APIs)."""
    try:
        value = json.loads(raw or "{}")
    except ValueError as exc:
        return ToolCall(call_id, name, {}, f"{name}: the arguments are not valid JSON ({exc})")
    if not isinstance(value, dict):
        return ToolCall(call_id, name, {}, f"{name}: the arguments must be a JSON object")
    return ToolCall(call_id, name, value)


def result_text(result: Any) -> str:
    """A tool's result as the text a model reads: strings as they are, the rest as JSON."""
    text = (
        result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
    )
    if len(text) > MAX_RESULT_CHARS:
        cut = len(text) - MAX_RESULT_CHARS
        text = f"{text[:MAX_RESULT_CHARS]}\n[... {cut} more characters not shown]"
    return text


def open_client(
    provider: str, *, base_url: str | None = None, client: object | None = None
) -> object:
    """The SDK client for ``provider``: ``client`` if given (it is checked), else one made
    from the environment. Raises :class:`InfrawrightError` when the SDK or the key is
    missing, before any repository work starts."""
    return _module(provider).make_client(base_url=base_url, client=client)


def start_conversation(
    provider: str,
    client: object,
    *,
    model: str,
    system: str,
    request: str,
    tools: list[dict[str, Any]],
) -> Conversation:
    """Start a conversation; ``tools`` are :meth:`infrawright.agents.tools.Tools.schemas`."""
    conversation: Conversation = _module(provider).start(
        client, model=model, system=system, request=request, tools=tools
    )
    return conversation


def missing_key(provider: str, extra: str = "") -> InfrawrightError:
    var = API_KEY_VARS[provider]
    return InfrawrightError(
        f"{var} is not set: the {provider} provider needs an API key{extra}",
        hint=f"export {var}=...",
    )


def api_error(provider: str, exc: Exception) -> InfrawrightError:
    """An SDK error (HTTP status, connection, timeout) as a user error, exit 2."""
    status = getattr(exc, "status_code", None)
    hint = None
    if status in (401, 403):
        hint = f"check {API_KEY_VARS[provider]}"
    elif status == 404:
        hint = "check --model and --base-url"
    return InfrawrightError(f"{provider} API error: {exc}", hint=hint)


def _module(provider: str) -> Any:
    if provider not in PROVIDERS:
        raise InfrawrightError(
            f"unknown provider {provider!r}", hint=f"use one of: {', '.join(PROVIDERS)}"
        )
    try:
        return importlib.import_module(f"infrawright.agents.llm.provider_{provider}")
    except ImportError as exc:
        raise InfrawrightError(
            f"the {provider} provider needs the {provider} package ({exc})", hint=INSTALL_HINT
        ) from None
