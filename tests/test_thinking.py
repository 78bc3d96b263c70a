"""Reasoning models: thinking in all four shapes, through the client and a run, on loopback.

Shapes: `reasoning_content` (think-rc), `reasoning` (think-r), inline `<think>…</think>`
(think-inline) and a bare `</think>` with no opening tag (think-bare). Plus what goes wrong
with thinking: a stream that ends mid-thinking, one cut by max_tokens, an error after it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp, Receive, Scope, Send

from scillm_tui.core.client import ChatRequest, EndpointClient
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.events import (
    AnswerWasThinking,
    Finished,
    ReasoningDelta,
    StreamFailed,
    TextDelta,
    VariantQueued,
    VariantReasoning,
    VariantRethink,
)
from scillm_tui.core.health_report import HealthReport, endpoint_limits
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.runs import CHARS_PER_TOKEN_ESTIMATE, Run, RunSpec, VariantState
from scillm_tui.core.thinking import ThinkingSplitter, split_thinking
from scillm_tui.demo.answers import stream_pieces
from scillm_tui.demo.server import BackgroundServer
from tests.engine_support import make_backends
from tests.servers.fault_app import (
    EXPECTED_REASONING,
    EXPECTED_TEXT,
    THINK_REASONING,
    create_fault_app,
)

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
BOUND_S = 15.0  # "it ends at all", never a performance claim
SHAPES = ["think-rc", "think-r", "think-inline", "think-bare"]
REQUEST = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])


def consume(events: list[Any]) -> tuple[str, str]:
    """(thinking, answer) as a consumer applying the stream events builds them."""
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


def client_for(base_url: str, *, name: str = "gateway") -> EndpointClient:
    config = EndpointConfig(name=name, base_url=base_url)  # type: ignore[arg-type]
    return EndpointClient(config, idle_timeout_s=2.0, retry=FAST)


async def stream(client: EndpointClient, model: str) -> list[Any]:
    async with asyncio.timeout(BOUND_S):
        return [e async for e in client.stream_chat(REQUEST.model_copy(update={"model": model}))]


@pytest.fixture
async def client(fault_server: BackgroundServer) -> AsyncIterator[EndpointClient]:
    async with client_for(fault_server.base_url) as c:
        yield c


async def drive(run: Run) -> list[Any]:
    async with asyncio.timeout(BOUND_S):
        return [event async for event in run.events()]


# ---- the client: four shapes, streamed and not ---------------------------------------------------


@pytest.mark.parametrize("scenario", SHAPES)
async def test_streamed_thinking_is_apart_from_the_answer(
    client: EndpointClient, scenario: str
) -> None:
    events = await stream(client, scenario)
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"
    assert consume(events) == (EXPECTED_REASONING[scenario], EXPECTED_TEXT[scenario])
    assert any(isinstance(e, ReasoningDelta | AnswerWasThinking) for e in events)
    if scenario in ("think-rc", "think-r", "think-inline"):  # the answer is never thinking
        answer = "".join(e.text for e in events if isinstance(e, TextDelta))
        assert answer == EXPECTED_TEXT[scenario]
    usage = [e.usage for e in events if e.kind == "usage"]
    expected = None if scenario == "think-r" else len(stream_pieces(THINK_REASONING))
    assert [u.reasoning_tokens for u in usage] == [expected]


@pytest.mark.parametrize("scenario", SHAPES)
async def test_non_streamed_thinking_is_apart_from_the_answer(
    client: EndpointClient, scenario: str
) -> None:
    result = await client.chat(REQUEST.model_copy(update={"model": scenario}))
    assert (result.reasoning, result.text) == (
        EXPECTED_REASONING[scenario],
        EXPECTED_TEXT[scenario],
    )
    expected = None if scenario == "think-r" else len(stream_pieces(THINK_REASONING))
    assert result.usage is not None and result.usage.reasoning_tokens == expected


def sse(*deltas: dict[str, Any]) -> list[bytes]:
    """One read per delta, then a finish and [DONE]."""
    reads = [
        f"data: {json.dumps({'choices': [{'delta': d, 'finish_reason': None}]})}\n\n".encode()
        for d in deltas
    ]
    reads.append(b'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')
    return reads


async def mock_stream(reads: list[bytes], content_type: str = "text/event-stream") -> list[Any]:
    async def body() -> AsyncIterator[bytes]:
        for part in reads:
            yield part
            await asyncio.sleep(0)

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body())

    config = EndpointConfig(name="gateway", base_url="http://gateway.test")
    client = EndpointClient(
        config, transport=httpx.MockTransport(handler), retry=RetryPolicy(max_attempts=1)
    )
    async with client:
        return [e async for e in client.stream_chat(REQUEST)]


async def test_a_bare_close_tag_turns_the_answer_so_far_into_thinking() -> None:
    events = await mock_stream(
        sse({"content": "Hmm, let me"}, {"content": " see.</th"}, {"content": "ink>\n\n42"})
    )
    kinds = [e.kind for e in events]
    assert kinds == ["delta", "delta", "rethink", "delta", "finish"]
    assert consume(events) == ("Hmm, let me see.", "42")


async def test_after_the_answer_started_tags_are_literal() -> None:
    events = await mock_stream(
        sse({"content": "<think>a</think>b"}, {"content": " <think>c</think>"})
    )
    assert consume(events) == ("a", "b <think>c</think>")


async def test_content_after_a_reasoning_field_is_all_answer() -> None:
    events = await mock_stream(
        sse({"reasoning_content": "plan", "content": None}, {"content": "x</think>y"})
    )
    assert consume(events) == ("plan", "x</think>y")
    assert not any(isinstance(e, AnswerWasThinking) for e in events)


async def test_a_partial_tag_held_back_is_kept_when_the_stream_drops() -> None:
    reads = [b'data: {"choices": [{"delta": {"content": "<think>deep </thi"}}]}\n\n']

    async def body() -> AsyncIterator[bytes]:
        yield reads[0]
        raise httpx.ReadError("cut")

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    config = EndpointConfig(name="gateway", base_url="http://gateway.test")
    client = EndpointClient(
        config, transport=httpx.MockTransport(handler), retry=RetryPolicy(max_attempts=1)
    )
    async with client:
        events = [e async for e in client.stream_chat(REQUEST)]
    assert isinstance(events[-1], StreamFailed)
    assert consume(events) == ("deep </thi", "")


async def test_an_error_before_any_text_does_not_say_mid_stream(client: EndpointClient) -> None:
    events = await stream(client, "error-first")
    failed = events[-1]
    assert isinstance(failed, StreamFailed) and failed.category == "stream_error"
    assert "before any text" in failed.message and "mid-stream" not in failed.message
    assert "upstream model crashed" in failed.message


async def test_an_error_after_thinking_keeps_it_and_says_mid_stream(
    client: EndpointClient,
) -> None:
    events = await stream(client, "think-error")
    failed = events[-1]
    assert isinstance(failed, StreamFailed) and "mid-stream" in failed.message
    assert consume(events) == (THINK_REASONING, "")
    assert not any(e.kind == "retrying" for e in events)  # thinking arrived: no retry


# ---- the inline splitter against the reference split ---------------------------------------------

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
bits = st.text(st.sampled_from("ab <>/\n"), max_size=6)


def split_incrementally(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkingSplitter()
    thinking: list[str] = []
    answer: list[str] = []
    for part in [*(p for piece in pieces for p in splitter.feed(piece)), *splitter.flush()]:
        kind, text = part
        if kind == "reasoning":
            thinking.append(text)
        elif kind == "answer":
            answer.append(text)
        else:
            thinking.extend(answer)
            answer.clear()
    return "".join(thinking), "".join(answer)


@PROPERTY
@given(
    lead=st.sampled_from(["", " ", "\n  "]),
    opening=st.booleans(),
    closing=st.booleans(),
    thought=bits,
    answer=bits,
    tail=st.sampled_from(["", "</think>", "<think>", "</thi"]),
    cuts=st.lists(st.integers(0, 60), max_size=8),
)
def test_any_split_of_the_tags_gives_the_reference_split(
    lead: str,
    opening: bool,
    closing: bool,
    thought: str,
    answer: str,
    tail: str,
    cuts: list[int],
) -> None:
    text = lead + ("<think>" if opening else "") + thought
    text += ("</think>" if closing else "") + answer + tail
    points = sorted({c for c in cuts if 0 < c < len(text)})
    edges = [0, *points, len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(edges)]
    assert split_incrementally(pieces) == split_thinking(text)


@pytest.mark.parametrize("opening", [True, False])
def test_every_cut_position_of_both_tags(opening: bool) -> None:
    text = ("  <think>" if opening else "") + "why</think>\n\nso"
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            assert split_incrementally([text[:i], text[i:j], text[j:]]) == ("why", "so"), (i, j)


# ---- runs: the variant's state -------------------------------------------------------------------


async def test_a_run_keeps_thinking_and_answer_apart_in_every_shape(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(chunk_delay_s=0.01)
    backends = make_backends(server.base_url, retry=FAST)
    try:
        run = Run(RunSpec(prompt="q", models=SHAPES, n=4), backends)
        events = await drive(run)
    finally:
        await backends.aclose()
    thinking_tokens = len(stream_pieces(THINK_REASONING))
    for state in run.variants.values():
        name = state.model
        assert state.status == "done", state.error
        assert state.text == EXPECTED_TEXT[name]
        assert state.reasoning == EXPECTED_REASONING[name]
        assert state.judgeable and state.no_answer_reason is None
        assert state.phase == "answering"
        assert state.ttft_ms is not None and state.ttft_answer_ms is not None
        assert state.ttft_ms < state.ttft_answer_ms
        assert state.think_ms is not None and state.think_ms > 0
        if name == "think-r":  # no reasoning_tokens in its usage: estimated
            assert state.reasoning_tokens_estimated
            assert state.reasoning_tokens == round(len(THINK_REASONING) / CHARS_PER_TOKEN_ESTIMATE)
        else:
            assert not state.reasoning_tokens_estimated
            assert state.reasoning_tokens == thinking_tokens
            assert state.answer_tokens == len(stream_pieces(EXPECTED_TEXT[name]))
    by_kind = {e.kind for e in events}
    assert {"reasoning", "delta"} <= by_kind
    assert all(e.variant_id for e in events if isinstance(e, VariantReasoning | VariantRethink))


async def test_thinking_that_never_ends_and_thinking_cut_by_max_tokens(
    fault_server: BackgroundServer,
) -> None:
    backends = make_backends(fault_server.base_url, retry=FAST)
    try:
        run = Run(RunSpec(prompt="q", models=["think-unclosed", "think-length"], n=2), backends)
        await drive(run)
    finally:
        await backends.aclose()
    unclosed, cut = run.variants.values()
    assert unclosed.reasoning == EXPECTED_REASONING["think-unclosed"]  # "</thi" held, then kept
    assert unclosed.text == "" and not unclosed.judgeable
    assert unclosed.no_answer_reason == "no answer: only thinking"
    assert unclosed.phase == "thinking" and unclosed.ttft_answer_ms is None
    assert cut.finish_reason == "length" and cut.reasoning == THINK_REASONING
    assert cut.no_answer_reason == "no answer: cut while thinking (length)"
    assert not cut.judgeable


async def test_an_error_after_thinking_keeps_the_thinking_in_the_variant(
    fault_server: BackgroundServer,
) -> None:
    backends = make_backends(fault_server.base_url, retry=FAST)
    try:
        run = Run(RunSpec(prompt="q", models=["think-error"], n=1), backends)
        await drive(run)
    finally:
        await backends.aclose()
    state = run.variants["v1"]
    assert state.status == "error" and state.reasoning == THINK_REASONING
    assert state.error is not None and "mid-stream" in state.error


def test_answer_was_thinking_moves_the_answer_and_restarts_it() -> None:
    state = VariantState(id="v1", model="m", endpoint="gateway", wire_model="m")
    state.started_at = 1.0
    state.add_text("Let me ", 2.0)
    state.add_text("think.", 2.5)
    state.answer_was_thinking()
    assert (state.reasoning, state.text, state.chars) == ("Let me think.", "", 0)
    assert state.first_reasoning_at == 2.0 and state.first_answer_at is None
    assert state.phase == "thinking"
    state.add_text("42", 3.0)
    assert state.text == "42" and state.ttft_answer_ms == 2000 and state.think_ms == 1000
    for _ in range(600):  # the pieces are merged as they pile up
        state.add_reasoning("x", 4.0)
    assert state.reasoning == "Let me think." + "x" * 600
    assert len(state._thinking.parts) == 1


def test_thinking_keeps_being_merged_after_the_answer_moved_to_it() -> None:
    """The moved answer is one more piece: thinking that then streams on is still merged
    every so often (not kept as thousands of tiny strings, ~15x their size)."""
    state = VariantState(id="v1", model="m", endpoint="gateway", wire_model="m")
    for _ in range(255):  # one short of a merge
        state.add_reasoning("x", 1.0)
    state.add_text("Let me think.", 2.0)
    state.answer_was_thinking()
    for _ in range(2000):
        state.add_reasoning("y", 3.0)
    assert len(state._thinking.parts) < 300
    assert state.reasoning == "x" * 255 + "Let me think." + "y" * 2000


# ---- tokens per second ---------------------------------------------------------------------------


def test_tokens_per_s_needs_a_span_of_reads() -> None:
    state = VariantState(id="v1", model="m", endpoint="gateway", wire_model="m")
    assert state.tokens_per_s is None and state.tokens_per_s_note == "no answer text yet"
    state.add_text("x" * 4000, 10.0, chunks=200)  # one burst: no rate, not 21224 t/s
    assert state.tokens_per_s is None
    assert state.tokens_per_s_note == "all text arrived at once"
    state.add_text("y" * 40, 10.1)  # two reads, but 0.1 s apart
    assert state.tokens_per_s is None
    state.add_reasoning("thinking is not in the answer's rate", 10.2)
    state.add_text("z" * 40, 11.0)
    assert state.tokens_per_s_note is None
    assert state.tokens_per_s == pytest.approx(round(4080 / CHARS_PER_TOKEN_ESTIMATE) / 1.0)


async def test_a_burst_stream_has_no_rate(fault_server: BackgroundServer) -> None:
    backends = make_backends(fault_server.base_url, retry=FAST)
    try:
        run = Run(RunSpec(prompt="q", models=["burst"], n=1), backends)
        await drive(run)
    finally:
        await backends.aclose()
    state = run.variants["v1"]
    assert state.status == "done" and state.tokens_per_s is None
    assert state.tokens_per_s_note == "all text arrived at once"


# ---- endpoint limits: queued here, not in the server's queue -------------------------------------


class Arrivals:
    """ASGI wrapper: when each chat request arrives, and the most in flight at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state = app.state  # type: ignore[attr-defined]
        self._lock = threading.Lock()
        self.arrived: list[float] = []
        self.active = 0
        self.most = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/chat/completions":
            await self.app(scope, receive, send)
            return
        with self._lock:
            self.arrived.append(time.perf_counter())
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.active -= 1


