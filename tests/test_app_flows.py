"""Pilot tests of the dashboard's main flows, against a scripted backend."""

from __future__ import annotations

import asyncio
import csv
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from textual.color import Color
from textual.containers import Horizontal
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import Checkbox, Footer, Input, Markdown, SelectionList, Static

from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.screens.confirm import ConfirmScreen
from scillm_tui.tui.screens.dashboard import DashboardScreen
from scillm_tui.tui.screens.markdown import MarkdownScreen
from scillm_tui.tui.screens.model_picker import ModelPicker
from scillm_tui.tui.screens.zoom import ZoomScreen
from scillm_tui.tui.widgets import judge_panel, variant_grid
from scillm_tui.tui.widgets.health_strip import HealthStrip
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.key_bar import SteadyFooter
from scillm_tui.tui.widgets.leaderboard import Leaderboard
from scillm_tui.tui.widgets.mount_classes import ON, VALID
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.run_form import RunForm
from scillm_tui.tui.widgets.variant_column import VariantColumn
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.tui_support import (
    HOSTILE_TEXT,
    STUCK_TEXT,
    TEXTS,
    FrozenClock,
    MessageWaiter,
    Script,
    export,
    make_app,
    make_session,
    run_to_end,
    screen_text,
    set_form,
    type_prompt,
    wait_for_run,
)


def header(column: VariantColumn) -> Static:
    """A column's header line, which carries the status colour."""
    return column.query_one(".column-header", Static)


def error_line(column: VariantColumn) -> Static:
    """A column's error line; coloured differently only for a cancelled variant."""
    return column.query_one(".column-error", Static)


async def test_prompt_is_focused_at_start_so_typing_goes_there(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"hello")
        assert app.query_one(PromptEditor).prompt == "hello"


async def test_run_streams_judges_and_exports_with_one_key(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="3")
        grid = app.query_one(VariantGrid)
        assert [c.state.model for c in grid.columns] == ["alpha", "beta", "alpha"]
        for column in grid.columns:
            assert column.state.status == "done"
            assert column.view.text == TEXTS[column.state.model]
        # Auto-judge ran: the judge saw three candidates and picked A (= v1, no shuffle).
        assert script.requests[-1]["model"] == "judge"
        panel = app.query_one(JudgePanel)
        assert panel.verdict is not None and panel.verdict.best_id == "v1"
        assert grid.column("v1").winner and grid.column("v1").has_class("-winner")
        assert grid.column("v2").score == 6
        assert "winner v1" in screen_text(app)

        await export(pilot)
        runs = list((tmp_path / "artifacts" / "runs").iterdir())
        assert len(runs) == 1
        with (runs[0] / "leaderboard.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert rows[0]["variant_id"] == "v1"
        assert rows[0]["note"] == "winner" and rows[0]["score"] == "9"
        record = json.loads((runs[0] / "run.json").read_text())
        assert record["variants"][1]["text"] == TEXTS["beta"]
        assert any(str(runs[0]) in n.message for n in app._notifications)

        await export(pilot)  # a second export never overwrites the first
        assert len(list((tmp_path / "artifacts" / "runs").iterdir())) == 2


async def test_the_grid_shows_the_next_runs_variants_before_the_first_run(
    tmp_path: Path,
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 45)) as pilot:
        await pilot.pause()
        grid = app.query_one(VariantGrid)
        titles = [c.border_title for c in grid.columns]  # from the settings: N=3, alpha
        assert titles == ["v1 · alpha", "v2 · alpha", "v3 · alpha"]
        assert screen_text(app).count("ready") == 3
        assert "ctrl+r runs the prompt" in screen_text(app)
        await set_form(pilot, models="alpha, beta", n="5")
        await pilot.pause()
        titles = [c.border_title for c in grid.columns]
        assert titles == ["v1 · alpha", "v2 · beta", "v3 · alpha", "v4 · beta", "v5 · alpha"]
        lineup = [row[1:3] for row in app.query_one(Leaderboard).rows]  # the same variants
        assert lineup == [
            ("v1", "alpha"),
            ("v2", "beta"),
            ("v3", "alpha"),
            ("v4", "beta"),
            ("v5", "alpha"),
        ]
        assert len(grid.query(VariantColumn)) == 5  # the two extra columns are gone
        await set_form(pilot, n="")  # being edited: the last usable plan stays
        await set_form(pilot, models=" , ")
        assert len(grid.columns) == 5 and "v2 · beta" in screen_text(app)
        # Nothing to zoom, copy or read yet.
        for key in ("f6", "f7", "f8"):
            await pilot.press(key)
        assert isinstance(app.screen, type(app.default_screen)) and app.clipboard == ""
        assert any("to zoom yet" in n.message for n in app._notifications)
        assert any("No variant to copy yet" in n.message for n in app._notifications)


