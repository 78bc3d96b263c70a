"""An OpenAI-compatible client that survives what real endpoints send.

`stream_chat` never raises for network or server trouble: it yields typed events and
always ends with `Finished` or `StreamFailed`, so callers keep every character received.
Cancelling the consumer closes the HTTP connection at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, TypeAlias

import httpx
from httpx_sse._decoders import SSELineDecoder  # private module: pinned <0.5 in pyproject

from scillm_tui.core.chat import ChatRequest, ChatResult
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.errors import EndpointError
from scillm_tui.core.events import (
    AnswerWasThinking,
    Finished,
    Notice,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    StreamFailed,
    TextDelta,
    Usage,
    UsageReport,
)
from scillm_tui.core.failures import Failure, classify_exception, classify_status, server_message
from scillm_tui.core.lanes import Lanes
from scillm_tui.core.redact import redact, register_secret
from scillm_tui.core.retry import RetryPolicy, SharedBackoff
from scillm_tui.core.thinking import Piece, ThinkingSplitter, split_thinking

log = logging.getLogger("scillm_tui.http")

_MAX_ERROR_BODY = 64 * 1024
POOL_SIZE = 64  # idle connections kept per endpoint (a run has at most 64 variants)
# After `[DONE]`: how long, and how many lines, to read for the body's end (normally at
# once, nothing but the last chunk's terminator) so the connection can serve the next stream.
_DRAIN_S = 1.0
_DRAIN_LINES = 64


def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    fields = {
        k: data.get(k) if isinstance(data.get(k), int) else None
        for k in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    details = data.get("completion_tokens_details")
    if isinstance(details, dict):
        reasoning = details.get("reasoning_tokens")
        fields["reasoning_tokens"] = reasoning if isinstance(reasoning, int) else None
    if all(v is None for v in fields.values()):
        return None
    return Usage(**fields)


def _reasoning_field(part: Any) -> str:
    """Thinking sent in its own field: `reasoning_content` (DeepSeek, SGLang, LiteLLM) or
    `reasoning` (vLLM, OpenRouter) of a delta or a message; "" when there is none."""
    if not isinstance(part, dict):
        return ""
    for key in ("reasoning_content", "reasoning"):
        value = part.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _message_parts(choice: dict[str, Any]) -> tuple[str, str]:
    """(thinking, answer) of a whole non-streamed choice, in any of the four shapes."""
    message = choice.get("message")
    text = _message_text(message)
    if not text and isinstance(choice.get("text"), str):
        text = choice["text"]
    reasoning = _reasoning_field(message)
    if reasoning:  # thinking in its own field: the content is all answer
        return reasoning, text
    return split_thinking(text)


def _message_text(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


def _first_choice(data: Any) -> dict[str, Any]:
    """The first choice of a completion; {} when it is missing or not an object."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return {}


def _finish_reason(choice: dict[str, Any]) -> str | None:
    reason = choice.get("finish_reason")
    return reason if isinstance(reason, str) and reason else None


@functools.cache
def _trusted_cas() -> ssl.SSLContext:
    """The trusted CAs for https endpoints (certifi's, as httpx would load them): loaded
    once per process and shared, not once per client (~50 ms a load, before the
    dashboard's first frame)."""
    return httpx.create_ssl_context(trust_env=False)


def _tls_context(base_url: str) -> ssl.SSLContext:
    """An http:// endpoint (the local sidecar, the demo) never negotiates TLS, since
    redirects are not followed: it skips loading the CA bundle. Its context trusts no CA,
    so a TLS handshake through it would fail closed, never pass unchecked."""
    if base_url.lower().startswith("https://"):
        return _trusted_cas()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with no CA to trust


