"""Text helpers the History and batch screens share to show a run in one table row.

Cells are whole texts: `RunTable` cuts each to its column's width (by terminal cells,
with an ellipsis)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from scillm_tui.tui.widgets.run_table import PADDING

SCREEN_FRAME = 4  # the screens' border and padding around the table

__all__ = ["first_line", "flexible_width", "local_minute"]


def local_minute(iso: str) -> str:
    """An ISO time in local time, to the minute (the text itself if it isn't ISO)."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16]


def first_line(text: str) -> str:
    """The first non-blank line."""
    return next((part.strip() for part in text.splitlines() if part.strip()), "")


def flexible_width(screen_width: int, fixed: Iterable[int], *, low: int, high: int) -> int:
    """The width of a table's one flexible column: what the `fixed` columns (and every
    column's padding, and the screen's border and padding) leave, within limits."""
    padding = 2 * PADDING
    others = sum(width + padding for width in fixed) + padding
    return max(low, min(high, screen_width - SCREEN_FRAME - others))
