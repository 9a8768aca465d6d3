"""OpenAI and OpenAI-compatible servers, through the official ``openai`` SDK.

On api.openai.com the Responses API is used: OpenAI's current models reject function
tools on Chat Completions (HTTP 400 "Function tools with reasoning_effort are not
supported"). Any other base URL (vLLM, Ollama, LM Studio, a gateway) gets Chat
Completions, the API those servers implement. Nothing is stored at OpenAI
(``store=False``); reasoning items travel back encrypted instead.
"""

from __future__ import annotations

import os
import re
from typing import Any, cast

import openai
from openai.types.chat import (
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageParam,
    ChatCompletionMessageToolCallUnionParam,
)
from openai.types.responses import FunctionToolParam, ResponseInputItemParam

from infrawright.agents.llm.providers import (
    Reply,
    ToolCall,
    ToolResult,
    api_error,
    missing_key,
    parse_arguments,
)
from infrawright.errors import InfrawrightError

OPENAI_HOST = "api.openai.com"
# Local servers do not check the key, but the SDK sends one.
PLACEHOLDER_KEY = "not-needed"
ERROR_PREFIX = "ERROR: "  # neither API has an error flag on a tool result


def make_client(*, base_url: str | None, client: object | None) -> openai.OpenAI:
    if client is not None:
        if not isinstance(client, openai.OpenAI):
            raise InfrawrightError(
                f"the openai provider needs an openai.OpenAI client, not {type(client).__name__}"
            )
        return client
    url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if not key:
        if url is None or _is_openai(url):
            raise missing_key("openai", " (a local server given with --base-url needs none)")
        key = PLACEHOLDER_KEY
    return openai.OpenAI(api_key=key, base_url=url)


def start(
    client: object, *, model: str, system: str, request: str, tools: list[dict[str, Any]]
) -> ResponsesConversation | ChatConversation:
    sdk = make_client(base_url=None, client=client)
    if sdk.base_url.host == OPENAI_HOST:
        return ResponsesConversation(sdk, model, system, request, tools)
    return ChatConversation(sdk, model, system, request, tools)


def _is_openai(url: str) -> bool:
    return re.match(r"^(https?://)?api\.openai\.com(?=[:/]|$)", url.strip()) is not None


def _reasoning_model(model: str) -> bool:
    """o-series and gpt-5 or later, except the chat variants (which do not reason)."""
    if "chat" in model:
        return False
    found = re.match(r"^(?:o(\d)|gpt-(\d+))", model)
    return found is not None and (found.group(1) is not None or int(found.group(2)) >= 5)


def _text(result: ToolResult) -> str:
    return result.text if result.ok else ERROR_PREFIX + result.text


class ResponsesConversation:
    """The Responses API: the whole input is sent at every step (nothing stored)."""

    provider = "openai"

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        system: str,
        request: str,
        tools: list[dict[str, Any]],
    ) -> None:
        self.client = client
        self.model = model
        self.system = system
        self.tools: list[FunctionToolParam] = [
            {
                "type": "function",
                "name": t["name"],
                "description": t["description"],
                "parameters": t["parameters"],
                "strict": False,  # strict mode needs every property required; ours are not
            }
            for t in tools
        ]
        self.input: list[ResponseInputItemParam] = [{"role": "user", "content": request}]

    def ask(self) -> Reply:
        try:
            response = self.client.responses.create(
                model=self.model,
                instructions=self.system,
                input=self.input,
                tools=self.tools,
                store=False,
                include=["reasoning.encrypted_content"] if _reasoning_model(self.model) else [],
            )
        except openai.APIError as exc:
            raise api_error("openai", exc) from None
        calls: list[ToolCall] = []
        for item in response.output:
            self.input.append(cast(ResponseInputItemParam, item.to_dict(exclude_none=True)))
            if item.type == "function_call":
                calls.append(parse_arguments(item.call_id, item.name, item.arguments))
        stop: str = response.status or ""
        if response.incomplete_details is not None and response.incomplete_details.reason:
            stop = response.incomplete_details.reason
        return Reply(response.output_text, calls, stop)

    def answer(self, results: list[ToolResult]) -> None:
        for r in results:
            self.input.append(
                {"type": "function_call_output", "call_id": r.call.id, "output": _text(r)}
            )


class ChatConversation:
    """Chat Completions with function tools, for OpenAI-compatible servers."""

    provider = "openai"

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        system: str,
        request: str,
        tools: list[dict[str, Any]],
    ) -> None:
        self.client = client
        self.model = model
        self.tools: list[ChatCompletionFunctionToolParam] = [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t["description"],
                    "parameters": t["parameters"],
                },
            }
            for t in tools
        ]
        self.messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": request},
        ]

    def ask(self) -> Reply:
        try:
            completion = self.client.chat.completions.create(
                model=self.model, messages=self.messages, tools=self.tools
            )
        except openai.APIError as exc:
            raise api_error("openai", exc) from None
        if not completion.choices:
            raise InfrawrightError(f"openai: the server answered with no choice ({self.model})")
        choice = completion.choices[0]
        message = choice.message
        calls: list[ToolCall] = []
        sent: list[ChatCompletionMessageToolCallUnionParam] = []
        for call in message.tool_calls or []:
            if call.type == "function":
                calls.append(parse_arguments(call.id, call.function.name, call.function.arguments))
                sent.append(
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {
                            "name": call.function.name,
                            "arguments": call.function.arguments,
                        },
                    }
                )
            else:  # a custom (free-form) tool call: we define none, so it is answered as an error
                calls.append(ToolCall(call.id, call.custom.name, {}, "only function tools exist"))
                sent.append(
                    {
                        "id": call.id,
                        "type": "custom",
                        "custom": {"name": call.custom.name, "input": call.custom.input},
                    }
                )
        if sent:
            self.messages.append(
                {"role": "assistant", "content": message.content, "tool_calls": sent}
            )
        else:
            self.messages.append({"role": "assistant", "content": message.content or ""})
        return Reply(message.content or "", calls, choice.finish_reason or "")

    def answer(self, results: list[ToolResult]) -> None:
        for r in results:
            self.messages.append({"role": "tool", "tool_call_id": r.call.id, "content": _text(r)})