async def test_runs_stream_into_the_columns_already_on_screen(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 45)) as pilot:
        await set_form(pilot, models="alpha, beta", n="2")
        grid = app.query_one(VariantGrid)
        planned = grid.columns
        await run_to_end(pilot, models="alpha, beta", n="2")
        assert grid.columns == planned  # the same widgets: nothing mounted at the start
        assert [c.view.text for c in grid.columns] == [TEXTS["alpha"], TEXTS["beta"]]
        assert "ready" not in screen_text(app) and grid.column("v1").winner

        await set_form(pilot, n="3")  # after a run, its columns stay until the next run
        assert grid.columns == planned and grid.column("v2").view.text == TEXTS["beta"]
        assert [row[:2] for row in app.query_one(Leaderboard).rows] == [("★", "v1"), ("2", "v2")]

        await run_to_end(pilot, models="beta, alpha", n="3")  # one column more
        assert grid.columns[:2] == planned and len(grid.query(VariantColumn)) == 3
        assert [c.view.text for c in grid.columns] == [TEXTS[m] for m in ("beta", "alpha", "beta")]
        assert [c.state.status for c in grid.columns] == ["done"] * 3
        assert "Alpha answer" in screen_text(app) and "Beta answer" in screen_text(app)

        app.query_one(RunForm).query_one("#auto-judge", Checkbox).value = False
        await run_to_end(pilot, models="alpha", n="1")  # two fewer; last run's verdict gone
        assert grid.columns == planned[:1] and len(grid.query(VariantColumn)) == 1
        column = grid.columns[0]
        assert column.view.text == TEXTS["alpha"] and column.state.model == "alpha"
        assert not column.winner and column.score is None
        assert not column.has_class("-winner") and "★" not in screen_text(app)
        assert "Beta answer" not in screen_text(app)


async def test_cancel_mid_run_keeps_partial_text_and_closes_the_stream(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="alpha, stuck", n="2")
        await pilot.press("ctrl+r")
        await script.stuck_started.wait()
        await pilot.pause()
        grid = app.query_one(VariantGrid)
        app.repaint(force=True)  # what the repaint timer does
        assert header(grid.column("v2")).has_class("-streaming")  # the header's colour
        # Only the line a status colours gets its class: each class change restyles the
        # line, and at a run's start every column starts streaming in the same tick.
        assert not error_line(grid.column("v2")).has_class("-streaming")
        await pilot.press("escape")
        await wait_for_run(pilot)
        assert script.stuck_closed.is_set()
        stuck = grid.column("v2")
        assert stuck.state.status == "cancelled"
        assert header(stuck).has_class("-cancelled") and not header(stuck).has_class("-streaming")
        assert error_line(stuck).has_class("-cancelled")  # "cancelled — … kept" in warning
        assert not header(grid.column("v1")).has_class("-streaming")  # done: plain header
        assert stuck.view.text == STUCK_TEXT
        assert grid.column("v1").state.status == "done"
        assert "cancelled" in screen_text(app)
        # Cancelled runs are not auto-judged, but can be exported with their status.
        assert app.query_one(JudgePanel).verdict is None
        assert "run cancelled — press ctrl+j to judge" in screen_text(app)
        await export(pilot)
        (folder,) = (tmp_path / "artifacts" / "runs").iterdir()
        record = json.loads((folder / "run.json").read_text())
        assert record["variants"][1]["status"] == "cancelled"
        assert record["variants"][1]["text"] == STUCK_TEXT


