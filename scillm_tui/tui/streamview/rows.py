"""`RowPainter`: a `StreamView`'s rows drawn as cached strips of literal text.

Rows are built from plain ``Segment``s, so text is never parsed as markup, and control
characters arrive already replaced by visible placeholders (drawn in their own style).
Each screen line ends in the view's scrollbar cell (`StreamBar`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style as VisualStyle

from scillm_tui.tui.streamview.bar import BAR_WIDTH, StreamBar
from scillm_tui.tui.streamview.direct_draw import plain_left_padding
from scillm_tui.tui.streamview.wrap import PLACEHOLDER_CHARS, WrappedText

if TYPE_CHECKING:
    from scillm_tui.tui.streamview.view import StreamView

__all__ = ["RowPainter"]

_PLACEHOLDER_RUN = re.compile("[" + "".join(sorted(PLACEHOLDER_CHARS)) + "]+")


class RowPainter:
    """Strips for one view's rows, and its finished screen lines, both cached.

    Two caches: row strips (text padded to the text's width) for ``render_line``, and
    finished lines (left padding and line filters applied, and the bar's cell they were
    last drawn with) for ``render_lines``. Rows before the last are final, so only the
    last row's entries are dropped as text streams in.
    """

    def __init__(self, view: StreamView, wrapped: WrappedText, bar: StreamBar) -> None:
        self._view = view
        self._wrapped = wrapped
        self._bar = bar
        self._strips: LRUCache[int, Strip] = LRUCache(256)
        self._lines: LRUCache[int, _Line] = LRUCache(256)
        self._lines_key: tuple[object, ...] | None = None  # what `_lines` were built with
        self._pad_style = Style()  # left padding's style in `_lines`
        self._strip_width = 0  # width the cached strips were padded to
        self._blank: Strip | None = None
        self._blank_line: Strip | None = None  # a finished blank row's text (render_lines)
        self._styles: tuple[Style, Style, Style] | None = None  # text, control, placeholder
        self._pass: tuple[int, int] | None = None  # (width, top row) during render_lines

    def forget(self, row: int | None = None) -> None:
        """Drop cached strips: of one row, or all of them."""
        if row is None:
            self._strips.clear()
            self._lines.clear()
            self._blank_line = None
        else:
            self._strips.discard(row)
            self._lines.discard(row)

    def resize(self, height: int) -> None:
        """Start over for a new size, with caches that hold a few screens of rows."""
        self._strips = LRUCache(max(64, 3 * height))
        self._lines = LRUCache(max(64, 3 * height))
        self._lines_key = None
        self._blank_line = None
        self._strip_width = 0

    def restyle(self) -> None:
        """Cached strips carry the old colours: drop them (styles or theme changed)."""
        self._styles = None
        self._blank = None
        self.forget()

    def render_lines(self, crop: Region, generic: Callable[[Region], list[Strip]]) -> list[Strip]:
        """Draw the visible rows from the finished-line cache.

        Textual's generic path (``Widget.render_lines`` through its styles cache, here
        `generic`) runs every line of a scrolled view through its full per-line pipeline
        (padding, background, borders, post-processing, line filters) on every scroll,
        although the row's strip is cached: with many columns following their streams
        that was most of a frame's drawing. For the plain styles the view has (see
        `plain_left_padding`) this does the same steps once per row and caches the
        result; other styles take the generic path.
        """
        view = self._view
        width, top = view.size.width, view.scroll_offset.y
        text_width = width - BAR_WIDTH
        self._pass = (text_width, top)
        try:
            pad = plain_left_padding(view)
            if pad is None:
                return generic(crop)
            filters = view.get_line_filters()
            base_background, background = view.background_colors
            key = (width, pad, base_background, background, *filters)
            if key != self._lines_key:
                self._lines.clear()
                self._blank_line = None
                self._lines_key = key
                # What Textual pads with: the background alone, not the text's style.
                self._pad_style = VisualStyle(background=base_background + background).rich_style
            cells = self._bar.finished_cells(filters, background)
            bar_x = pad + text_width
            if crop.x >= bar_x:  # the bar's column alone: its thumb moved
                return [cells[y].crop(crop.x - bar_x, crop.right - bar_x) for y in crop.line_range]
            lines = self._lines
            wrapped_rows = self._wrapped.row_count

            def finished(y: int) -> Strip:
                return self._finish(self.row(y, cache=False), pad, filters, background)

            strips: list[Strip] = []
            for y in crop.line_range:
                row = top + y
                cell = cells[y]
                if row < wrapped_rows:
                    line = lines.get(row)
                    if line is None:
                        line = _Line(finished(y))
                        lines.set(row, line)
                    strips.append(line.ending_in(cell))
                    continue
                if row or not view.placeholder:  # blank rows below the text: all alike
                    text = self._blank_line
                    if text is None:
                        text = self._blank_line = finished(y)
                else:  # the placeholder, drawn while there is no text
                    text = finished(y)
                strips.append(Strip.join((text, cell)))
        finally:
            self._pass = None
        x1, x2 = crop.column_span
        if (x1, x2) != (0, width + pad):
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _finish(
        self, line: Strip, pad: int, filters: Sequence[LineFilter], background: Color
    ) -> Strip:
        """A row's strip as a screen line: left padding, then the line filters."""
        if pad:
            line = Strip([Segment(" " * pad, self._pad_style), *line], line.cell_length + pad)
        for line_filter in filters:
            line = line.apply_filter(line_filter, background)
        return line

    def line(self, y: int) -> Strip:
        """Line `y` of the view for Textual's pipeline: the row, then the bar's cell."""
        return Strip.join((self.row(y), Strip([self._bar.cell(y)], BAR_WIDTH)))

    def row(self, y: int, cache: bool = True) -> Strip:
        """The text of the row shown at line `y`, from (and, if `cache`, into) the
        row-strip cache.

        `render_lines` keeps finished lines in a cache of its own and passes
        ``cache=False``, so each visible row is held once, not twice.
        """
        view = self._view
        width, top = self._pass or (view.size.width - BAR_WIDTH, view.scroll_offset.y)
        if width != self._strip_width:
            self.forget()
            self._blank = None
            self._strip_width = width
        row = top + y
        wrapped = self._wrapped
        if row >= wrapped.row_count:
            if row == 0 and view.placeholder:
                return self._make_strip(view.placeholder, width, placeholder=True)
            if self._blank is None:
                self._blank = Strip.blank(width, self._get_styles()[0])
            return self._blank
        strip = self._strips.get(row)
        if strip is None:
            strip = self._make_strip(wrapped.row(row), width)
            if cache:
                self._strips.set(row, strip)
        return strip

    def _get_styles(self) -> tuple[Style, Style, Style]:
        """Rich styles for text, control stand-ins and the placeholder (cached)."""
        if self._styles is None:
            view = self._view
            self._styles = (
                view.rich_style,
                view.get_component_rich_style("stream-view--control"),
                view.get_component_rich_style("stream-view--placeholder"),
            )
        return self._styles

    def _make_strip(self, text: str, width: int, placeholder: bool = False) -> Strip:
        """Build a strip of exactly `width` cells from literal (never markup) text."""
        text_style, control_style, placeholder_style = self._get_styles()
        style = placeholder_style if placeholder else text_style
        segments: list[Segment] = []
        if placeholder or not _PLACEHOLDER_RUN.search(text):
            if text:
                segments.append(Segment(text, style))
        else:
            position = 0
            for match in _PLACEHOLDER_RUN.finditer(text):
                if match.start() > position:
                    segments.append(Segment(text[position : match.start()], style))
                segments.append(Segment(match.group(), control_style))
                position = match.end()
            if position < len(text):
                segments.append(Segment(text[position:], style))
        cells = cell_len(text)
        if cells < width:
            segments.append(Segment(" " * (width - cells), text_style))
        strip = Strip(segments, max(cells, width))
        # Only a stale wrap (new width, re-wrap not run yet) or the placeholder is wider.
        return strip.crop(0, width) if cells > width else strip


class _Line:
    """A finished row's text, and that text joined to the bar's cell it was last drawn
    with: while the view follows its stream every row moves up a line per new row, and
    most of them meet the same cell (the bar's track) on their new line."""

    __slots__ = ("_cell", "_joined", "text")

    def __init__(self, text: Strip) -> None:
        self.text = text
        self._cell: Strip | None = None
        self._joined = text

    def ending_in(self, cell: Strip) -> Strip:
        """The row's screen line, with `cell` at its end."""
        if cell is not self._cell:
            self._joined = Strip.join((self.text, cell))
            self._cell = cell
        return self._joined