class EndpointClient:
    """Talks to one endpoint. Inject `transport` in tests; never follows redirects."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        idle_timeout_s: float = 60.0,
        connect_timeout_s: float = 10.0,
        request_timeout_s: float = 600.0,
        health_timeout_s: float = 5.0,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        pool_size: int = POOL_SIZE,
    ) -> None:
        """`pool_size`: idle connections kept open for reuse (at least the streams that
        may be in flight at once, so none is closed only to be opened again; see
        `lanes.Lanes`). The pool never caps connections: the stream slots
        (`runs.StreamLimits`) are the limit, and a second, hidden queue in the pool would
        time requests out unseen. An injected `transport` (tests) replaces the pool."""
        self.config = config
        if config.api_key is not None:  # so a server echoing it back never shows it
            register_secret(config.api_key.get_secret_value())
        self.idle_timeout_s = idle_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self.health_timeout_s = health_timeout_s
        self.retry = retry or RetryPolicy()
        self.backoff = SharedBackoff()  # a 429 holds every request to this endpoint
        self._rng = rng
        if transport is None:  # one pool for every request to this endpoint
            transport = Lanes(verify=_tls_context(config.base_url), keep=pool_size)
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            transport=transport,
            follow_redirects=False,
            headers={"user-agent": "scillm-tui"},
            timeout=httpx.Timeout(request_timeout_s, connect=connect_timeout_s),
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> EndpointClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- plain requests ---------------------------------------------------------------------

    async def get(self, path: str, *, timeout_s: float | None = None) -> httpx.Response:
        """GET with auth; raises httpx errors for the caller to classify."""
        t = timeout_s or self.health_timeout_s
        started = time.perf_counter()
        response = await self._http.get(
            path, headers=self.config.auth_headers(), timeout=httpx.Timeout(t, connect=t)
        )
        log.debug(
            "GET %s%s -> %s in %.0f ms",
            self.config.base_url,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    async def models(self) -> list[str]:
        """The model ids from `/v1/models`. Raises `EndpointError` when there is no list."""
        try:
            response = await self.get("/v1/models")
        except httpx.HTTPError as exc:
            failure = classify_exception(exc, self.config, streaming=False)
            raise EndpointError(failure.message, category=failure.category) from None
        if response.status_code != 200:
            failure = classify_status(response.status_code, response.content, self.config)
            raise EndpointError(
                failure.message, category=failure.category, status_code=response.status_code
            )
        return parse_model_ids(response)

    # ---- streaming chat ---------------------------------------------------------------------

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Stream one chat completion as typed events (see module docstring)."""
        body = request.body(stream=True)
        timeout = httpx.Timeout(
            self.idle_timeout_s, connect=self.connect_timeout_s, pool=self.connect_timeout_s
        )
        headers = {**self.config.auth_headers(), "accept": "text/event-stream"}
        attempts = _Attempts(self.retry, self.idle_timeout_s, self._rng)
        while True:
            got_text = False
            streaming = False
            failure: Failure | None = None
            retry_headers: httpx.Headers | None = None
            await self.backoff.wait()
            started = attempts.start()
            try:
                async with self._http.stream(
                    "POST", "/v1/chat/completions", json=body, headers=headers, timeout=timeout
                ) as response:
                    log.debug(
                        "POST %s/v1/chat/completions model=%s -> %s in %.0f ms (attempt %d)",
                        self.config.base_url,
                        request.model,
                        response.status_code,
                        (time.perf_counter() - started) * 1000,
                        attempts.number,
                    )
                    if response.status_code >= 300:  # redirects are never followed
                        failure = classify_status(
                            response.status_code,
                            await _read_limited(response),
                            self.config,
                            request.model,
                        )
                        retry_headers = response.headers
                    else:
                        streaming = True
                        async for event in self._parse(response):
                            if event.kind == "delta" or event.kind == "reasoning":
                                got_text = True
                            yield event
                        return
            except httpx.HTTPError as exc:
                failure = classify_exception(exc, self.config, streaming=streaming)
                log.debug("stream to %s failed: %s", self.config.base_url, failure.message)
            assert failure is not None
            # Once text has arrived a retry would duplicate it: fail and keep the text.
            wait = None if got_text else attempts.retry_wait(failure, retry_headers)
            self._hold_on_429(failure, wait)
            if wait is not None:
                yield Retrying(
                    attempt=attempts.number,
                    max_attempts=self.retry.max_attempts,
                    wait_s=round(wait, 3),
                    cause=failure.message,
                )
                await asyncio.sleep(wait)
                continue
            message = failure.message
            if failure.category == "idle_timeout":
                message = f"the stream went silent for {self.idle_timeout_s:g} s (idle timeout)"
            yield StreamFailed(
                category=failure.category,
                message=attempts.final_message(message, failure),
                status_code=failure.status_code,
            )
            return

    async def _parse(self, response: httpx.Response) -> AsyncIterator[StreamEvent]:
        """Parse an SSE chat stream (or a plain JSON answer from a server that ignored
        `stream: true`). Ends with `Finished` or `StreamFailed`."""
        content_type = response.headers.get("content-type", "")
        if "json" in content_type and "event-stream" not in content_type:
            raw = await _read_limited(response, limit=None)
            try:
                data = json.loads(raw)
            except ValueError:
                yield StreamFailed(category="protocol", message="the answer was not valid JSON")
                return
            if isinstance(data, dict) and data.get("error") is not None:
                yield StreamFailed(
                    category="stream_error",
                    message=f"the {self.config.label} reported an error: {server_message(raw)}",
                )
                return
            choice = _first_choice(data)
            reasoning, text = _message_parts(choice)
            if reasoning:
                yield ReasoningDelta(text=reasoning)
            if text:
                yield TextDelta(text=text)
            usage = _usage(data.get("usage")) if isinstance(data, dict) else None
            if usage:
                yield UsageReport(usage=usage)
            yield Finished(reason=_finish_reason(choice))
            return

        decoder = _SSEData()
        content = _Content()
        texts = content.texts  # answer content of this read (split and sent together)
        thoughts = content.thoughts  # thinking of this read, from its own field
        finish_reason: str | None = None
        done = False
        chat_event = False  # a JSON chunk or [DONE]: this really is a chat stream
        batches = _line_batches(response)
        try:
            try:
                async for batch in batches:
                    for data in decoder.events(batch):
                        result = self._on_data(data)
                        # a chunk with only text: the hot path. `isinstance` (not `type() is`)
                        # so the branches below see the rest narrowed; it costs the same.
                        if isinstance(result, str):
                            if thoughts:  # thinking before it stays before it
                                for event in content.drain():
                                    yield event
                            texts.append(result)
                            chat_event = True
                            continue
                        if result is None:
                            continue
                        if isinstance(result, _Done):  # narrows, unlike `is _DONE`
                            chat_event = done = True
                            break
                        chat_event = chat_event or _is_chat_event(result)
                        for item in result:
                            if isinstance(item, str):
                                if type(item) is _Thought:
                                    for queued in content.thinking_field():
                                        yield queued
                                    thoughts.append(item)
                                else:
                                    if thoughts:
                                        for queued in content.drain():
                                            yield queued
                                    texts.append(item)
                                continue
                            if isinstance(item, _FinishReason):
                                finish_reason = item.reason
                                continue
                            if type(item) is StreamFailed:  # text before it is kept, held or not
                                for queued in content.end():
                                    yield queued
                                yield item if content.sent else _before_any_text(item)
                                return
                            for queued in content.drain():  # text before the event stays first
                                yield queued
                            yield item
                    if texts or thoughts:
                        for event in content.drain():
                            yield event
                    if done:
                        break
            except httpx.HTTPError:
                for event in content.end():  # a partial tag held back is still text received
                    yield event
                raise
            for event in content.end():
                yield event
            if not chat_event:  # e.g. an HTML page: not an empty answer, a wrong endpoint
                content_type = response.headers.get("content-type") or "none"
                yield StreamFailed(
                    category="protocol",
                    message=f"the {self.config.label} answered HTTP {response.status_code} but "
                    f"not with a chat-completions stream (content-type {content_type}) — "
                    "check the base URL",
                )
                return
            yield Finished(reason=finish_reason)
            if done:  # after Finished: the variant is done, whatever the drain does
                await _drain(batches)
        finally:
            await batches.aclose()

    def _on_data(self, data: str) -> list[_ChunkItem] | str | _Done | None:
        """Events for one SSE `data:` payload; `_DONE` for `[DONE]`; None to skip.

        Text comes back as a plain `str` (`_parse` joins a read's texts into one delta),
        and a chunk that carries only text -- nearly all of them -- as just that `str`:
        this runs once per chunk of every stream.
        """
        if data == "[DONE]":
            return _DONE
        try:
            obj = json.loads(data)
        except ValueError:
            payload = data.strip()
            if not payload:
                return None
            if payload == "[DONE]":
                return _DONE
            shown = redact(payload)[:80]  # mask first: a cut could split a key
            return [Notice(message=f"skipped a malformed data line: {shown!r}")]
        try:  # the hot path, what `_chunk_events` gives for a chunk with only text
            choice = obj["choices"][0]
            delta = choice["delta"]
            content = delta["content"]
            if (
                content.__class__ is str
                and content
                and (len(delta) == 1 or not _reasoning_field(delta))
                and not choice.get("finish_reason")
                and obj.get("usage") is None
                and obj.get("error") is None
            ):
                return content
        except (KeyError, IndexError, TypeError, AttributeError):
            pass  # any other shape: `_chunk_events` sorts it out
        return _chunk_events(obj, self.config.label)

    # ---- non-streaming chat -----------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResult:
        """One non-streaming completion, with the same retry policy. Raises `EndpointError`."""
        body = request.body(stream=False)
        headers = self.config.auth_headers()
        timeout = httpx.Timeout(self.request_timeout_s, connect=self.connect_timeout_s)
        attempts = _Attempts(self.retry, self.request_timeout_s, self._rng)
        while True:
            await self.backoff.wait()
            started = attempts.start()
            retry_headers: httpx.Headers | None = None
            try:
                response = await self._http.post(
                    "/v1/chat/completions", json=body, headers=headers, timeout=timeout
                )
                latency = (time.perf_counter() - started) * 1000
                log.debug(
                    "POST %s/v1/chat/completions model=%s (non-streaming) -> %s in %.0f ms",
                    self.config.base_url,
                    request.model,
                    response.status_code,
                    latency,
                )
                if response.status_code < 300:
                    return _parse_chat_result(response, latency, self.config.label)
                failure = classify_status(
                    response.status_code, response.content, self.config, request.model
                )
                retry_headers = response.headers
            except httpx.HTTPError as exc:
                failure = classify_exception(exc, self.config, streaming=False)
            wait = attempts.retry_wait(failure, retry_headers)
            self._hold_on_429(failure, wait)
            if wait is not None:
                await asyncio.sleep(wait)
                continue
            raise EndpointError(
                attempts.final_message(failure.message, failure),
                category=failure.category,
                status_code=failure.status_code,
            )

    def _hold_on_429(self, failure: Failure, wait: float | None) -> None:
        """A 429 slows this endpoint for every request, not just the one that got it."""
        if failure.status_code == 429 and wait is not None:
            self.backoff.hold(wait)