async def test_a_failing_variant_sits_next_to_good_ones(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, broken, beta", n="3")
        grid = app.query_one(VariantGrid)
        broken = grid.column("v2")
        assert broken.state.status == "error"
        assert header(broken).has_class("-error")  # the header in the error colour
        assert not any(header(grid.column(v)).has_class("-error") for v in ("v1", "v3"))
        assert "key rejected" in (broken.state.error or "")
        assert grid.column("v1").state.status == "done"
        assert grid.column("v3").state.status == "done"
        text = screen_text(app)
        assert "key rejected" in text and "CHUTES_API_KEY" in text
        # The judge compared the two good ones only.
        verdict = app.query_one(JudgePanel).verdict
        assert verdict is not None and set(verdict.candidates) == {"v1", "v3"}


async def test_new_run_while_streaming_asks_first(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="stuck", n="1")
        await pilot.press("ctrl+r")
        await script.stuck_started.wait()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep streaming
        await pilot.pause()
        grid = app.query_one(VariantGrid)
        first_run = grid.run
        assert grid.streaming and not script.stuck_closed.is_set()

        await set_form(pilot, models="alpha")
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("y")  # cancel it and run
        await wait_for_run(pilot)
        assert script.stuck_closed.is_set()
        assert first_run is not None and first_run.variants["v1"].status == "cancelled"
        assert grid.run is not first_run
        assert grid.column("v1").view.text == TEXTS["alpha"]


async def test_hostile_model_output_is_shown_literally_and_triggers_nothing(
    tmp_path: Path,
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await run_to_end(pilot, models="hostile", n="1")
        column = app.query_one(VariantColumn)
        assert column.view.text == HOSTILE_TEXT  # kept byte for byte
        text = screen_text(app)
        assert "[bold red]not bold[/]" in text
        assert "[link=https://evil.test]no link[/link]" in text
        assert "[@click=app.quit]no quit[/]" in text
        assert "\x1b" not in text and "␛[31m" in text
        await pilot.click(VariantColumn, offset=(4, 2))
        await pilot.pause()
        assert app.is_running


async def test_zoom_copy_and_judge_keys(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        grid = app.query_one(VariantGrid)
        grid.column("v2").view.focus()
        await pilot.press("f6")
        zoom = app.screen
        assert isinstance(zoom, ZoomScreen)
        assert zoom.column.state is grid.column("v2").state
        assert zoom.column.view.text == TEXTS["beta"]
        assert "v2 · beta" in screen_text(app) and "v1 · alpha" not in screen_text(app)
        assert "Alpha answer" not in screen_text(app)
        keys = {b.key: b.description for (_, b, _, _) in zoom.active_bindings.values() if b.show}
        assert keys["escape"] == "Close zoom"
        assert {"ctrl+r", "ctrl+j", "ctrl+e", "f6", "f7", "f8"} <= keys.keys()
        await pilot.press("f7")
        assert app.clipboard == TEXTS["beta"]
        await pilot.press("f8")  # Markdown of the zoomed variant, over the zoom
        assert isinstance(app.screen, MarkdownScreen) and app.screen.text == TEXTS["beta"]
        await pilot.press("escape")
        assert app.screen is zoom
        await pilot.press("escape")  # closes the zoom only: nothing is cancelled
        assert not isinstance(app.screen, ZoomScreen)
        assert "v1 · alpha" in screen_text(app) and grid.mirrored is None
        await pilot.press("ctrl+j")  # judge again on demand
        await wait_for_run(pilot)
        assert app.query_one(JudgePanel).verdict is not None


async def test_judge_error_shows_the_raw_output(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False, JUDGE_MODEL="judge-bad")
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        verdict = app.query_one(JudgePanel).verdict
        assert verdict is not None and verdict.status == "error"
        text = screen_text(app)
        assert "judge error" in text
        assert "I like them all equally." in text


async def test_bad_form_values_are_reported_not_run(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "x")
        await set_form(pilot, n="0")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.query_one(VariantGrid).run is None
        assert any("N: a whole number" in n.message for n in app._notifications)
        await set_form(pilot, n="2")
        await type_prompt(pilot, "   ")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert any("prompt is empty" in n.message for n in app._notifications)
        assert script.requests == []


async def test_prompt_history_is_recalled_across_sessions(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, "first prompt", models="delta", n="1")
        await run_to_end(pilot, "second prompt", models="delta", n="1")
    again = make_app(Script(), tmp_path, poll_health=False)
    async with again.run_test(size=(160, 45)) as pilot:
        editor = again.query_one(PromptEditor)
        await pilot.press("alt+up")
        assert editor.prompt == "second prompt"
        await pilot.press("alt+up")
        assert editor.prompt == "first prompt"
        await pilot.press("alt+down", "alt+down")
        assert editor.prompt == ""


async def test_health_panes_show_state_changes(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path)
    app.health_interval_s = 0.05
    messages = MessageWaiter()
    async with app.run_test(size=(160, 45), message_hook=messages) as pilot:
        strip = app.query_one(HealthStrip)
        await messages.health("sidecar", "up")
        await pilot.pause()
        assert "forward_mode=false" in screen_text(app)
        script.sidecar_down = True
        await messages.health("sidecar", "down")
        await pilot.pause()
        assert strip.pane("sidecar").has_class("-down")
        assert "is the sidecar running on sidecar.test?" in screen_text(app)
        assert strip.pane("gateway").report.status == "up"  # type: ignore[union-attr]
        script.sidecar_down = False
        await messages.health("sidecar", "up")
        await pilot.pause()
        assert "is the sidecar running" not in screen_text(app)
        assert any("sidecar is up" in n.message for n in app._notifications)


async def test_every_action_is_in_the_footer_and_the_palette(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 40)):
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for title in ("Run", "Judge", "Export", "Cancel run", "Zoom", "Copy", "Health"):
            assert title in titles
        footer_keys = {b.key for (_, b, enabled, _) in app.screen.active_bindings.values()}
        assert {"ctrl+r", "ctrl+j", "ctrl+e", "escape", "f6", "f7"} <= footer_keys
        assert app.query_one(Footer).display


async def test_models_are_picked_from_the_endpoints_lists(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        form = app.query_one(RunForm)

        async def models_listed() -> None:
            while not form.suggester.models:
                await pilot.pause()

        await asyncio.wait_for(models_listed(), timeout=10)
        assert form.suggester.models == ["alpha", "beta", "gamma", "judge"]
        assert await form.suggester.get_suggestion("alpha, ga") == "alpha, gamma"
        await pilot.press("f2")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        selection = picker.query_one(SelectionList)
        assert list(selection.selected) == ["alpha"]  # the current models are ticked
        selection.select("beta")
        await pilot.press("enter")
        await pilot.pause()
        assert form.values().models == ["alpha", "beta"]


async def test_a_finished_variant_can_be_read_as_markdown(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha", n="1")
        app.query_one(VariantGrid).column("v1").view.focus()
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, MarkdownScreen)
        markdown = app.screen.query_one(Markdown)
        assert markdown.source == TEXTS["alpha"]
        assert "State-based CRDTs ship whole states." in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, MarkdownScreen)


async def test_column_keys_work_while_the_prompt_has_focus(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha", n="1")
        app.query_one(PromptEditor).focus_prompt()
        await pilot.press("f7")  # the text area would take f7 as "select all"
        assert app.clipboard == TEXTS["alpha"]
        await pilot.press("f6")
        assert isinstance(app.screen, ZoomScreen)
        assert app.screen.column.view.text == TEXTS["alpha"]
        await pilot.press("f6")
        assert app.screen is app.default_screen


async def test_many_columns_follow_in_jumps_few_columns_smoothly(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 45)) as pilot:
        await run_to_end(pilot, models="alpha", n="2")
        assert {c.view.follow_step for c in app.query_one(VariantGrid).columns} == {1}
        await run_to_end(pilot, models="alpha", n="6")
        assert {c.view.follow_step for c in app.query_one(VariantGrid).columns} == {4}


def paced_app(tmp_path: Path, chunks: asyncio.Queue[str | None]) -> ScillmApp:
    """The scripted backend plus model `paced`, which streams what the test puts in
    `chunks` as it puts it, and ends the stream at None."""
    session = make_session(Script(), tmp_path)
    scripted = session.transport
    assert scripted is not None

    async def body() -> AsyncIterator[bytes]:
        while (text := await chunks.get()) is not None:
            yield f"data: {json.dumps({'choices': [{'delta': {'content': text}}]})}\n\n".encode()
        end = {"choices": [{"delta": {}, "finish_reason": "stop"}]}
        yield f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and json.loads(request.content)["model"] == "paced":
            sse = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=sse, content=body())
        return await scripted.handle_async_request(request)

    session = replace(session, transport=httpx.MockTransport(handler))
    return ScillmApp(session, history_path=tmp_path / "history.json", poll_health=False)


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10) -> None:
    """Let the app run until `condition` holds (text reaches the screen on a repaint tick)."""

    async def poll() -> None:
        while not condition():
            await pilot.pause()

    await asyncio.wait_for(poll(), timeout)


