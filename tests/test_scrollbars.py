"""Scrollbars that reuse their drawing: the same picture as Textual's, kept up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.containers import HorizontalScroll, VerticalScroll
from textual.geometry import Region
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from scillm_tui.tui.streamview.scrollbars import CachedScrollBar, CachedScrollbars
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.variant_grid import VariantGrid
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


async def test_the_panel_bar_is_cached_and_the_columns_have_none(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        columns = [column.view for column in app.query_one(VariantGrid).columns]
        assert isinstance(app.query_one(JudgePanel).vertical_scrollbar, CachedScrollBar)
        # The columns' views draw their bars themselves (tests/test_stream_bar.py): on
        # their last column is the view, not a scrollbar widget.
        seen = [view for view in columns if view.region.right <= app.size.width]
        assert len(seen) >= 3
        for view in seen:
            region = view.region
            for y in range(region.y, region.bottom):
                assert app.screen.get_widget_at(region.right - 1, y)[0] is view


class _Tall(CachedScrollbars, VerticalScroll):
    pass


class _Wide(CachedScrollbars, HorizontalScroll):
    pass


class BarsApp(App[None]):
    """A two-cell-thick vertical bar and a horizontal one, both scrollable."""

    CSS = """
    _Tall { height: 12; scrollbar-size-vertical: 2; }
    _Tall Static { height: 5; }
    _Wide { height: 4; }
    _Wide Static { width: 30; }
    """

    def compose(self) -> ComposeResult:
        with _Tall():
            yield from (Static(f"row {n}") for n in range(9))
        with _Wide():
            yield from (Static(f"column {n}") for n in range(9))


def crops(bar: ScrollBar) -> list[Region]:
    """The whole bar, and a part of it (as when it is partly covered)."""
    width, height = bar.size
    part = Region(0, 1, width, height - 2) if height > 2 else Region(3, 0, width - 5, height)
    return [Region(0, 0, width, height), part]


@pytest.mark.parametrize("where", [0, 0.13, 0.5, 0.77, 1])
async def test_drawn_directly_as_textual_draws_it(where: float) -> None:
    """Drawn from the bar's segments, the rows equal those of Textual's own pipeline
    (a Rich render through the styles cache), for every thumb position, both
    orientations, a thick bar, hover and drag."""
    app = BarsApp()
    async with app.run_test(size=(60, 24)) as pilot:
        tall, wide = app.query_one(_Tall), app.query_one(_Wide)
        tall.scroll_to(y=tall.max_scroll_y * where, animate=False)
        wide.scroll_to(x=wide.max_scroll_x * where, animate=False)
        await pilot.pause()
        vertical, horizontal = tall.vertical_scrollbar, wide.horizontal_scrollbar
        assert isinstance(vertical, CachedScrollBar) and vertical.size.width == 2
        assert isinstance(horizontal, CachedScrollBar) and horizontal.display
        for state in ("plain", "hover", "grabbed"):
            vertical.mouse_over = state == "hover"
            vertical.grabbed = (0, 0) if state == "grabbed" else None
            for bar in (vertical, horizontal):
                bar.refresh()
                for crop in crops(bar):
                    assert bar.render_lines(crop) == Widget.render_lines(bar, crop), state
