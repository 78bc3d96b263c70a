"""`EndpointClient.stream_chat` against real loopback servers: every stream tolerance.

Each test streams from the fault server (the model name picks the misbehaviour) through
the real client and HTTP stack, and checks the exact text and how the stream ended.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scillm_tui.core.backends import Backends
from scillm_tui.core.client import ChatRequest, EndpointClient
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.errors import EndpointError
from scillm_tui.core.events import (
    Finished,
    Notice,
    Retrying,
    StreamFailed,
    TextDelta,
    UsageReport,
)
from scillm_tui.core.lanes import Lanes
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.settings import load_settings
from scillm_tui.demo.server import BackgroundServer
from tests.servers.fault_app import EXPECTED_TEXT, MALFORMED_AFTER, MALFORMED_BEFORE

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
IDLE_S = 2.0  # generous: a loaded machine must not make a good stream "silent"
SHORT_IDLE_S = 0.4  # for the tests that wait for the idle timeout on purpose
BOUND_S = 10.0  # generous upper bound for "it returns at all"; never a performance claim


def make_client(
    base_url: str,
    *,
    name: str = "gateway",
    key: str | None = None,
    idle_timeout_s: float = IDLE_S,
    retry: RetryPolicy = FAST,
) -> EndpointClient:
    config = EndpointConfig(
        name=name,  # type: ignore[arg-type]
        base_url=base_url,
        api_key=SecretStr(key) if key else None,
    )
    return EndpointClient(config, idle_timeout_s=idle_timeout_s, retry=retry)


def request(model: str) -> ChatRequest:
    return ChatRequest(model=model, messages=[{"role": "user", "content": "say it"}])


class Outcome:
    """Everything one `stream_chat` produced."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self.text = "".join(e.text for e in events if isinstance(e, TextDelta))
        self.last = events[-1]
        self.notices = [e for e in events if isinstance(e, Notice)]
        self.retries = [e for e in events if isinstance(e, Retrying)]
        self.usage = [e.usage for e in events if isinstance(e, UsageReport)]

    @property
    def failed(self) -> StreamFailed:
        assert isinstance(self.last, StreamFailed), self.last
        return self.last

    @property
    def finished(self) -> Finished:
        assert isinstance(self.last, Finished), self.last
        return self.last


async def stream(client: EndpointClient, model: str) -> Outcome:
    async with asyncio.timeout(BOUND_S):
        events = [event async for event in client.stream_chat(request(model))]
    terminal = [e for e in events if isinstance(e, Finished | StreamFailed)]
    assert terminal == [events[-1]], "exactly one terminal event, and it comes last"
    return Outcome(events)


@pytest.fixture
async def client(fault_server: BackgroundServer) -> AsyncIterator[EndpointClient]:
    async with make_client(fault_server.base_url) as c:
        yield c


def faults(server: BackgroundServer) -> Any:
    return server.app.state.faults


async def wait(fn: Callable[..., bool], *args: Any) -> bool:
    return await asyncio.to_thread(fn, *args)


# ---- streams that end well -----------------------------------------------------------------------


async def test_ok_stream_has_exact_text_stop_and_usage(client: EndpointClient) -> None:
    out = await stream(client, "ok")
    assert out.text == EXPECTED_TEXT["ok"]
    assert out.finished.reason == "stop"
    assert len(out.usage) == 1
    assert out.usage[0].completion_tokens == len(EXPECTED_TEXT["ok"].split())
    assert out.usage[0].prompt_tokens == 11
    assert not out.notices and not out.retries


async def test_stream_without_done_marker_still_finishes(client: EndpointClient) -> None:
    out = await stream(client, "no-done")
    assert out.text == EXPECTED_TEXT["no-done"]
    # The server never sent a finish_reason: say so rather than invent "stop".
    assert out.finished.reason is None
    assert out.usage == []


async def test_usage_chunk_with_empty_choices_is_read(client: EndpointClient) -> None:
    out = await stream(client, "ok")  # the usage chunk has `choices: []`
    assert out.usage and out.usage[0].total_tokens == 11 + len(EXPECTED_TEXT["ok"].split())