class _Attempts:
    """The attempts of one request: whether a failure is tried again, and after how long.

    Timed-out attempts share one budget (the idle or request timeout): a host that accepts
    and never answers fails after the configured time, not once per attempt.
    """

    def __init__(self, policy: RetryPolicy, timeout_budget_s: float, rng: random.Random | None):
        self.policy = policy
        self.budget_s = timeout_budget_s
        self.rng = rng
        self.number = 1
        self._timed_out_s = 0.0
        self._started = 0.0

    def start(self) -> float:
        self._started = time.perf_counter()
        return self._started

    def retry_wait(self, failure: Failure, headers: httpx.Headers | None) -> float | None:
        """Seconds to wait before the next attempt, or None when it must not be retried."""
        if failure.category in ("timeout", "idle_timeout"):
            self._timed_out_s += time.perf_counter() - self._started
        if (
            not failure.retryable
            or self.number >= self.policy.max_attempts
            or self._timed_out_s >= self.budget_s
        ):
            return None
        wait = self.policy.wait_for(self.number, headers, self.rng)
        self.number += 1
        return wait

    def final_message(self, message: str, failure: Failure) -> str:
        if self.number > 1 and failure.retryable:
            return f"{message} — gave up after {self.number} attempts"
        return message


# What `_chunk_events` lists for a chunk: a `str` is answer content, a `_Thought` (a `str`
# too) thinking from its own field; `_FinishReason` is kept for `Finished` at the end.
_ChunkItem: TypeAlias = "str | _FinishReason | UsageReport | StreamFailed | Notice"


