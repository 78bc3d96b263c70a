"""The variant grid's columns bound to a run's (or a plan's) variants, and their widths.

Columns are reused: a run starts in columns already laid out and drawn, instead of
mounting N new ones in its first second of streaming; only the difference in N is
mounted or removed. Pure bookkeeping on the columns: the grid mounts and removes.
"""

from __future__ import annotations

from scillm_tui.core.runs import VariantState
from scillm_tui.tui.widgets.variant_column import VariantColumn

__all__ = ["MIN_COLUMN_WIDTH", "column_width", "rebind"]

MIN_COLUMN_WIDTH = 32
# With many columns, following columns scroll in jumps of a few rows: each scroll repaints a
# whole column, so jumping cuts frame cost (bench: lag p99 63 -> 41 ms at 8 columns).
SMOOTH_SCROLL_MAX_COLUMNS = 4
JUMP_SCROLL_ROWS = 4


def rebind(
    columns: list[VariantColumn], states: list[VariantState], *, planned: bool, unfolded: bool
) -> tuple[list[VariantColumn], list[VariantColumn], list[VariantColumn]]:
    """Bind the first of `columns` to `states`, in order, and make columns for the states
    left over (`unfolded`: with their thinking shown). Returns the columns now, the new
    ones (to mount) and the extra ones (to remove)."""
    step = JUMP_SCROLL_ROWS if len(states) > SMOOTH_SCROLL_MAX_COLUMNS else 1
    kept = columns[: len(states)]
    extra = columns[len(states) :]
    for index, (column, state) in enumerate(zip(kept, states, strict=False)):
        # Different phases: columns streaming at the same pace take turns to jump.
        column.bind(state, follow_step=step, follow_phase=index % step, planned=planned)
    new = [
        VariantColumn(
            state,
            follow_step=step,
            follow_phase=index % step,
            planned=planned,
            unfolded=unfolded,
        )
        for index, state in enumerate(states[len(kept) :], start=len(kept))
    ]
    return kept + new, new, extra


def column_width(width: int, count: int) -> int:
    """Each of `count` columns' share of `width`, but never below a readable minimum
    (then the grid scrolls)."""
    return max(MIN_COLUMN_WIDTH, width // count)
