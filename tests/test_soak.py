"""A bounded soak: 32 concurrent variants, three runs in a row, failures mixed in.

Afterwards nothing may be left behind: no failed "good" variant, no leaked asyncio task,
no open stream on the server, and memory back near where it was after the first run.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tracemalloc
from collections import Counter
from collections.abc import Callable

from scillm_tui.core.backends import Backends
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.runs import Run, RunSpec
from scillm_tui.core.settings import load_settings
from scillm_tui.demo.server import BackgroundServer
from tests.servers.fault_app import EXPECTED_TEXT

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
N = 32
RUNS = 3
FAILING = {
    "401": "auth",
    "drop": "dropped",
    "error-in-stream": "stream_error",
    "404": "not_found",
    "500-forever": "server",
}
# 16 models cycled over 32 variants: 22 good `slow` streams and 10 failing ones.
MODELS = ["slow", "401", "slow", "drop", "slow", "slow", "error-in-stream", "slow"]
MODELS += ["slow", "404", "slow", "slow", "500-forever", "slow", "slow", "slow"]
MEMORY_GROWTH_LIMIT = 8 * 1024 * 1024  # bytes traced by tracemalloc; generous
RSS_GROWTH_LIMIT = 64 * 1024 * 1024


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def settled(baseline: set[asyncio.Task[object]], within_s: float) -> set[object]:
    """Wait (bounded) until no task beyond `baseline` is pending; return those still pending.

    Finishing one finaliser task can free more generators, whose finalisers start new
    short-lived tasks, so wait until the set is empty rather than once.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        pending = {t for t in asyncio.all_tasks() - baseline if not t.done()}
        left = deadline - loop.time()
        if not pending or left <= 0:
            return pending
        await asyncio.wait(pending, timeout=left)


async def one_run(backends: Backends, index: int) -> tuple[Counter[str], list[str]]:
    """Drive one run; return its status counts and any problem found."""
    spec = RunSpec(prompt=f"soak {index}", target="gateway", models=MODELS, n=N)
    run = Run(spec, backends)
    async with asyncio.timeout(30):
        async for _event in run.events():
            pass
    problems = []
    for state in run.variants.values():
        if state.model == "slow":
            if state.status != "done" or state.text != EXPECTED_TEXT["slow"]:
                problems.append(f"{state.id}: {state.status} {state.error} {state.text!r}")
        elif state.status != "error" or state.error_category != FAILING[state.model]:
            problems.append(f"{state.id} ({state.model}): {state.status} {state.error_category}")
    return Counter(v.status for v in run.variants.values()), problems


async def test_soak_three_runs_of_32_variants_leave_nothing_behind(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(slow_tokens_per_s=15)  # ~0.7 s per good stream
    faults = server.app.state.faults
    baseline_tasks = asyncio.all_tasks()
    # A generous idle timeout: a loaded CI machine must not turn a slow stream into a failure.
    settings = load_settings(None, CHUTES_API_BASE=server.base_url, SCILLM_IDLE_TIMEOUT_S="10")

    gc.collect()
    tracemalloc.start()
    try:
        backends = Backends(settings, retry=FAST)
        try:
            counts, problems = await one_run(backends, 0)  # warm-up: pools, caches, imports
            assert problems == [], problems
            gc.collect()
            traced_after_first = tracemalloc.get_traced_memory()[0]
            rss_after_first = rss_bytes()
            for index in range(1, RUNS):
                counts, problems = await one_run(backends, index)
                assert problems == [], problems
            assert counts == {"done": 22, "error": 10}
        finally:
            await backends.aclose()
        gc.collect()
        traced_growth = tracemalloc.get_traced_memory()[0] - traced_after_first
    finally:
        tracemalloc.stop()

    # Every variant of every run reached the server (failed ones retried as documented).
    assert faults.attempts["slow"] == 22 * RUNS
    assert faults.attempts["500-forever"] == 2 * RUNS * FAST.max_attempts
    # Nothing is left open on the server: every stream ended or was cut by the client.
    assert await asyncio.to_thread(faults.wait_for_idle, 5.0)
    assert faults.active_streams == 0
    # Nothing is left running in our event loop. httpx leaves the inner generators of a
    # stream left before its end (after [DONE], or on an error) to the loop's finaliser,
    # which closes each in a short-lived task: give those a bounded moment to finish; a
    # task still pending after that is a leak.
    assert await settled(baseline_tasks, within_s=5.0) == set()
    # Memory: three runs cost no more than one, within generous bounds.
    assert traced_growth < MEMORY_GROWTH_LIMIT, traced_growth
    assert rss_bytes() - rss_after_first < RSS_GROWTH_LIMIT
