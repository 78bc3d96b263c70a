"""Best-of-N runs against real loopback servers: concurrency, routing, failures, cancel, stats."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from scillm_tui.core.backends import Backends
from scillm_tui.core.errors import ConfigError
from scillm_tui.core.events import (
    VariantCancelled,
    VariantConnecting,
    VariantDelta,
    VariantDone,
    VariantError,
    VariantQueued,
    VariantRetrying,
)
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.runs import CHARS_PER_TOKEN_ESTIMATE, Run, RunSpec
from scillm_tui.core.settings import load_settings
from scillm_tui.demo.server import BackgroundServer
from tests.engine_support import make_backends as shared_make_backends
from tests.servers.fault_app import EXPECTED_TEXT, OK_TEXT, create_fault_app

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=1.0)
BOUND_S = 15.0  # "it ends at all", never a performance claim


class StreamGauge:
    """ASGI wrapper counting chat requests in flight, and the most at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state = app.state  # type: ignore[attr-defined]  # keeps `.state.faults` reachable
        self._lock = threading.Lock()
        self.active = 0
        self.most = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/chat/completions":
            await self.app(scope, receive, send)
            return
        with self._lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.active -= 1


def make_backends(
    gateway: str | None = None, sidecar: str | None = None, *, idle_s: float = 2.0
) -> Backends:
    return shared_make_backends(gateway, sidecar, retry=FAST, idle_s=idle_s)


@pytest.fixture
async def gateway(fault_server: BackgroundServer) -> AsyncIterator[Backends]:
    backends = make_backends(gateway=fault_server.base_url)
    yield backends
    await backends.aclose()


def spec(models: list[str], n: int, **extra: Any) -> RunSpec:
    return RunSpec(prompt="compare these", target="gateway", models=models, n=n, **extra)


async def drive(run: Run, react: Callable[[Any], None] | None = None) -> list[Any]:
    events: list[Any] = []
    async with asyncio.timeout(BOUND_S):
        async for event in run.events():
            events.append(event)
            if react is not None:
                react(event)
    return events


def faults(server: BackgroundServer) -> Any:
    return server.app.state.faults


async def wait(fn: Callable[..., bool], *args: Any) -> bool:
    return await asyncio.to_thread(fn, *args)


# ---- concurrency ---------------------------------------------------------------------------------


