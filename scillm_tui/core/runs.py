"""Best-of-N runs: N variants streamed concurrently, one merged stream of events.

A failing variant never stops the others; cancelling keeps every character received.
The engine mutates `VariantState` before it emits the matching event, so a consumer
that reacts to an event always sees up-to-date state and stats.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import cycle, islice
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from scillm_tui.core.chat import ChatRequest
from scillm_tui.core.endpoints import EndpointName, route_model
from scillm_tui.core.events import (
    TERMINAL_STATUSES,
    AnswerWasThinking,
    ErrorCategory,
    Finished,
    Notice,
    ReasoningDelta,
    Retrying,
    RunEvent,
    StreamFailed,
    TextDelta,
    Usage,
    UsageReport,
    VariantCancelled,
    VariantConnecting,
    VariantDelta,
    VariantDone,
    VariantError,
    VariantNotice,
    VariantQueued,
    VariantReasoning,
    VariantRethink,
    VariantRetrying,
    VariantStatus,
    VariantUsage,
)

if TYPE_CHECKING:  # the HTTP stack: imported once clients are made
    from scillm_tui.core.backends import Backends

CHARS_PER_TOKEN_ESTIMATE = 4.0
_JOIN_EVERY = 256  # VariantState.add_text merges its text pieces this many at a time
# tokens/s needs the answer to arrive over this many reads and seconds: one burst has no rate
RATE_MIN_READS = 2
RATE_MIN_SPAN_S = 0.25


def new_run_id(now: datetime | None = None) -> str:
    """Sortable UTC timestamp plus a short random suffix, e.g. `20261125T212233Z-3f9a1c`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


