"""Work Textual does not do: no layouts, map rebuilds or repaint requests where we avoid them.

A user sees none of these, only their cost: each stalled or slowed every streaming column
and is a bench figure (named in each test). They have no public face in Textual 8.2.8, so
these tests watch them through `scillm_tui.tui.textual_private` (`watching_layouts`,
`watching_full_map_builds`, `watching_update_ticks`, `full_map_stale`,
`repaint_requested`, `visible_in_last_frame`), which `tests/test_textual_private.py` checks
against each Textual upgrade. What these runs show on screen is asserted too, through
`tests.tui_support.screen_text`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Checkbox
from textual.widgets._footer import FooterKey  # no public home in 8.2.8

from scillm_tui.tui import textual_private as private
from scillm_tui.tui.screens.zoom import ZoomScreen
from scillm_tui.tui.widgets.leaderboard import Leaderboard
from tests.test_app_flows import (
    end_paced_run,
    paced_app,
    planned_paced_columns,
    stream_until_the_last_column_has_lines,
    until,
)
from tests.test_stream_view import LINES, ViewApp, fill, screen_rows
from tests.tui_support import (
    Script,
    fixed_report,
    make_app,
    run_to_end,
    screen_text,
    show_health,
)


async def test_growth_does_not_trigger_a_screen_layout() -> None:
    """A growing text updates its view's virtual size without a layout of the screen
    (bench case 3: frames/s and event-loop lag while 8 and 16 columns stream)."""
    app = ViewApp(count=2)
    async with app.run_test(size=(60, 10)) as pilot:
        await fill(app, pilot, LINES[:20], view=0)  # scrollbar is there now
        await fill(app, pilot, LINES[:20], view=1)
        with private.watching_layouts(app.screen) as layouts:
            for line in LINES[20:40]:
                for index in range(2):
                    app.view(index).append(line + " " + "word " * 9)
                    app.view(index).flush()
                await pilot.pause()
        assert layouts == []
        assert app.view(0).following
        shown = " ".join(row.strip() for row in screen_rows(app, app.view(0)) if row.strip())
        assert shown.endswith("line 039 " + " ".join(["word"] * 9))


async def test_a_run_lays_out_nothing_from_its_start_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run streams into the columns already on screen, the judge panel's one-row state
    changes in place, and the leaderboard has one row per variant from before the run:
    a layout of the whole screen at a run's start stalled all columns for ~0.1 s (bench
    case 3: event-loop lag max), and at its end (~20-30 ms) it delayed the last text."""
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(200, 45)) as pilot:
        app.query_one("#auto-judge", Checkbox).value = False
        grid = await planned_paced_columns(pilot, 8)
        await pilot.pause()
        leaderboard = app.query_one(Leaderboard)
        assert [row[1] for row in leaderboard.rows] == [f"v{n}" for n in range(1, 9)]
        with private.watching_layouts(app.screen) as layouts:
            await pilot.press("ctrl+r")
            while not all(c.view.row_count for c in grid.columns):
                chunks.put_nowait("word " * 20)
                await pilot.pause()
            assert "waiting for the run to finish" in screen_text(app)
            # Live: each variant's tokens so far, on the columns' stats tick.
            await until(pilot, lambda: all(row[4].startswith("~") for row in leaderboard.rows))
            assert grid.streaming
            await end_paced_run(pilot, chunks)
            assert "run finished — press ctrl+j to judge" in screen_text(app)
        assert all(row[4] != "–" for row in leaderboard.rows)  # every variant's tokens
        assert layouts == []


async def test_a_health_report_repaints_its_pane_without_a_layout(tmp_path: Path) -> None:
    """Panes are polled every 10 s; a layout per report stalled 16 streaming columns for
    ~40 ms (bench case 3: event-loop lag max, 16 columns)."""
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        show_health(app, fixed_report("sidecar", "up"), fixed_report("gateway", "up"))
        await pilot.pause()
        with private.watching_layouts(app.screen) as layouts:
            sidecar = fixed_report("sidecar", "up", latency_ms=123.0)
            gateway = fixed_report("gateway", "down", "connection refused")
            show_health(app, sidecar, gateway)
            await pilot.pause()
        text = screen_text(app)
        assert "123 ms" in text and "connection refused" in text
        assert app.query_one("#health-gateway").has_class("-down")
        assert layouts == []