async def test_variants_stream_concurrently(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(slow_tokens_per_s=20)  # ~0.5 s per stream
    backends = make_backends(gateway=server.base_url)
    try:
        run = Run(spec(["slow"], 4), backends)
        await drive(run)
    finally:
        await backends.aclose()
    states = list(run.variants.values())
    assert all(v.status == "done" and v.text == EXPECTED_TEXT["slow"] for v in states)
    # Every variant had its first token before any variant finished: they overlapped.
    last_first_token = max(v.first_token_at for v in states if v.first_token_at is not None)
    first_end = min(v.ended_at for v in states if v.ended_at is not None)
    assert last_first_token < first_end


async def test_concurrency_cap_is_respected_on_the_wire() -> None:
    gauge = StreamGauge(create_fault_app(slow_tokens_per_s=100))
    with BackgroundServer(gauge) as server:
        backends = make_backends(gateway=server.base_url)
        try:
            run = Run(spec(["slow"], 6, concurrency=2), backends)
            await drive(run)
        finally:
            await backends.aclose()
    assert all(v.status == "done" for v in run.variants.values())
    assert gauge.most == 2
    assert faults(server).streams_started == 6


async def test_without_a_cap_every_variant_is_open_at_once() -> None:
    gauge = StreamGauge(create_fault_app(slow_tokens_per_s=20))
    with BackgroundServer(gauge) as server:
        backends = make_backends(gateway=server.base_url)
        try:
            await drive(Run(spec(["slow"], 5), backends))
        finally:
            await backends.aclose()
    assert gauge.most == 5


# ---- models and routing --------------------------------------------------------------------------


async def test_models_cycle_over_the_variants(
    fault_server: BackgroundServer, gateway: Backends
) -> None:
    run = Run(spec(["ok", "burst"], 4), gateway)
    assert [v.model for v in run.variants.values()] == ["ok", "burst", "ok", "burst"]
    assert list(run.variants) == ["v1", "v2", "v3", "v4"]
    await drive(run)
    texts = {vid: v.text for vid, v in run.variants.items()}
    assert texts == {
        "v1": EXPECTED_TEXT["ok"],
        "v2": EXPECTED_TEXT["burst"],
        "v3": EXPECTED_TEXT["ok"],
        "v4": EXPECTED_TEXT["burst"],
    }
    assert Counter(r.model for r in faults(fault_server).chat_requests()) == {"ok": 2, "burst": 2}


async def test_a_burst_is_few_events_but_every_chunk_is_counted(gateway: Backends) -> None:
    run = Run(spec(["burst"], 1), gateway)
    events = await drive(run)
    deltas = [e for e in events if isinstance(e, VariantDelta)]
    assert "".join(d.text for d in deltas) == EXPECTED_TEXT["burst"]
    assert len(deltas) < 240  # one event per network read, not per chunk
    assert run.variants["v1"].chunks == 240  # the stats still count the server's chunks


async def test_codex_agent_prefix_routes_to_the_sidecar_without_the_prefix(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    sidecar = make_fault_server()
    gateway_server = make_fault_server()
    backends = make_backends(gateway=gateway_server.base_url, sidecar=sidecar.base_url)
    try:
        run = Run(spec(["codex-agent/ok", "unicode"], 4), backends)
        await drive(run)
    finally:
        await backends.aclose()
    assert [v.endpoint for v in run.variants.values()] == ["sidecar", "gateway"] * 2
    assert [v.wire_model for v in run.variants.values()] == ["ok", "unicode"] * 2
    assert [r.model for r in faults(sidecar).chat_requests()] == ["ok", "ok"]
    assert [r.model for r in faults(gateway_server).chat_requests()] == ["unicode", "unicode"]
    assert run.variants["v1"].text == EXPECTED_TEXT["ok"]
    assert run.variants["v2"].text == EXPECTED_TEXT["unicode"]


async def test_unconfigured_gateway_is_a_config_error_before_streaming(
    fault_server: BackgroundServer,
) -> None:
    backends = make_backends(sidecar=fault_server.base_url)
    try:
        with pytest.raises(ConfigError, match="CHUTES_API_BASE"):
            Run(spec(["codex-agent/ok", "ok"], 2), backends)
        assert faults(fault_server).requests == []
        # Sidecar-only runs are fine without a gateway.
        run = Run(spec(["codex-agent/ok"], 1), backends)
        await drive(run)
    finally:
        await backends.aclose()
    assert run.variants["v1"].status == "done"


# ---- failures stay local -------------------------------------------------------------------------


async def test_mixed_failures_do_not_affect_the_others(gateway: Backends) -> None:
    run = Run(spec(["ok", "401", "drop", "error-in-stream"], 4), gateway)
    events = await drive(run)
    ok, auth, drop, crash = run.variants.values()

    assert ok.status == "done" and ok.text == EXPECTED_TEXT["ok"] and ok.finish_reason == "stop"

    assert auth.status == "error" and auth.error_category == "auth"
    assert auth.error is not None and "key rejected by the gateway (HTTP 401" in auth.error
    assert "CHUTES_API_KEY" in auth.error
    assert auth.text == ""

    assert drop.status == "error" and drop.error_category == "dropped"
    assert drop.text == EXPECTED_TEXT["drop"]  # partial text kept
    assert drop.error is not None and "mid-stream" in drop.error

    assert crash.status == "error" and crash.error_category == "stream_error"
    assert crash.text == EXPECTED_TEXT["error-in-stream"]
    assert crash.error is not None and "upstream model crashed" in crash.error

    errors = {e.variant_id: e for e in events if isinstance(e, VariantError)}
    assert set(errors) == {"v2", "v3", "v4"}
    assert errors["v2"].message == auth.error
    done = [e.variant_id for e in events if isinstance(e, VariantDone)]
    assert done == ["v1"]
    # Each variant's lifecycle starts with queued then connecting.
    for vid in run.variants:
        kinds = [e.kind for e in events if e.variant_id == vid]
        assert kinds[:2] == ["queued", "connecting"]
        assert kinds[-1] in ("done", "error")


async def test_retry_is_visible_with_the_stated_wait(gateway: Backends) -> None:
    run = Run(spec(["429ms-then-ok", "429-then-ok"], 2), gateway)
    events = await drive(run)
    retries = {e.variant_id: e for e in events if isinstance(e, VariantRetrying)}
    assert set(retries) == {"v1", "v2"}
    assert retries["v1"].wait_s == pytest.approx(0.15)  # the server's retry-after-ms
    assert retries["v2"].wait_s == pytest.approx(1.0)  # Retry-After: 1
    for event in retries.values():
        assert event.attempt == 2
        assert event.max_attempts == FAST.max_attempts
        assert "rate limited" in event.cause and "429" in event.cause
    for state in run.variants.values():
        assert state.status == "done" and state.text == OK_TEXT
        assert state.retries == 1
    assert run.variants["v1"].retry_wait_s == pytest.approx(0.15)
    # The retry comes before any text of that variant.
    v1 = [e.kind for e in events if e.variant_id == "v1"]
    assert v1.index("retrying") < v1.index("delta")


async def test_a_long_retry_after_is_capped(fault_server: BackgroundServer) -> None:
    backends = Backends(
        load_settings(None, CHUTES_API_BASE=fault_server.base_url),
        retry=RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05),
    )
    try:
        run = Run(spec(["429-then-ok"], 1), backends)
        events = await drive(run)
    finally:
        await backends.aclose()
    (retry,) = [e for e in events if isinstance(e, VariantRetrying)]
    assert retry.wait_s == pytest.approx(0.05)
    assert run.variants["v1"].status == "done"


async def test_retries_that_never_succeed_say_they_gave_up(gateway: Backends) -> None:
    run = Run(spec(["500-forever"], 1), gateway)
    events = await drive(run)
    state = run.variants["v1"]
    assert state.status == "error" and state.error_category == "server"
    assert state.error is not None and f"gave up after {FAST.max_attempts} attempts" in state.error
    assert sum(isinstance(e, VariantRetrying) for e in events) == FAST.max_attempts - 1


# ---- cancelling ----------------------------------------------------------------------------------


async def test_cancel_the_whole_run_keeps_text_and_closes_connections(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(slow_tokens_per_s=8)  # each stream would take over a second
    backends = make_backends(gateway=server.base_url)
    n = 3
    run = Run(spec(["slow"], n), backends)
    seen_text: set[str] = set()

    def react(event: Any) -> None:
        if isinstance(event, VariantDelta):
            seen_text.add(event.variant_id)
            if len(seen_text) == n:
                run.cancel()

    try:
        events = await drive(run, react)
        assert await wait(faults(server).wait_for_disconnects, n, 5.0)
        assert await wait(faults(server).wait_for_idle, 5.0)
    finally:
        await backends.aclose()
    assert {e.variant_id for e in events if isinstance(e, VariantCancelled)} == set(run.variants)
    for state in run.variants.values():
        assert state.status == "cancelled"
        assert state.text and state.text != EXPECTED_TEXT["slow"]
        assert EXPECTED_TEXT["slow"].startswith(state.text)
        assert state.ended_at is not None
    assert run.finished


async def test_cancel_one_variant_leaves_the_others_running(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(slow_tokens_per_s=25)
    backends = make_backends(gateway=server.base_url)
    run = Run(spec(["slow"], 3), backends)

    def react(event: Any) -> None:
        if isinstance(event, VariantDelta) and event.variant_id == "v2":
            run.cancel("v2")

    try:
        events = await drive(run, react)
        assert await wait(faults(server).wait_for_disconnects, 1, 5.0)
    finally:
        await backends.aclose()
    v1, v2, v3 = run.variants.values()
    assert v2.status == "cancelled"
    assert v2.text and EXPECTED_TEXT["slow"].startswith(v2.text) and v2.text != v1.text
    assert v1.status == v3.status == "done"
    assert v1.text == v3.text == EXPECTED_TEXT["slow"]
    assert [e.variant_id for e in events if isinstance(e, VariantCancelled)] == ["v2"]
    assert faults(server).disconnects == 1


async def test_cancel_before_start_marks_variants_cancelled(gateway: Backends) -> None:
    run = Run(spec(["ok"], 2), gateway)
    run.cancel("v1")
    events = await drive(run)
    assert run.variants["v1"].status == "cancelled"
    assert run.variants["v2"].status == "done"
    assert {e.variant_id for e in events if isinstance(e, VariantQueued)} == {"v2"}


# ---- statistics ----------------------------------------------------------------------------------


async def test_stats_from_server_usage(gateway: Backends) -> None:
    run = Run(spec(["ok", "no-done"], 2), gateway)
    events = await drive(run)
    ok, no_done = run.variants.values()

    deltas = [e for e in events if isinstance(e, VariantDelta) and e.variant_id == "v1"]
    assert ok.chunks == len(deltas) > 1
    assert ok.chars == len(EXPECTED_TEXT["ok"])
    assert ok.usage is not None and ok.usage.completion_tokens == len(EXPECTED_TEXT["ok"].split())
    assert ok.tokens_estimated is False
    assert ok.completion_tokens == ok.usage.completion_tokens
    assert ok.ttft_ms is not None and ok.duration_ms is not None
    assert 0 < ok.ttft_ms <= ok.duration_ms
    assert ok.started_at is not None and ok.first_token_at is not None
    assert ok.started_at <= ok.first_token_at <= ok.ended_at  # type: ignore[operator]

    # No usage from the server: the token count is an estimate, and says so.
    assert no_done.status == "done" and no_done.finish_reason is None
    assert no_done.usage is None and no_done.tokens_estimated is True
    assert no_done.completion_tokens == round(no_done.chars / CHARS_PER_TOKEN_ESTIMATE)
    assert no_done.chars == len(EXPECTED_TEXT["no-done"])


async def test_connecting_precedes_the_request_and_ids_are_stable(gateway: Backends) -> None:
    run = Run(spec(["ok"], 3), gateway)
    events = await drive(run)
    connecting = [e.variant_id for e in events if isinstance(e, VariantConnecting)]
    assert sorted(connecting) == ["v1", "v2", "v3"]
    with pytest.raises(RuntimeError):
        await drive(run)  # a run is driven once
