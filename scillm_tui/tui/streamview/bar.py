"""`StreamBar`: a `StreamView`'s vertical scrollbar, drawn in the view's own last column.

Why not Textual's scrollbar widget: the compositor cuts every changed screen line at
every widget edge, and a column's scrollbar was one more widget on each of its lines:
with it drawn by the view, 8 streaming columns need ~30 % fewer cuts a frame (see
docs/performance.md). The price is doing here what Textual's ``ScrollBar`` does
(textual 8.2.8): pressing the thumb grabs it and dragging scrolls in proportion,
pressing above or below it pages, hover and grab have their own colours.

The rows are drawn with the *committed* picture of the bar, so a repaint of some rows
never mixes two thumbs: a new picture is committed together with a repaint of the bar's
column, or in a repaint of the whole view (which draws the bar anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil
from time import monotonic
from typing import TYPE_CHECKING

from rich.segment import Segment
from textual import events
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip
from textual.timer import Timer

from scillm_tui.tui.streamview.offscreen import in_last_frame

if TYPE_CHECKING:
    from scillm_tui.tui.streamview.view import StreamView

__all__ = ["BAR_WIDTH", "GROWING_THUMB_INTERVAL_S", "StreamBar", "thumb_geometry"]

BAR_WIDTH = 1
"""Cells the bar takes from the right of the view's text."""

GROWING_THUMB_INTERVAL_S = 0.5
"""While a text grows, the bar's column alone is repainted at most this often, and once
more when its thumb settles: its thumb moves every few rows, and each repaint is a
screen update of the bar's full height, for a motion nobody follows at 25 frames a
second. (A view that follows its text is repainted in full as it scrolls, and shows the
bar as it is then.)"""

_STEPS = len(ScrollBarRender.VERTICAL_BARS)  # a thumb moves in eighths of a cell


def thumb_geometry(
    size: int, virtual_size: int, window_size: int, position: float
) -> tuple[int, int, int]:
    """What a vertical ``ScrollBarRender`` would draw: (height, start, end) in 1/8 cells.

    Mirrors ``ScrollBar._render_bar`` + ``ScrollBarRender.render_bar`` (textual 8.2.8);
    ``tests/test_stream_bar.py`` compares the drawn bar with Textual's.
    """
    if window_size >= virtual_size:
        window_size = 0
    if not (window_size and size and virtual_size and size != virtual_size):
        return (size, -1, -1)
    thumb_size = max(1, window_size / (virtual_size / size))
    offset = (size - thumb_size) * (position / (virtual_size - window_size))
    start = int(offset * _STEPS)
    return (size, start, start + ceil(thumb_size * _STEPS))


