"""A scripted, deterministic backend for dashboard tests, and helpers to drive the app.

The transport answers by model name, so each column's fate is chosen by its model:
`alpha`, `beta`, `gamma`, ... stream fixed text; `stuck` streams a little and then waits
until the client goes away; `broken` answers 401; `hostile` streams markup and escapes;
`judge` returns a verdict for candidate A with scores; `judge-bad` returns prose only.
Thinking models: `thinker` streams `delta.reasoning_content` then the answer (usage with
`reasoning_tokens`); `thinker-inline` sends `<think>…</think>` in its content;
`thinker-bare` only the closing tag (the original R1); `thinker-cut` is cut by
max_tokens while thinking; `thinker-slow` thinks, waits for `Script.release`, thinks a
little more, answers a little and waits until the client goes away; `judge-thinks`
is a judge that thinks.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input, TextArea

from scillm_tui.core.health import HealthReport
from scillm_tui.core.settings import load_settings
from scillm_tui.demo import wire
from scillm_tui.session import Session
from scillm_tui.tui import textual_private as private
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.widgets.health_strip import HealthStrip

SIDECAR = "http://sidecar.test"
GATEWAY = "http://gateway.test"

TEXTS = {
    "alpha": "Alpha answer: CRDTs merge concurrent edits without coordination.\n\n"
    "1. State-based CRDTs ship whole states.\n2. Op-based CRDTs ship operations.",
    "beta": "Beta answer: think of a CRDT as a data type whose merge is commutative, "
    "associative and idempotent, so replicas converge.",
    "gamma": "Gamma answer: 中文 and emoji 👩‍💻 are fine; columns stay aligned.\tTabbed.",
    "delta": "Delta answer: short.",
}
HOSTILE_TEXT = (
    "[bold red]not bold[/] [link=https://evil.test]no link[/link] [@click=app.quit]no quit[/]"
    " \x1b[31mno red\x1b[0m \x1b]8;;https://evil.test\x1b\\no osc\x1b]8;;\x1b\\ done"
)
STUCK_TEXT = "This variant got halfway and then"
THINKING_TEXT = (
    "The user asks about CRDTs. I should explain merge semantics first, then the two "
    "families, state-based and op-based."
)
THOUGHT_ANSWER = "CRDTs converge: their merge is commutative, associative and idempotent."
REASONING_TOKENS = 1830
JUDGE_THINKING = "Candidate A covers both families; B is vaguer. [bold]A[/] wins."


@dataclass
class Script:
    """Records what the dashboard asked, and lets tests wait for the stuck stream."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    stuck_started: asyncio.Event = field(default_factory=asyncio.Event)
    stuck_closed: asyncio.Event = field(default_factory=asyncio.Event)
    models: list[str] = field(default_factory=lambda: ["alpha", "beta", "gamma", "judge"])
    sidecar_down: bool = False
    thinking_started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    answer_started: asyncio.Event = field(default_factory=asyncio.Event)


def _reply(model: str) -> wire.Completion:
    """The identity every chunk of `model`'s reply carries (fixed, so runs repeat)."""
    return wire.Completion(f"chatcmpl-{model}", model, created=1_700_000_000)


def _usage(completion_tokens: int, reasoning_tokens: int | None = None) -> dict[str, Any]:
    return wire.usage(completion_tokens, prompt_tokens=12, reasoning_tokens=reasoning_tokens)


def _words(text: str) -> list[str]:
    pieces, current = [], ""
    for ch in text:
        current += ch
        if ch in " \n":
            pieces.append(current)
            current = ""
    return [*pieces, current] if current else pieces


def _stream_of(model: str, text: str, finish: str = "stop") -> bytes:
    reply, words = _reply(model), _words(text)
    chunks = [reply.role(), *(reply.content(w) for w in words), reply.finish(finish)]
    return wire.sse_events([*chunks, reply.usage_chunk(_usage(len(words)))])


def _thinking_stream(model: str, thinking: str, answer: str, finish: str = "stop") -> bytes:
    """Thinking in `delta.reasoning_content` chunks, then the answer in `content`."""
    reply = _reply(model)
    chunks = [reply.role(), *(reply.reasoning(w) for w in _words(thinking))]
    chunks += [reply.content(w) for w in _words(answer)]
    usage = _usage(REASONING_TOKENS + len(_words(answer)), REASONING_TOKENS)
    return wire.sse_events([*chunks, reply.finish(finish), reply.usage_chunk(usage)])


async def one_read_each(body: bytes) -> AsyncIterator[bytes]:
    """`body`'s SSE events, each in a read of its own (a stream as a server sends it)."""
    for event in body.split(b"\n\n"):
        if event:
            yield event + b"\n\n"
            await asyncio.sleep(0)


