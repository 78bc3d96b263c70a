"""Typed events produced by the streaming client and by runs.

Stream events (`StreamEvent`) come out of `EndpointClient.stream_chat`; run events
(`RunEvent`) come out of `Run.events()` and carry the variant id. Both are small frozen
pydantic models so the TUI, the CLI and tests can match on `kind`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ErrorCategory = Literal[
    "auth",  # 401/403, or 400 that says the key is bad
    "not_found",  # 404: usually an unknown model
    "bad_request",  # 400/422
    "rate_limited",  # 429 after retries
    "server",  # 5xx after retries
    "connection",  # refused, DNS, reset before any text
    "timeout",  # connect/read timeout before any text
    "idle_timeout",  # the stream went silent
    "dropped",  # the connection closed mid-stream
    "stream_error",  # an {"error": ...} object inside a 200 stream
    "protocol",  # not a chat-completions stream at all
]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)


class Usage(_Event):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None  # thinking included, as servers count it
    total_tokens: int | None = None
    reasoning_tokens: int | None = None  # usage.completion_tokens_details.reasoning_tokens


# ---- stream events (one request) -------------------------------------------------------------


class TextDelta(_Event):
    """New text. One event per network read: a burst of server chunks arrives as one
    delta (`chunks` counts them), so fast streams cost one event per read, not per chunk."""

    kind: Literal["delta"] = "delta"
    text: str
    chunks: int = 1


class ReasoningDelta(_Event):
    """New thinking text: `reasoning_content` / `reasoning` fields or inline `<think>`.

    Thinking is kept apart from the answer (`TextDelta`) and is never judged."""

    kind: Literal["reasoning"] = "reasoning"
    text: str
    chunks: int = 1


class AnswerWasThinking(_Event):
    """`</think>` arrived with no opening tag (the original R1 on some gateways): every
    answer character received so far was thinking. Consumers move it to the thinking;
    text after the tag comes as `TextDelta` again."""

    kind: Literal["rethink"] = "rethink"


class UsageReport(_Event):
    kind: Literal["usage"] = "usage"
    usage: Usage


class Finished(_Event):
    """The stream ended normally. `reason` is None when the server never sent one."""

    kind: Literal["finish"] = "finish"
    reason: str | None = None


class Retrying(_Event):
    kind: Literal["retrying"] = "retrying"
    attempt: int  # the attempt about to be made, 2 = first retry
    max_attempts: int
    wait_s: float
    cause: str


class Notice(_Event):
    """Something odd but harmless, e.g. a non-JSON `data:` line that was skipped."""

    kind: Literal["notice"] = "notice"
    message: str


class StreamFailed(_Event):
    """The stream ended in an error. Text received before it is still valid."""

    kind: Literal["error"] = "error"
    category: ErrorCategory
    message: str
    status_code: int | None = None


StreamEvent = Annotated[
    TextDelta
    | ReasoningDelta
    | AnswerWasThinking
    | UsageReport
    | Finished
    | Retrying
    | Notice
    | StreamFailed,
    Field(discriminator="kind"),
]


# ---- run events (many variants) --------------------------------------------------------------

VariantStatus = Literal[
    "queued", "connecting", "retrying", "streaming", "done", "error", "cancelled"
]
TERMINAL_STATUSES: frozenset[str] = frozenset({"done", "error", "cancelled"})


class _VariantEvent(_Event):
    variant_id: str


class VariantQueued(_VariantEvent):
    kind: Literal["queued"] = "queued"
    reason: str | None = None  # e.g. "the sidecar runs 4 at a time"


class VariantConnecting(_VariantEvent):
    kind: Literal["connecting"] = "connecting"


class VariantRetrying(_VariantEvent):
    kind: Literal["retrying"] = "retrying"
    attempt: int
    max_attempts: int
    wait_s: float
    cause: str


class VariantDelta(_VariantEvent):
    kind: Literal["delta"] = "delta"
    text: str


class VariantReasoning(_VariantEvent):
    kind: Literal["reasoning"] = "reasoning"
    text: str


class VariantRethink(_VariantEvent):
    """The variant's answer so far was thinking (see `AnswerWasThinking`)."""

    kind: Literal["rethink"] = "rethink"


class VariantUsage(_VariantEvent):
    kind: Literal["usage"] = "usage"
    usage: Usage


class VariantNotice(_VariantEvent):
    kind: Literal["notice"] = "notice"
    message: str


class VariantDone(_VariantEvent):
    kind: Literal["done"] = "done"
    finish_reason: str | None = None


class VariantError(_VariantEvent):
    kind: Literal["error"] = "error"
    category: ErrorCategory
    message: str


class VariantCancelled(_VariantEvent):
    kind: Literal["cancelled"] = "cancelled"


RunEvent = Annotated[
    VariantQueued
    | VariantConnecting
    | VariantRetrying
    | VariantDelta
    | VariantReasoning
    | VariantRethink
    | VariantUsage
    | VariantNotice
    | VariantDone
    | VariantError
    | VariantCancelled,
    Field(discriminator="kind"),
]
