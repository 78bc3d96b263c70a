"""Issue 17's dashboard items: what the screen said that was wrong or misleading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from textual import events
from textual.keys import _character_to_key  # what Pilot.press uses
from textual.widgets import Input, Static

from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.runs import VariantState
from scillm_tui.session import Session
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.formatting import stats_text, status_text
from scillm_tui.tui.screens.zoom import ZoomScreen
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.variant_column import VariantColumn
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.tui_support import (
    Script,
    make_app,
    make_session,
    make_transport,
    run_to_end,
    screen_text,
    set_form,
    type_prompt,
    wait_for_run,
)

FAST_RETRY = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002, jitter=0)
LONG_429 = (
    "rate limited: the upstream provider is over its quota for this key and asks every "
    "client to slow down; try a smaller N or another model later"
)


def burst(app: ScillmApp, *keys: str) -> None:
    """Post `keys` to the app at once, as a fast typist or a script delivers them: none
    is handled before the next arrives."""
    for key in keys:
        char = key if len(key) == 1 else None
        app.post_message(events.Key(_character_to_key(key) if char else key, char))


async def test_ctrl_r_runs_exactly_the_prompt_typed_before_it(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    typed = "Explain CRDTs to a new engineer, with an example of a counter and a set, briefly."
    async with app.run_test(size=(160, 45)) as pilot:
        await set_form(pilot, models="alpha", n="1")
        burst(app, *typed, "ctrl+r")
        await pilot.pause()
        await wait_for_run(pilot)
        grid = app.query_one(VariantGrid)
        assert grid.run is not None and grid.run.spec.prompt == typed
        assert script.requests[0]["messages"][-1]["content"] == typed


async def test_ctrl_r_at_start_up_waits_for_the_keys_before_it(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        burst(app, *"hello there", "ctrl+r")
        await pilot.pause()
        await wait_for_run(pilot)
        assert app.query_one(PromptEditor).prompt == "hello there"
        assert not any("empty" in n.message for n in app._notifications)
        grid = app.query_one(VariantGrid)
        assert grid.run is not None and grid.run.spec.prompt == "hello there"


async def test_n_typed_in_a_burst_is_what_the_run_uses(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="alpha")
        app.query_one("#n").focus()
        await pilot.pause()
        burst(app, "end", "backspace", "4", "ctrl+r")
        await pilot.pause()
        await wait_for_run(pilot)
        assert app.query_one("#n", Input).value == "4"
        grid = app.query_one(VariantGrid)
        assert grid.run is not None and len(grid.run.variants) == 4


def _sse(*texts: str) -> bytes:
    chunks: list[dict[str, Any]] = [{"choices": [{"delta": {"content": t}}]} for t in texts]
    chunks.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"


def app_with_extras(script: Script, tmp_path: Path) -> ScillmApp:
    """The scripted backend plus `empty` (a 200 stream with no text) and `limited` (429
    on every attempt, with a long message); retries are immediate."""
    scripted = make_transport(script)

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/chat/completions"):
            model = json.loads(request.content)["model"]
            if model == "empty":
                sse = {"content-type": "text/event-stream"}
                return httpx.Response(200, headers=sse, content=_sse())
            if model == "limited":
                return httpx.Response(429, json={"error": {"message": LONG_429}})
        return await scripted.handle_async_request(request)

    session = make_session(script, tmp_path)
    session = Session(
        settings=session.settings, transport=httpx.MockTransport(handler), retry=FAST_RETRY
    )
    return ScillmApp(session, history_path=tmp_path / "history.json", poll_health=False)


def error_text(column: VariantColumn) -> str:
    line = column.query_one(".column-error", Static)
    return str(line.content) if line.display else ""


async def test_a_new_run_starts_every_column_clean(tmp_path: Path) -> None:
    script = Script()
    app = app_with_extras(script, tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        grid = app.query_one(VariantGrid)
        for failing in ("broken", "limited"):
            await run_to_end(pilot, models=failing, n="1")
            assert error_text(grid.column("v1")).startswith("⚠")
            await run_to_end(pilot, models="alpha", n="1")
            good = grid.column("v1")
            assert good.state.status == "done"
            assert error_text(good) == ""
            assert "⚠" not in screen_text(app)
            assert not good.query_one(".column-header").has_class("-error")

        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="stuck", n="1")
        await pilot.press("ctrl+r")
        await script.stuck_started.wait()
        await pilot.press("escape")
        await wait_for_run(pilot)
        assert "cancelled —" in error_text(grid.column("v1"))
        await run_to_end(pilot, models="alpha", n="1")
        assert error_text(grid.column("v1")) == ""
        assert "cancelled" not in screen_text(app)


async def test_a_long_error_keeps_its_end_in_the_column_and_is_whole_when_zoomed(
    tmp_path: Path,
) -> None:
    app = app_with_extras(Script(), tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="limited, alpha, alpha, alpha", n="4")
        column = app.query_one(VariantGrid).column("v1")
        assert "gave up after 4 attempts" in (column.state.error or "")
        shown = error_text(column)  # what the column's error line holds: its end kept
        assert shown.endswith("— gave up after 4 attempts (f6: all)")
        assert "gave up after" in screen_text(app) and "(f6: all)" in screen_text(app)
        app.query_one(VariantGrid).column("v1").view.focus()
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, ZoomScreen)
        assert error_text(app.screen.column) == f"⚠ {column.state.error}"  # whole
        zoomed = screen_text(app)
        assert "asks every client to slow down" in zoomed and "f6: all" not in zoomed
        assert "gave up after 4 attempts" in zoomed


async def test_an_empty_answer_reads_as_a_problem_not_done(tmp_path: Path) -> None:
    app = app_with_extras(Script(), tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="empty, alpha", n="2")
        column = app.query_one(VariantGrid).column("v1")
        header = column.query_one(".column-header", Static)
        assert str(header.content) == "no text"
        assert header.has_class("-no-answer")  # the warning colour
        assert "done" not in str(header.content)


def test_a_queued_variant_says_why_it_waits() -> None:
    state = VariantState(id="v5", model="m", endpoint="sidecar", wire_model="m")
    assert status_text(state) == "queued"
    state.queued_reason = "the sidecar runs 4 at a time"
    assert status_text(state) == "queued (the sidecar runs 4 at a time)"


class _BurstState(VariantState):
    """A variant whose text came in one burst, as the thinking core reports it."""

    @property
    def tokens_per_s(self) -> float | None:
        return None

    @property
    def tokens_per_s_note(self) -> str | None:
        return "all text arrived at once"


def test_no_tokens_per_second_for_a_burst_and_the_zoom_says_why() -> None:
    state = _BurstState(id="v1", model="m", endpoint="gateway", wire_model="m", status="done")
    assert "– t/s" in stats_text(state) and "arrived" not in stats_text(state)
    assert "– t/s (all text arrived at once)" in stats_text(state, detailed=True)
