"""Property tests for the client's stream parsing, fed through `httpx.MockTransport`.

1. A valid stream cut into reads at arbitrary byte offsets (inside `data:`, inside the
   JSON, inside multi-byte UTF-8 characters, between CR and LF) gives exactly the same
   text and outcome as the uncut stream.
2. Whatever bytes a server sends — random bytes, or JSON of the right shape with the
   wrong types — `stream_chat` never raises: it ends in `Finished` or `StreamFailed`.
   The same for `chat()`, which may only raise `EndpointError`.
3. The per-chunk hot paths give what the general code gives: an event's data as
   httpx_sse's decoder reads it, and a chunk's events as `_chunk_events` makes them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import httpx
from httpx_sse._decoders import SSEDecoder  # the reference for `_SSEData`
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scillm_tui.core.client import ChatRequest, EndpointClient, _chunk_events, _SSEData
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.errors import EndpointError
from scillm_tui.core.events import (
    AnswerWasThinking,
    Finished,
    ReasoningDelta,
    StreamFailed,
    TextDelta,
)
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.thinking import split_thinking

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NO_RETRY = RetryPolicy(max_attempts=1)
CONFIG = EndpointConfig(name="gateway", base_url="http://gateway.test")
REQUEST = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])


def pieces_of(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(body)})
    edges = [0, *points, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(edges) if b > a]


def transport(parts: list[bytes], content_type: str | None) -> httpx.MockTransport:
    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part
            await asyncio.sleep(0)  # each part is its own read

    async def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": content_type} if content_type else {}
        return httpx.Response(200, headers=headers, content=body())

    return httpx.MockTransport(handler)


async def stream_events(parts: list[bytes], content_type: str | None) -> list[Any]:
    client = EndpointClient(CONFIG, transport=transport(parts, content_type), retry=NO_RETRY)
    async with client:
        async with asyncio.timeout(10):
            return [event async for event in client.stream_chat(REQUEST)]


def run(coro_factory: Callable[[], Any]) -> Any:
    return asyncio.run(coro_factory())


# ---- 1. arbitrary read boundaries do not change the result ---------------------------------------


def sse_body(texts: list[str], newline: str, comments: bool, done: bool) -> bytes:
    def event(payload: dict[str, Any] | str) -> str:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        return f"data: {data}{newline}{newline}"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "object": "chat.completion.chunk",
            "choices": [{"delta": delta, "finish_reason": finish}],
        }

    out = [f": ping{newline}{newline}" if comments else ""]
    out.append(event(chunk({"role": "assistant", "content": ""})))
    for text in texts:
        if comments:
            out.append(f"event: message{newline}id: 7{newline}")
        out.append(event(chunk({"content": text})))
    out.append(event(chunk({}, "stop")))
    out.append(event({"choices": [], "usage": {"completion_tokens": len(texts)}}))
    if done:
        out.append(event("[DONE]"))
    return "".join(out).encode("utf-8")


@PROPERTY
@given(
    texts=st.lists(st.text(max_size=12), min_size=1, max_size=10),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    comments=st.booleans(),
    done=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=40),
    data=st.data(),
)
def test_any_split_gives_the_same_text(
    texts: list[str],
    newline: str,
    comments: bool,
    done: bool,
    cuts: list[int],
    data: st.DataObject,
) -> None:
    body = sse_body(texts, newline, comments, done)
    # Make sure some cuts land inside multi-byte characters when there are any.
    multibyte = [i for i, b in enumerate(body) if 0x80 <= b <= 0xBF]
    if multibyte:
        cuts += data.draw(st.lists(st.sampled_from(multibyte), max_size=5))
    whole = run(lambda: stream_events([body], "text/event-stream"))
    split = run(lambda: stream_events(pieces_of(body, cuts), "text/event-stream"))

    expected = "".join(texts)
    for events in (whole, split):
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == expected
        assert events[-1] == Finished(reason="stop")
        usage = [e.usage.completion_tokens for e in events if e.kind == "usage"]
        assert usage == [len(texts)]  # the last event counts too, [DONE] or not
        assert not [e for e in events if e.kind == "notice"]
    assert [e for e in split if e.kind != "delta"] == [e for e in whole if e.kind != "delta"]


# ---- 2. nothing a server sends makes the client raise --------------------------------------------

KEYS = [
    "choices",
    "delta",
    "message",
    "content",
    "text",
    "finish_reason",
    "usage",
    "completion_tokens",
    "prompt_tokens",
    "total_tokens",
    "error",
    "index",
    "reasoning_content",
    "reasoning",
    "completion_tokens_details",
    "reasoning_tokens",
]
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)
content_like = json_values | st.lists(
    st.fixed_dictionaries({}, optional={"type": st.just("text"), "text": json_values}), max_size=3
)
choice_like = st.fixed_dictionaries(
    {},
    optional={
        "delta": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "content": content_like,
                "reasoning_content": json_values,
                "reasoning": json_values,
            },
        ),
        "message": json_values | st.fixed_dictionaries({}, optional={"content": content_like}),
        "text": json_values,
        "finish_reason": json_values,
        "index": json_values,
    },
)
usage_like = json_values | st.dictionaries(
    st.sampled_from(["prompt_tokens", "completion_tokens", "total_tokens"]), json_values
)
chunk_like = st.fixed_dictionaries(
    {},
    optional={
        "choices": json_values | st.lists(choice_like | json_values, max_size=3),
        "usage": usage_like,
        "error": json_values,
    },
)
shaped_json = chunk_like | json_values


def ends_properly(events: list[Any]) -> None:
    assert events, "a stream always ends with an event"
    assert isinstance(events[-1], Finished | StreamFailed)
    assert not any(isinstance(e, Finished | StreamFailed) for e in events[:-1])


@PROPERTY
@given(
    body=st.binary(max_size=600),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=10),
    content_type=st.sampled_from(
        [
            "text/event-stream",
            "application/json",
            "text/plain",
            "text/event-stream; charset=latin-1",
            None,
        ]
    ),
)
def test_arbitrary_bytes_never_raise(
    body: bytes, cuts: list[int], content_type: str | None
) -> None:
    ends_properly(run(lambda: stream_events(pieces_of(body, cuts), content_type)))


@PROPERTY
@given(
    chunks=st.lists(shaped_json, max_size=5),
    done=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
)
def test_json_of_the_wrong_shape_in_a_stream_never_raises(
    chunks: list[Any], done: bool, cuts: list[int]
) -> None:
    lines = [f"data: {json.dumps(c)}\n\n" for c in chunks] + (["data: [DONE]\n\n"] if done else [])
    body = "".join(lines).encode()
    ends_properly(run(lambda: stream_events(pieces_of(body, cuts), "text/event-stream")))


@PROPERTY
@given(answer=shaped_json)
def test_a_plain_json_answer_of_the_wrong_shape_never_raises(answer: Any) -> None:
    body = json.dumps(answer).encode()
    # A server that ignores `stream: true` and answers with one JSON document.
    ends_properly(run(lambda: stream_events([body], "application/json")))

    async def chat() -> None:
        client = EndpointClient(
            CONFIG, transport=transport([body], "application/json"), retry=NO_RETRY
        )
        async with client:
            try:
                result = await client.chat(REQUEST)
            except EndpointError:
                return
            assert isinstance(result.text, str)
            assert result.finish_reason is None or isinstance(result.finish_reason, str)

    run(chat)


# ---- 3. the per-chunk hot paths agree with the general code --------------------------------------

FIELDS = ["", "", "data", "data:", "data: ", "data:x", "data: x", "data:  x", "data : x"]
OTHER_LINES = ["DATA: x", "event: e", "id: 1", "retry: 5", ": ping", "datax: 1", "dat"]
sse_line = st.sampled_from(FIELDS + OTHER_LINES) | st.text(
    st.characters(blacklist_characters="\r\n"), max_size=8
)


@PROPERTY
@given(lines=st.lists(sse_line, max_size=30), cuts=st.lists(st.integers(0, 30), max_size=6))
def test_each_events_data_is_what_httpx_sse_decodes(lines: list[str], cuts: list[int]) -> None:
    reference = SSEDecoder()
    expected = [e.data for e in map(reference.decode, lines) if e is not None and e.data]
    decoder = _SSEData()  # fed the lines in batches, as network reads bring them
    edges = [0, *sorted(c for c in cuts if c < len(lines)), len(lines)]
    found = [d for a, b in itertools.pairwise(edges) for d in decoder.events(lines[a:b])]
    assert [d for d in found if d] == expected  # "" (no text) is skipped by `_on_data`


text_chunk = st.fixed_dictionaries(
    {
        "choices": st.lists(
            st.fixed_dictionaries(
                {
                    "delta": st.fixed_dictionaries(
                        {"content": st.text(max_size=5) | json_values},
                        optional={"reasoning_content": st.sampled_from([None, "", "r"])},
                    )
                },
                optional={"finish_reason": st.sampled_from([None, "", "stop"]) | json_values},
            ),
            min_size=1,
            max_size=2,
        )
    },
    optional={
        "usage": st.sampled_from([None, {"completion_tokens": 3}]) | usage_like,
        "error": st.sampled_from([None, {"message": "overloaded"}]) | json_values,
    },
)


def comparable(result: object) -> object:
    """`_on_data`'s result with each event as its class, reason and fields."""
    if not isinstance(result, list):
        return result
    return [
        (type(e).__name__, getattr(e, "reason", None), getattr(e, "model_dump", dict)())
        for e in result
    ]


