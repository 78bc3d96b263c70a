"""An OpenAI-compatible test server that misbehaves on purpose; the model name picks how.

One server serves a whole run of mixed variants: each variant asks for a different
"model" and so gets a different scenario. Streamed text is fixed per scenario and listed
in `EXPECTED_TEXT`, so tests can assert exact output.

Scenarios (streaming; see `EXPECTED_TEXT` for the text):

    ok                    role chunk, content chunks, finish "stop", usage chunk (choices: []),
                          [DONE]
    no-done               content only: no finish_reason, no usage, no [DONE]; the body ends
                          cleanly and the connection closes
    usage-in-choices      like ok, but the usage chunk has choices [{"index":0,"delta":{}}]
    error-in-stream       content, then `data: {"error": {...}}`, then the body ends (HTTP 200)
    drop                  content, then the connection is cut mid-body (client: read error)
    silent                content, then nothing until the client disconnects
    hang                  never sends response headers, until the client disconnects
    malformed             `data: this is not json` between good chunks, otherwise like ok
    crlf                  CRLF line endings, `: ping` comments, `event:` and `id:` lines
    split                 every event written in several HTTP chunks, cut inside "data:",
                          inside the JSON and inside multi-byte UTF-8 characters
    burst                 the whole stream (200+ events) in one write
    unicode               CJK, ZWJ emoji, RTL, combining marks, tabs, Rich/Textual markup
                          look-alikes and ANSI/OSC escapes, some split mid-grapheme
    big                   a 1 MiB answer in 4 KiB chunks
    slow                  like ok, paced at `slow_tokens_per_s`
    429-then-ok           first attempt 429 + `Retry-After: 1`, then like ok
    429ms-then-ok         first attempt 429 + `retry-after-ms: 150`, then like ok
    429-noheader-then-ok  first attempt 429 without a retry header, then like ok
    500-then-ok / 503-then-ok
    429-forever / 500-forever / 408-forever   that status every time (no retry header)
    400 / 401 / 403 / 404 / 422                that status every time
    400-bad-key           400 with {"error": {"message": "Invalid API key or database error"}}
    judge-fenced / judge-prose / judge-alias / judge-unknown / judge-garbage
                          a fixed judge answer (see EXPECTED_TEXT)
    judge-garbage-then-ok first attempt garbage, later attempts like judge-ok
    judge-no-response-format  400 complaining about `response_format` if the request has
                          that field, otherwise like judge-ok
    judge-ok              strict JSON choosing "A", scoring every `=== Candidate X ===` label
                          found in the prompt (`judge_ok_text`)

Thinking models (see `EXPECTED_REASONING` for the thinking, `EXPECTED_TEXT` the answer):

    think-rc              thinking in `delta.reasoning_content`, then the answer in `content`;
                          usage has `completion_tokens_details.reasoning_tokens`
    think-r               thinking in `delta.reasoning` (vLLM); usage without reasoning_tokens
    think-inline          `\n<think>…</think>\n\n` then the answer, all in `content`, cut
                          every 5 characters (so both tags are split across chunks)
    think-bare            like think-inline with no opening tag (`…</think>\n\nanswer`)
    think-unclosed        inline thinking that never closes: it ends with `</thi`, then
                          finish "stop" (no answer)
    think-length          thinking in `reasoning_content` only, finish "length" (cut while
                          thinking), usage says every token was reasoning
    think-error           thinking in `reasoning_content`, then an `{"error": ...}` chunk
    error-first           an `{"error": ...}` chunk before any text
    Non-streaming: the same shapes in `message` (`reasoning_content`, `reasoning`, inline
    in `content`); think-error and error-first answer 200 with an `{"error": ...}` body.

Any other model: 404 model not found. Attempts are counted per scenario over the server's
life (`FaultState.attempts`), so "-then-ok" means "the first request to that model fails".

Non-streaming requests get a chat.completion with the same text, except: `hang` hangs,
`silent` sends headers and half a JSON body then nothing, `drop` cuts a JSON body short,
and `error-in-stream` answers 200 with an `{"error": ...}` body.

Options of `create_fault_app`: `models_status` (GET /v1/models), `healthz` (dict -> 200
with that body, int -> that status, None -> 404), `chunk_delay_s` (pause between chunks;
0 still writes each chunk separately), `require_key` (then /v1/* needs `Authorization:
Bearer <key>` or `x-api-key: <key>`, else `bad_key_status`: 401 OpenAI-style, or e.g. 400
whose body says "invalid api key"), `slow_tokens_per_s` (pace of `slow`, default 50).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scillm_tui.demo import wire
from scillm_tui.demo.answers import prompt_candidates, stream_pieces
from scillm_tui.demo.app import SSEResponse, openai_error
from scillm_tui.demo.wire import DONE_EVENT, sse_event

# ---- the text each scenario says ---------------------------------------------------------------

OK_TEXT = "alpha beta gamma delta epsilon zeta eta theta"
MALFORMED_BEFORE = ["kept", " before", " the", " bad", " line"]
MALFORMED_AFTER = [" and", " kept", " after", " it"]
SPLIT_TEXT = "naïve café — 日本語 👩‍💻 ünïcödé über"
BURST_PIECES = [f"b{i:03d} " for i in range(239)] + ["b239"]
UNICODE_PIECES = [
    "中文",
    " 日本語",
    " 한국어",
    " 👩‍💻",
    " 👨‍",  # a ZWJ family split between two chunks
    "👩‍👧",
    " العربية",
    " עברית",
    " e",
    "\u0301",  # combining acute accent in its own chunk
    " tab\there",
    " [bold red]x[/]",
    " [link=https://e.com]l[/link]",
    " [@click=app.quit]q[/]",
    " \x1b[31mred\x1b[0m",
    " \x1b]8;;https://e.com\x1b\\link\x1b]8;;\x1b\\",
]
UNICODE_TEXT = "".join(UNICODE_PIECES)
BIG_CHUNK_CHARS = 4096
BIG_CHUNKS = 256  # 256 x 4 KiB = 1 MiB
_FILLER = "abcdefghijklmnopqrstuvwxyz0123456789 " * 120


def _big_piece(i: int) -> str:
    head = f"<{i:04d}> "
    return head + _FILLER[: BIG_CHUNK_CHARS - len(head) - 1] + "\n"


BIG_PIECES = [_big_piece(i) for i in range(BIG_CHUNKS)]
BIG_TEXT = "".join(BIG_PIECES)

JUDGE_FENCED_TEXT = (
    "```json\n"
    '{"best_id": "B", "reason": "B covers every part of the task.", '
    '"scores": {"A": 5, "B": 8}}\n'
    "```"
)
JUDGE_PROSE_TEXT = (
    "Having compared both candidates, here is my verdict:\n"
    '{"best_id": "B", "reason": "B explains the trade-offs.", "scores": {"A": 4, "B": 9}}\n'
    "Let me know if you want a longer explanation."
)
JUDGE_ALIAS_TEXT = (
    '{"winner": "Candidate B", "why": "B is clearer and more complete.", '
    '"scores": {"A": 6, "B": 7}}'
)
JUDGE_UNKNOWN_TEXT = '{"best_id": "Z", "reason": "Z is the best answer.", "scores": {"Z": 9}}'
JUDGE_GARBAGE_TEXT = "Honestly they are both pretty good, it is hard to say which one wins."
JUDGE_OK_REASON = "A is the most complete answer."


def judge_ok_text(labels: Sequence[str]) -> str:
    """What `judge-ok` says for a prompt with these candidate labels (none found -> ["A"])."""
    labels = list(dict.fromkeys(labels)) or ["A"]
    best = "A" if "A" in labels else labels[0]
    scores = {label: 9 if label == best else 5 for label in labels}
    return json.dumps({"best_id": best, "reason": JUDGE_OK_REASON, "scores": scores})


def prompt_labels(messages: Iterable[Any]) -> list[str]:
    """Candidate labels of the last user message that has any (a repair turn has none)."""
    return [label for label, _ in prompt_candidates(messages)[1]]


THINK_REASONING = "First, recall the question. Then weigh both options before answering."
THINK_ANSWER = "The answer is forty-two."
THINK_CUT = 5  # think-inline / think-bare: content pieces of this many characters
THINK_INLINE_CONTENT = f"\n<think>{THINK_REASONING}</think>\n\n{THINK_ANSWER}"
THINK_BARE_CONTENT = f"{THINK_REASONING}</think>\n\n{THINK_ANSWER}"
THINK_UNCLOSED_CONTENT = f"<think>{THINK_REASONING} </thi"
# The thinking of each thinking scenario (the answer is in EXPECTED_TEXT).
EXPECTED_REASONING: dict[str, str] = {
    "think-rc": THINK_REASONING,
    "think-r": THINK_REASONING,
    "think-inline": THINK_REASONING,
    "think-bare": THINK_REASONING,
    "think-unclosed": f"{THINK_REASONING} </thi",
    "think-length": THINK_REASONING,
    "think-error": THINK_REASONING,
}
_THINKING = tuple(EXPECTED_REASONING)


def cut_every(text: str, size: int = THINK_CUT) -> list[str]:
    """`text` in pieces of `size` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)]


