"""The dashboard's layout on small and wide terminals, during a run and after resizes."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.leaderboard import Leaderboard
from scillm_tui.tui.widgets.overflow_hint import OverflowHint
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.tui_support import Script, make_app, screen_text, set_form, type_prompt, wait_for_run

LONG_REASON = " ".join(["A is the most complete and correct answer."] * 12)


async def start(pilot: Pilot, models: str, n: str) -> None:
    await type_prompt(pilot, "Explain CRDTs.")
    await set_form(pilot, models=models, n=n)
    await pilot.press("ctrl+r")


async def test_a_short_screen_gives_the_columns_the_rows_while_a_run_streams(
    tmp_path: Path,
) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(VariantGrid)
        await set_form(pilot, models="alpha, stuck, gamma", n="3")
        await pilot.pause()
        assert app.query_one(OverflowHint).display  # the planned columns overflow already
        before = grid.size.height
        await start(pilot, "alpha, stuck, gamma", "3")
        await script.stuck_started.wait()
        await pilot.pause()
        assert app.query_one("#health").size.height == 1  # one line for both panes
        assert app.query_one("#top").size.height == 3  # the prompt folded to one line
        assert not app.query_one("#form").display
        assert grid.size.height >= before + 7
        assert "Explain CRDTs." in screen_text(app)  # the prompt still shows
        # Focusing the prompt unfolds it (and its settings).
        app.query_one("#prompt").focus()
        await pilot.pause()
        assert app.query_one("#top").size.height == 7
        assert app.query_one("#form").display
        grid.cancel()
        await wait_for_run(pilot)
        await pilot.pause()
        assert grid.size.height == before  # the run over: everything back
        assert app.query_one("#health").size.height == 4


async def test_a_tall_screen_keeps_its_layout_during_a_run(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(120, 40)) as pilot:
        before = app.query_one(VariantGrid).size.height
        await start(pilot, "alpha, stuck", "2")
        await script.stuck_started.wait()
        await pilot.pause()
        assert app.query_one(VariantGrid).size.height == before
        app.query_one(VariantGrid).cancel()
        await wait_for_run(pilot)


async def test_columns_beyond_the_edge_are_counted_and_reached_by_keys(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await start(pilot, "alpha, beta, gamma, delta, alpha, beta", "6")
        await wait_for_run(pilot)
        await pilot.pause()
        hint = app.query_one(OverflowHint)
        grid = app.query_one(VariantGrid)
        assert hint.display and hint.counts == (0, 2)  # v5 clipped, v6 off screen
        assert "+2 →" in screen_text(app)
        for _ in range(6):  # alt+→ walks the focus to the last column, scrolling
            await pilot.press("alt+right")
        await pilot.pause()
        last = grid.columns[-1]
        assert app.focused is last.view
        assert grid.region.contains_region(last.region)  # wholly in view
        assert hint.counts[1] == 0 and hint.counts[0] >= 1
        assert "← +" in screen_text(app)
        for _ in range(5):
            await pilot.press("alt+left")
        await pilot.pause()
        assert app.focused is grid.columns[0].view
        assert hint.counts == (0, 2)


async def test_no_hint_when_every_column_fits(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await start(pilot, "alpha, beta", "2")
        await wait_for_run(pilot)
        await pilot.pause()
        assert not app.query_one(OverflowHint).display


async def test_the_layout_recovers_after_a_resize(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await start(pilot, "alpha, beta, gamma, delta", "4")
        await wait_for_run(pilot)
        panel = app.query_one(JudgePanel)
        wide = panel.size.width
        header = app.query_one(Leaderboard).render().plain.splitlines()[0]
        assert "ttft" in header
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert panel.size.width < wide
        assert app.screen.has_class("-narrow")
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        await pilot.pause()
        assert not app.screen.has_class("-narrow") and not app.screen.has_class("-short")
        assert panel.size.width == wide
        assert app.query_one(Leaderboard).render().plain.splitlines()[0] == header


async def test_a_long_reason_scrolls_and_the_leaderboard_stays_in_view(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, "alpha, beta, gamma", "3")
        await wait_for_run(pilot)
        reason = app.query_one("#judge-reason", Static)
        reason.update(LONG_REASON)
        await pilot.pause()
        panel, board = app.query_one(JudgePanel), app.query_one(Leaderboard)
        assert reason.size.height <= 2
        assert panel.scrollable_content_region.contains_region(board.region)