def test_limits_come_from_the_sidecars_healthz() -> None:
    def report(name: str, healthz: dict[str, Any] | None) -> HealthReport:
        return HealthReport(
            endpoint=name, base_url="http://x", status="up", message="ok", healthz=healthz
        )  # type: ignore[arg-type]

    reports = {
        "sidecar": report("sidecar", {"ok": True, "concurrency": 4}),
        "gateway": report("gateway", {"concurrency": "lots"}),
    }
    assert endpoint_limits(reports) == {"sidecar": 4}  # type: ignore[arg-type]
    assert report("sidecar", {"concurrency": True}).concurrency is None
    assert report("sidecar", None).concurrency is None


async def test_variants_over_the_sidecars_limit_wait_queued_and_ttft_skips_the_wait() -> None:
    arrivals = Arrivals(
        create_fault_app(slow_tokens_per_s=40, healthz={"ok": True, "concurrency": 4})
    )
    with BackgroundServer(arrivals) as server:
        backends = make_backends(sidecar=server.base_url, retry=FAST)
        try:
            limits = endpoint_limits({"sidecar": await backends.probe("sidecar")})
            assert limits == {"sidecar": 4}
            run = Run(
                RunSpec(prompt="q", target="sidecar", models=["slow"], n=6),
                backends,
                endpoint_limits=limits,
            )
            queued_reasons: dict[str, str | None] = {}

            async def watch() -> list[Any]:
                seen = []
                async with asyncio.timeout(BOUND_S):
                    async for event in run.events():
                        seen.append(event)
                        if isinstance(event, VariantQueued) and event.reason:
                            queued_reasons[event.variant_id] = run.variants[
                                event.variant_id
                            ].queued_reason
                return seen

            events = await watch()
        finally:
            await backends.aclose()
    states = list(run.variants.values())
    assert all(v.status == "done" for v in states)
    assert arrivals.most == 4 and len(arrivals.arrived) == 6
    waited = [e for e in events if isinstance(e, VariantQueued) and e.reason]
    assert [e.reason for e in waited] == ["the sidecar runs 4 at a time"] * 2
    assert set(queued_reasons.values()) == {"the sidecar runs 4 at a time"}
    first_end = min(v.ended_at for v in states if v.ended_at is not None)
    for event in waited:
        state = run.variants[event.variant_id]
        assert state.queued_reason is None  # it started
        assert state.started_at is not None and state.started_at >= first_end
        # The request left when the variant started, so its TTFT has no queue in it.
        assert min(t for t in arrivals.arrived if t >= state.started_at) >= state.started_at
        assert state.ttft_ms is not None and state.ttft_ms < state.duration_ms  # type: ignore[operator]
    late = sorted(arrivals.arrived)[4:]
    assert min(late) >= first_end - 0.05  # the server never queued them


