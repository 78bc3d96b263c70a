"""Scrollbars that reuse their drawing: the same picture as Textual's, kept up to date."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

from scillm_tui.tui.judge_panel import JudgePanel
from scillm_tui.tui.scrollbars import CachedScrollBar
from scillm_tui.tui.variant_grid import VariantGrid
from tests.tui_support import Script, make_app, set_form


def drawn(bar: ScrollBar) -> tuple[list[Strip], list[Strip]]:
    """What the bar draws, and what Textual's own pipeline draws for it now."""
    width, height = bar.outer_size
    whole = Region(0, 0, width, height)
    return bar.render_lines(whole), Widget.render_lines(bar, whole)


async def test_the_grid_bar_is_cached_and_follows_the_scroll(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await set_form(pilot, models="alpha", n="8")  # 8 columns of 40 cells: it scrolls
        grid = app.query_one(VariantGrid)
        await pilot.pause()
        bar = grid.horizontal_scrollbar
        assert isinstance(bar, CachedScrollBar) and bar.display
        at_start, stock = drawn(bar)
        assert at_start == stock

        grid.scroll_to(x=grid.max_scroll_x / 2, animate=False)
        await pilot.pause()
        in_middle, stock = drawn(bar)
        assert in_middle == stock and in_middle != at_start  # the thumb moved


async def test_panel_and_column_bars_are_cached(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        grid = app.query_one(VariantGrid)
        bars = [
            app.query_one(JudgePanel).vertical_scrollbar,
            grid.columns[0].view.vertical_scrollbar,
        ]
        assert all(isinstance(bar, CachedScrollBar) for bar in bars)