async def planned_paced_columns(pilot: Pilot, n: int) -> VariantGrid:
    """Type a prompt and ask for `n` `paced` variants; returns the grid once its `n`
    planned columns are mounted."""
    await type_prompt(pilot, "go")
    await set_form(pilot, models="paced", n=str(n))
    grid = pilot.app.query_one(VariantGrid)
    await until(pilot, lambda: all(c.is_mounted for c in grid.columns))
    return grid


async def stream_until_the_last_column_has_lines(
    pilot: Pilot, grid: VariantGrid, chunks: asyncio.Queue[str | None], lines: int = 3
) -> VariantColumn:
    """Start the run and feed the `paced` streams until the last column holds `lines`
    lines (the streams share the queue); returns that column, flushed."""
    await pilot.press("ctrl+r")
    last = grid.columns[-1]
    n = 0
    while last.state.text.count("\n") < lines:
        chunks.put_nowait(f"line{n} " * 4 + "\n")
        n += 1
        await pilot.pause()
    grid.flush(force=True)
    return last


async def end_paced_run(pilot: Pilot, chunks: asyncio.Queue[str | None]) -> None:
    """End every `paced` stream and wait for the run (and its judge) to finish."""
    for _ in pilot.app.query_one(VariantGrid).columns:
        chunks.put_nowait(None)
    await wait_for_run(pilot)