# Exact text per scenario. The judge-ok family depends on the prompt's labels; the entries
# here are for a prompt with candidates A and B (use `judge_ok_text(labels)` otherwise).
EXPECTED_TEXT: dict[str, str] = {
    "ok": OK_TEXT,
    "no-done": "no done marker follows these words",
    "usage-in-choices": "usage arrives inside choices",
    "error-in-stream": "partial text before the crash",
    "drop": "cut off in the middle",
    "silent": "then the server goes quiet",
    "malformed": "".join(MALFORMED_BEFORE + MALFORMED_AFTER),
    "crlf": "carriage returns and comments between events",
    "split": SPLIT_TEXT,
    "burst": "".join(BURST_PIECES),
    "unicode": UNICODE_TEXT,
    "big": BIG_TEXT,
    "slow": "slow and steady tokens arrive one at a time here",
    "429-then-ok": OK_TEXT,
    "429ms-then-ok": OK_TEXT,
    "429-noheader-then-ok": OK_TEXT,
    "500-then-ok": OK_TEXT,
    "503-then-ok": OK_TEXT,
    "judge-fenced": JUDGE_FENCED_TEXT,
    "judge-prose": JUDGE_PROSE_TEXT,
    "judge-alias": JUDGE_ALIAS_TEXT,
    "judge-unknown": JUDGE_UNKNOWN_TEXT,
    "judge-garbage": JUDGE_GARBAGE_TEXT,
    "judge-garbage-then-ok": judge_ok_text(["A", "B"]),
    "judge-no-response-format": judge_ok_text(["A", "B"]),
    "judge-ok": judge_ok_text(["A", "B"]),
    "think-rc": THINK_ANSWER,
    "think-r": THINK_ANSWER,
    "think-inline": THINK_ANSWER,
    "think-bare": THINK_ANSWER,
    "think-unclosed": "",
    "think-length": "",
    "think-error": "",
    "error-first": "",
}
# What a scenario says on its first attempt when that differs from EXPECTED_TEXT.
FIRST_ATTEMPT_TEXT: dict[str, str] = {"judge-garbage-then-ok": JUDGE_GARBAGE_TEXT}

