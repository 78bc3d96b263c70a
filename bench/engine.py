"""Cases 1 and 2: the streaming client and the run engine against a raw httpx consumer.

Run by the orchestrator in a fresh process per measurement set; the loopback server is
another process, so `time.process_time()` here is the consumer's CPU only.

Consumers (all stream the same K chunks per stream, N streams concurrently):

* ``raw``    -- ``httpx.AsyncClient.stream`` + ``aiter_lines`` + ``json.loads`` per
  ``data:`` line: about the least a Python client can do.
* ``client`` -- ``EndpointClient.stream_chat`` (typed events, SSE decoder, retries).
* ``engine`` -- ``Run(RunSpec, Backends).events()``: N variants merged into one stream.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from typing import Any

import httpx

from bench.common import emit, model_name
from scillm_tui.core.backends import Backends
from scillm_tui.core.chat import ChatRequest
from scillm_tui.core.client import EndpointClient
from scillm_tui.core.endpoints import sidecar_config
from scillm_tui.core.runs import Run, RunSpec
from scillm_tui.core.settings import load_settings

MESSAGES = [{"role": "user", "content": "benchmark"}]


def bench_settings(base_url: str, model: str = "bench", n: int = 1) -> Any:
    return load_settings(
        None,
        CODEX_AGENT_API_BASE=base_url,
        CHUTES_MODEL=model,
        JUDGE_MODEL=model,
        BEST_OF_N=n,
        SCILLM_IDLE_TIMEOUT_S=120,
        SCILLM_ARTIFACTS_DIR="/tmp/scillm-bench-artifacts",
    )


def raw_client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(120, connect=10),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
        trust_env=False,
    )


async def raw_streams(http: httpx.AsyncClient, model: str, n: int) -> int:
    """N concurrent streams read with aiter_lines + json.loads; returns content chunks."""

    async def one() -> int:
        body = {"model": model, "messages": MESSAGES, "stream": True}
        count = 0
        async with http.stream(
            "POST", "/v1/chat/completions", json=body, headers={"accept": "text/event-stream"}
        ) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[6:]
                if data == "[DONE]":
                    break
                choices = json.loads(data).get("choices")
                if choices and choices[0].get("delta", {}).get("content"):
                    count += 1
        return count

    return sum(await asyncio.gather(*(one() for _ in range(n))))


async def client_streams(client: EndpointClient, model: str, n: int) -> int:
    """N concurrent `EndpointClient.stream_chat` streams; returns the chunks received (a
    delta carries all the chunks of one network read)."""

    async def one() -> int:
        count = 0
        async for event in client.stream_chat(ChatRequest(model=model, messages=MESSAGES)):
            if event.kind == "delta":
                count += event.chunks
            elif event.kind == "error":
                raise RuntimeError(event.message)
        return count

    return sum(await asyncio.gather(*(one() for _ in range(n))))


async def engine_run(backends: Backends, model: str, n: int) -> int:
    """One best-of-N `Run` (the dashboard's and the CLI's engine); returns the chunks the
    variants received."""
    run = Run(RunSpec(prompt="benchmark", target="sidecar", models=[model], n=n), backends)
    async for event in run.events():
        if event.kind == "error":
            raise RuntimeError(event.message)
    return sum(state.chunks for state in run.variants.values())


class Consumers:
    """The three consumers with their HTTP clients built once, outside any timing (the
    app builds its clients once at start-up too)."""

    def __init__(self, base_url: str) -> None:
        settings = bench_settings(base_url)
        self.raw = raw_client(base_url)
        self.client = EndpointClient(sidecar_config(settings), idle_timeout_s=120)
        self.backends = Backends(settings)

    async def stream(self, kind: str, model: str, n: int) -> int:
        if kind == "raw":
            return await raw_streams(self.raw, model, n)
        if kind == "client":
            return await client_streams(self.client, model, n)
        return await engine_run(self.backends, model, n)

    async def aclose(self) -> None:
        await self.raw.aclose()
        await self.client.aclose()
        await self.backends.aclose()


KINDS = ("raw", "client", "engine")


async def measure(consumers: Consumers, kind: str, model: str, n: int) -> dict[str, Any]:
    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    chunks = await consumers.stream(kind, model, n)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"chunks": chunks, "cpu_s": cpu, "wall_s": wall, "cpu_us_per_chunk": cpu / chunks * 1e6}


async def overhead(params: dict[str, Any]) -> dict[str, Any]:
    """Case 1: for each N, CPU per chunk of raw, client and engine (same process, same run)."""
    base_url, chunks, rate = params["base_url"], params["chunks"], params["rate"]
    model = model_name(chunks, rate)
    consumers = Consumers(base_url)
    try:
        # Warm up every code path (imports, connections, caches) before measuring.
        for kind in KINDS:
            await consumers.stream(kind, model_name(50, 0), 16)
        results: dict[str, Any] = {}
        for n in params["ns"]:
            row: dict[str, Any] = {}
            for kind in KINDS:
                row[kind] = await measure(consumers, kind, model, n)
                if row[kind]["chunks"] != n * chunks:
                    raise RuntimeError(f"{kind}: {row[kind]['chunks']} chunks, not {n * chunks}")
            for kind in ("client", "engine"):
                row[f"{kind}_vs_raw"] = row[kind]["cpu_s"] / row["raw"]["cpu_s"]
            results[str(n)] = row
    finally:
        await consumers.aclose()
    return {"case": "overhead", "chunks": chunks, "rate": rate, "by_n": results}


async def concurrency(params: dict[str, Any]) -> dict[str, Any]:
    """Case 2: wall time of best-of-8 vs best-of-1 through the engine, every stream paced."""
    base_url, chunks, n = params["base_url"], params["chunks"], params["n"]
    model = model_name(chunks, params["rate"])
    consumers = Consumers(base_url)
    try:
        await consumers.stream("engine", model_name(20, 0), n)  # warm-up, opens connections
        walls: dict[str, float] = {}
        for size in (1, n):
            started = time.perf_counter()
            count = await consumers.stream("engine", model, size)
            walls[str(size)] = time.perf_counter() - started
            if count != size * chunks:
                raise RuntimeError(f"best-of-{size}: {count} chunks")
    finally:
        await consumers.aclose()
    return {
        "case": "concurrency",
        "answer_s": chunks / params["rate"],
        "wall_s": walls,
        "ratio": walls[str(n)] / walls["1"],
    }


def main(argv: list[str]) -> None:
    case, params = argv[0], json.loads(argv[1])
    emit(asyncio.run({"overhead": overhead, "concurrency": concurrency}[case](params)))


if __name__ == "__main__":
    main(sys.argv[1:])
