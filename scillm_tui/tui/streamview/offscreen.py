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

from textual.dom import NoScreen
from textual.geometry import Region
from textual.widget import Widget

__all__ = ["OffscreenQuiet", "in_last_frame"]

# A plain mixin at run time, for the reason given in `line_cache`.
if TYPE_CHECKING:
    _Base = Widget
else:
    _Base = object


def in_last_frame(widget: Widget) -> bool:
    """Was `widget` (at least partly) in its screen's last frame?

    Reads the compositor's set of visible widgets, private Textual API (pinned): the
    public ``is_on_screen`` and ``region`` look the widget up in the very map whose
    rebuild this avoids. Call it from handlers and timers, never while the screen is
    being arranged (see `_known_unseen`).
    """
    try:
        return widget in widget.screen._compositor.visible_widgets
    except NoScreen:
        return False


def _known_unseen(widget: Widget) -> bool:
    """True only if the compositor's maps, as they are, say `widget` is out of sight.

    Reads the cached set of visible widgets, else the map of the visible part (after a
    scroll), else the full map if it is current (after a layout, or a rebuild for a
    look-up): the set is dropped by every scroll and layout, and a run's start repaints
    every column at once. Never builds anything: scrollbars repaint while the compositor
    arranges the screen, and a set built then, from the map being replaced, stays cached
    with the old regions (after a resize Textual drew them past the screen's edge and
    crashed). When no map answers, Textual decides, as without this mixin.
    """
    try:
        compositor = widget.screen._compositor
    except NoScreen:
        return False
    visible = compositor._visible_widgets
    if visible is not None:
        return widget not in visible
    if compositor._visible_map is not None:
        return widget not in compositor._visible_map
    if compositor._full_map_invalidated:
        return False
    geometry = compositor._full_map.get(widget)
    if geometry is None:  # not arranged (yet)
        return False
    region = geometry.region
    # What `Compositor.visible_widgets` keeps: on the screen, and not clipped away.
    return not (compositor.size.region.overlaps(region) and geometry.clip.overlaps(region))


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
        if quiet and _known_unseen(self):
            # Its caches are dropped (styles cache, drawn lines); only the request to the
            # screen, which is what invalidates the map, is withdrawn.
            self._repaint_required = False
        return self