TEXT = {"delta": {"content": "a"}}


@PROPERTY
@given(chunk=text_chunk | shaped_json)
@example({"choices": [TEXT]})
@example({"choices": [{**TEXT, "finish_reason": "stop"}]})
@example({"choices": [TEXT], "usage": {"completion_tokens": 3}})
@example({"choices": [TEXT], "error": {"message": "overloaded"}})
def test_a_chunks_events_are_the_same_through_the_hot_path(chunk: Any) -> None:
    data = json.dumps(chunk)
    owner = SimpleNamespace(config=CONFIG)  # all `_on_data` uses of its client
    fast = EndpointClient._on_data(owner, data)  # type: ignore[arg-type]
    assert comparable(fast) == comparable(_chunk_events(json.loads(data), CONFIG.label))


# ---- 4. inline <think> tags cut anywhere, in chunks and in reads ---------------------------------


def thinking_and_answer(events: list[Any]) -> tuple[str, str]:
    thinking: list[str] = []
    answer: list[str] = []
    for event in events:
        if isinstance(event, ReasoningDelta):
            thinking.append(event.text)
        elif isinstance(event, TextDelta):
            answer.append(event.text)
        elif isinstance(event, AnswerWasThinking):
            thinking.extend(answer)
            answer.clear()
    return "".join(thinking), "".join(answer)


@PROPERTY
@given(
    opening=st.booleans(),
    thought=st.text(st.sampled_from("ab <>/é\n"), max_size=10),
    answer=st.text(st.sampled_from("ab <>/é\n"), max_size=10),
    chunk_cuts=st.lists(st.integers(0, 40), max_size=8),
    read_cuts=st.lists(st.integers(0, 2000), max_size=8),
)
def test_inline_tags_cut_anywhere_give_the_reference_split(
    opening: bool, thought: str, answer: str, chunk_cuts: list[int], read_cuts: list[int]
) -> None:
    content = ("\n<think>" if opening else "") + thought + "</think>\n" + answer
    points = sorted({c for c in chunk_cuts if 0 < c < len(content)})
    edges = [0, *points, len(content)]
    pieces = [content[a:b] for a, b in itertools.pairwise(edges)]
    body = sse_body(pieces, "\n", comments=False, done=True)
    events = run(lambda: stream_events(pieces_of(body, read_cuts), "text/event-stream"))
    assert events[-1] == Finished(reason="stop")
    assert thinking_and_answer(events) == split_thinking(content)
