"""The dashboard's screen and rows: drawn only when they change, styled once.

Textual asks every widget whose clip overlaps a frame's changed area for all its lines:
for children of the screen and of the rows that clip is the whole screen or row, so
the screen, its rows and the panels beside the streaming columns were drawn in full on
every frame (~1.5 ms a frame together), unchanged. `LineCache` keeps their lines.

Textual also restyles every widget of a screen each time the screen is shown, although
each widget was styled when it was mounted: ~50 ms of the dashboard's start-up, ~13 ms
per zoom. `StyledOnceScreen` skips that unless the app's CSS changed in between.
"""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.containers import Horizontal
from textual.screen import Screen

from scillm_tui.tui import textual_private as private
from scillm_tui.tui.streamview.line_cache import LineCache

__all__ = ["DashboardScreen", "Row", "StyledOnceScreen"]

ResultType = TypeVar("ResultType")


class StyledOnceScreen(Screen[ResultType]):
    """A screen shown without restyling its widgets, unless the app's CSS changed since
    they were styled (then Textual restyles them, as it always would)."""

    _styled_at: int | None = None  # the app's CSS generation last applied here

    def on_mount(self) -> None:
        self._styled_at = private.css_generation(self.app)  # mounting styled every widget

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before `Screen._on_screen_resume`, which reads `refresh_styles`.
        generation = private.css_generation(self.app)
        if generation is not None and generation == self._styled_at:
            event.refresh_styles = False
        self._styled_at = generation


class Row(LineCache, Horizontal):
    """A `Horizontal` that reuses its drawn lines."""


class DashboardScreen(LineCache, StyledOnceScreen[int]):
    """The app's default screen; reuses its drawn background. Its background is opaque,
    so it never draws a screen beneath it (which a cached picture would freeze)."""
