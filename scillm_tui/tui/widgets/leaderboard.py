"""The judge panel's leaderboard: ranked variants as a plain, aligned table.

A `DataTable` drew its 7 x N cells through Rich one by one: 40-100 ms for 8-16
variants, at the end of every run, as the last columns finished streaming. This table
is one `Content` of N + 1 lines, fitted to its width (model names give way first, then
the ttft, time and token columns).
Nothing in it is interactive: the panel scrolls, the columns hold the variants.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.content import Content
from textual.widget import Widget

__all__ = ["HEADER", "Leaderboard"]

HEADER = ("#", "id", "model", "score", "tok", "think", "ttft", "time")
_MODEL = HEADER.index("model")
_THINK = HEADER.index("think")  # thinking time: left out when no variant thinks
_RIGHT = frozenset({HEADER.index(name) for name in ("score", "tok", "think", "ttft", "time")})
_MIN_MODEL = 5  # "gpt-…": narrower than this, columns are left out instead
_OPTIONAL = [HEADER.index(name) for name in ("ttft", "time", "think", "tok")]  # left out first
_NONE = "–"


class Leaderboard(Widget):
    """Rows of `HEADER` cells; the first row may be the winner's (drawn highlighted)."""

    DEFAULT_CSS = """
    Leaderboard {
        height: auto;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[tuple[str, ...]] = []
        self.winner = False
        self.display = False  # until there are rows

    def show(self, rows: Sequence[Sequence[str]], *, winner: bool = False) -> None:
        """Show `rows` (cells in `HEADER` order); `winner`: the first row is the winner."""
        shown = [tuple(row) for row in rows]
        if shown == self.rows and winner == self.winner:
            return
        layout = len(shown) != len(self.rows)  # only a change in height needs a layout
        self.rows, self.winner = shown, winner
        self.display = bool(shown)
        self.refresh(layout=layout)

    def render(self) -> Content:
        if not self.rows:
            return Content("")
        widths = [max(cell_len(row[i]) for row in (HEADER, *self.rows)) for i in range(len(HEADER))]
        thinks = any(row[_THINK] != _NONE for row in self.rows)
        shown, gap = _fit(widths, self.size.width, thinks)
        lines = [_line(HEADER, widths, shown, gap, "bold $text-muted")]
        for index, row in enumerate(self.rows):
            style = "bold $success" if index == 0 and self.winner else ""
            lines.append(_line(row, widths, shown, gap, style))
        return Content("\n").join(lines)


def _fit(widths: list[int], width: int, thinks: bool = True) -> tuple[list[int], int]:
    """Which columns to show, and the gap between them, to fit `width` cells: two-cell
    gaps, then one; long model names shortened; then ttft, time, think and tok left out.
    The think column only when a variant thinks (`thinks`)."""
    shown = [i for i in range(len(HEADER)) if thinks or i != _THINK]

    def total(gap: int) -> int:
        return sum(widths[i] for i in shown) + gap * (len(shown) - 1)

    gap = 2 if total(2) <= width else 1
    if total(gap) > width:
        widths[_MODEL] = max(_MIN_MODEL, widths[_MODEL] - (total(gap) - width))
    for optional in _OPTIONAL:
        if total(gap) <= width:
            break
        if optional in shown:
            shown.remove(optional)
    return shown, gap


def _line(
    cells: Sequence[str], widths: list[int], shown: list[int], gap: int, style: str
) -> Content:
    parts: list[str] = []
    for index in shown:
        cell, width = cells[index], widths[index]
        if cell_len(cell) > width:
            cell = _shorten(cell, width)
        pad = " " * (width - cell_len(cell))
        parts.append(pad + cell if index in _RIGHT else cell + pad)
    text = (" " * gap).join(parts)
    return Content.styled(text, style) if style else Content(text)


def _shorten(text: str, width: int) -> str:
    """`text` cut to `width` cells, ending in an ellipsis."""
    out = ""
    for char in text:
        if cell_len(out + char) > width - 1:
            break
        out += char
    return out + "…"