def _chunk_events(obj: Any, label: str) -> list[_ChunkItem] | str:
    """Events for one parsed SSE chunk (of any shape; see `EndpointClient._on_data`): a
    plain `str` for a chunk with only text; in a list, a `str` is answer content and a
    `_Thought` thinking from its own field (thinking comes first: servers send it first)."""
    if not isinstance(obj, dict):
        return [Notice(message="skipped a data line that is not a JSON object")]
    error = obj.get("error")
    if error is not None:
        return [
            StreamFailed(
                category="stream_error",
                message=f"the {label} reported an error mid-stream: "
                f"{server_message(json.dumps({'error': error}))}",
            )
        ]
    text: str | None = None
    thought = ""
    reason: str | None = None
    choices = obj.get("choices")
    if isinstance(choices, list) and choices:
        choice = choices[0] if isinstance(choices[0], dict) else {}
        delta = choice.get("delta") or choice.get("message") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        thought = _reasoning_field(delta)
        if isinstance(content, str) and content:
            text = content
        elif isinstance(choice.get("text"), str) and choice["text"]:
            text = choice["text"]
        reason = choice.get("finish_reason")
    usage = obj.get("usage")
    if text is not None and not thought and not reason and usage is None:
        return text
    events: list[_ChunkItem] = [_Thought(thought)] if thought else []
    if text is not None:
        events.append(text)
    if isinstance(reason, str) and reason:
        events.append(_FinishReason(reason))
    report = _usage(usage)
    if report is not None:
        events.append(UsageReport(usage=report))
    return events


