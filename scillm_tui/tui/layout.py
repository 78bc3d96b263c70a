"""Size and run classes on the dashboard's screen; app.tcss says what each one changes.

`-narrow` (under 120 columns) and `-short` (under 32 rows) follow the terminal. A short
screen also has `-running` for the length of a run: the health panes and the prompt fold
away then, so the columns get the rows. Each class change restyles and lays out the
whole screen (20-30 ms at 8 columns), so they change once at a run's start and end, or
on a resize, never while text streams; a screen tall enough never gets `-running`, so
its runs lay out nothing at all.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.geometry import Size

from scillm_tui.tui.widgets.variant_grid import VariantGrid

NARROW_BELOW = 120
SHORT_BELOW = 32


def fit_to_size(app: App[Any], size: Size) -> None:
    """Set the size classes for `size` (the dashboard's screen, also under a zoom or
    a modal screen)."""
    screen = app.default_screen
    short = size.height < SHORT_BELOW
    screen.set_class(size.width < NARROW_BELOW, "-narrow")
    screen.set_class(short, "-short")
    grids = screen.query(VariantGrid)  # none before the screen is composed
    screen.set_class(short and bool(grids) and grids.first().streaming, "-running")


def set_running(app: App[Any], running: bool) -> None:
    """Mark the dashboard as streaming a run (or not). On a short screen a run's start
    also moves the focus from the prompt and its settings to the first column: they
    stay unfolded while they hold the focus."""
    screen = app.default_screen
    if not screen.has_class("-short"):
        return
    if running:
        focused, top = app.focused, screen.query_one("#top")
        columns = screen.query_one(VariantGrid).columns
        if columns and focused is not None and (focused is top or top in focused.ancestors):
            columns[0].view.focus(scroll_visible=False)
    screen.set_class(running, "-running")