async def test_the_first_f6_finds_the_zoom_screen_laid_out_and_its_keys_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Laid out and drawn for the first time on its first push, the zoom opened ~25 ms
    slower than on any later f6 (bench case 5: key → visible p99, f6 zoom toggle: that
    first toggle was its p99); and its update timer, ticking for the first time, waited a
    whole period (1/60 s) more."""
    with private.watching_update_ticks(ZoomScreen) as ticks:
        app = make_app(Script(), tmp_path, poll_health=False)
        async with app.run_test(size=(160, 45)) as pilot:
            await run_to_end(pilot, models="alpha, beta", n="2")
            zoom = app.get_screen("zoom", ZoomScreen)
            assert False in ticks  # its first period passed while hidden
            drawn: list[str] = []
            render = FooterKey.render

            def counting(key: FooterKey) -> object:
                drawn.append(key.key)
                return render(key)

            monkeypatch.setattr(FooterKey, "render", counting)
            with private.watching_layouts(zoom) as layouts:
                await pilot.press("f6")
                await pilot.pause()
            assert app.screen is zoom and "Alpha answer" in screen_text(app)
            assert "Close zoom" in screen_text(app)  # the keys are on screen ...
            assert drawn == []  # ... as drawn while the screen was hidden
            assert layouts == []  # and laid out then, at this size


async def test_columns_scrolled_out_of_sight_stream_without_asking_for_a_repaint(
    tmp_path: Path,
) -> None:
    """Eight 40-cell columns do not fit: the ones out of sight keep streaming without
    asking the screen to repaint them; each such request made Textual rebuild its map of
    the whole screen, ~2-5 ms a frame (bench case 3: CPU ÷ raw consumer and frames/s,
    8 columns). What they show once scrolled to: tests/test_app_flows.py."""
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(200, 45)) as pilot:
        grid = await planned_paced_columns(pilot, 8)
        last = await stream_until_the_last_column_has_lines(pilot, grid, chunks)
        assert private.visible_in_last_frame(grid.columns[0])
        assert not private.visible_in_last_frame(last)
        assert last.view.row_count >= 3  # it did take the text
        quiet = [last, *last.query("*")]
        assert not any(private.repaint_requested(widget) for widget in quiet)
        assert not private.full_map_stale(app.screen)
        await end_paced_run(pilot, chunks)


async def test_a_run_start_asks_no_column_out_of_sight_to_repaint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's start rebinds every column, just as the compositor has dropped its set of
    visible widgets: the columns out of sight must still tell from its maps that they are
    unseen, or Textual rebuilds its map of the whole screen (8 ms at 8 columns; bench
    case 3: event-loop lag max, 8 columns)."""
    # The history's recorder opens on a thread while the app starts; when it lands during
    # the run's start it can shift a frame: not this test's subject (a flake seen in CI).
    monkeypatch.setenv("SCILLM_HISTORY", "0")
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(200, 45)) as pilot:
        grid = await planned_paced_columns(pilot, 8)
        # The plan's own layout (columns mounted) must be done first: on a busy machine
        # it could land after ctrl+r and be counted as the run's.
        await until(pilot, lambda: not private.layout_pending(app.screen))
        await pilot.pause()
        with private.watching_full_map_builds(app.screen) as builds:
            await pilot.press("ctrl+r")
            for n in range(16):
                chunks.put_nowait(f"word{n} ")
                await pilot.pause()
            grid.flush(force=True)
            await pilot.pause()
        assert not private.visible_in_last_frame(grid.columns[-1])
        assert "word" in screen_text(app)  # the columns in sight show the stream
        assert builds == []
        await end_paced_run(pilot, chunks)