# ---- the demo's thinking models ------------------------------------------------------------------


@pytest.mark.parametrize("model", ["demo-think", "demo-think-inline"])
async def test_the_demos_thinking_models_think_then_answer(
    demo_server: BackgroundServer, model: str
) -> None:
    async with client_for(demo_server.base_url) as client:
        events = await stream(client, model)
        result = await client.chat(REQUEST.model_copy(update={"model": model}))
    thinking, answer = consume(events)
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"
    assert 200 <= len(thinking) <= 1000 and "<think>" not in thinking
    assert len(answer.split()) > 20 and "</think>" not in answer and answer == answer.lstrip()
    first_answer = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert not any(isinstance(e, ReasoningDelta) for e in events[first_answer:])
    usage = next(e.usage for e in events if e.kind == "usage")
    assert usage.reasoning_tokens is not None and usage.reasoning_tokens > 0
    assert usage.completion_tokens is not None
    assert usage.completion_tokens > usage.reasoning_tokens
    assert result.reasoning and result.text and "<think>" not in result.text + result.reasoning
    assert result.usage is not None and result.usage.reasoning_tokens


async def test_the_demos_thinking_can_be_cut_by_max_tokens(demo_server: BackgroundServer) -> None:
    backends = make_backends(demo_server.base_url, retry=FAST)
    try:
        spec = RunSpec(prompt="explain CRDTs", models=["demo-think-inline"], n=1, max_tokens=5)
        run = Run(spec, backends)
        await drive(run)
    finally:
        await backends.aclose()
    state = run.variants["v1"]
    assert state.finish_reason == "length" and state.reasoning and not state.text
    assert state.no_answer_reason == "no answer: cut while thinking (length)"