# status -> (message, type, code) of the OpenAI-style error body
STATUS_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request: 'messages' is malformed.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to use this model.", "permission_error", None),
    404: ("", "invalid_request_error", "model_not_found"),  # message names the model
    408: ("Request timed out.", "timeout_error", None),
    422: ("Unprocessable request: temperature must be at most 2.", "invalid_request_error", None),
    429: ("Rate limit reached, please retry later.", "rate_limit_error", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    503: ("The engine is currently overloaded.", "server_error", "overloaded"),
}
BAD_KEY_TEXT = "Invalid API key or database error"
STREAM_ERROR = wire.error_body("upstream model crashed", "server_error")
RESPONSE_FORMAT_ERROR = "Unsupported parameter: 'response_format' is not supported with this model."

_THEN_OK = {
    "429-then-ok": (429, {"retry-after": "1"}),
    "429ms-then-ok": (429, {"retry-after-ms": "150"}),
    "429-noheader-then-ok": (429, {}),
    "500-then-ok": (500, {}),
    "503-then-ok": (503, {}),
}
_FOREVER = {"429-forever": 429, "500-forever": 500, "408-forever": 408}
_STATUS_ONLY = {"400": 400, "401": 401, "403": 403, "404": 404, "422": 422}
_JUDGE_FIXED = {
    "judge-fenced": JUDGE_FENCED_TEXT,
    "judge-prose": JUDGE_PROSE_TEXT,
    "judge-alias": JUDGE_ALIAS_TEXT,
    "judge-unknown": JUDGE_UNKNOWN_TEXT,
    "judge-garbage": JUDGE_GARBAGE_TEXT,
}
_SPECIAL = (
    "ok",
    "no-done",
    "usage-in-choices",
    "error-in-stream",
    "drop",
    "silent",
    "hang",
    "malformed",
    "crlf",
    "split",
    "burst",
    "unicode",
    "big",
    "slow",
    "400-bad-key",
    "judge-garbage-then-ok",
    "judge-no-response-format",
    "judge-ok",
    *_THINKING,
    "error-first",
)
SCENARIOS: tuple[str, ...] = (
    *_SPECIAL,
    *_THEN_OK,
    *_FOREVER,
    *_STATUS_ONLY,
    *_JUDGE_FIXED,
)
DEFAULT_HEALTHZ: dict[str, Any] = {"ok": True, "forward_mode": False}
SPLIT_PAUSE_S = 0.002  # between the pieces of a `split` event, so they leave separately