async def stream_first_words(pilot: Pilot, chunks: asyncio.Queue[str | None], text: str) -> None:
    """Run one `paced` variant and let `text` reach the screen; the stream stays open."""
    await type_prompt(pilot, "Explain CRDTs")
    await set_form(pilot, models="paced", n="1")
    await pilot.press("ctrl+r")
    chunks.put_nowait(text)
    await until(pilot, lambda: text.strip() in screen_text(pilot.app))


async def test_text_streamed_while_zoomed_shows_there_and_stays_in_the_column(
    tmp_path: Path,
) -> None:
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(120, 36)) as pilot:
        await stream_first_words(pilot, chunks, "Before the zoom. ")
        await pilot.press("f6")
        zoom = app.screen
        assert isinstance(zoom, ZoomScreen)
        assert "Before the zoom." in screen_text(app)

        chunks.put_nowait("Streamed while zoomed. ")
        await until(pilot, lambda: "Streamed while zoomed." in screen_text(app))
        assert zoom.column.view.text == "Before the zoom. Streamed while zoomed. "
        await pilot.press("escape")  # back while still streaming: the column caught up
        assert not isinstance(app.screen, ZoomScreen)
        await until(pilot, lambda: "Streamed while zoomed." in screen_text(app))
        column = app.query_one(VariantGrid).column("v1")
        assert column.state.status == "streaming"

        await pilot.press("f6")  # zoomed again through the end of the run and the verdict
        chunks.put_nowait("The end.")
        chunks.put_nowait(None)
        await wait_for_run(pilot)
        assert isinstance(app.screen, ZoomScreen)
        text = screen_text(app)
        assert "The end." in text and "★ won by default" in text and "done" in text
        await pilot.press("escape")
        await pilot.pause()
        assert column.view.text == "Before the zoom. Streamed while zoomed. The end."
        assert column.winner and "★ won by default" in screen_text(app)  # N=1