def make_transport(script: Script) -> httpx.MockTransport:
    async def slow_thinker_body() -> AsyncIterator[bytes]:
        reply = _reply("thinker-slow")
        words = _words(THINKING_TEXT)
        yield wire.sse_events([reply.role(), *(reply.reasoning(w) for w in words)], done=False)
        script.thinking_started.set()
        await script.release.wait()
        yield wire.sse_event(reply.reasoning(" One more thought."))
        await asyncio.sleep(0)
        yield wire.sse_event(reply.content("CRDTs converge"))
        script.answer_started.set()
        await asyncio.Event().wait()  # until the client goes away

    async def stuck_body() -> AsyncIterator[bytes]:
        try:
            yield wire.sse_event(_reply("stuck").content(STUCK_TEXT))
            script.stuck_started.set()
            await asyncio.Event().wait()  # until the client goes away
        finally:
            script.stuck_closed.set()

    async def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/healthz":
            if script.sidecar_down:
                raise httpx.ConnectError("[Errno 111] Connection refused")
            return httpx.Response(200, json={"ok": True, "forward_mode": False})
        if path == "/v1/models":
            if script.sidecar_down and request.url.host == "sidecar.test":
                raise httpx.ConnectError("[Errno 111] Connection refused")
            return httpx.Response(200, json=wire.model_list(script.models, owned_by="script"))
        body = json.loads(request.content)
        script.requests.append(body)
        model = body["model"]
        sse = {"content-type": "text/event-stream"}
        if model in TEXTS:
            return httpx.Response(200, headers=sse, content=_stream_of(model, TEXTS[model]))
        if model == "hostile":
            return httpx.Response(200, headers=sse, content=_stream_of(model, HOSTILE_TEXT))
        if model == "thinker":
            thinking = _thinking_stream(model, THINKING_TEXT, THOUGHT_ANSWER)
            return httpx.Response(200, headers=sse, content=thinking)
        if model == "thinker-inline":
            inline = f"<think>{THINKING_TEXT}</think>\n\n{THOUGHT_ANSWER}"
            return httpx.Response(200, headers=sse, content=_stream_of(model, inline))
        if model == "thinker-bare":  # one read per chunk: the client sends the thinking
            # as answer text until the tag comes, then a rethink
            bare = f"{THINKING_TEXT}</think>\n\n{THOUGHT_ANSWER}"
            content = one_read_each(_stream_of(model, bare))
            return httpx.Response(200, headers=sse, content=content)
        if model == "thinker-cut":
            cut = _thinking_stream(model, THINKING_TEXT, "", finish="length")
            return httpx.Response(200, headers=sse, content=cut)
        if model == "thinker-slow":
            return httpx.Response(200, headers=sse, content=slow_thinker_body())
        if model == "stuck":
            return httpx.Response(200, headers=sse, content=stuck_body())
        if model == "broken":
            error = wire.error_body("invalid api key", code="invalid_api_key")
            return httpx.Response(401, json=error)
        if model == "judge":
            verdict = {
                "best_id": "A",
                "reason": "A is the most complete and correct answer.",
                "scores": {"A": 9, "B": 6, "C": 5, "D": 4},
            }
            return httpx.Response(200, json=_completion(model, json.dumps(verdict)))
        if model == "judge-thinks":
            verdict = {"best_id": "A", "reason": "A is complete.", "scores": {"A": 9, "B": 6}}
            reasoning = JUDGE_THINKING
            return httpx.Response(200, json=_completion(model, json.dumps(verdict), reasoning))
        if model == "judge-bad":
            return httpx.Response(200, json=_completion(model, "I like them all equally."))
        error = wire.error_body(f"model {model} not found", code="model_not_found")
        return httpx.Response(404, json=error)

    return httpx.MockTransport(handler)


def _completion(model: str, text: str, reasoning: str | None = None) -> dict[str, Any]:
    message = wire.assistant_message(text, reasoning=reasoning)
    return _reply(model).body(message, usage_=_usage(len(_words(text))))


def make_session(script: Script, tmp_path: Path, **env: str) -> Session:
    values = {
        "CODEX_AGENT_API_BASE": SIDECAR,
        "CHUTES_API_BASE": GATEWAY,
        "CHUTES_MODEL": "alpha",
        "JUDGE_MODEL": "judge",
        "SCILLM_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        **env,
    }
    settings = load_settings(None, **values)
    return Session(settings=settings, transport=make_transport(script))


def make_app(script: Script, tmp_path: Path, *, poll_health: bool = True, **env: str) -> ScillmApp:
    return ScillmApp(
        make_session(script, tmp_path, **env),
        history_path=tmp_path / "history.json",
        poll_health=poll_health,
    )


FIXED_TIME = datetime(2026, 11, 25, 9, 30, 0, tzinfo=UTC)