async def test_usage_chunk_with_an_empty_delta_in_choices_is_read(client: EndpointClient) -> None:
    out = await stream(client, "usage-in-choices")
    assert out.text == EXPECTED_TEXT["usage-in-choices"]
    assert out.finished.reason == "stop"
    assert [u.completion_tokens for u in out.usage] == [
        len(EXPECTED_TEXT["usage-in-choices"].split())
    ]


async def test_comments_event_lines_and_crlf_are_tolerated(client: EndpointClient) -> None:
    out = await stream(client, "crlf")
    assert out.text == EXPECTED_TEXT["crlf"]
    assert out.finished.reason == "stop"
    assert not out.notices
    assert out.usage


async def test_events_split_across_reads_including_utf8_are_reassembled(
    client: EndpointClient,
) -> None:
    out = await stream(client, "split")
    assert out.text == EXPECTED_TEXT["split"]
    assert "\ufffd" not in out.text
    assert out.finished.reason == "stop"
    assert not out.notices


async def test_malformed_data_line_is_a_notice_and_the_stream_continues(
    client: EndpointClient,
) -> None:
    out = await stream(client, "malformed")
    assert out.text == EXPECTED_TEXT["malformed"]
    assert out.finished.reason == "stop"
    assert len(out.notices) == 1
    assert "this is not json" in out.notices[0].message
    # The notice sits between the text before and after the bad line.
    index = out.events.index(out.notices[0])
    before = "".join(e.text for e in out.events[:index] if isinstance(e, TextDelta))
    assert before == "".join(MALFORMED_BEFORE)
    after = "".join(e.text for e in out.events[index:] if isinstance(e, TextDelta))
    assert after == "".join(MALFORMED_AFTER)


async def test_burst_of_events_in_one_write(client: EndpointClient) -> None:
    out = await stream(client, "burst")
    assert out.text == EXPECTED_TEXT["burst"]
    deltas = [e for e in out.events if isinstance(e, TextDelta)]
    # One event per network read, not per chunk: the burst costs a handful of events.
    assert sum(d.chunks for d in deltas) == 240
    assert len(deltas) < 240
    assert out.finished.reason == "stop"


async def test_unicode_and_markup_lookalikes_arrive_intact(client: EndpointClient) -> None:
    out = await stream(client, "unicode")
    assert out.text == EXPECTED_TEXT["unicode"]
    assert "\ufffd" not in out.text


async def test_one_mebibyte_answer_arrives_intact(client: EndpointClient) -> None:
    out = await stream(client, "big")
    assert len(out.text.encode()) == 1024 * 1024
    assert out.text == EXPECTED_TEXT["big"]
    assert out.finished.reason == "stop"


@pytest.mark.parametrize(
    "scenario",
    ["ok", "no-done", "usage-in-choices", "crlf", "split", "burst", "unicode", "malformed", "slow"],
)
async def test_exact_expected_text(client: EndpointClient, scenario: str) -> None:
    out = await stream(client, scenario)
    assert out.text == EXPECTED_TEXT[scenario]
    assert isinstance(out.last, Finished)


# ---- streams that fail, keeping their text -------------------------------------------------------


async def test_error_object_inside_a_200_stream(client: EndpointClient) -> None:
    out = await stream(client, "error-in-stream")
    assert out.text == EXPECTED_TEXT["error-in-stream"]
    failed = out.failed
    assert failed.category == "stream_error"
    assert "upstream model crashed" in failed.message  # the server's own words
    assert "mid-stream" in failed.message
    assert not out.retries  # text had arrived: never retried (it would duplicate)


async def test_silent_stream_hits_the_idle_timeout_and_keeps_text(
    fault_server: BackgroundServer,
) -> None:
    async with make_client(fault_server.base_url, idle_timeout_s=SHORT_IDLE_S) as client:
        out = await stream(client, "silent")
    assert out.text == EXPECTED_TEXT["silent"]
    failed = out.failed
    assert failed.category == "idle_timeout"
    assert "went silent" in failed.message
    assert f"{SHORT_IDLE_S:g} s" in failed.message
    assert not out.retries
    # Giving up closes the connection: the server sees the client leave.
    assert await wait(faults(fault_server).wait_for_disconnects, 1, BOUND_S)


