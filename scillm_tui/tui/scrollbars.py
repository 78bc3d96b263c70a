"""Scrollbars that are drawn only when they change.

Textual draws every widget under a frame's changed area, scrollbars included, through
its per-line pipeline: ~3 ms for a 40-row bar. The grid's horizontal bar and the judge
panel's bar sit next to the streaming columns, so they were drawn on every frame
without ever changing. `CachedScrollBar` keeps its lines until it is repainted; the
`CachedScrollbars` mixin gives a scrolling widget such bars instead of Textual's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.scrollbar import ScrollBar
from textual.widget import Widget

from scillm_tui.tui.line_cache import LineCache
from scillm_tui.tui.offscreen import OffscreenQuiet

__all__ = ["CachedScrollBar", "CachedScrollbars"]

# A plain mixin at run time, for the reason given in `line_cache`.
_Base = Widget if TYPE_CHECKING else object


class CachedScrollBar(OffscreenQuiet, LineCache, ScrollBar):
    """A `ScrollBar` whose lines are reused until it is repainted."""


class CachedScrollbars(_Base):
    """Mix in before a scrolling widget class: its scrollbars are `CachedScrollBar`s.

    They are created as ``Widget.vertical_scrollbar`` and ``Widget.horizontal_scrollbar``
    create Textual's own (textual is pinned); ``tests/test_scrollbars.py`` compares what
    they draw with a stock bar's drawing.
    """

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        return self._vertical_scrollbar or self._new_bar(vertical=True)

    @property
    def horizontal_scrollbar(self) -> ScrollBar:
        return self._horizontal_scrollbar or self._new_bar(vertical=False)

    def _new_bar(self, *, vertical: bool) -> ScrollBar:
        if vertical:
            bar = CachedScrollBar(True, name="vertical", thickness=self.scrollbar_size_vertical)
            self._vertical_scrollbar = bar
        else:
            thickness = self.scrollbar_size_horizontal
            bar = CachedScrollBar(False, name="horizontal", thickness=thickness)
            self._horizontal_scrollbar = bar
        bar.display = False
        self.app._start_widget(self, bar)
        return bar
