"""`scillm_tui.demo.wire`, the OpenAI format every fake server builds, against two oracles.

The OpenAI API's own field names, written out by hand below (what the `openai` client
reads); and the project's client, `EndpointClient`, which must read back exactly what was
built. A change to the format that either would notice breaks a test here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from scillm_tui.core.client import ChatRequest, EndpointClient
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.errors import EndpointError
from scillm_tui.core.events import (
    Finished,
    Notice,
    ReasoningDelta,
    StreamFailed,
    TextDelta,
    Usage,
    UsageReport,
)
from scillm_tui.core.failures import server_message
from scillm_tui.demo import wire

REPLY = wire.Completion("chatcmpl-1", "m-1", created=1_700_000_000)
THOUGHTS = ["Weigh ", "both ", "options."]
ANSWER = ["Forty", "-two ", "— 日本語 👩‍💻"]


# ---- the OpenAI shapes, field by field ---------------------------------------------------------


def test_chunks_have_openai_field_names_and_values() -> None:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000}
    head["model"] = "m-1"

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    assert REPLY.role() == choice({"role": "assistant", "content": ""})
    assert REPLY.content("hi") == choice({"content": "hi"})
    assert REPLY.reasoning("hm") == choice({"content": None, "reasoning_content": "hm"})
    assert REPLY.reasoning("hm", "reasoning") == choice({"content": None, "reasoning": "hm"})
    assert REPLY.finish("length") == choice({}, "length")
    usage = wire.usage(5, prompt_tokens=3, reasoning_tokens=2)
    assert usage == {
        "prompt_tokens": 3,
        "completion_tokens": 5,
        "total_tokens": 8,
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    assert "completion_tokens_details" not in wire.usage(5, prompt_tokens=3)
    assert REPLY.usage_chunk(usage) == {**head, "choices": [], "usage": usage}


def test_openai_extras_are_where_openai_puts_them() -> None:
    full = wire.Completion("c", "m", created=1, system_fingerprint="fp", logprobs=True)
    chunk = wire.Completion("c", "m", created=1, null_usage=True).content("x")
    assert chunk["usage"] is None  # every chunk but the last, under include_usage
    fingerprinted = full.content("x")
    assert fingerprinted["system_fingerprint"] == "fp"
    assert fingerprinted["choices"] == [
        {"index": 0, "delta": {"content": "x"}, "logprobs": None, "finish_reason": None}
    ]
    body = full.body(wire.assistant_message("x"), "stop")
    assert body["choices"][0] == {
        "index": 0,
        "message": {"role": "assistant", "content": "x"},
        "logprobs": None,
        "finish_reason": "stop",
    }


def test_completion_body_error_body_and_model_list() -> None:
    usage = wire.usage(2, prompt_tokens=1)
    message = wire.assistant_message("ok", reasoning="hm")
    assert REPLY.body(message, "stop", usage) == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "m-1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok", "reasoning_content": "hm"},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }
    assert "usage" not in REPLY.body(message)
    assert wire.error_body("no", "rate_limit_error", "rate_limit_exceeded") == {
        "error": {"message": "no", "type": "rate_limit_error", "code": "rate_limit_exceeded"}
    }
    assert wire.model_list(["a"], owned_by="me", created=7) == {
        "object": "list",
        "data": [{"id": "a", "object": "model", "created": 7, "owned_by": "me"}],
    }


def test_sse_framing_is_data_lines_of_compact_utf8_json() -> None:
    event = wire.sse_event({"a": "日本", "b": [1, None]})
    assert event == 'data: {"a":"日本","b":[1,null]}\n\n'.encode()
    assert wire.sse_event("[DONE]") == wire.DONE_EVENT == b"data: [DONE]\n\n"
    both = wire.sse_events([{"a": 1}, {"b": 2}])
    assert both == b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'
    assert wire.sse_events([{"a": 1}], done=False) == b'data: {"a":1}\n\n'


# ---- read back by the project's client ---------------------------------------------------------


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> EndpointClient:
    config = EndpointConfig(name="gateway", base_url="http://wire.test")  # type: ignore[arg-type]
    return EndpointClient(config, transport=httpx.MockTransport(handler))


def _request(stream: bool = True) -> ChatRequest:
    return ChatRequest(model="m-1", messages=[{"role": "user", "content": "q"}], stream=stream)


def _thinking_stream(field: str) -> bytes:
    chunks = [REPLY.role(), *(REPLY.reasoning(t, field) for t in THOUGHTS)]
    chunks += [REPLY.content(a) for a in ANSWER]
    usage = wire.usage(6, prompt_tokens=4, reasoning_tokens=3)
    return wire.sse_events([*chunks, REPLY.finish("length"), REPLY.usage_chunk(usage)])


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_the_client_reads_a_built_stream_back_exactly(field: str) -> None:
    body = _thinking_stream(field)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    async with _client(handler) as client:
        events = [e async for e in client.stream_chat(_request())]
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "".join(THOUGHTS)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "".join(ANSWER)
    usage = [e.usage for e in events if isinstance(e, UsageReport)]
    assert usage == [
        Usage(prompt_tokens=4, completion_tokens=6, total_tokens=10, reasoning_tokens=3)
    ]
    assert not [e for e in events if isinstance(e, Notice | StreamFailed)]  # a clean end
    assert events[-1] == Finished(reason="length")


async def test_the_client_reads_a_built_completion_back_exactly() -> None:
    message = wire.assistant_message("".join(ANSWER), reasoning="".join(THOUGHTS))
    body = REPLY.body(message, "stop", wire.usage(6, prompt_tokens=4, reasoning_tokens=3))

    async with _client(lambda request: httpx.Response(200, json=body)) as client:
        result = await client.chat(_request(stream=False))
    assert (result.text, result.reasoning) == ("".join(ANSWER), "".join(THOUGHTS))
    assert result.finish_reason == "stop"
    assert result.usage == Usage(
        prompt_tokens=4, completion_tokens=6, total_tokens=10, reasoning_tokens=3
    )


async def test_the_client_reads_built_errors_and_model_lists() -> None:
    error = wire.error_body("Incorrect API key provided.", code="invalid_api_key")
    assert server_message(json.dumps(error)) == "Incorrect API key provided."

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json=wire.model_list(["b", "a"], owned_by="x"))
        return httpx.Response(401, json=error)

    async with _client(handler) as client:
        assert await client.models() == ["b", "a"]
        events = [e async for e in client.stream_chat(_request())]
        with pytest.raises(EndpointError) as raised:
            await client.chat(_request(stream=False))
    failed = events[-1]
    assert isinstance(failed, StreamFailed) and failed.status_code == 401
    assert "Incorrect API key provided." in failed.message
    assert "Incorrect API key provided." in str(raised.value)
