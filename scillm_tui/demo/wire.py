"""The OpenAI chat-completions wire format, built in one place for every fake server.

The project has four fake OpenAI-compatible servers, and each earns its place:

- `scillm_tui/demo/app.py`, the users' offline backend (`--demo`, `serve-demo`): plausible
  answers, pacing, thinking models, a judge; real HTTP through uvicorn.
- `tests/servers/fault_app.py`, the failure catalogue: statuses, retries, dropped or split
  events, hangs, hostile text, over a real socket, so the client's failure handling is
  tested against what a network really does.
- `tests/tui_support.py` (`make_transport`), an httpx MockTransport: in-process, no socket,
  no thread, deterministic to the byte, which the Pilot and snapshot tests need.
- `bench/sse_server.py`, raw asyncio with its bytes built once, in a process of its own,
  so the benchmarks measure the client and not the server.

What they share is the format, and it lives here: chunk and completion bodies
(`Completion`), usage (`usage`), the assistant message (`assistant_message`), error bodies
(`error_body`), the model list (`model_list`) and SSE framing (`sse_event`, `sse_events`,
`DONE_EVENT`). Builders return plain dicts so a fault scenario can bend one on purpose;
`tests/test_wire.py` reads what they build back with the project's own client, so a change
in the format breaks a test. What each server answers (models, scenarios, pacing) stays its
own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DONE_EVENT = b"data: [DONE]\n\n"
"""The event that ends an OpenAI stream."""

REASONING_CONTENT = "reasoning_content"  # DeepSeek, SGLang, LiteLLM; vLLM says "reasoning"


def sse_event(payload: Mapping[str, Any] | str) -> bytes:
    """One SSE event: `data: <json>` (or a literal string such as `[DONE]`) and a blank line.

    Compact JSON with non-ASCII left as UTF-8, as OpenAI sends it (so events carry
    multi-byte characters a client must not cut).
    """
    if isinstance(payload, str):
        return b"data: " + payload.encode() + b"\n\n"
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + data.encode() + b"\n\n"


def sse_events(payloads: Iterable[Mapping[str, Any]], *, done: bool = True) -> bytes:
    """Several events in one body, then `data: [DONE]` unless `done` is False."""
    body = b"".join(sse_event(p) for p in payloads)
    return body + DONE_EVENT if done else body


def usage(
    completion_tokens: int, *, prompt_tokens: int, reasoning_tokens: int | None = None
) -> dict[str, Any]:
    """A `usage` object; `completion_tokens_details.reasoning_tokens` only when given."""
    body: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if reasoning_tokens is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return body


def assistant_message(
    content: str | None, *, reasoning: str | None = None, reasoning_field: str = REASONING_CONTENT
) -> dict[str, Any]:
    """A non-streamed assistant message; thinking, if any, in its own field."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message[reasoning_field] = reasoning
    return message


def error_body(
    message: str, type_: str = "invalid_request_error", code: str | None = None
) -> dict[str, Any]:
    """An OpenAI-style error body: `{"error": {"message", "type", "code"}}`."""
    return {"error": {"message": message, "type": type_, "code": code}}


def model_list(ids: Iterable[str], *, owned_by: str, created: int = 0) -> dict[str, Any]:
    """The `GET /v1/models` body listing `ids`."""
    data = [{"id": i, "object": "model", "created": created, "owned_by": owned_by} for i in ids]
    return {"object": "list", "data": data}


def _now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class Completion:
    """One response's identity, and the chunks and body that carry it.

    `system_fingerprint` (when set) and `logprobs` (a `"logprobs": null` in each choice)
    are what OpenAI itself adds; `null_usage` puts `"usage": null` in every chunk but the
    usage chunk, as OpenAI does when the request asks `stream_options.include_usage`.
    """

    id: str
    model: str
    created: int = field(default_factory=_now)
    system_fingerprint: str | None = None
    logprobs: bool = False
    null_usage: bool = False

    def _head(self, object_: str) -> dict[str, Any]:
        head: dict[str, Any] = {
            "id": self.id,
            "object": object_,
            "created": self.created,
            "model": self.model,
        }
        if self.system_fingerprint is not None:
            head["system_fingerprint"] = self.system_fingerprint
        return head

    def chunk(self, delta: Mapping[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        """A `chat.completion.chunk` with one choice carrying `delta`."""
        choice: dict[str, Any] = {"index": 0, "delta": dict(delta)}
        if self.logprobs:
            choice["logprobs"] = None
        choice["finish_reason"] = finish_reason
        payload = self._head("chat.completion.chunk")
        payload["choices"] = [choice]
        if self.null_usage:
            payload["usage"] = None
        return payload

    def role(self) -> dict[str, Any]:
        """The first chunk: the assistant's role and empty content."""
        return self.chunk({"role": "assistant", "content": ""})

    def content(self, text: str) -> dict[str, Any]:
        """A chunk of answer text."""
        return self.chunk({"content": text})

    def reasoning(self, text: str, field_: str = REASONING_CONTENT) -> dict[str, Any]:
        """A chunk of thinking in its own field (`content` null), as thinking servers send."""
        return self.chunk({"content": None, field_: text})

    def finish(self, reason: str = "stop") -> dict[str, Any]:
        """The chunk that ends the choice: empty delta, `finish_reason` set."""
        return self.chunk({}, reason)

    def usage_chunk(
        self, usage_: Mapping[str, Any], choices: list[Any] | None = None
    ) -> dict[str, Any]:
        """The last chunk when usage is asked for: `choices: []` (unless given) and `usage`."""
        payload = self._head("chat.completion.chunk")
        payload["choices"] = [] if choices is None else choices
        payload["usage"] = dict(usage_)
        return payload

    def body(
        self,
        message: Mapping[str, Any],
        finish_reason: str = "stop",
        usage_: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A whole non-streamed `chat.completion` (its `usage` left out when None)."""
        choice: dict[str, Any] = {"index": 0, "message": dict(message)}
        if self.logprobs:
            choice["logprobs"] = None
        choice["finish_reason"] = finish_reason
        payload = self._head("chat.completion")
        payload["choices"] = [choice]
        if usage_ is not None:
            payload["usage"] = dict(usage_)
        return payload