class RunSpec(BaseModel):
    """What to run. `models` cycle over the variants: a, b, a, b for two models and n=4."""

    model_config = ConfigDict(frozen=True)

    prompt: str
    system: str | None = None
    target: EndpointName = "gateway"
    models: list[str] = Field(min_length=1)
    n: int = Field(default=3, ge=1, le=64)
    temperature: float | None = Field(default=0.7, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    concurrency: int | None = Field(default=None, ge=1)

    @field_validator("models")
    @classmethod
    def _clean_models(cls, value: list[str]) -> list[str]:
        cleaned = [m.strip() for m in value if m and m.strip()]
        if not cleaned:
            raise ValueError("at least one model is needed")
        return cleaned

    @field_validator("prompt")
    @classmethod
    def _prompt_present(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the prompt is empty")
        return value

    def plan(self) -> dict[str, VariantState]:
        """Fresh states for this run's variants (see `plan_variants`)."""
        return plan_variants(self.models, self.n, self.target)

    def messages(self) -> list[dict[str, str]]:
        messages = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        messages.append({"role": "user", "content": self.prompt})
        return messages


class TextParts:
    """A text as it streams in: its pieces, merged every `_JOIN_EVERY` appends (`loose`
    counts the pieces since the last merge) so it stays near its size without a join per
    chunk. A plain slotted object: `VariantState` updates it once per chunk."""

    __slots__ = ("loose", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.loose = 0

    def joined(self) -> str:
        """The whole text, merged into one piece from now on."""
        parts = self.parts
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
            self.loose = 0
        return parts[0] if parts else ""

    def clear(self) -> None:
        self.parts.clear()
        self.loose = 0


class VariantState(BaseModel):
    """Live state and statistics of one variant."""

    if TYPE_CHECKING:
        # Its only private attributes are the two texts below, and pydantic sets this
        # dict in __init__ for a model with private attributes (never None here). The
        # per-chunk methods read it directly: `self._answer` would go through
        # `BaseModel.__getattr__`, which costs more than everything else they do.
        __pydantic_private__: dict[str, TextParts]

    id: str
    model: str  # as the user wrote it
    endpoint: EndpointName
    wire_model: str
    status: VariantStatus = "queued"
    error: str | None = None
    error_category: ErrorCategory | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    chunks: int = 0
    chars: int = 0
    retries: int = 0
    retry_wait_s: float | None = None
    notices: list[str] = Field(default_factory=list)
    queued_reason: str | None = None  # why it waits, e.g. "the sidecar runs 4 at a time"
    reasoning_chars: int = 0
    reasoning_chunks: int = 0
    started_at: float | None = None  # perf_counter seconds: the request really started
    first_token_at: float | None = None  # first thinking or answer text
    first_reasoning_at: float | None = None
    first_answer_at: float | None = None
    last_answer_at: float | None = None
    answer_reads: int = 0  # answer deltas (network reads) received: the rate needs two
    ended_at: float | None = None
    _answer: TextParts = PrivateAttr(default_factory=TextParts)
    _thinking: TextParts = PrivateAttr(default_factory=TextParts)

    @property
    def text(self) -> str:
        """The answer only: never the thinking (see `reasoning`)."""
        return self.__pydantic_private__["_answer"].joined()

    @property
    def reasoning(self) -> str:
        """The thinking received so far ("" for a model that does not think)."""
        return self.__pydantic_private__["_thinking"].joined()

    def add_reasoning(self, text: str, now: float, chunks: int = 1) -> None:
        """Append streamed thinking (kept apart from the answer: it is never judged)."""
        if self.first_reasoning_at is None:
            self.first_reasoning_at = now
            if self.first_token_at is None:
                self.first_token_at = now
        thinking = self.__pydantic_private__["_thinking"]  # per read: see add_text
        parts = thinking.parts
        parts.append(text)
        self.reasoning_chunks += chunks
        self.reasoning_chars += len(text)
        loose = thinking.loose + 1
        if loose >= _JOIN_EVERY:  # >=: answer_was_thinking adds one without merging
            loose = 0
            parts[-_JOIN_EVERY:] = ["".join(parts[-_JOIN_EVERY:])]
        thinking.loose = loose

    def answer_was_thinking(self) -> None:
        """Move the answer received so far to the thinking (`</think>` with no opening tag):
        its first text becomes the first thinking, and the answer starts again."""
        answer = self.__pydantic_private__["_answer"]
        text = answer.joined()
        if text:
            thinking = self.__pydantic_private__["_thinking"]
            thinking.parts.append(text)
            thinking.loose += 1
            self.reasoning_chars += len(text)
            self.reasoning_chunks += self.chunks
        if self.first_reasoning_at is None:
            self.first_reasoning_at = self.first_answer_at
        answer.clear()
        self.chars = 0
        self.chunks = 0
        self.first_answer_at = None
        self.last_answer_at = None
        self.answer_reads = 0

    def add_text(self, text: str, now: float, chunks: int = 1) -> None:
        """Append streamed answer text; `chunks` is how many server chunks it joins."""
        if self.first_answer_at is None:
            self.first_answer_at = now
            if self.first_token_at is None:
                self.first_token_at = now
        self.last_answer_at = now
        self.answer_reads += 1
        # Once per streamed chunk: `self._answer` would go through pydantic's private
        # attribute lookup, which costs more than everything else here together.
        answer = self.__pydantic_private__["_answer"]
        parts = answer.parts
        parts.append(text)
        self.chunks += chunks
        self.chars += len(text)
        loose = answer.loose + 1
        if loose >= _JOIN_EVERY:
            # A chunk of a few characters kept as its own str costs ~15x its text;
            # merging the last pieces every so often keeps the text near its size.
            loose = 0
            parts[-_JOIN_EVERY:] = ["".join(parts[-_JOIN_EVERY:])]
        answer.loose = loose

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def ttft_ms(self) -> float | None:
        if self.started_at is None or self.first_token_at is None:
            return None
        return (self.first_token_at - self.started_at) * 1000

    @property
    def ttft_answer_ms(self) -> float | None:
        """Time to the first *answer* token (thinking excluded)."""
        if self.started_at is None or self.first_answer_at is None:
            return None
        return (self.first_answer_at - self.started_at) * 1000

    @property
    def think_ms(self) -> float | None:
        """How long it thought: first thinking to first answer (or to now / the end)."""
        if self.first_reasoning_at is None:
            return None
        end = self.first_answer_at or self.ended_at or time.perf_counter()
        return max(0.0, (end - self.first_reasoning_at) * 1000)

    @property
    def phase(self) -> Literal["thinking", "answering"] | None:
        """What the text arriving now is: None before any text."""
        if self.first_answer_at is not None:
            return "answering"
        if self.first_reasoning_at is not None:
            return "thinking"
        return None

    @property
    def reasoning_tokens_estimated(self) -> bool:
        return self.usage is None or self.usage.reasoning_tokens is None

    @property
    def reasoning_tokens(self) -> int:
        """From the server's usage when given, else estimated from characters."""
        if self.usage is not None and self.usage.reasoning_tokens is not None:
            return self.usage.reasoning_tokens
        return round(self.reasoning_chars / CHARS_PER_TOKEN_ESTIMATE)

    @property
    def answer_tokens(self) -> int:
        """Answer tokens: usage's completion tokens less its reasoning tokens when both
        are sent, else estimated from the answer's characters."""
        usage = self.usage
        if usage is not None and usage.completion_tokens is not None:
            if usage.reasoning_tokens is not None:
                return max(0, usage.completion_tokens - usage.reasoning_tokens)
            if not self.reasoning_chars:
                return usage.completion_tokens
        return round(self.chars / CHARS_PER_TOKEN_ESTIMATE)

    @property
    def no_answer_reason(self) -> str | None:
        """Why a finished variant has nothing to judge, or None when it has an answer
        (or has not finished, or failed: its error says why)."""
        if self.status != "done" or self.text.strip():
            return None
        if self.reasoning_chars:
            if self.finish_reason == "length":
                return "no answer: cut while thinking (length)"
            return "no answer: only thinking"
        return "no text"

    @property
    def judgeable(self) -> bool:
        """Finished with a non-blank answer: the judge sees it (answers only)."""
        return self.status == "done" and bool(self.text.strip())

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else time.perf_counter()
        return (end - self.started_at) * 1000

    @property
    def tokens_estimated(self) -> bool:
        return self.usage is None or self.usage.completion_tokens is None

    @property
    def completion_tokens(self) -> int:
        """From the server's usage when given, else estimated from characters."""
        if self.usage is not None and self.usage.completion_tokens is not None:
            return self.usage.completion_tokens
        return round(self.chars / CHARS_PER_TOKEN_ESTIMATE)

    @property
    def tokens_per_s(self) -> float | None:
        """Answer tokens per second over the span the answer arrived in (first to last
        answer read; thinking is not counted), or None when there is no meaningful span:
        text that arrived in one burst has no rate (see `tokens_per_s_note`)."""
        if self.tokens_per_s_note is not None:
            return None
        assert self.first_answer_at is not None and self.last_answer_at is not None
        return self.answer_tokens / (self.last_answer_at - self.first_answer_at)

    @property
    def tokens_per_s_note(self) -> str | None:
        """Why `tokens_per_s` is None ("all text arrived at once"), or None when it is not."""
        first, last = self.first_answer_at, self.last_answer_at
        if first is None or last is None:
            return "no answer text yet" if self.status not in TERMINAL_STATUSES else "no answer"
        if self.answer_reads < RATE_MIN_READS or last - first < RATE_MIN_SPAN_S:
            return "all text arrived at once"
        return None


def plan_variants(models: Sequence[str], n: int, target: EndpointName) -> dict[str, VariantState]:
    """States for the `n` variants of a run over `models`, by id: v1..vN, the models in
    turn, each routed to its endpoint. The dashboard shows them before a run starts."""
    states: dict[str, VariantState] = {}
    for index, model in enumerate(islice(cycle(models), n), start=1):
        endpoint, wire = route_model(model, target)
        vid = f"v{index}"
        states[vid] = VariantState(id=vid, model=model, endpoint=endpoint, wire_model=wire)
    return states


class StreamLimits:
    """Stream slots shared by many runs (a batch): streams in flight overall, and per
    endpoint (e.g. the sidecar's `/healthz` `concurrency`). One instance is passed to every
    `Run` of the batch, so the limits hold across runs, not within each."""

    def __init__(
        self,
        total: int | None = None,
        endpoint_limits: Mapping[EndpointName, int] | None = None,
    ) -> None:
        self.total = total if total is not None and total >= 1 else None
        self.endpoint_limits = {k: v for k, v in (endpoint_limits or {}).items() if v >= 1}
        self.overall = asyncio.Semaphore(self.total) if self.total is not None else None
        self.endpoints = {name: asyncio.Semaphore(n) for name, n in self.endpoint_limits.items()}


class Run:
    """One best-of-N run. Iterate `events()` once to drive it; `cancel()` from anywhere."""

    def __init__(
        self,
        spec: RunSpec,
        backends: Backends,
        *,
        run_id: str | None = None,
        endpoint_limits: Mapping[EndpointName, int] | None = None,
        shared_limits: StreamLimits | None = None,
    ) -> None:
        """`endpoint_limits`: requests an endpoint serves at once (e.g. the sidecar's
        `/healthz` `concurrency`, see `health_report.endpoint_limits`). Variants over it
        wait here, not in the server's queue, so their TTFT counts from the real start.
        The spec's `concurrency` applies too. `shared_limits`: slots shared with other
        runs (a batch); its endpoint limits replace `endpoint_limits`."""
        self.spec = spec
        self.backends = backends
        self.shared_limits = shared_limits
        if shared_limits is not None:
            endpoint_limits = shared_limits.endpoint_limits
        self.endpoint_limits = {k: v for k, v in (endpoint_limits or {}).items() if v >= 1}
        self.run_id = run_id or new_run_id()
        self.created_at = datetime.now(UTC)
        self.variants = spec.plan()
        # Fail before streaming if a variant needs an unconfigured endpoint.
        for state in self.variants.values():
            backends.client(state.endpoint)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()
        self._started = False

    @property
    def finished(self) -> bool:
        return all(v.finished for v in self.variants.values())

    @property
    def gen_models(self) -> list[str]:
        return list(dict.fromkeys(v.model for v in self.variants.values()))

    def cancel(self, variant_id: str | None = None) -> None:
        """Stop one variant or all of them; text received so far is kept."""
        for vid, task in self._tasks.items():
            if variant_id is None or vid == variant_id:
                task.cancel()
        if not self._started:
            for state in self.variants.values():
                if variant_id is None or state.id == variant_id:
                    state.status = "cancelled"

    async def events(self) -> AsyncIterator[RunEvent]:
        """Start every variant and yield their events as they happen, until all have ended."""
        if self._started:
            raise RuntimeError("a run can only be driven once")
        self._started = True
        limit = asyncio.Semaphore(self.spec.concurrency or len(self.variants))
        shared = self.shared_limits
        per_endpoint = (
            shared.endpoints
            if shared is not None
            else {name: asyncio.Semaphore(n) for name, n in self.endpoint_limits.items()}
        )
        overall = shared.overall if shared is not None else None
        pending = [v for v in self.variants.values() if not v.finished]
        for state in pending:
            self._emit(VariantQueued(variant_id=state.id))
        for state in pending:
            self._tasks[state.id] = asyncio.create_task(
                self._drive(state, limit, per_endpoint.get(state.endpoint), overall),
                name=f"scillm-variant-{state.id}",
            )
        remaining = len(pending)
        queue = self._queue
        try:
            while remaining:
                # get_nowait when events are waiting: the same, minus a coroutine per event.
                event = queue.get_nowait() if queue.qsize() else await queue.get()
                if event is None:
                    remaining -= 1
                    continue
                yield event
        finally:
            for task in self._tasks.values():
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _emit(self, event: RunEvent) -> None:
        self._queue.put_nowait(event)

    def _wait_reason(
        self,
        state: VariantState,
        limit: asyncio.Semaphore,
        endpoint: asyncio.Semaphore | None,
        overall: asyncio.Semaphore | None = None,
    ) -> str | None:
        """Why `state` will wait for a slot now, or None when it starts at once."""
        if endpoint is not None and endpoint.locked():
            n = self.endpoint_limits[state.endpoint]
            return f"the {state.endpoint} runs {n} at a time"
        if limit.locked():
            return f"this run sends {self.spec.concurrency} at a time"
        if overall is not None and overall.locked() and self.shared_limits is not None:
            return f"the batch sends {self.shared_limits.total} at a time"
        return None

    async def _drive(
        self,
        state: VariantState,
        limit: asyncio.Semaphore,
        endpoint: asyncio.Semaphore | None = None,
        overall: asyncio.Semaphore | None = None,
    ) -> None:
        try:
            reason = self._wait_reason(state, limit, endpoint, overall)
            if reason is not None:
                state.queued_reason = reason
                self._emit(VariantQueued(variant_id=state.id, reason=reason))
            # Always in this order (endpoint, run, overall): no two variants can each hold
            # a slot the other waits for.
            async with (
                endpoint or contextlib.nullcontext(),
                limit,
                overall or contextlib.nullcontext(),
            ):
                state.queued_reason = None
                await self._stream(state)
        except asyncio.CancelledError:
            state.status = "cancelled"
            state.ended_at = time.perf_counter()
            self._emit(VariantCancelled(variant_id=state.id))
        except Exception as exc:  # a bug must not take the other variants down
            state.status = "error"
            state.error = f"internal error: {type(exc).__name__}: {exc}"
            state.error_category = "protocol"
            state.ended_at = time.perf_counter()
            self._emit(VariantError(variant_id=state.id, category="protocol", message=state.error))
        finally:
            self._queue.put_nowait(None)

    async def _stream(self, state: VariantState) -> None:
        vid = state.id
        client = self.backends.client(state.endpoint)
        request = ChatRequest(
            model=state.wire_model,
            messages=self.spec.messages(),
            temperature=self.spec.temperature,
            max_tokens=self.spec.max_tokens,
        )
        state.status = "connecting"
        state.started_at = time.perf_counter()
        self._emit(VariantConnecting(variant_id=vid))
        stream = client.stream_chat(request)
        try:
            async for event in stream:
                now = time.perf_counter()
                # `type(event) is ...`, most frequent first: an identity check per branch,
                # cheaper than reading `event.kind` (a pydantic field) and it narrows the
                # union for the type checker; `isinstance` would pay the ABC check of
                # pydantic's metaclass on every miss. The events are final in practice.
                if type(event) is TextDelta:
                    state.add_text(event.text, now, event.chunks)
                    if state.status != "streaming":  # assignments cost; this is per chunk
                        state.status = "streaming"
                    self._emit(VariantDelta(variant_id=vid, text=event.text))
                elif type(event) is ReasoningDelta:
                    state.add_reasoning(event.text, now, event.chunks)
                    if state.status != "streaming":
                        state.status = "streaming"
                    self._emit(VariantReasoning(variant_id=vid, text=event.text))
                elif type(event) is AnswerWasThinking:
                    state.answer_was_thinking()
                    state.status = "streaming"
                    self._emit(VariantRethink(variant_id=vid))
                elif type(event) is UsageReport:
                    state.usage = event.usage
                    self._emit(VariantUsage(variant_id=vid, usage=event.usage))
                elif type(event) is Retrying:
                    state.status = "retrying"
                    state.retries += 1
                    state.retry_wait_s = event.wait_s
                    self._emit(
                        VariantRetrying(
                            variant_id=vid,
                            attempt=event.attempt,
                            max_attempts=event.max_attempts,
                            wait_s=event.wait_s,
                            cause=event.cause,
                        )
                    )
                elif type(event) is Notice:
                    state.notices.append(event.message)
                    self._emit(VariantNotice(variant_id=vid, message=event.message))
                elif type(event) is Finished:
                    state.finish_reason = event.reason
                    state.status = "done"
                    state.ended_at = now
                    self._emit(VariantDone(variant_id=vid, finish_reason=event.reason))
                elif type(event) is StreamFailed:
                    state.status = "error"
                    state.error = event.message
                    state.error_category = event.category
                    state.ended_at = now
                    self._emit(
                        VariantError(variant_id=vid, category=event.category, message=event.message)
                    )
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
