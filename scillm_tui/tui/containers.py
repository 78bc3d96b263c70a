"""The dashboard's screen and rows, drawn only when they change.

Textual asks every widget whose clip overlaps a frame's changed area for all its lines:
for children of the screen and of the rows that clip is the whole screen or row, so
the screen, its rows and the panels beside the streaming columns were drawn in full on
every frame (~1.5 ms a frame together), unchanged. `LineCache` keeps their lines.
"""

from __future__ import annotations

from textual.containers import Horizontal
from textual.screen import Screen

from scillm_tui.tui.line_cache import LineCache

__all__ = ["DashboardScreen", "Row"]


class Row(LineCache, Horizontal):
    """A `Horizontal` that reuses its drawn lines."""


class DashboardScreen(LineCache, Screen[int]):
    """The app's default screen; reuses its drawn background. Its background is opaque,
    so it never draws a screen beneath it (which a cached picture would freeze)."""