async def test_drop_mid_stream_is_dropped_with_partial_text(client: EndpointClient) -> None:
    out = await stream(client, "drop")
    assert out.text == EXPECTED_TEXT["drop"]
    failed = out.failed
    assert failed.category == "dropped"
    assert "mid-stream" in failed.message
    assert not out.retries


async def test_hang_without_headers_ends_in_a_bounded_timeout(
    fault_server: BackgroundServer,
) -> None:
    async with make_client(fault_server.base_url, idle_timeout_s=0.2) as client:
        out = await stream(client, "hang")  # bounded by BOUND_S inside `stream`
    assert out.text == ""
    failed = out.failed
    assert failed.category == "timeout"
    assert "no answer" in failed.message
    # A timeout that already took the whole idle timeout is not tried again: the user waits
    # the configured time once, not once per attempt.
    assert out.retries == []
    assert faults(fault_server).attempts["hang"] == 1


async def test_http_error_status_before_streaming_is_an_error_in_words(
    client: EndpointClient,
) -> None:
    out = await stream(client, "404")
    assert out.failed.category == "not_found"
    assert "'404' not found" in out.failed.message
    assert out.failed.status_code == 404


# ---- authentication headers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "expect_header", "absent_header", "expect_value"),
    [
        (None, "authorization", "x-api-key", "Bearer {key}"),
        ("authorization", "authorization", "x-api-key", "Bearer {key}"),
        ("x-api-key", "x-api-key", "authorization", "{key}"),
        ("X-API-KEY", "x-api-key", "authorization", "{key}"),
    ],
)
async def test_gateway_auth_header_follows_the_setting(
    fault_server: BackgroundServer,
    setting: str | None,
    expect_header: str,
    absent_header: str,
    expect_value: str,
) -> None:
    key = "sk-test-header-0123456789"
    overrides: dict[str, object] = {"CHUTES_API_BASE": fault_server.base_url, "CHUTES_API_KEY": key}
    if setting is not None:
        overrides["SCILLM_GATEWAY_AUTH_HEADER"] = setting
    backends = Backends(load_settings(None, **overrides), retry=FAST)
    try:
        assert backends.gateway is not None
        out = await stream(backends.gateway, "ok")
    finally:
        await backends.aclose()
    assert out.text == EXPECTED_TEXT["ok"]
    (recorded,) = faults(fault_server).chat_requests()
    assert recorded.headers[expect_header] == expect_value.format(key=key)
    assert absent_header not in recorded.headers


async def test_sidecar_without_key_sends_no_auth_header(
    fault_server: BackgroundServer,
) -> None:
    async with make_client(fault_server.base_url, name="sidecar") as c:
        out = await stream(c, "ok")
    assert out.text == EXPECTED_TEXT["ok"]
    (recorded,) = faults(fault_server).chat_requests()
    assert "authorization" not in recorded.headers
    assert "x-api-key" not in recorded.headers


# ---- redirects are never followed ----------------------------------------------------------------


def redirect_app(location: str) -> Starlette:
    """Answers every request with a 307 to `location` (another loopback server)."""

    async def redirect(request: Request) -> Response:
        return JSONResponse(
            {"detail": "moved"},
            status_code=307,
            headers={"location": location + request.url.path},
        )

    return Starlette(
        routes=[Route("/{path:path}", redirect, methods=["GET", "POST"])],
    )