async def test_zooming_while_deltas_wait_in_the_queue_shows_each_character_once(
    tmp_path: Path,
) -> None:
    """The run's state runs ahead of the deltas queued for the grid; a zoom opened in
    between showed those deltas twice, and the next resize crashed the app."""
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(120, 36)) as pilot:
        await stream_first_words(pilot, chunks, "Before the zoom. ")
        grid = app.query_one(VariantGrid)
        column = grid.column("v1")
        column.state.add_text("Queued. ", time.perf_counter())  # applied, not delivered
        column.view.focus()
        await pilot.press("f6")
        zoom = app.screen
        assert isinstance(zoom, ZoomScreen) and grid.mirrored is zoom.column
        for view in (column, zoom.column):  # what VariantGrid._drive then delivers
            view.append("Queued. ")
        await until(pilot, lambda: "Queued." in screen_text(app))
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        shown = "".join(zoom.column.view._wrapped.rows)  # wrapped at spaces: no breaks
        assert shown.replace(" ", "") == "Beforethezoom.Queued."
        assert zoom.column.view.appended == "Before the zoom. Queued. "
        await end_paced_run(pilot, chunks)


async def test_the_zoom_screen_is_built_before_the_first_f6(tmp_path: Path) -> None:
    """Built on its first f6, the zoom took ~0.1 s longer to open than later (bench)."""
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        zoom = app.get_screen("zoom", ZoomScreen)
        assert zoom.is_running and zoom.column.view.is_mounted  # mounted, not shown
        assert app.screen is app.default_screen
        await run_to_end(pilot, models="alpha, beta", n="2")
        grid = app.query_one(VariantGrid)
        grid.column("v2").view.focus()
        await pilot.press("f6")
        assert app.screen is zoom
        text = screen_text(app)
        assert "v2 · beta" in text and "Beta answer" in text and "v1 · alpha" not in text


