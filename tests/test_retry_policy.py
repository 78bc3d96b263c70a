"""Retry policy: what is retried, how long we wait, and that it is bounded."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import httpx
import pytest

from scillm_tui.core.client import ChatRequest, EndpointClient
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.errors import EndpointError
from scillm_tui.core.retry import RetryPolicy, retry_after_seconds

FAST = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002, max_retry_after_s=0.05)
GATEWAY = EndpointConfig(name="gateway", base_url="http://gw.test")
REQUEST = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])


def sse_ok(text: str = "hello") -> httpx.Response:
    body = f"data: {json.dumps({'choices': [{'delta': {'content': text}}]})}\n\ndata: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], policy: RetryPolicy = FAST
) -> EndpointClient:
    return EndpointClient(GATEWAY, transport=httpx.MockTransport(handler), retry=policy)


async def collect(client: EndpointClient) -> list:
    return [event async for event in client.stream_chat(REQUEST)]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried_then_succeed(status: int) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return (
            httpx.Response(status, json={"error": {"message": "busy"}})
            if len(calls) == 1
            else sse_ok()
        )

    events = await collect(client_for(handler))
    kinds = [e.kind for e in events]
    assert kinds == ["retrying", "delta", "finish"]
    assert events[0].attempt == 2 and events[0].max_attempts == FAST.max_attempts
    assert f"HTTP {status}" in events[0].cause
    assert len(calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(status: int) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json={"error": {"message": "nope"}})

    events = await collect(client_for(handler))
    assert [e.kind for e in events] == ["error"]
    assert len(calls) == 1
    assert events[0].status_code == status


async def test_retries_are_bounded_and_say_so() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, json={"error": {"message": "slow down"}})

    events = await collect(client_for(handler))
    assert len(calls) == FAST.max_attempts
    assert [e.kind for e in events].count("retrying") == FAST.max_attempts - 1
    assert events[-1].kind == "error"
    assert events[-1].category == "rate_limited"
    assert f"gave up after {FAST.max_attempts} attempts" in events[-1].message


async def test_retry_after_is_honoured_and_capped() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0.02"})
        if len(calls) == 2:
            return httpx.Response(429, headers={"Retry-After": "3600"})
        return sse_ok()

    events = await collect(client_for(handler))
    waits = [e.wait_s for e in events if e.kind == "retrying"]
    assert waits == [0.02, FAST.max_retry_after_s]


def test_retry_after_forms() -> None:
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "150"})) == 0.15
    assert retry_after_seconds(httpx.Headers({"Retry-After": "2"})) == 2.0
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({})) is None
    past = retry_after_seconds(httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert past == 0.0


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=5, jitter=0.25)
    rng = random.Random(1)
    first = [policy.backoff(1, rng) for _ in range(50)]
    third = [policy.backoff(3, rng) for _ in range(50)]
    assert all(0.75 <= d <= 1.25 for d in first) and len(set(first)) > 1
    assert all(3.0 <= d <= 5.0 for d in third)
    assert all(d <= 6.25 for d in (policy.backoff(10, rng) for _ in range(50)))


async def test_connection_errors_before_text_are_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("[Errno 104] Connection reset by peer")
        return sse_ok()

    events = await collect(client_for(handler))
    assert [e.kind for e in events] == ["retrying", "delta", "finish"]
    assert "reset" in events[0].cause


@pytest.mark.parametrize(
    "error", ["[Errno 111] Connection refused", "[Errno -2] Name or service not known"]
)
async def test_refused_and_unresolvable_hosts_fail_fast(error: str) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError(error)

    events = await collect(client_for(handler))
    assert [e.kind for e in events] == ["error"]
    assert len(calls) == 1
    assert "gave up" not in events[0].message


async def test_non_streaming_chat_retries_and_raises_clear_errors() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(503)
        return httpx.Response(401, json={"error": {"message": "bad key"}})

    with pytest.raises(EndpointError) as info:
        await client_for(handler).chat(REQUEST)
    assert info.value.category == "auth"
    assert "CHUTES_API_KEY" in info.value.message
    assert len(calls) == 2


async def test_quick_timeouts_are_retried_within_one_idle_timeout() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            raise httpx.ConnectTimeout("timed out")
        return sse_ok()

    events = await collect(client_for(handler))
    assert [e.kind for e in events] == ["retrying", "retrying", "delta", "finish"]
    assert "connect timeout" in events[0].cause