def fixed_report(endpoint: str, status: str, message: str = "ok", **kw: Any) -> HealthReport:
    base = SIDECAR if endpoint == "sidecar" else GATEWAY
    defaults: dict[str, Any] = dict(latency_ms=12.0, models=["alpha", "beta", "judge"])
    if endpoint == "sidecar":
        defaults["healthz"] = {"ok": True, "forward_mode": False}
    defaults.update(kw)
    return HealthReport(
        endpoint=endpoint,  # type: ignore[arg-type]
        base_url=base,
        status=status,  # type: ignore[arg-type]
        message=message,
        checked_at=FIXED_TIME,
        **defaults,
    )


def show_health(app: ScillmApp, sidecar: HealthReport, gateway: HealthReport) -> None:
    strip = app.query_one(HealthStrip)
    strip.pane("sidecar").show(sidecar)
    strip.pane("gateway").show(gateway)


def freeze_animations(app: ScillmApp) -> None:
    """Stop cursor blinking so screenshots are repeatable."""
    for area in app.query(TextArea):
        area.cursor_blink = False
    for field_ in app.query(Input):
        field_.cursor_blink = False


async def set_form(pilot: Pilot, **values: str) -> None:
    """Fill run-form inputs by id, e.g. models="alpha, beta", n="2"."""
    for widget_id, value in values.items():
        pilot.app.query_one(f"#{widget_id.replace('_', '-')}", Input).value = value
    await pilot.pause()


async def type_prompt(pilot: Pilot, text: str) -> None:
    area = pilot.app.query_one("#prompt", TextArea)
    area.load_text(text)
    await pilot.pause()


async def wait_for_run(pilot: Pilot) -> None:
    """Wait until the run's worker (and the judge's, if any) have finished."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    app = pilot.app
    assert isinstance(app, ScillmApp)
    app.repaint(force=True)
    await pilot.pause()


async def run_to_end(pilot: Pilot, prompt: str = "Explain CRDTs", **form: str) -> None:
    await type_prompt(pilot, prompt)
    if form:
        await set_form(pilot, **form)
    await pilot.press("ctrl+r")
    await wait_for_run(pilot)


def writer_threads(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[str]:
    """The names of the threads that call `module.atomic_write_text` from now on, in
    order (the writes still happen)."""
    threads: list[str] = []
    write = module.atomic_write_text

    def recording(path: Path, text: str) -> None:
        threads.append(threading.current_thread().name)
        write(path, text)

    monkeypatch.setattr(module, "atomic_write_text", recording)
    return threads


async def export(pilot: Pilot) -> None:
    """Press ctrl+e and wait until the export is written and its toast is up."""
    await pilot.press("ctrl+e")
    await pilot.app.exports.finish()
    await pilot.pause()


class FrozenClock:
    """Stands in for `time` in the run engine: every stat reads the same instant."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


class MessageWaiter:
    """A `message_hook` for `run_test` that lets a test await a message instead of polling."""

    def __init__(self) -> None:
        self.seen: list[object] = []
        self._waiters: list[tuple[Callable[[object], bool], asyncio.Future[object]]] = []

    def __call__(self, message: object) -> None:
        self.seen.append(message)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(message):
                future.set_result(message)

    async def wait_for(self, predicate: Callable[[object], bool], timeout: float = 10) -> object:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.remove((predicate, future))

    async def health(self, endpoint: str, status: str, timeout: float = 10) -> HealthReport:
        """Wait for a health report of `endpoint` with `status` (from HealthStrip.Changed)."""
        from scillm_tui.tui.widgets.health_strip import HealthStrip

        message = await self.wait_for(
            lambda m: (
                isinstance(m, HealthStrip.Changed)
                and m.report.endpoint == endpoint
                and m.report.status == status
            ),
            timeout,
        )
        return message.report  # type: ignore[attr-defined]


# ---- reading the screen -----------------------------------------------------------------
# Every test reads what is on screen through these. Textual has no public reader; the one
# private call is `textual_private.screen_strips`.


def screen_strips(app: App[Any], region: Region | None = None) -> list[Strip]:
    """What the screen shows now (`region` of it, if given), one strip a row, segments and
    styles included, composed from each widget's line cache as the next frame would be:
    a row a widget forgot to repaint shows up stale here."""
    strips = private.screen_strips(app.screen)
    if region is None:
        return strips
    return [strip.crop(region.x, region.right) for strip in strips[region.y : region.bottom]]


def screen_lines(app: App[Any], region: Region | None = None) -> list[str]:
    """What the screen shows now (`region` of it, if given), as plain text, one string a row."""
    return [strip.text for strip in screen_strips(app, region)]


def screen_text(app: App[Any]) -> str:
    """Everything on screen as plain text (what a user reads)."""
    return "\n".join(screen_lines(app))