async def test_the_zoom_screen_is_reused_for_the_next_variant_and_theme(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        grid = app.query_one(VariantGrid)
        await pilot.press("f6")  # from the prompt: the first column
        zoom = app.screen
        assert isinstance(zoom, ZoomScreen) and zoom.column.state.id == "v1"
        assert "★ winner" in screen_text(app)
        await pilot.press("f6")
        assert zoom.column.view.row_count == 0  # nothing kept while closed
        app.theme = "textual-light"
        await pilot.pause()
        grid.column("v2").view.focus()
        await pilot.press("f6")
        assert app.screen is zoom
        text = screen_text(app)
        assert "v2 · beta" in text and "Beta answer" in text
        assert "Alpha answer" not in text and "★ winner" not in text
        assert "score 6" in text
        background = app.current_theme.background
        assert background is not None
        assert zoom.styles.background == Color.parse(background)  # restyled for the theme

        old_run = grid.run
        await pilot.press("ctrl+r")  # a new run replaces the columns: the zoom closes first
        await wait_for_run(pilot)
        assert app.screen is app.default_screen and grid.mirrored is None
        assert grid.run is not old_run and grid.column("v2").state is grid.run.variants["v2"]
        assert grid.column("v2").view.text == TEXTS["beta"]


async def test_the_leaderboard_follows_a_streaming_run_once_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The columns' stats lines change on every stats tick (4 a second); the leaderboard,
    a summary whose time column changes on every update, at most once a second."""
    # The history's writer thread at the run's start can delay when a column's status
    # change is seen (which updates the leaderboard at once, by design): not this test's
    # subject, and it made the tick counting below flaky.
    monkeypatch.setenv("SCILLM_HISTORY", "0")
    clock = FrozenClock()
    monkeypatch.setattr(judge_panel, "time", clock)
    monkeypatch.setattr(variant_grid, "time", clock)
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(200, 45)) as pilot:
        grid = await planned_paced_columns(pilot, 2)
        leaderboard = app.query_one(Leaderboard)
        await pilot.press("ctrl+r")

        async def stream_and_tick(advance_s: float) -> list[str]:
            """More text into both streams, then the clock on and a repaint tick; returns
            each variant's tokens as its column's stats line shows them."""
            before = [c.state.chars for c in grid.columns]

            def grown() -> bool:
                return all(c.state.chars > n for c, n in zip(grid.columns, before, strict=True))

            while not grown():  # the streams share the queue
                chunks.put_nowait("word " * 10)
                await pilot.pause()
            clock.now += advance_s
            app.repaint()
            await pilot.pause()
            return [
                f"~{c.state.completion_tokens}"
                for c in sorted(grid.columns, key=lambda c: c.state.id)
            ]

        def shown() -> list[str]:
            by_id = {row[1]: row[4] for row in leaderboard.rows}
            return [by_id[c.state.id] for c in grid.columns]

        await stream_and_tick(1.0)  # both streaming: the start's status changes are shown
        tokens = await stream_and_tick(1.0)
        assert shown() == tokens
        later = await stream_and_tick(0.25)  # a stats tick, within the second
        assert later != tokens and shown() == tokens
        assert all(f"{t[1:]} tok" in screen_text(app) for t in later)  # the columns' lines
        latest = await stream_and_tick(0.75)
        assert shown() == latest
        await end_paced_run(pilot, chunks)


async def test_line_cached_widgets_are_still_their_base_widgets_to_css(tmp_path: Path) -> None:
    """`LineCache` is mixed in first; Textual takes CSS type names (default CSS, type
    selectors, queries) from a widget's first DOMNode base, so a Widget-based mixin had
    hidden the footer's `Footer` rules and type."""
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        footer = app.query_one(Footer)
        assert isinstance(footer, SteadyFooter)
        assert footer.region.height == 1 and footer.region.bottom == 36  # docked at the bottom
        column = app.query_one(VariantGrid).columns[0]
        assert len(column.query(Static)) == 4  # header, thinking, error and stats lines
        screen = app.screen  # `Screen { layout: vertical; }` in app.tcss
        assert isinstance(screen, DashboardScreen) and screen.styles.layout.name == "vertical"
        assert {row.id for row in app.query(Horizontal)} >= {"top", "main", "health"}


async def test_columns_scrolled_out_of_sight_keep_streaming_and_show_all_when_seen(
    tmp_path: Path,
) -> None:
    """Eight 40-cell columns do not fit: the ones out of sight keep streaming, quietly
    (tests/test_textual_private_effects.py), and show everything once scrolled to."""
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(200, 45)) as pilot:
        grid = await planned_paced_columns(pilot, 8)
        last = await stream_until_the_last_column_has_lines(pilot, grid, chunks)
        await pilot.pause()
        latest = last.state.text.split()[-1]
        shown = screen_text(app)
        assert "v1 · paced" in shown and "v8 · paced" not in shown  # out of sight

        grid.scroll_to(x=grid.max_scroll_x, animate=False)
        await until(pilot, lambda: "v8 · paced" in screen_text(app))
        await pilot.pause()
        shown = screen_text(app)
        assert latest in shown and "streaming" in shown  # text and header as they are now
        assert f"{last.state.completion_tokens} tok" in shown  # its stats line, up to date
        await end_paced_run(pilot, chunks)


