"""The demo backend: a small OpenAI-compatible app that answers without any real model.

It exists so `scillm-tui --demo`, `scillm-tui serve-demo` and the integration tests have a
server that streams, paces, truncates and judges like a real endpoint, offline. Every
response says it is a demo (`"demo": true` on /healthz, `owned_by: scillm-demo`, the
`x-scillm-demo` header, `system_fingerprint: scillm-demo`).

Routes: `GET /healthz`, `GET /v1/models`, `POST /v1/chat/completions` (streaming over SSE or
not). `app.state.stats` (`DemoStats`) counts requests and live streams for tests.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from scillm_tui.demo.answers import (
    compose_answer,
    compose_thinking,
    judge_answer,
    message_text,
    stream_pieces,
    user_texts,
)
from scillm_tui.demo.wire import (
    DONE_EVENT,
    Completion,
    assistant_message,
    error_body,
    model_list,
    sse_event,
    usage,
)

DEMO_OWNER = "scillm-demo"
DEMO_FINGERPRINT = "scillm-demo"
DEMO_LABEL = "scillm-tui demo backend (not a real model)"
# Base pacing per model, tokens (about a word each) per second.
MODEL_RATES: dict[str, float] = {
    "demo-fast": 80.0,
    "demo-slow": 20.0,
    "demo-judge": 150.0,
    "demo-think": 40.0,  # thinks in `reasoning_content` (DeepSeek, SGLang), then answers
    "demo-think-inline": 40.0,  # thinks inline, `<think>…</think>` in `content`
}
THINKING_MODELS: frozenset[str] = frozenset({"demo-think", "demo-think-inline"})
DEMO_MODELS: tuple[str, ...] = tuple(MODEL_RATES)
JUDGE_RATE = MODEL_RATES["demo-judge"]
_CREATED = 1_700_000_000  # a fixed "created" for /v1/models, like real providers report

PerModel = Literal["model"]


class DemoConfig(BaseModel):
    """How the demo backend paces and randomises its answers.

    tokens_per_s: "model" (default) uses each model's own rate (demo-fast ~80/s, demo-slow
        ~20/s); a number applies that rate to every model; None sends as fast as possible.
    jitter: relative spread of each token's delay (0.25 = ±25%), clamped to 0..0.95.
    seed: makes answers reproducible for a given request order; None picks a random seed.
    speed: multiplies whatever rate applies (2.0 = twice as fast), handy for demos.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tokens_per_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] | PerModel | None = "model"
    jitter: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.25
    seed: int | None = None
    speed: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0

    def rate_for(self, model: str) -> float | None:
        """Tokens per second for `model`, or None when unpaced."""
        if self.tokens_per_s is None:
            return None
        if self.tokens_per_s == "model":
            base = MODEL_RATES.get(model, JUDGE_RATE if is_judge_model(model) else 40.0)
        else:
            base = float(self.tokens_per_s)
        return base * self.speed


def is_judge_model(model: str) -> bool:
    """Models whose name contains "judge" answer judge prompts with a JSON verdict."""
    return "judge" in model.lower()


def is_known_model(model: str) -> bool:
    """The demo serves its models plus any "*judge*" name, so judge configs just work."""
    return model in MODEL_RATES or is_judge_model(model)


