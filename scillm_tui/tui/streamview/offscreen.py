"""Repaints of widgets scrolled out of sight wait until they come into view.

The grid shows as many 40-cell columns as fit and scrolls sideways to the others, which
keep streaming. Textual answers a repaint request from a widget that was not in the last
frame by invalidating the compositor's map of the whole screen, and the next look-up of
any widget's region (every widget it draws looks itself up) rebuilds that map: 2-5 ms a
frame at 8 columns, for text nobody can see. A widget that comes into view is drawn by
the compositor anyway (its place on screen changed), so marking it dirty is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from textual.geometry import Region
from textual.widget import Widget

from scillm_tui.tui import textual_private as private

__all__ = ["OffscreenQuiet", "in_last_frame"]

# A plain mixin at run time, for the reason given in `line_cache`.
if TYPE_CHECKING:
    _Base = Widget
else:
    _Base = object


def in_last_frame(widget: Widget) -> bool:
    """Was `widget` (at least partly) in its screen's last frame? Call it from handlers
    and timers, never while the screen is being arranged."""
    return private.visible_in_last_frame(widget)


class OffscreenQuiet(_Base):
    """Mix in before a widget class: a repaint while out of sight only marks it dirty.

    Layouts and recomposes go through unchanged: they can bring the widget into view.
    """

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        quiet = repaint and not layout and not recompose and self.is_mounted
        if quiet and private.known_unseen(self):
            # Its caches are dropped (styles cache, drawn lines); only the request to the
            # screen, which is what invalidates the map, is withdrawn.
            private.withdraw_repaint_request(self)
        return self