async def test_a_run_ends_quietly_when_all_is_well_and_with_a_summary_when_not(
    tmp_path: Path,
) -> None:
    """All done: the headers and the judge panel say so, and the leaderboard comes with
    the verdict (filled at the run's end too, its table was drawn twice, the first time
    as the last columns finished). Failures or cancellations are summed up in a toast."""
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        assert not any("Run finished" in n.message for n in app._notifications)
        leaderboard = app.query_one(JudgePanel).query_one(Leaderboard)
        assert len(leaderboard.rows) == 2 and "★ winner v1" in screen_text(app)

        await run_to_end(pilot, models="alpha, broken", n="2")
        assert any("Run finished: 1 done, 1 error" in n.message for n in app._notifications)


async def test_the_dashboard_is_styled_once_at_start_and_again_for_a_new_theme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual restyles a screen's widgets each time it is shown, though mounting
    styled them: ~50 ms of start-up. A CSS change (a theme) still restyles."""
    restyled: list[object] = []
    update_node_styles = DashboardScreen.update_node_styles

    def counting(self: DashboardScreen, animate: bool = True) -> None:
        restyled.append(self)
        update_node_styles(self, animate)

    monkeypatch.setattr(DashboardScreen, "update_node_styles", counting)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert restyled == []
        header = app.query_one(VariantGrid).columns[0].query_one(".column-header", Static)
        before = (app.screen.styles.background, header.styles.background)
        app.theme = "textual-light"
        await pilot.pause()
        assert (app.screen.styles.background, header.styles.background) != before


async def test_the_form_is_not_restyled_input_by_input_as_it_mounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid Input adds `-valid` to itself as it mounts, a checked Checkbox `-on`: each
    add restyles the widget before the first frame. Given up front, no add happens; an
    invalid value still shows as invalid."""
    gained: list[tuple[str, str]] = []
    add_class = DOMNode.add_class

    def recording(self: DOMNode, *names: str, update: bool = True) -> DOMNode:
        gained.extend((str(self.id), name) for name in names if not self.has_class(name))
        return add_class(self, *names, update=update)

    monkeypatch.setattr(DOMNode, "add_class", recording)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert [g for g in gained if g[1] in (VALID, ON)] == []
        assert app.query_one("#n", Input).has_class(VALID)
        assert app.query_one("#auto-judge", Checkbox).has_class(ON)
        await set_form(pilot, temperature="warm")
        temperature = app.query_one("#temperature", Input)
        assert temperature.has_class("-invalid") and not temperature.has_class(VALID)


async def test_model_names_in_column_titles_are_literal_and_kept_when_rebound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A title given as a str is Textual markup: `[red]x[/red]` lost its brackets. And
    setting even the same title repaints the whole column (at a run's start, all of them)."""
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await set_form(pilot, models="[red]x[/red], [b]y", n="2")
        assert "v1 · [red]x[/red]" in screen_text(app) and "v2 · [b]y" in screen_text(app)
        column = app.query_one(VariantGrid).columns[0]
        repaints: list[object] = []
        refresh = VariantColumn.refresh

        def counting(self: VariantColumn, *regions: object, **kwargs: bool) -> VariantColumn:
            repaints.append(self)
            return refresh(self, *regions, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(VariantColumn, "refresh", counting)
        column.bind(column.state.model_copy(update={"status": "queued"}))
        assert column not in repaints
