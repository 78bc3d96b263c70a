"""`FollowThumb`: repaints a `StreamView`'s scrollbar only when its thumb visibly moves.

Repainting a scrollbar draws its full height; done on every new row it was the largest
cost of a streaming frame (8 columns: ~74 ms/frame with, ~27 ms without). With a long
text the thumb moves by one eighth of a cell only every few rows, so most repaints are
no-ops: `thumb_geometry` mirrors Textual's drawing to tell when the picture changes.
"""

from __future__ import annotations

from math import ceil
from time import monotonic
from typing import TYPE_CHECKING

from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.timer import Timer

from scillm_tui.tui.offscreen import in_last_frame

if TYPE_CHECKING:
    from scillm_tui.tui.stream_view import StreamView

__all__ = ["FOLLOW_THUMB_INTERVAL_S", "FollowThumb", "thumb_geometry"]

FOLLOW_THUMB_INTERVAL_S = 0.5
"""While following, the scrollbar is repainted at most this often, and once more when its
thumb settles. Each repaint draws the whole bar, and while a text grows its thumb moves
every few rows: with 8 columns that was ~10 % of the dashboard's CPU, for a motion nobody
follows at 25 frames a second."""


def thumb_geometry(
    size: int, virtual_size: int, window_size: int, position: float
) -> tuple[int, int, int]:
    """What a vertical ``ScrollBarRender`` would draw: (height, start, end) in 1/8 cells.

    Mirrors ``ScrollBar._render_bar`` + ``ScrollBarRender.render_bar`` (textual 8.2.8);
    ``tests/test_stream_view.py`` checks that skipping repaints with it leaves the same
    picture as repainting every time.
    """
    if window_size >= virtual_size:
        window_size = 0
    if not (window_size and size and virtual_size and size != virtual_size):
        return (size, -1, -1)
    steps = len(ScrollBarRender.VERTICAL_BARS)
    thumb_size = max(1, window_size / (virtual_size / size))
    offset = (size - thumb_size) * (position / (virtual_size - window_size))
    start = int(offset * steps)
    return (size, start, start + ceil(thumb_size * steps))


class FollowThumb:
    """The vertical scrollbar of one view: its range and position kept current, its
    picture repainted only when the thumb moves."""

    def __init__(self, view: StreamView) -> None:
        self._view = view
        self._drawn: tuple[int, int, int] | None = None  # thumb last painted
        self._drawn_at = 0.0  # when (monotonic)
        self._timer: Timer | None = None  # a deferred repaint (see `update`)

    @property
    def repaint_pending(self) -> bool:
        """A repaint deferred by the follow interval is still to come."""
        return self._timer is not None

    def forget(self) -> None:
        """The bar was repainted by Textual (a layout): compare with nothing next time."""
        self._drawn = None

    def update(self, *, growing: bool = False) -> None:
        """Give the scrollbar its new range and position; repaint it only if the thumb
        it draws actually moved (and, for text `growing` while followed, at most every
        `FOLLOW_THUMB_INTERVAL_S`).

        The reactives are set without their refresh: ``ScrollView.watch_scroll_y``
        would repaint the bar on every row scrolled.
        """
        view = self._view
        if not view.show_vertical_scrollbar:
            return
        bar = view.vertical_scrollbar
        virtual = view.virtual_size.height
        window = view.window_height()
        position = bar.validate_position(view.scroll_y)
        bar.set_reactive(ScrollBar.window_virtual_size, virtual)
        bar.set_reactive(ScrollBar.window_size, window)
        bar.set_reactive(ScrollBar.position, position)
        if bar.renderer is ScrollBarRender:
            thumb = thumb_geometry(bar.outer_size.height, virtual, window, position)
        else:
            thumb = None  # unknown renderer: always repaint
        if (thumb is None or thumb != self._drawn) and in_last_frame(view):
            now = monotonic()
            wait = FOLLOW_THUMB_INTERVAL_S - (now - self._drawn_at)
            if growing and view.following and thumb is not None and wait > 0:
                if self._timer is None:  # repaint later, with the thumb as it is then
                    self._timer = view.set_timer(wait, self._settled)
                return
            self._drawn = thumb
            self._drawn_at = now
            bar.refresh()

    def _settled(self) -> None:
        self._timer = None
        self.update(growing=True)