# ---- what the server saw -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: Any  # parsed JSON, or None when the body was empty or not JSON
    raw_body: bytes = b""

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None


@dataclass
class FaultState:
    """Everything the fault server saw, safe to read and wait on from the test's thread."""

    requests: list[RecordedRequest] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    active_streams: int = 0
    streams_started: int = 0
    disconnects: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def record(self, request: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def next_attempt(self, scenario: str) -> int:
        """Count a chat request for `scenario`; returns its 1-based attempt number."""
        with self._cond:
            self.attempts[scenario] += 1
            return self.attempts[scenario]

    def stream_started(self) -> None:
        with self._cond:
            self.active_streams += 1
            self.streams_started += 1
            self._cond.notify_all()

    def stream_ended(self) -> None:
        with self._cond:
            self.active_streams -= 1
            self._cond.notify_all()

    def note_disconnect(self) -> None:
        with self._cond:
            self.disconnects += 1
            self._cond.notify_all()

    def chat_requests(self) -> list[RecordedRequest]:
        """Recorded POST /v1/chat/completions requests, oldest first."""
        with self._cond:
            return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def wait_for_disconnects(self, n: int, timeout: float) -> bool:
        """Block until the server has seen `n` clients leave mid-response; False on timeout."""
        return self._wait(lambda: self.disconnects >= n, timeout)

    def wait_for_requests(self, n: int, timeout: float) -> bool:
        """Block until `n` requests (any path) have arrived; False on timeout."""
        return self._wait(lambda: len(self.requests) >= n, timeout)

    def wait_for_streams(self, n: int, timeout: float) -> bool:
        """Block until `n` streaming responses have started; False on timeout."""
        return self._wait(lambda: self.streams_started >= n, timeout)

    def wait_for_idle(self, timeout: float) -> bool:
        """Block until no stream is being written; False on timeout."""
        return self._wait(lambda: self.active_streams == 0, timeout)

    def reset(self) -> None:
        """Forget requests, attempts and disconnects (e.g. between phases of one test)."""
        with self._cond:
            self.requests.clear()
            self.attempts.clear()
            self.disconnects = 0
            self.streams_started = 0


class DeliberateDrop(Exception):
    """Raised inside a response body to make uvicorn cut the connection mid-body."""


class _HideDeliberateDrops(logging.Filter):
    """Keeps uvicorn from printing a traceback for every intentional `drop`."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not _is_drop(exc)


def _is_drop(exc: BaseException | None) -> bool:
    if isinstance(exc, DeliberateDrop):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_drop(e) for e in exc.exceptions)
    return False


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDeliberateDrops) for f in logger.filters):
        logger.addFilter(_HideDeliberateDrops())


class _Recorder:
    """ASGI middleware: records each request, and counts clients that leave mid-response.

    A disconnect counts when the app receives `http.disconnect` before it has sent the end
    of its response body, i.e. the client (not the server) ended the exchange.
    """

    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        self.state.record(RecordedRequest(scope["method"], scope["path"], headers, body, raw))

        replayed = False
        finished = False
        counted = False

        async def replay_receive() -> Message:
            nonlocal replayed, counted
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            message = await receive()
            if message["type"] == "http.disconnect" and not finished and not counted:
                counted = True
                self.state.note_disconnect()
            return message

        async def watch_send(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        await self.app(scope, replay_receive, watch_send)


# ---- building responses ------------------------------------------------------------------------


def _status_error(status: int, model: str, **headers: str) -> JSONResponse:
    message, type_, code = STATUS_ERRORS[status]
    if status == 404:
        message = f"model '{model}' not found"
    return openai_error(status, message, type_, code, **headers)


class _Chunks:
    """The SSE events of one response, from `wire.Completion`'s chunks."""

    def __init__(self, model: str) -> None:
        self.reply = wire.Completion(f"chatcmpl-fault-{time.monotonic_ns():x}", model)

    def role(self) -> bytes:
        return sse_event(self.reply.role())

    def content(self, text: str) -> bytes:
        return sse_event(self.reply.content(text))

    def reasoning(self, text: str, field: str) -> bytes:
        return sse_event(self.reply.reasoning(text, field))

    def finish(self, reason: str = "stop") -> bytes:
        return sse_event(self.reply.finish(reason))

    def usage(
        self,
        completion_tokens: int,
        choices: list[Any] | None = None,
        reasoning_tokens: int | None = None,
    ) -> bytes:
        usage = _usage(completion_tokens, reasoning_tokens)
        return sse_event(self.reply.usage_chunk(usage, choices))

    def completion(self, text: str) -> dict[str, Any]:
        message = wire.assistant_message(text)
        return self.reply.body(message, usage_=_usage(len(stream_pieces(text))))


def _usage(completion_tokens: int, reasoning_tokens: int | None = None) -> dict[str, Any]:
    return wire.usage(completion_tokens, prompt_tokens=11, reasoning_tokens=reasoning_tokens)


def _think_tokens(scenario: str) -> tuple[int, int | None]:
    """(completion tokens, reasoning tokens or None) a thinking scenario reports."""
    thinking = len(stream_pieces(THINK_REASONING))
    answer = len(stream_pieces(EXPECTED_TEXT[scenario]))
    return thinking + answer, None if scenario == "think-r" else thinking


def _think_message(scenario: str) -> dict[str, Any]:
    """The non-streamed message of a thinking scenario."""
    if scenario == "think-inline":
        return wire.assistant_message(THINK_INLINE_CONTENT)
    if scenario == "think-bare":
        return wire.assistant_message(THINK_BARE_CONTENT)
    if scenario == "think-unclosed":
        return wire.assistant_message(THINK_UNCLOSED_CONTENT)
    field = "reasoning" if scenario == "think-r" else wire.REASONING_CONTENT
    content = EXPECTED_TEXT[scenario] or None
    return wire.assistant_message(content, reasoning=THINK_REASONING, reasoning_field=field)


def _split_points(event: bytes) -> list[int]:
    """Awkward places to cut one event: inside "data:", in the JSON, inside a UTF-8 char."""
    points = {3, len(event) // 2, len(event) - 1}
    continuation = [i for i, b in enumerate(event) if 0x80 <= b <= 0xBF]
    if continuation:
        points.add(continuation[0])  # just after the first byte of a multi-byte character
        points.add(continuation[-1])
    return sorted(p for p in points if 0 < p < len(event))


def _split_event(event: bytes) -> list[bytes]:
    cuts = [0, *_split_points(event), len(event)]
    return [event[a:b] for a, b in itertools.pairwise(cuts) if b > a]


async def _wait_for_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _sleep_unless_disconnected(request: Request, seconds: float) -> bool:
    """Sleep `seconds`; return False early if the client disconnects first."""
    try:
        async with asyncio.timeout(seconds):
            await _wait_for_disconnect(request)
    except TimeoutError:
        return True
    return False


def create_fault_app(
    *,
    models_status: int = 200,
    healthz: dict[str, Any] | int | None = DEFAULT_HEALTHZ,
    chunk_delay_s: float = 0.0,
    require_key: str | None = None,
    bad_key_status: int = 401,
    slow_tokens_per_s: float = 50.0,
) -> Starlette:
    """The fault-injecting app; `app.state.faults` is its `FaultState`."""
    state = FaultState()
    _install_log_filter()

    async def pause() -> None:
        await asyncio.sleep(chunk_delay_s)  # 0 still yields, so each chunk is its own write

    def auth_error(request: Request) -> Response | None:
        if require_key is None:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if (scheme.lower() == "bearer" and token.strip() == require_key) or request.headers.get(
            "x-api-key"
        ) == require_key:
            return None
        if bad_key_status == 401:
            given = "authorization" in request.headers or "x-api-key" in request.headers
            message = "Incorrect API key provided." if given else "You didn't provide an API key."
            return openai_error(401, message, "invalid_request_error", "invalid_api_key")
        return openai_error(bad_key_status, "invalid api key", "invalid_request_error")

    def tracked(
        gen: AsyncGenerator[bytes, None], headers: dict[str, str] | None = None
    ) -> SSEResponse:
        async def body() -> AsyncIterator[bytes]:
            state.stream_started()
            try:
                async for data in gen:
                    yield data
            finally:
                await gen.aclose()
                state.stream_ended()

        return SSEResponse(body(), headers=headers)

    async def words(c: _Chunks, pieces: Sequence[str]) -> AsyncIterator[bytes]:
        for piece in pieces:
            await pause()
            yield c.content(piece)

    async def normal(c: _Chunks, text: str, delay: float | None = None) -> AsyncIterator[bytes]:
        pieces = stream_pieces(text)
        yield c.role()
        for piece in pieces:
            await (asyncio.sleep(delay) if delay is not None else pause())
            yield c.content(piece)
        yield c.finish()
        yield c.usage(len(pieces))
        yield DONE_EVENT

    async def thinking(scenario: str, c: _Chunks) -> AsyncIterator[bytes]:
        completion, reasoning = _think_tokens(scenario)
        yield c.role()
        if scenario in ("think-inline", "think-bare", "think-unclosed"):
            content = {
                "think-inline": THINK_INLINE_CONTENT,
                "think-bare": THINK_BARE_CONTENT,
                "think-unclosed": THINK_UNCLOSED_CONTENT,
            }[scenario]
            async for data in words(c, cut_every(content)):
                yield data
        else:
            field = "reasoning" if scenario == "think-r" else wire.REASONING_CONTENT
            for piece in stream_pieces(THINK_REASONING):
                await pause()
                yield c.reasoning(piece, field)
            if scenario == "think-error":
                await pause()
                yield sse_event(STREAM_ERROR)
                return
            async for data in words(c, stream_pieces(EXPECTED_TEXT[scenario])):
                yield data
        yield c.finish("length" if scenario == "think-length" else "stop")
        yield c.usage(completion, reasoning_tokens=reasoning)
        yield DONE_EVENT

    def stream_scenario(scenario: str, c: _Chunks, text: str) -> Response:
        if scenario in _THINKING:
            return tracked(thinking(scenario, c))
        if scenario == "error-first":

            async def gen() -> AsyncIterator[bytes]:
                yield c.role()
                yield sse_event(STREAM_ERROR)

            return tracked(gen(), headers={"connection": "close"})
        if scenario == "no-done":

            async def gen() -> AsyncIterator[bytes]:
                yield c.role()
                async for data in words(c, stream_pieces(text)):
                    yield data

            return tracked(gen(), headers={"connection": "close"})
        if scenario == "usage-in-choices":

            async def gen() -> AsyncIterator[bytes]:
                pieces = stream_pieces(text)
                yield c.role()
                async for data in words(c, pieces):
                    yield data
                yield c.finish()
                yield c.usage(len(pieces), choices=[{"index": 0, "delta": {}}])
                yield DONE_EVENT

            return tracked(gen())
        if scenario == "error-in-stream":

            async def gen() -> AsyncIterator[bytes]:
                yield c.role()
                async for data in words(c, stream_pieces(text)):
                    yield data
                await pause()
                yield sse_event(STREAM_ERROR)

            return tracked(gen(), headers={"connection": "close"})
        if scenario == "drop":

            async def gen() -> AsyncIterator[bytes]:
                yield c.role()
                async for data in words(c, stream_pieces(text)):
                    yield data
                await pause()
                raise DeliberateDrop("fault scenario 'drop'")

            return tracked(gen())
        if scenario == "silent":

            async def gen() -> AsyncIterator[bytes]:
                yield c.role()
                async for data in words(c, stream_pieces(text)):
                    yield data
                await asyncio.Event().wait()  # until the client leaves (we get cancelled)

            return tracked(gen())
        if scenario == "malformed":

            async def gen() -> AsyncIterator[bytes]:
                yield c.role()
                async for data in words(c, MALFORMED_BEFORE):
                    yield data
                await pause()
                yield b"data: this is not json\n\n"
                async for data in words(c, MALFORMED_AFTER):
                    yield data
                yield c.finish()
                yield c.usage(len(MALFORMED_BEFORE) + len(MALFORMED_AFTER))
                yield DONE_EVENT

            return tracked(gen())
        if scenario == "crlf":

            async def gen() -> AsyncIterator[bytes]:
                pieces = stream_pieces(text)
                events = [c.role(), *(c.content(p) for p in pieces)]
                events += [c.finish(), c.usage(len(pieces)), DONE_EVENT]
                yield b": ping\r\n\r\n"
                for number, event in enumerate(events, start=1):
                    await pause()
                    data = event.rstrip(b"\n").replace(b"\n", b"\r\n")
                    yield b"event: message\r\nid: %d\r\n%s\r\n\r\n" % (number, data)
                    if number % 3 == 0:
                        yield b": ping\r\n\r\n"

            return tracked(gen())
        if scenario == "split":

            async def gen() -> AsyncIterator[bytes]:
                pieces = stream_pieces(text)
                events = [c.role(), *(c.content(p) for p in pieces)]
                events += [c.finish(), c.usage(len(pieces)), DONE_EVENT]
                for event in events:
                    for part in _split_event(event):
                        yield part
                        await asyncio.sleep(max(chunk_delay_s, SPLIT_PAUSE_S))

            return tracked(gen())
        if scenario == "burst":

            async def gen() -> AsyncIterator[bytes]:
                events = [c.role(), *(c.content(p) for p in BURST_PIECES)]
                events += [c.finish(), c.usage(len(BURST_PIECES)), DONE_EVENT]
                yield b"".join(events)

            return tracked(gen())
        if scenario in ("unicode", "big"):
            pieces = UNICODE_PIECES if scenario == "unicode" else BIG_PIECES

            async def gen() -> AsyncIterator[bytes]:
                yield c.role()
                async for data in words(c, pieces):
                    yield data
                yield c.finish()
                yield c.usage(len(pieces))
                yield DONE_EVENT

            return tracked(gen())
        if scenario == "slow":
            return tracked(normal(c, text, delay=1.0 / slow_tokens_per_s))
        return tracked(normal(c, text))

    async def plain_scenario(request: Request, scenario: str, c: _Chunks, text: str) -> Response:
        if scenario in ("error-in-stream", "think-error", "error-first"):
            return JSONResponse(STREAM_ERROR)
        if scenario in _THINKING:
            completion, reasoning = _think_tokens(scenario)
            finish = "length" if scenario == "think-length" else "stop"
            usage = _usage(completion, reasoning)
            return JSONResponse(c.reply.body(_think_message(scenario), finish, usage))
        if scenario in ("drop", "silent"):
            full = json.dumps(c.completion(text)).encode()

            async def half() -> AsyncIterator[bytes]:
                yield full[: len(full) // 2]
                if scenario == "drop":
                    await pause()
                    raise DeliberateDrop("fault scenario 'drop'")
                await asyncio.Event().wait()

            return StreamingResponse(
                half(),
                media_type="application/json",
                headers={"content-length": str(len(full))},
            )
        if scenario == "slow":
            delay = len(stream_pieces(text)) / slow_tokens_per_s
            if not await _sleep_unless_disconnected(request, delay):
                return Response(status_code=499)
        return JSONResponse(c.completion(text))

    async def chat(request: Request) -> Response:
        denied = auth_error(request)
        if denied is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return openai_error(400, "request body is not valid JSON", "invalid_request_error")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return openai_error(400, "'model' is required", "invalid_request_error")
        scenario = body["model"]
        if scenario not in SCENARIOS:
            return _status_error(404, scenario)
        attempt = state.next_attempt(scenario)
        streaming = bool(body.get("stream"))
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []

        if scenario == "hang":
            await _wait_for_disconnect(request)
            return Response(status_code=499)  # never delivered: the client is gone
        if scenario in _THEN_OK and attempt == 1:
            status, headers = _THEN_OK[scenario]
            return _status_error(status, scenario, **headers)
        if scenario in _FOREVER:
            return _status_error(_FOREVER[scenario], scenario)
        if scenario in _STATUS_ONLY:
            return _status_error(_STATUS_ONLY[scenario], scenario)
        if scenario == "400-bad-key":
            # only a message, as some gateways send it
            return JSONResponse({"error": {"message": BAD_KEY_TEXT}}, status_code=400)
        if scenario == "judge-no-response-format" and "response_format" in body:
            return openai_error(
                400, RESPONSE_FORMAT_ERROR, "invalid_request_error", "unsupported_parameter"
            )

        if scenario in _JUDGE_FIXED:
            text = _JUDGE_FIXED[scenario]
        elif scenario == "judge-garbage-then-ok" and attempt == 1:
            text = JUDGE_GARBAGE_TEXT
        elif scenario in ("judge-ok", "judge-garbage-then-ok", "judge-no-response-format"):
            text = judge_ok_text(prompt_labels(messages))
        elif scenario in _THEN_OK:
            text = OK_TEXT
        else:
            text = EXPECTED_TEXT[scenario]

        c = _Chunks(scenario)
        if streaming:
            return stream_scenario(scenario, c, text)
        return await plain_scenario(request, scenario, c, text)

    async def models(request: Request) -> Response:
        denied = auth_error(request)
        if denied is not None:
            return denied
        if models_status != 200:
            message, type_, code = STATUS_ERRORS.get(
                models_status, ("models are unavailable", "server_error", None)
            )
            return openai_error(models_status, message or "not found", type_, code)
        return JSONResponse(wire.model_list(sorted(SCENARIOS), owned_by="fault-server"))

    async def health(request: Request) -> Response:
        if healthz is None:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        if isinstance(healthz, int):
            return JSONResponse({"ok": False}, status_code=healthz)
        return JSONResponse(dict(healthz))

    app = Starlette(
        routes=[
            Route("/healthz", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ],
        middleware=[Middleware(_Recorder, state=state)],
    )
    app.state.faults = state
    return app
