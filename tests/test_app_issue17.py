"""Issue 17's dashboard items: what the screen said that was wrong or misleading."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual import events
from textual.keys import _character_to_key  # what Pilot.press uses
from textual.widgets import Input, Static

from scillm_tui.core.judge import JudgeProgress, Verdict
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.runs import VariantState
from scillm_tui.session import Session
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.formatting import ms, stats_text, status_text
from scillm_tui.tui.screens.markdown import MarkdownScreen
from scillm_tui.tui.screens.zoom import ZoomScreen
from scillm_tui.tui.widgets import judge_panel, variant_grid
from scillm_tui.tui.widgets.health_strip import HealthStrip
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.leaderboard import Leaderboard
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.run_form import RunForm
from scillm_tui.tui.widgets.variant_column import VariantColumn
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.test_app_flows import end_paced_run, paced_app, planned_paced_columns, until
from tests.tui_support import (
    FrozenClock,
    Script,
    fixed_report,
    make_app,
    make_session,
    make_transport,
    run_to_end,
    screen_text,
    set_form,
    show_health,
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


def panel_text(app: ScillmApp) -> str:
    panel = app.query_one(JudgePanel)
    return "\n".join(str(s.content) for s in panel.query(Static))


async def test_a_win_by_default_shows_no_made_up_score(tmp_path: Path) -> None:
    app = app_with_extras(Script(), tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, broken", n="2")
        verdict = app.query_one(JudgePanel).verdict
        assert verdict is not None and verdict.status == "default"
        rows = app.query_one(Leaderboard).rows
        assert [row[3] for row in rows] == ["–", "–"]  # the score column: none given
        assert "won by default" in panel_text(app)
        winner = app.query_one(VariantGrid).column("v1")
        header = str(winner.query_one(".column-header", Static).content)
        assert header.startswith("★ won by default") and "score" not in header
        assert "score" not in screen_text(app).split("Judge")[0]  # no column shows one


async def test_a_failed_judge_shows_its_error_and_no_ranking(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False, JUDGE_MODEL="judge-bad")
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        assert "judge error" in panel_text(app)
        rows = app.query_one(Leaderboard).rows
        assert [(row[0], row[3]) for row in rows] == [("", "–"), ("", "–")]


class _H2Verdict(Verdict):
    """The verdict of the judge core on branch h2: the reason's letters mapped."""

    reason_labels: dict[str, str] = {}


async def test_the_judges_reason_maps_the_letters_it_names(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta, gamma", n="3")
        run = app.query_one(VariantGrid).run
        assert run is not None
        verdict = _H2Verdict(
            status="verdict",
            best_id="v1",
            reason="A is more concise than B and C.",
            reason_labels={"B": "v1", "A": "v2", "C": "v3"},
            scores={"v1": 9, "v2": 6, "v3": 5},
            judge_model="judge",
            judge_endpoint="gateway",
        )
        app.query_one(JudgePanel).show_verdict(run, verdict)
        await pilot.pause()
        assert "A is more concise than B and C.\nA=v2 · B=v1 · C=v3" in panel_text(app)
        assert "A=v2 · B=v1 · C=v3" in screen_text(app)


async def test_an_empty_answer_is_noted_as_left_out_of_judging(tmp_path: Path) -> None:
    app = app_with_extras(Script(), tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="empty, alpha, beta", n="3")
        verdict = app.query_one(JudgePanel).verdict
        assert verdict is not None and "v1" not in verdict.candidates
        assert "left out of judging: v1 (no text)" in panel_text(app)


async def test_a_judge_that_raises_is_shown_and_logged_not_judging_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crashing(*args: object) -> AsyncIterator[JudgeProgress | Verdict]:
        raise RuntimeError("judge exploded")
        yield  # an async generator, as `judge_events` is

    monkeypatch.setattr(judge_panel, "judge_events", crashing)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("scillm_tui.tui")
    logger.addHandler(handler)
    try:
        app = make_app(Script(), tmp_path, poll_health=False)
        async with app.run_test(size=(160, 45)) as pilot:
            await run_to_end(pilot, models="alpha, beta", n="2")
            text = panel_text(app)
            assert "judging" not in text and "judge error" in text
            assert "judge exploded" in text
            assert not app.query_one(JudgePanel).judging
            assert any("judge exploded" in n.message for n in app._notifications)
    finally:
        logger.removeHandler(handler)
    assert any(r.exc_info and "judge exploded" in str(r.exc_info[1]) for r in records)


async def test_the_end_of_run_toast_counts_in_words(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 45)) as pilot:
        await run_to_end(pilot, models="broken, broken, broken, alpha", n="4")
        (message,) = [n.message for n in app._notifications if "Run finished" in n.message]
        assert message == "Run finished: 3 errors, 1 done"


