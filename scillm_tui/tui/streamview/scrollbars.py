"""Scrollbars that are drawn only when they change, and then directly.

Textual draws every widget under a frame's changed area, scrollbars included, through
its per-line pipeline (a Rich render of the bar, then each row through the styles
cache): ~3.4 ms for a 40-row bar. The grid's horizontal bar and the judge panel's bar
sit next to the streaming columns, so they were drawn on every frame without ever
changing, and each streaming column's bar is redrawn whenever its thumb moves.
`CachedScrollBar` keeps its lines until it is repainted, and draws them from
``ScrollBarRender.render_bar``'s segments, each distinct row once (~0.25 ms); the
`CachedScrollbars` mixin gives a scrolling widget such bars instead of Textual's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.color import Color
from rich.segment import Segment
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget

from scillm_tui.tui import textual_private as private
from scillm_tui.tui.streamview.direct_draw import plain_left_padding
from scillm_tui.tui.streamview.line_cache import LineCache
from scillm_tui.tui.streamview.offscreen import OffscreenQuiet

__all__ = ["CachedScrollBar", "CachedScrollbars"]

# A plain mixin at run time, for the reason given in `line_cache`.
if TYPE_CHECKING:
    _Base = Widget
else:
    _Base = object


class _DirectScrollBar(ScrollBar):
    """A `ScrollBar` that draws its rows from the bar's segments, as Textual would
    (``tests/test_scrollbars.py`` compares the two for every state of a bar)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        bar = self.render()
        if type(bar) is not ScrollBarRender or plain_left_padding(self) != 0:
            return super().render_lines(crop)
        width, height = self.size
        size, thickness = (height, width) if bar.vertical else (width, height)
        style = bar.style
        assert not isinstance(style, str)  # ScrollBar.render gives a Style
        segments = ScrollBarRender.render_bar(
            size=size,
            virtual_size=bar.virtual_size,
            window_size=bar.window_size,
            position=bar.position,
            thickness=thickness,
            vertical=bar.vertical,
            back_color=style.bgcolor or _DEFAULT_BACK,  # ScrollBarRender's defaults
            bar_color=style.color or _DEFAULT_BAR,
        ).segments
        base = self.visual_style.rich_style
        if bar.vertical:
            rows = [[segment] for segment in segments]
        else:  # `thickness` copies of the row, each ending in a newline segment
            rows = [segments[:size]] * thickness
        _, background = self.background_colors
        filters = self.get_line_filters()
        drawn: dict[tuple[Segment, ...], Strip] = {}  # a bar has 3-5 distinct rows
        strips: list[Strip] = []
        for row in rows[: crop.bottom][crop.y :]:
            key = tuple(row)
            line = drawn.get(key)
            if line is None:
                line = Strip([Segment(text, base + seg_style) for text, seg_style, _ in row])
                line = line.adjust_cell_length(width)
                for line_filter in filters:
                    line = line.apply_filter(line_filter, background)
                drawn[key] = line
            strips.append(line)
        if (crop.x, crop.right) != (0, width):
            strips = [strip.crop(crop.x, crop.right) for strip in strips]
        return strips


_DEFAULT_BACK = Color.parse("#555555")
_DEFAULT_BAR = Color.parse("bright_magenta")


class CachedScrollBar(OffscreenQuiet, LineCache, _DirectScrollBar):
    """A `ScrollBar` whose lines are reused until it is repainted."""


class CachedScrollbars(_Base):
    """Mix in before a scrolling widget class: its scrollbars are `CachedScrollBar`s.

    They are created as ``Widget.vertical_scrollbar`` and ``Widget.horizontal_scrollbar``
    create Textual's own (textual is pinned); ``tests/test_scrollbars.py`` compares what
    they draw with a stock bar's drawing.
    """

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        return private.scrollbar_slot(self, vertical=True) or self._new_bar(vertical=True)

    @property
    def horizontal_scrollbar(self) -> ScrollBar:
        return private.scrollbar_slot(self, vertical=False) or self._new_bar(vertical=False)

    def _new_bar(self, *, vertical: bool) -> ScrollBar:
        if vertical:
            bar = CachedScrollBar(True, name="vertical", thickness=self.scrollbar_size_vertical)
        else:
            thickness = self.scrollbar_size_horizontal
            bar = CachedScrollBar(False, name="horizontal", thickness=thickness)
        private.set_scrollbar_slot(self, bar, vertical=vertical)
        bar.display = False
        private.start_child_widget(self.app, self, bar)
        return bar