class DemoStats:
    """Thread-safe counters the tests read from outside the server's event loop."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.requests = 0
        self.active_streams = 0
        self.streams_started = 0
        self.streams_completed = 0
        self.streams_cancelled = 0
        self.tokens_sent = 0

    def next_request(self) -> int:
        """Count a chat request and return its 1-based number (part of the answer's seed)."""
        with self._cond:
            self.requests += 1
            return self.requests

    def stream_started(self) -> None:
        with self._cond:
            self.active_streams += 1
            self.streams_started += 1
            self._cond.notify_all()

    def token_sent(self) -> None:
        with self._cond:
            self.tokens_sent += 1

    def stream_ended(self, completed: bool) -> None:
        with self._cond:
            self.active_streams -= 1
            if completed:
                self.streams_completed += 1
            else:
                self.streams_cancelled += 1
            self._cond.notify_all()

    def wait_for_idle(self, timeout: float) -> bool:
        """Block until no stream is running; False if `timeout` seconds pass first."""
        with self._cond:
            return self._cond.wait_for(lambda: self.active_streams == 0, timeout)

    def wait_for_streams(self, n: int, timeout: float) -> bool:
        """Block until at least `n` streams have started; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self.streams_started >= n, timeout)


class SSEResponse(StreamingResponse):
    """A `text/event-stream` response that always closes its generator when it ends.

    Starlette stops iterating when the client disconnects; closing the generator right
    away (instead of whenever it is garbage-collected) makes its `finally:` run at once,
    so "active stream" counters drop to zero deterministically and nothing keeps running.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterator[bytes],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        base = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        super().__init__(content, status_code=status_code, headers={**base, **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()


def openai_error(
    status: int, message: str, type_: str, code: str | None = None, **headers: str
) -> JSONResponse:
    """An OpenAI-style error response (`wire.error_body`) with this status and headers."""
    body = error_body(message, type_, code)
    return JSONResponse(body, status_code=status, headers=headers or None)


class _Pacer:
    """Spaces tokens `1/rate` seconds apart (± jitter), on a schedule so delays don't drift."""

    def __init__(self, rate: float | None, jitter: float, rng: random.Random) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._jitter = min(max(jitter, 0.0), 0.95)
        self._rng = rng
        self._next: float | None = None

    async def wait(self) -> None:
        if not self._interval:
            await asyncio.sleep(0)  # still yield, so a disconnect is noticed promptly
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        spread = self._rng.uniform(1 - self._jitter, 1 + self._jitter)
        previous = now if self._next is None else self._next
        self._next = max(previous, now - self._interval) + self._interval * spread
        await asyncio.sleep(max(0.0, self._next - now))


def _estimate_tokens(messages: list[Any]) -> int:
    """A rough prompt token count (about 4 characters a token), for the usage report."""
    text = " ".join(message_text(m.get("content")) for m in messages if isinstance(m, dict))
    return max(1, math.ceil(len(text) / 4))


def _json_mode(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")


def _max_tokens(body: dict[str, Any]) -> int | str | None:
    """The completion cap from `max_completion_tokens` or `max_tokens`; a str is an error."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return f"'{key}' must be a positive integer"
        return value
    return None


def create_demo_app(config: DemoConfig | None = None) -> Starlette:
    """Build the demo backend app; see the module docstring for what it serves."""
    cfg = config or DemoConfig()
    stats = DemoStats()
    base_seed = cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**63)

    async def root(request: Request) -> Response:
        return PlainTextResponse(f"{DEMO_LABEL}: try GET /v1/models\n")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "forward_mode": False, "demo": True})

    async def models(request: Request) -> Response:
        body = model_list(DEMO_MODELS, owned_by=DEMO_OWNER, created=_CREATED)
        return JSONResponse(body, headers={"x-scillm-demo": "true"})

    async def chat(request: Request) -> Response:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return openai_error(400, "request body is not valid JSON", "invalid_request_error")
        if not isinstance(body, dict):
            return openai_error(400, "request body must be a JSON object", "invalid_request_error")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return openai_error(400, "'model' is required", "invalid_request_error")
        if not is_known_model(model):
            return openai_error(
                404, f"model '{model}' not found", "invalid_request_error", "model_not_found"
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return openai_error(400, "'messages' must be a non-empty list", "invalid_request_error")
        cap = _max_tokens(body)
        if isinstance(cap, str):
            return openai_error(400, cap, "invalid_request_error")

        number = stats.next_request()
        rng = random.Random(f"{base_seed}:{number}")
        if is_judge_model(model):
            text = judge_answer(messages)
        else:
            prompt = (user_texts(messages) or [""])[-1]
            text = compose_answer(prompt, rng)
            if _json_mode(body):
                text = json.dumps({"answer": text}, ensure_ascii=False)
        pieces = stream_pieces(text)
        # Thinking models think first: `thoughts` tokens come before the answer's.
        thoughts: list[str] = []
        if model in THINKING_MODELS:
            thoughts = stream_pieces(compose_thinking((user_texts(messages) or [""])[-1], rng))
            if model == "demo-think-inline":
                thoughts = ["<think>", *thoughts, "</think>"]
                pieces = ["\n\n" + pieces[0], *pieces[1:]] if pieces else pieces
        finish = "stop"
        if cap is not None and len(thoughts) + len(pieces) > cap:
            thoughts, pieces = thoughts[:cap], pieces[: max(0, cap - len(thoughts))]
            finish = "length"
        tokens = usage(
            len(thoughts) + len(pieces),
            prompt_tokens=_estimate_tokens(messages),
            reasoning_tokens=len(thoughts) if thoughts else None,
        )
        inline = model == "demo-think-inline"
        completion_id = f"chatcmpl-demo-{number}-{rng.getrandbits(40):010x}"
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        reply = Completion(
            completion_id,
            model,
            system_fingerprint=DEMO_FINGERPRINT,
            logprobs=True,
            null_usage=include_usage,
        )
        pacer = _Pacer(cfg.rate_for(model), cfg.jitter, random.Random(rng.random()))
        headers = {"x-scillm-demo": "true"}

        if not body.get("stream"):
            if not await _wait_unless_disconnected(request, pacer, len(thoughts) + len(pieces)):
                return Response(status_code=499)  # the client is gone; nobody reads this
            if inline:
                message = assistant_message("".join(thoughts) + "".join(pieces))
            else:
                reasoning = "".join(thoughts) if thoughts else None
                message = assistant_message("".join(pieces), reasoning=reasoning)
            return JSONResponse(reply.body(message, finish, tokens), headers=headers)

        async def generate() -> AsyncIterator[bytes]:
            stats.stream_started()
            completed = False
            try:
                yield sse_event(reply.role())
                for thought in thoughts:
                    await pacer.wait()
                    yield sse_event(reply.content(thought) if inline else reply.reasoning(thought))
                    stats.token_sent()
                for piece in pieces:
                    await pacer.wait()
                    yield sse_event(reply.content(piece))
                    stats.token_sent()
                yield sse_event(reply.finish(finish))
                if include_usage:
                    yield sse_event(reply.usage_chunk(tokens))
                yield DONE_EVENT
                completed = True
            finally:
                stats.stream_ended(completed)

        return SSEResponse(generate(), headers=headers)

    app = Starlette(
        routes=[
            Route("/", root, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )
    app.state.config = cfg
    app.state.stats = stats
    app.state.demo = True
    return app


async def _wait_unless_disconnected(request: Request, pacer: _Pacer, tokens: int) -> bool:
    """Spend the time a non-streaming answer of `tokens` would take; False if the client left."""

    async def spend() -> None:
        for _ in range(tokens):
            await pacer.wait()

    async def client_left() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    work = asyncio.ensure_future(spend())
    watch = asyncio.ensure_future(client_left())
    try:
        done, _ = await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
        return work in done
    finally:
        for task in (work, watch):
            task.cancel()
        await asyncio.gather(work, watch, return_exceptions=True)
