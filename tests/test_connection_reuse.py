"""Streams share their endpoint's connections: a batch opens about as many TCP connections
as streams run at once, not one per stream; a cancelled stream drops only its own.

Counted at a real loopback server (`tests.servers.conn_counter`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from scillm_tui.core.batch.prompts import BatchPrompt, prompt_id
from scillm_tui.core.batch.runner import BatchConfig, BatchRunner, new_batch_id
from scillm_tui.core.chat import ChatRequest
from scillm_tui.core.client import EndpointClient
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.events import TextDelta, VariantDelta
from scillm_tui.core.judge import JudgeSpec
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.run_history import HistoryRecorder, HistoryStore
from scillm_tui.core.runs import Run, RunSpec, StreamLimits
from scillm_tui.demo.server import BackgroundServer
from tests.engine_support import make_backends
from tests.servers.conn_counter import ConnCounter
from tests.servers.fault_app import EXPECTED_TEXT, create_fault_app

FAST = RetryPolicy(max_attempts=1)
BOUND_S = 30.0  # "it returns at all", never a performance claim


@pytest.fixture
def counted() -> Iterator[tuple[BackgroundServer, ConnCounter]]:
    app = ConnCounter(create_fault_app(slow_tokens_per_s=2000))
    with BackgroundServer(app) as server:
        yield server, app


def prompts(count: int) -> list[BatchPrompt]:
    texts = [f"question {i}" for i in range(count)]
    return [BatchPrompt(prompt_id(t, None), t, None, (), i + 1) for i, t in enumerate(texts)]


async def test_a_batch_reuses_its_connections(
    counted: tuple[BackgroundServer, ConnCounter], tmp_path: Path
) -> None:
    server, app = counted
    backends = make_backends(server.base_url + "/v1", retry=FAST)
    config = BatchConfig(
        batch_id=new_batch_id(),
        models=["ok", "split"],
        n=2,
        target="gateway",
        judge=JudgeSpec(model="judge-ok", target="gateway"),
        concurrency=4,
    )
    recorder = HistoryRecorder.open(tmp_path / "history.db", enabled=True)
    run_ids: list[str] = []
    runner = BatchRunner(
        prompts(20),
        config,
        backends,
        recorder,
        limits=StreamLimits(4),
        on_prompt=lambda outcome: run_ids.append(outcome.run_id),
    )
    try:
        async with asyncio.timeout(BOUND_S):
            stats = await runner.run()
    finally:
        await backends.aclose()
        await recorder.aclose()
    assert stats.judged == 20 and stats.failed_variants == 0
    # Every answer arrived whole, exactly as sent, over reused connections.
    store = HistoryStore.open(tmp_path / "history.db")
    try:
        runs = [store.load_run(run_id) for run_id in run_ids]
    finally:
        store.close()
    answers = [(v.model, v.answer) for run in runs if run is not None for v in run.variants]
    assert len(answers) == 40
    assert all(answer == EXPECTED_TEXT[model] for model, answer in answers)
    # 40 streams (at most 4 at a time) and 20 judge calls: a few connections, reused,
    # not one per request.
    assert app.connections <= 8, app.connections


async def test_a_cancelled_stream_closes_only_its_connection(
    counted: tuple[BackgroundServer, ConnCounter],
) -> None:
    server, app = counted
    state = server.app.state.faults
    backends = make_backends(server.base_url + "/v1", retry=FAST, idle_s=30)
    try:
        spec = RunSpec(prompt="hi", target="gateway", models=["ok", "ok"], n=2)
        async with asyncio.timeout(BOUND_S):
            async for _ in Run(spec, backends).events():
                pass
        warm = app.connections
        assert warm <= 2
        stuck = Run(RunSpec(prompt="hi", target="gateway", models=["silent"], n=1), backends)
        async with asyncio.timeout(BOUND_S):
            async for event in stuck.events():
                if isinstance(event, VariantDelta) and event.text:
                    stuck.cancel()
        # The server sees the cancelled stream's connection go...
        assert await asyncio.to_thread(state.wait_for_disconnects, 1, 5.0)
        # ...and the others still serve: a run of two opens no new connection.
        before = app.connections
        again = Run(spec, backends)
        async with asyncio.timeout(BOUND_S):
            async for _ in again.events():
                pass
        assert [v.text for v in again.variants.values()] == [EXPECTED_TEXT["ok"]] * 2
        assert app.connections <= before + 1  # at most the cancelled one's replacement
    finally:
        await backends.aclose()


async def test_the_pool_keeps_at_most_pool_size_idle_connections(
    counted: tuple[BackgroundServer, ConnCounter],
) -> None:
    server, app = counted
    config = EndpointConfig(name="gateway", base_url=server.base_url)
    request = ChatRequest(model="ok", messages=[{"role": "user", "content": "hi"}])

    async def answer(client: EndpointClient) -> str:
        return "".join(
            [e.text async for e in client.stream_chat(request) if isinstance(e, TextDelta)]
        )

    async with EndpointClient(config, retry=FAST, pool_size=2) as client:
        for _ in range(2):  # six at once, twice: 2 of the first six are kept for the second
            async with asyncio.timeout(BOUND_S):
                texts = await asyncio.gather(*(answer(client) for _ in range(6)))
            assert texts == [EXPECTED_TEXT["ok"]] * 6
    assert app.connections == 6 + 4