async def _drain(batches: AsyncGenerator[list[str], None]) -> None:
    """Read the rest of a stream after `[DONE]`: a connection whose response was read to
    its end goes back to the pool for the next stream, one closed early is dropped. A
    server that keeps sending, keeps the body open or fails loses its connection instead
    (closed as before); the answer is complete either way."""
    lines = 0
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(_DRAIN_S):
            async for batch in batches:
                lines += len(batch)
                if lines > _DRAIN_LINES:
                    return


async def _line_batches(response: httpx.Response) -> AsyncGenerator[list[str], None]:
    """The SSE lines of each network read, then the unterminated rest and a final blank
    line, so an event the server did not end with a blank line is still dispatched."""
    lines = SSELineDecoder()
    async for chunk in response.aiter_text():
        yield lines.decode(chunk)
    yield [*lines.flush(), ""]


class _Thought(str):
    """Internal marker: thinking from a `reasoning_content` / `reasoning` field (a plain
    `str` in a chunk's events is answer content)."""

    __slots__ = ()


def _piece_events(pieces: list[Piece], chunks: int) -> list[StreamEvent]:
    """Events for split content; the read's `chunks` go to its first text event."""
    events: list[StreamEvent] = []
    for kind, text in pieces:
        if kind == "rethink":
            events.append(AnswerWasThinking())
            continue
        event_type = TextDelta if kind == "answer" else ReasoningDelta
        events.append(event_type(text=text, chunks=chunks))
        chunks = 0  # the other pieces of a split chunk are not more chunks
    return events


