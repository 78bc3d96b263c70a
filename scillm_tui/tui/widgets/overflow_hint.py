"""A one-row hint under the variant columns: how many lie beyond each edge of the grid,
and the keys that move between them.

The grid scrolls sideways when its columns do not fit (they never get narrower than
`MIN_COLUMN_WIDTH`); without this row a clipped column looked like the last one. The
hint is recounted only when the grid scrolls sideways or its content changes size (a
new N, a resize): never per streamed chunk.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static

from scillm_tui.tui.widgets.variant_grid import VariantGrid

KEYS = "alt+← / alt+→ move between columns"


def hidden_columns(grid: VariantGrid) -> tuple[int, int]:
    """How many columns are cut off, wholly or partly, left and right of the grid's view."""
    view_left = grid.scroll_x
    view_right = view_left + grid.scrollable_content_region.width
    left = right = 0
    for column in grid.columns:
        if not column.is_mounted:
            continue
        region = column.virtual_region_with_margin
        if region.width == 0:
            continue
        if region.x < view_left:
            left += 1
        elif region.right > view_right:
            right += 1
    return left, right


def hint_text(left: int, right: int, grid_width: int) -> str:
    """`← +1 · keys … +2 →`, the right marker ending at the grid's right edge."""
    start = f"← +{left}  " if left else ""
    end = f"+{right} →" if right else ""
    middle = f"{KEYS}  " if left or right else ""
    pad = max(1, grid_width - cell_len(start + middle + end))
    return f"{start}{middle}{' ' * pad}{end}" if end else f"{start}{middle}"


class OverflowHint(Static):
    """Shown only while some variant columns lie beyond the grid's edges."""

    DEFAULT_CSS = """
    OverflowHint {
        height: 1;
        text-wrap: nowrap;
        text-overflow: clip;
        color: $text-muted;
        text-style: bold;
    }
    """

    def __init__(self, grid: VariantGrid, *, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)
        self.grid = grid
        self.display = False
        self.counts = (0, 0)

    def on_mount(self) -> None:
        self.watch(self.grid, "scroll_x", self._changed, init=False)
        self.watch(self.grid, "virtual_size", self._changed, init=False)

    def _changed(self) -> None:
        # After the refresh that places the columns: their regions are then current.
        self.call_after_refresh(self.recount)

    def recount(self) -> None:
        """Count the hidden columns again and show or hide the hint."""
        left, right = hidden_columns(self.grid)
        self.counts = (left, right)
        shown = bool(left or right)
        if shown:
            self.update(hint_text(left, right, self.grid.size.width), layout=False)
        if self.display != shown:  # a layout: only when the hint comes or goes
            self.display = shown


def focus_column(grid: VariantGrid, step: int) -> None:
    """Focus the column `step` places from the one holding focus (from the first or last
    if none does), and scroll it into view."""
    columns = grid.columns
    if not columns:
        return
    focused = grid.app.focused
    current = next(
        (
            index
            for index, column in enumerate(columns)
            if focused is not None and (focused is column or column in focused.ancestors)
        ),
        None,
    )
    if current is None:
        index = 0 if step > 0 else len(columns) - 1
    else:
        index = max(0, min(len(columns) - 1, current + step))
    target = columns[index]
    target.view.focus(scroll_visible=False)
    grid.scroll_to_widget(target, animate=False)
