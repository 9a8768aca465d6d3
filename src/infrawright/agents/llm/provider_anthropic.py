"""Anthropic's Messages API with tools, through the official ``anthropic`` SDK."""

from __future__ import annotations

import os
from typing import Any

import anthropic
from anthropic.types import MessageParam, TextBlockParam, ToolParam, ToolResultBlockParam

from infrawright.agents.llm.providers import Reply, ToolCall, ToolResult, api_error, missing_key
from infrawright.errors import InfrawrightError

# Enough for a whole cluster file in one write_file call; below the SDK's limit for a
# request that is not streamed.
MAX_TOKENS = 16_000


def make_client(*, base_url: str | None, client: object | None) -> anthropic.Anthropic:
    if client is not None:
        if not isinstance(client, anthropic.Anthropic):
            raise InfrawrightError(
                f"the anthropic provider needs an anthropic.Anthropic client, "
                f"not {type(client).__name__}"
            )
        return client
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        raise missing_key("anthropic")
    return anthropic.Anthropic(api_key=key, base_url=base_url or None)


def start(
    client: object, *, model: str, system: str, request: str, tools: list[dict[str, Any]]
) -> AnthropicConversation:
    return AnthropicConversation(
        make_client(base_url=None, client=client), model, system, request, tools
    )


class AnthropicConversation:
    provider = "anthropic"

    def __init__(
        self,
        client: anthropic.Anthropic,
        model: str,
        system: str,
        request: str,
        tools: list[dict[str, Any]],
    ) -> None:
        self.client = client
        self.model = model
        # The system prompt and the tools are the same at every step: cache them.
        self.system: list[TextBlockParam] = [
            {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}
        ]
        self.tools: list[ToolParam] = [
            {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
            for t in tools
        ]
        self.messages: list[MessageParam] = [{"role": "user", "content": request}]

    def ask(self) -> Reply:
        try:
            message = self.client.messages.create(
                model=self.model,
                max_tokens=MAX_TOKENS,
                system=self.system,
                messages=self.messages,
                tools=self.tools,
            )
        except anthropic.APIError as exc:
            raise api_error("anthropic", exc) from None
        # Sent back unchanged: thinking blocks must return with their signatures.
        self.messages.append({"role": "assistant", "content": message.content})
        calls: list[ToolCall] = []
        texts: list[str] = []
        for block in message.content:
            if block.type == "tool_use":
                calls.append(ToolCall(block.id, block.name, dict(block.input)))
            elif block.type == "text":
                texts.append(block.text)
        return Reply("\n".join(texts), calls, message.stop_reason or "")

    def answer(self, results: list[ToolResult]) -> None:
        blocks: list[ToolResultBlockParam] = [
            {
                "type": "tool_result",
                "tool_use_id": r.call.id,
                "content": r.text,
                "is_error": not r.ok,
            }
            for r in results
        ]
        self.messages.append({"role": "user", "content": blocks})