async def test_redirect_is_not_followed_and_the_key_stays_home(
    fault_server: BackgroundServer,
) -> None:
    key = "sk-redirect-must-not-travel-42"
    with BackgroundServer(redirect_app(fault_server.base_url)) as redirector:
        async with make_client(redirector.base_url, key=key) as c:
            out = await stream(c, "ok")
            with pytest.raises(EndpointError) as caught:
                await c.chat(request("ok"))
            with pytest.raises(EndpointError):
                await c.models()
    # The other host never heard from us, so it never saw the key.
    assert faults(fault_server).requests == []
    # The result is a clear error, not an empty "finished" answer.
    assert out.text == ""
    failed = out.failed
    assert "redirect" in failed.message
    assert "307" in failed.message
    assert failed.status_code == 307
    assert not out.retries
    assert "redirect" in caught.value.message
    assert key not in failed.message and key not in caught.value.message


# ---- a 200 that is not a chat stream at all ------------------------------------------------------


def not_a_stream_app() -> Starlette:
    """200 answers that carry no chat-completions event: what a web page or a proxy's
    login page behind a wrong base URL looks like."""

    async def chat(request: Request) -> Response:
        model = (await request.json())["model"]
        if model == "html":
            page = "<!doctype html><html><body><h1>Sign in</h1></body></html>"
            return Response(page, media_type="text/html")
        if model == "empty-sse":
            return Response("", media_type="text/event-stream")
        if model == "done-only":  # a real, if empty, answer
            return Response("data: [DONE]\n\n", media_type="text/event-stream")
        return Response(": just a comment\n\n", media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@pytest.mark.parametrize("model", ["html", "empty-sse", "comments-only"])
async def test_a_200_without_any_chat_event_is_an_error_not_an_empty_answer(model: str) -> None:
    with BackgroundServer(not_a_stream_app()) as server:
        async with make_client(server.base_url) as c:
            out = await stream(c, model)
    assert out.text == ""
    failed = out.failed
    assert failed.category == "protocol"
    assert "not with a chat-completions stream" in failed.message
    assert "check the base URL" in failed.message
    if model == "html":
        assert "text/html" in failed.message
    assert not out.retries


async def test_done_alone_is_an_empty_answer_not_an_error() -> None:
    with BackgroundServer(not_a_stream_app()) as server:
        async with make_client(server.base_url) as c:
            out = await stream(c, "done-only")
    assert out.text == "" and out.finished.reason is None


# ---- cancellation --------------------------------------------------------------------------------


async def test_cancelling_the_consumer_closes_the_connection_promptly(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(slow_tokens_per_s=5)  # ~2 s of stream: we leave long before
    state = faults(server)
    got_text = asyncio.Event()
    received: list[str] = []

    async with make_client(server.base_url, idle_timeout_s=30) as c:

        async def consume() -> None:
            async for event in c.stream_chat(request("slow")):
                if isinstance(event, TextDelta) and event.text:
                    received.append(event.text)
                    got_text.set()

        task = asyncio.create_task(consume())
        async with asyncio.timeout(BOUND_S):
            await got_text.wait()
        assert state.active_streams == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The server notices the client leaving well before the stream would have ended.
        assert await wait(state.wait_for_disconnects, 1, 1.5)
        assert await wait(state.wait_for_idle, 1.5)
    assert received and "".join(received) != EXPECTED_TEXT["slow"]
    assert EXPECTED_TEXT["slow"].startswith("".join(received))


async def test_https_endpoints_verify_with_the_trusted_cas_and_http_ones_load_none() -> None:
    """Loading the CA bundle costs ~50 ms a client before the first frame: https clients
    share one load; http clients (sidecar, demo) load none and would refuse any TLS."""

    def tls(base_url: str) -> ssl.SSLContext:
        client = EndpointClient(EndpointConfig(name="gateway", base_url=base_url))
        pool = client._http._transport
        assert isinstance(pool, Lanes)
        lane = pool._lane()  # each connection's transport uses the pool's context
        assert lane._pool._ssl_context is pool.ssl_context
        context = pool.ssl_context
        assert isinstance(context, ssl.SSLContext)
        return context

    first, second = tls("https://gw.test"), tls("HTTPS://other.test")
    assert first is second
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    assert first.cert_store_stats()["x509_ca"] > 10
    plain = tls("http://127.0.0.1:8089")
    assert plain is not first
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0
