"""A minimal loopback server that streams OpenAI-style chat chunks, for the benchmarks.

Raw asyncio HTTP/1.1 (keep-alive, chunked transfer encoding), no framework, so that it
costs little and, run as its own process, none of its CPU is charged to the client
being measured. Start it with ``python -m bench.sse_server``: it prints ``PORT <n>`` on
stdout once it listens on 127.0.0.1 and exits when its stdin closes (or on SIGTERM).

The workload is chosen per request by the model name, so one server serves every case:

    bench-k2000-r100-c4        2000 chunks of ~4 characters at 100 chunks/s (r0 = unpaced)
    bench-k2000-r100-c4-t500   the same, after 500 thinking chunks (also c characters
                               each, in ``delta.reasoning_content``, paced alike)

Each stream is: a role chunk, T thinking chunks (``-tT``, default 0), K content chunks
(``delta.content``; the text is deterministic prose, K * c characters in total), a
``finish_reason: stop`` chunk, a usage chunk (with ``completion_tokens_details.
reasoning_tokens`` = T when T > 0) and ``data: [DONE]``. Paced streams follow an
absolute schedule (chunk i is due at start + i / r), so a late wake-up is caught up
and the average rate is exact.
Also answers ``GET /healthz`` and ``GET /v1/models`` (the dashboard polls them), and
``GET /stats``: ``{"connections": n}``, the TCP connections accepted so far (counting the
one asking), so a benchmark can tell whether its client reuses connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
import threading
import time
from functools import lru_cache

from scillm_tui.demo import wire

MODEL_RE = re.compile(r"^bench-k(\d+)-r(\d+(?:\.\d+)?)-c(\d+)(?:-t(\d+))?$")
PROSE = (
    "Conflict-free replicated data types let replicas accept writes independently and "
    "still converge. A state-based CRDT ships its whole state and merges with a join; an "
    "operation-based one ships operations that must commute. Counters, sets, registers "
    "and sequences all have CRDT forms, each with a trade-off in metadata size.\n\n"
    "def merge(a, b):\n    return {k: max(a.get(k, 0), b.get(k, 0)) for k in a | b}\n\n"
)
UNPACED_BATCH = 64  # events per write when unpaced
JUDGE_PICK = json.dumps({"best_id": "A", "reason": "bench: A is first"})
CREATED = 1_700_000_000


def parse_model(model: str) -> tuple[int, float, int]:
    """(chunks, chunks per second or 0 for unpaced, characters per chunk)."""
    match = MODEL_RE.match(model)
    if match is None:
        return 200, 0.0, 4
    return int(match[1]), float(match[2]), max(1, int(match[3]))


def thinking_chunks(model: str) -> int:
    """How many thinking chunks (``-tT``) come before the answer; 0 without the suffix."""
    match = MODEL_RE.match(model)
    return int(match[4]) if match is not None and match[4] else 0


def chunk_texts(count: int, size: int) -> list[str]:
    """`count` pieces of `size` characters of deterministic prose."""
    total = count * size
    text = (PROSE * (total // len(PROSE) + 1))[:total]
    return [text[i : i + size] for i in range(0, total, size)]


def _frame(payload: bytes) -> bytes:
    """One HTTP/1.1 chunked-encoding frame."""
    return b"%x\r\n%s\r\n" % (len(payload), payload)


@lru_cache(maxsize=16)
def stream_events(model: str) -> tuple[bytes, tuple[bytes, ...], bytes]:
    """(head, one event per thinking then content chunk, tail) for a model name, built once."""
    count, _rate, size = parse_model(model)
    thinking = thinking_chunks(model)
    reply = wire.Completion("chatcmpl-bench", model, created=CREATED)
    event = wire.sse_event
    thoughts = tuple(event(reply.reasoning(text)) for text in chunk_texts(thinking, size))
    body = thoughts + tuple(event(reply.content(text)) for text in chunk_texts(count, size))
    usage = wire.usage(count + thinking, prompt_tokens=10, reasoning_tokens=thinking or None)
    tail = event(reply.finish("stop")) + event(reply.usage_chunk(usage)) + wire.DONE_EVENT
    return event(reply.role()), body, tail


@lru_cache(maxsize=16)
def judge_answer(model: str) -> bytes:
    """The whole non-streamed reply (a judge's pick: `bench.batch` judges), built once."""
    message = wire.assistant_message(JUDGE_PICK)
    return _json_response(wire.Completion("chatcmpl-bench", model, created=CREATED).body(message))


def _response_head(status: str, content_type: str, chunked: bool, length: int = 0) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"content-type: {content_type}", "connection: keep-alive"]
    lines.append("transfer-encoding: chunked" if chunked else f"content-length: {length}")
    if chunked:
        lines.append("cache-control: no-cache")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _json_response(obj: object, status: str = "200 OK") -> bytes:
    body = json.dumps(obj).encode()
    return _response_head(status, "application/json", False, len(body)) + body


async def _stream(writer: asyncio.StreamWriter, model: str) -> None:
    head, body, tail = stream_events(model)
    _count, rate, _size = parse_model(model)
    writer.write(_response_head("200 OK", "text/event-stream", True) + _frame(head))
    await writer.drain()
    if rate <= 0:
        for start in range(0, len(body), UNPACED_BATCH):
            writer.write(_frame(b"".join(body[start : start + UNPACED_BATCH])))
            await writer.drain()
    else:
        interval = 1.0 / rate
        started = time.perf_counter()
        index = 0
        total = len(body)
        while index < total:
            due = min(total, int((time.perf_counter() - started) * rate) + 1)
            if due > index:
                writer.write(_frame(b"".join(body[index:due])))
                index = due
                await writer.drain()
            if index < total:
                await asyncio.sleep(max(0.0, started + index * interval - time.perf_counter()))
    writer.write(_frame(tail) + b"0\r\n\r\n")
    await writer.drain()


CONNECTIONS = [0]  # accepted so far (a list: mutated from the handler)


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    CONNECTIONS[0] += 1
    try:
        while True:
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            request_line, *header_lines = raw.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            content = await reader.readexactly(length) if length else b""
            if method == "GET" and path == "/healthz":
                writer.write(_json_response({"ok": True, "bench": True}))
            elif method == "GET" and path == "/stats":
                writer.write(_json_response({"connections": CONNECTIONS[0]}))
            elif method == "GET" and path == "/v1/models":
                models = wire.model_list(["bench-k2000-r100-c4"], owned_by="bench")
                writer.write(_json_response(models))
            elif method == "POST" and path == "/v1/chat/completions":
                try:
                    request = json.loads(content)
                except ValueError:
                    error = wire.error_body("request body is not valid JSON")
                    writer.write(_json_response(error, "400 Bad Request"))
                else:
                    if request.get("stream"):
                        await _stream(writer, str(request.get("model", "")))
                    else:
                        writer.write(judge_answer(str(request.get("model", ""))))
            else:
                error = wire.error_body(f"no route {method} {path}", code="not_found")
                writer.write(_json_response(error, "404 Not Found"))
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", port, backlog=256)
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    # Exit when the parent goes away (its end of our stdin closes).
    def watch_stdin() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="loopback SSE server for the benchmarks")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