class StreamBar:
    """The vertical scrollbar of one view: what it shows, and what the mouse does to it."""

    def __init__(self, view: StreamView) -> None:
        self._view = view
        self._picture: tuple[object, ...] | None = None  # what `_cells` show
        self._stale = False  # a full repaint is coming: check the picture when drawn
        self._cells: list[Segment] = []  # one per line of the view, the text's style added
        self._finished: list[Strip] | None = None  # `_cells` filtered, one per line
        self._strips: dict[Segment, Strip] = {}  # each distinct cell, filtered
        self._strips_key: tuple[object, ...] | None = None  # background and filters used
        self._drawn_at = 0.0  # when the column was last repainted (monotonic)
        self._timer: Timer | None = None  # a deferred repaint (see `update`)
        self._hover = False
        self._grab: tuple[int, float] | None = None  # (screen y, scroll y) when grabbed

    # -- the picture ---------------------------------------------------------------

    @property
    def repaint_pending(self) -> bool:
        """A repaint deferred by the follow interval is still to come."""
        return self._timer is not None

    @property
    def grabbed(self) -> bool:
        """The thumb is being dragged."""
        return self._grab is not None

    def _inputs(self) -> tuple[int, int, int, float]:
        """What Textual's bar would be given: (height, virtual size, window size,
        position), as ``ScrollView`` and ``ScrollBar`` compute them."""
        view = self._view
        window = view.window_height()
        position = int(view.scroll_y * _STEPS) / _STEPS  # ScrollBar.validate_position
        return (window, view.virtual_size.height, window, position)

    def _current(self) -> tuple[tuple[int, int, int], str, bool]:
        """What the bar would show now: thumb geometry and mouse state."""
        state = "grabbed" if self._grab else "hover" if self._hover else ""
        shown = self._view.show_vertical_scrollbar
        return (thumb_geometry(*self._inputs()), state, shown)

    def forget(self) -> None:
        """The whole view is being repainted: its drawing shows the bar as it is then."""
        self._stale = True

    def restyle(self) -> None:
        """Styles changed: the cells carry the old colours."""
        self._picture = None
        self._strips.clear()

    def update(self, *, growing: bool = False) -> None:
        """Repaint the bar's column if what it shows changed (for text `growing`, at
        most every `GROWING_THUMB_INTERVAL_S`)."""
        view = self._view
        if self._stale or self._picture is None:
            return  # the view's next drawing is a full one, and shows the bar as it is
        if self._current() == self._picture:
            return
        if not in_last_frame(view):
            self._stale = True  # drawn in full when it comes into view
            return
        now = monotonic()
        wait = GROWING_THUMB_INTERVAL_S - (now - self._drawn_at)
        if growing and wait > 0 and not self._grab:
            if self._timer is None:  # repaint later, with the bar as it is then
                self._timer = view.set_timer(wait, self._settled)
            return
        self._drawn_at = now
        self._commit()
        width, height = view.size
        view.refresh(Region(width - BAR_WIDTH, 0, BAR_WIDTH, height))

    def _settled(self) -> None:
        self._timer = None
        self.update(growing=True)

    def _commit(self) -> None:
        """Build the cells of the bar as it is now: Textual's segments, in its colours."""
        picture = self._current()
        _, state, shown = picture
        view = self._view
        styles = view.styles
        if state == "grabbed":
            back, bar = styles.scrollbar_background_active, styles.scrollbar_color_active
        elif state == "hover":
            back, bar = styles.scrollbar_background_hover, styles.scrollbar_color_hover
        else:
            back, bar = styles.scrollbar_background, styles.scrollbar_color
        if back.a < 1:
            base_background, _ = view.background_colors
            back = base_background + back
        bar = back + bar
        size, virtual, window, position = self._inputs()
        if window >= virtual or not shown or view.screen.styles.scrollbar_color.a == 0:
            window = 0  # no thumb: Textual then draws the bar's background only
        segments = ScrollBarRender.render_bar(
            size=size,
            virtual_size=virtual,
            window_size=window,
            position=position,
            vertical=True,
            back_color=back.rich_color,
            bar_color=bar.rich_color,
        ).segments
        base = view.visual_style.rich_style
        by_style: dict[object, Segment] = {}
        cells: list[Segment] = []
        for text, style, _ in segments[:size]:
            key = (text, style)
            cell = by_style.get(key)
            if cell is None:  # the mouse is handled by the view, not by style meta
                assert style is not None
                cell = by_style[key] = Segment(text, base + style.clear_meta_and_links())
            cells.append(cell)
        self._cells = cells
        self._finished = None
        self._picture = picture

    # -- drawing -------------------------------------------------------------------

    def cell(self, y: int) -> Segment:
        """The bar's segment on line `y` (for a row drawn by Textual's pipeline)."""
        return self._committed()[y]

    def finished_cells(self, filters: Sequence[LineFilter], background: Color) -> list[Strip]:
        """The bar's lines with the view's line filters applied, one per line.

        A cell's line is the same object from one picture to the next, so rows whose
        cell did not change keep their drawn line (see `RowPainter`)."""
        cells = self._committed()
        key = (background, *filters)
        if key != self._strips_key:
            self._strips.clear()
            self._strips_key = key
            self._finished = None
        if self._finished is None:
            strips = self._strips
            lines: list[Strip] = []
            for cell in cells:
                strip = strips.get(cell)
                if strip is None:
                    strip = Strip([cell], BAR_WIDTH)
                    for line_filter in filters:
                        strip = strip.apply_filter(line_filter, background)
                    strips[cell] = strip
                lines.append(strip)
            self._finished = lines
        return self._finished

    def _committed(self) -> list[Segment]:
        """The committed cells; in a full repaint, or for a new height or new styles,
        those of the bar as it is now."""
        height = self._view.window_height()
        if self._stale or self._picture is None or len(self._cells) != height:
            self._stale = False
            if self._current() != self._picture or len(self._cells) != height:
                self._commit()
        return self._cells

    # -- the mouse (what Textual's ScrollBar does) ------------------------------------

    def on_bar(self, event: events.MouseEvent) -> bool:
        """Is the pointer over the bar's column?"""
        offset = event.get_content_offset(self._view)
        return offset is not None and offset.x >= self._view.size.width - BAR_WIDTH

    def press(self, event: events.MouseDown) -> bool:
        """A press on the bar: grab the thumb, or page towards the press. True if the
        press was on the bar."""
        view = self._view
        if not self.on_bar(event):
            return False
        (_, start, end), _, shown = self._current()
        offset = event.get_content_offset(view)
        assert offset is not None
        if shown and start >= 0:
            if offset.y < start // _STEPS:
                view.scroll_page_up()
            elif offset.y >= ceil(end / _STEPS):
                view.scroll_page_down()
            else:
                self._grab = (event.screen_y, view.scroll_y)
                view.capture_mouse()
                self.update()
        return True

    def drag(self, event: events.MouseMove) -> None:
        """Follow the pointer: with the thumb while grabbed, else the hover colours."""
        view = self._view
        if self._grab is None:
            self.hover(self.on_bar(event))
            return
        window = view.window_height()
        if not window:
            return
        grabbed_at, position = self._grab
        ratio = view.virtual_size.height / window
        view.scroll_to(y=position + (event.screen_y - grabbed_at) * ratio, animate=False)

    def release(self) -> None:
        """The button went up, or the mouse was taken away: let go of the thumb."""
        if self._grab is not None:
            self._grab = None
            self._view.release_mouse()
            self.update()

    def hover(self, over: bool) -> None:
        """The pointer moved onto (`over`) or off the bar."""
        if over != self._hover:
            self._hover = over
            self.update()