async def test_f8_again_closes_the_markdown_view(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha", n="1")
        depth = len(app.screen_stack)
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, MarkdownScreen) and len(app.screen_stack) == depth + 1
        await pilot.press("f8")
        await pilot.pause()
        assert len(app.screen_stack) == depth and not isinstance(app.screen, MarkdownScreen)
        await pilot.press("f8")
        await pilot.pause()
        assert len(app.screen_stack) == depth + 1


async def test_the_models_field_shows_its_start_after_losing_focus(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        field = app.query_one("#models", Input)
        field.focus()
        await pilot.pause()
        value = ("alpha, beta, gamma, delta, " + "e" * 40)[: field.content_region.width]
        await pilot.press("end", "backspace", *value[len("alph") :])
        assert field.value == value
        await pilot.press("tab")
        await pilot.pause()
        (line,) = [row for row in screen_text(app).splitlines() if "models " in row]
        assert "models   alpha, beta" in line


async def test_a_leaderboard_row_ends_in_the_same_frame_as_its_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live rows follow the streams once a second; a variant's end is not a live
    figure: its row says so together with its column, not up to a second later."""
    clock = FrozenClock()  # no live refresh of the rows after the first
    monkeypatch.setattr(judge_panel, "time", clock)
    monkeypatch.setattr(variant_grid, "time", clock)
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(200, 45)) as pilot:
        grid = await planned_paced_columns(pilot, 2)
        await pilot.press("ctrl+r")
        while not all(c.state.chars for c in grid.columns):
            chunks.put_nowait("word " * 10)
            await pilot.pause()
        await pilot.pause()
        chunks.put_nowait(None)  # one of the two streams ends
        await until(pilot, lambda: any(c.state.status == "done" for c in grid.columns))
        ended = next(c for c in grid.columns if c.state.status == "done")
        await until(pilot, lambda: "done" in str(ended.query_one(".column-header", Static).content))
        row = next(r for r in app.query_one(Leaderboard).rows if r[1] == ended.state.id)
        state = ended.state
        assert row[4] == f"{'~' if state.tokens_estimated else ''}{state.completion_tokens}"
        assert row[-1] == ms(state.duration_ms)  # the last cell: time
        await end_paced_run(pilot, chunks)


async def test_a_model_the_gateway_does_not_list_is_flagged_before_the_run(
    tmp_path: Path,
) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        strip = app.query_one(HealthStrip)  # as a probe of the gateway reports it
        strip.post_message(HealthStrip.Changed(fixed_report("gateway", "up"), None))
        await pilot.pause()
        form = app.query_one(RunForm)
        await set_form(pilot, models="alpha, nosuch-model", n="2")
        assert form.border_subtitle == "⚠ not on gateway: nosuch-model"
        assert "⚠ not on gateway: nosuch-model" in screen_text(app)
        await run_to_end(pilot, models="alpha, nosuch-model", n="2")  # a warning only
        assert [r["model"] for r in script.requests[:2]] == ["alpha", "nosuch-model"]
        await set_form(pilot, models="alpha, beta")
        assert not form.border_subtitle


async def test_the_sidecars_concurrency_goes_to_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        healthz = {"ok": True, "concurrency": 4}
        show_health(
            app, fixed_report("sidecar", "up", healthz=healthz), fixed_report("gateway", "up")
        )
        await run_to_end(pilot, models="alpha", n="6")
        run = app.query_one(VariantGrid).run
        assert run is not None and run.endpoint_limits == {"sidecar": 4}
