"""What a chat-completions request and a non-streaming answer hold.

Plain models, apart from the client that sends them, so that code describing runs and
judges (and the dashboard, before its first frame) does not import the HTTP stack.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scillm_tui.core.events import Usage

__all__ = ["ChatRequest", "ChatResult"]


class ChatRequest(BaseModel):
    """One chat-completions request, as the OpenAI API spells it."""

    model_config = ConfigDict(frozen=True)

    model: str
    messages: list[dict[str, str]]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: dict[str, Any] | None = None

    def body(self, *, stream: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"model": self.model, "messages": self.messages}
        if self.temperature is not None:
            data["temperature"] = self.temperature
        if self.max_tokens is not None:
            data["max_tokens"] = self.max_tokens
        if self.response_format is not None:
            data["response_format"] = self.response_format
        if stream:
            data["stream"] = True
            data["stream_options"] = {"include_usage": True}
        return data


class ChatResult(BaseModel):
    """A non-streaming answer: `text` is the answer only, `reasoning` the thinking."""

    text: str
    reasoning: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    latency_ms: float = 0.0
    raw: dict[str, Any] = Field(default_factory=dict)
