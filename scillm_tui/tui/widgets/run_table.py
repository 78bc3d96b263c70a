"""A light table of plain-text rows with a row cursor (the History screen's runs).

A `DataTable` rendered every visible cell through Rich on its first paint (~0.3-0.8 s for
50 rows of 7-8 columns on a busy machine). This table draws with the line API instead:
each row is one cached `Strip` of fixed-width cells, drawn only when in sight, so the first
page of a long history is on screen in a few milliseconds. Cells are plain strings drawn as
they are (control characters dropped): untrusted prompts and model names never pass through
markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["RunTable"]

PADDING = 1  # cells each side of a column's text
# C0 and C1 control characters (an escape code in a model's name would reach the terminal
# as is): tabs and line breaks become spaces, the rest go.
_CONTROLS = {code: None for code in (*range(32), *range(127, 160))} | {9: " ", 10: " ", 13: " "}


def plain(cell: object) -> str:
    """A cell's text as drawn: its plain string, without control characters."""
    return str(cell).translate(_CONTROLS)


def _fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis."""
    if text.isascii():  # one cell a character: no measuring
        return text.ljust(width) if len(text) <= width else text[: max(0, width - 1)] + "…"
    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…" if width else ""
    return set_cell_size(text, width)


class RunTable(ScrollView, can_focus=True):
    """Columns of fixed widths, a header line, rows keyed by id, and a row cursor."""

    BINDINGS = [
        Binding("enter", "select", "Open", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]

    COMPONENT_CLASSES = {"run-table--header", "run-table--cursor", "run-table--even-row"}

    DEFAULT_CSS = """
    RunTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .run-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        &:dark > .run-table--even-row { background: $surface-darken-1 40%; }
        & > .run-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .run-table--even-row { background: $surface-lighten-1 50%; }
        & > .run-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class Highlighted(Message):
        """The cursor moved to `cursor_row` (or rows came under it)."""

        def __init__(self, table: RunTable, cursor_row: int) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row

        @property
        def control(self) -> RunTable:
            """The table (so `@on(RunTable.Selected, "#id")` can pick one table)."""
            return self.table

    class Selected(Message):
        """Enter (or a click on the cursor's row): the row keyed `key`."""

        def __init__(self, table: RunTable, key: str, cursor_row: int) -> None:
            super().__init__()
            self.table = table
            self.key = key
            self.cursor_row = cursor_row

        @property
        def control(self) -> RunTable:
            """The table (so `@on(RunTable.Selected, "#id")` can pick one table)."""
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[tuple[str, int]] = []
        self._keys: list[str] = []
        self._rows: list[tuple[str, ...]] = []
        self.cursor_row = 0
        self._strips: dict[tuple[int, bool], Strip] = {}
        self._styles: tuple[Style, Style, Style, Style] | None = None

    # -- content ----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def get_row_at(self, index: int) -> tuple[str, ...]:
        """Row `index`'s cells, as drawn (before fitting to the column widths)."""
        return self._rows[index]

    def key_at(self, index: int) -> str:
        return self._keys[index]

    def show(
        self, columns: Sequence[tuple[str, int]], rows: Iterable[tuple[str, Sequence[object]]]
    ) -> None:
        """(label, width) columns and (key, cells) rows in place of what was shown, the
        cursor on the first row. One change of size at most: a filter's page of as many
        rows as the last one needs no layout."""
        self.columns = list(columns)
        self._keys, self._rows = [], []
        self.cursor_row = 0
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.add_rows(rows)

    def add_rows(self, rows: Iterable[tuple[str, Sequence[object]]]) -> None:
        """Append (key, cells) rows; a cell is drawn as its plain text."""
        first = not self._rows
        for key, cells in rows:
            self._keys.append(key)
            self._rows.append(tuple(plain(cell) for cell in cells))
        self._strips.clear()
        width = sum(w + 2 * PADDING for _, w in self.columns)
        self.virtual_size = Size(width, len(self._rows) + 1)  # + the header
        self.refresh()
        if first and self._rows:
            self.post_message(self.Highlighted(self, self.cursor_row))

    def update_row(self, index: int, cells: Sequence[object]) -> None:
        """Row `index`'s cells changed (same key, same widths): redrawn, no layout."""
        self._rows[index] = tuple(plain(cell) for cell in cells)
        self._strips.pop((index, False), None)
        self._strips.pop((index, True), None)
        self.refresh()

    # -- the cursor -------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped), scrolled into sight."""
        row = max(0, min(row, len(self._rows) - 1))
        if row == self.cursor_row or not self._rows:
            return
        self.cursor_row = row
        visible = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self, row))

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step * max(1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        self.move_cursor(len(self._rows) - 1 if end else 0)

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.Selected(self, self._keys[self.cursor_row], self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        row = self.scroll_offset.y + event.y - 1
        if 0 <= row < len(self._rows):
            if row == self.cursor_row:
                self.action_select()
            else:
                self.move_cursor(row)

    # -- drawing ----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips.clear()

    def _line_styles(self) -> tuple[Style, Style, Style, Style]:
        if self._styles is None:
            base = self.rich_style
            self._styles = (
                base,
                base + self.get_component_rich_style("run-table--header"),
                base + self.get_component_rich_style("run-table--even-row"),
                base + self.get_component_rich_style("run-table--cursor"),
            )
        return self._styles

    def _strip(self, index: int, style: Style, cursor: bool) -> Strip:
        key = (index, cursor)
        strip = self._strips.get(key)
        if strip is None:
            cells = self._rows[index] if index >= 0 else [label for label, _ in self.columns]
            pad = " " * PADDING
            text = "".join(
                pad + _fit(cell, width) + pad
                for cell, (_, width) in zip(cells, self.columns, strict=False)
            )
            length = len(text) if text.isascii() else cell_len(text)
            strip = self._strips[key] = Strip([Segment(text, style)], length)
        return strip

    def render_line(self, y: int) -> Strip:
        base, header, even, cursor = self._line_styles()
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            strip = self._strip(-1, header, False)
            return strip.crop_extend(scroll_x, scroll_x + width, header)
        index = scroll_y + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, base)
        on_cursor = index == self.cursor_row
        # Zebra stripes as DataTable drew them: the first row striped.
        style = cursor if on_cursor else base if index % 2 else even
        strip = self._strip(index, style, on_cursor)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, y)