class _Content:
    """The text of a stream on its way out: a read's answer content (`texts`) and thinking
    (`thoughts`, from its own field) become deltas, the content split by `<think>` tags."""

    __slots__ = ("_chunks", "sent", "splitter", "texts", "thoughts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.thoughts: list[str] = []
        self.splitter = ThinkingSplitter()
        self.sent = False  # thinking or answer text has been given out
        self._chunks = 0  # chunks whose text is all held back (a partial tag)

    def drain(self) -> list[StreamEvent]:
        """Deltas for what this read brought so far; empties `texts` and `thoughts`."""
        thoughts = self.thoughts
        if thoughts:
            self.sent = True
            delta = ReasoningDelta(text="".join(thoughts), chunks=len(thoughts))
            thoughts.clear()
            return [delta]
        texts = self.texts
        if not texts:
            return []
        chunks = len(texts) + self._chunks
        text = texts[0] if len(texts) == 1 else "".join(texts)
        texts.clear()
        if self.splitter.plain:
            self.sent = True
            self._chunks = 0
            return [TextDelta(text=text, chunks=chunks)]
        events = _piece_events(self.splitter.feed(text), chunks)
        if events:
            self.sent = True
            self._chunks = 0
        else:
            self._chunks = chunks
        return events

    def thinking_field(self) -> list[StreamEvent]:
        """Before thinking from its own field: the content so far, and from now on
        content is all answer (no tag in it means anything)."""
        events = self.drain() if self.texts else []
        if not self.splitter.plain:
            events += _piece_events(self.splitter.literal(), 0)
        return events

    def end(self) -> list[StreamEvent]:
        """Everything left, held-back partial tags included: the stream ended or failed."""
        events = self.drain()
        if self.texts:  # thoughts came first
            events += self.drain()
        held = self.splitter.flush()
        if held:
            self.sent = True
            events += _piece_events(held, self._chunks)
            self._chunks = 0
        return events


def _before_any_text(event: StreamFailed) -> StreamFailed:
    """A server error before any text is not "mid-stream" (thinking counts as text)."""
    message = event.message.replace(" mid-stream: ", " before any text: ", 1)
    return event.model_copy(update={"message": message})


def _is_chat_event(result: list[_ChunkItem]) -> bool:
    """True for the events of a parsed JSON chunk (skipped lines only produce a Notice)."""
    return not any(isinstance(e, Notice) for e in result)


class _FinishReason:
    """Internal marker: the finish reason is reported once, in `Finished`, at the end."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Done:
    """The type of `_DONE`, `[DONE]`'s marker: a tagged result a type checker follows."""

    __slots__ = ()


_DONE = _Done()


class _SSEData:
    """The data of each server-sent event, as httpx_sse's `SSEDecoder` gives it for an
    event with data lines; this runs for every line of every stream, so it keeps only
    what `_on_data` uses. Events without data lines (only `event:`, `id:` or `retry:`)
    come out of `SSEDecoder` with data "", which `_on_data` skips: here they give None.
    """

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: list[str] = []

    def events(self, lines: list[str]) -> list[str]:
        """Feed the lines of one network read; returns the data of each event they end
        (a blank line ends one). One call per read, not per line: this is per chunk."""
        found: list[str] = []
        data = self._data
        for line in lines:
            if line:
                if line.startswith("data: "):
                    data.append(line[6:])
                elif line.startswith("data:"):
                    data.append(line[5:])
                elif line == "data":  # a field without a colon has an empty value
                    data.append("")
                continue  # comments and the fields that are not used
            if data:
                found.append(data[0] if len(data) == 1 else "\n".join(data))
                data.clear()
        return found


async def _read_limited(response: httpx.Response, limit: int | None = _MAX_ERROR_BODY) -> bytes:
    """Read a body, at most `limit` bytes (error bodies can be huge HTML pages)."""
    parts: list[bytes] = []
    size = 0
    async for piece in response.aiter_bytes():
        parts.append(piece)
        size += len(piece)
        if limit is not None and size >= limit:
            break
    return b"".join(parts)


def _parse_chat_result(response: httpx.Response, latency_ms: float, label: str) -> ChatResult:
    try:
        data = response.json()
    except ValueError:
        raise EndpointError(
            f"the {label} answered with something that is not JSON", category="protocol"
        ) from None
    if not isinstance(data, dict):
        raise EndpointError(f"the {label} answered with unexpected JSON", category="protocol")
    if data.get("error") is not None:
        raise EndpointError(
            f"the {label} reported an error: {server_message(response.content)}",
            category="stream_error",
        )
    choice = _first_choice(data)
    reasoning, text = _message_parts(choice)
    return ChatResult(
        text=text,
        reasoning=reasoning,
        finish_reason=_finish_reason(choice),
        usage=_usage(data.get("usage")),
        latency_ms=latency_ms,
        raw=data,
    )


def parse_model_ids(response: httpx.Response) -> list[str]:
    """Model ids from an OpenAI `{"data": [{"id": ...}]}` list (or a bare list)."""
    try:
        data = response.json()
    except ValueError:
        raise EndpointError("the model list is not JSON", category="protocol") from None
    items = data.get("data", data.get("models", [])) if isinstance(data, dict) else data
    ids: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            ids.append(item["id"])
        elif isinstance(item, str):
            ids.append(item)
    return ids
