"""Every use of Textual's private API, in one place, each with why (Textual pinned: 8.2.8).

A Textual upgrade is this file to read: `tests/test_textual_private.py` checks that every
name below still exists where it is used, with the signature these helpers call, so an
upgrade that renames or removes one fails there, not in a user's terminal.

Two kinds of use:

* Reads and calls, wrapped in the functions below; the widgets call these, never the
  private names.
* Private methods that our widgets override (Textual calls them; an override cannot
  live here): listed in `OVERRIDDEN`, with the module that overrides each and why.

At the end, for tests and the bench only: reading the screen, and watching work Textual does
(layouts, map rebuilds, repaint requests), which no public API shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from textual.dom import NoScreen

if TYPE_CHECKING:
    from textual._compositor import Compositor
    from textual.app import App
    from textual.content import Content
    from textual.geometry import Size
    from textual.screen import Screen
    from textual.scrollbar import ScrollBar
    from textual.strip import Strip
    from textual.widget import Widget

__all__ = [
    "OVERRIDDEN",
    "border_title",
    "compositor",
    "css_generation",
    "full_map_stale",
    "known_unseen",
    "layout_pending",
    "layout_required",
    "mount_installed_screen",
    "refresh_layout",
    "render_full_update",
    "repaint_requested",
    "resume_update_timer",
    "screen_strips",
    "scrollbar_slot",
    "set_scrollbar_slot",
    "start_child_widget",
    "visible_in_last_frame",
    "watching_full_map_builds",
    "watching_layouts",
    "watching_update_ticks",
    "withdraw_repaint_request",
]

OVERRIDDEN: dict[tuple[str, str], str] = {
    ("textual.widget.Widget", "_set_dirty"): (
        "streamview/line_cache.py, streamview/view.py: drop a widget's drawn lines "
        "exactly when Textual marks it dirty (repaint, resize)"
    ),
    ("textual.scroll_view.ScrollView", "_refresh_scrollbars"): (
        "streamview/view.py: the view's scrollbar is drawn in its own last column, so "
        "Textual must not show or hide scrollbar widgets"
    ),
    ("textual.scroll_view.ScrollView", "_scroll_update"): (
        "streamview/view.py: growing text updates the virtual size without a layout"
    ),
}
"""Private methods overridden in our widgets: (class, method) -> where and why."""


# ---- the compositor: what was on screen in the last frame -------------------------------


def compositor(widget: Widget) -> Compositor | None:
    """The compositor of `widget`'s screen, or None when it has no screen."""
    try:
        return widget.screen._compositor
    except NoScreen:
        return None


def visible_in_last_frame(widget: Widget) -> bool:
    """Was `widget` (at least partly) in its screen's last frame? The public
    ``is_on_screen`` and ``region`` look the widget up in the very map whose rebuild the
    callers avoid (see `streamview/offscreen.py`)."""
    found = compositor(widget)
    return found is not None and widget in found.visible_widgets


def known_unseen(widget: Widget) -> bool:
    """True only if the compositor's maps, as they are, say `widget` is out of sight.

    Reads the cached set of visible widgets, else the map of the visible part (after a
    scroll), else the full map if it is current; never builds one (a set built while the
    screen is arranged stays cached with old regions). When no map answers: False.
    """
    found = compositor(widget)
    if found is None:
        return False
    visible = found._visible_widgets
    if visible is not None:
        return widget not in visible
    if found._visible_map is not None:
        return widget not in found._visible_map
    if found._full_map_invalidated:
        return False
    geometry = found._full_map.get(widget)
    if geometry is None:  # not arranged (yet)
        return False
    region = geometry.region
    # What `Compositor.visible_widgets` keeps: on the screen, and not clipped away.
    return not (found.size.region.overlaps(region) and geometry.clip.overlaps(region))


def withdraw_repaint_request(widget: Widget) -> None:
    """Keep a refresh's dropped caches but withdraw its request to the screen, which is
    what invalidates the compositor's map (an unseen widget need not be drawn)."""
    widget._repaint_required = False


# ---- widgets and screens ----------------------------------------------------------------


def start_child_widget(app: App[Any], parent: Widget, child: Widget) -> None:
    """Start a widget that is not mounted in the DOM (a scrollbar), as Textual does for
    its own scrollbars."""
    app._start_widget(parent, child)


def scrollbar_slot(widget: Widget, *, vertical: bool) -> ScrollBar | None:
    """The scrollbar widget Textual keeps for `widget`, if it made one."""
    return widget._vertical_scrollbar if vertical else widget._horizontal_scrollbar


def set_scrollbar_slot(widget: Widget, bar: ScrollBar, *, vertical: bool) -> None:
    """Give `widget` our own scrollbar widget where Textual keeps its one."""
    if vertical:
        widget._vertical_scrollbar = bar
    else:
        widget._horizontal_scrollbar = bar


def border_title(widget: Widget) -> Content | None:
    """The border title as Textual stores it (to skip an assignment that would repaint
    the whole widget for the same title)."""
    return widget._border_title


def css_generation(app: App[Any]) -> int | None:
    """How many times the app's CSS changed (a theme, a reparse); Textual's own mode
    switching compares screens with it the same way."""
    return getattr(app, "_css_update_count", None)


def mount_installed_screen(app: App[Any], screen: Screen[Any]) -> bool:
    """Mount an installed screen before its first push (so the push does no building).
    Returns False where Textual has no such step (the screen is built on its push)."""
    mount = getattr(app, "_get_screen", None)
    if mount is None:
        return False
    mount(screen)
    return True


def refresh_layout(screen: Screen[Any], size: Size) -> None:
    """Lay `screen` out at `size` now (draws nothing while it is not current)."""
    screen._refresh_layout(size)


def layout_pending(screen: Screen[Any]) -> bool:
    """Does `screen` wait for a layout (on its next update tick)? (Tests: settle first.)"""
    return bool(screen._layout_required)


def layout_required(screen: Screen[Any]) -> bool:
    """Does `screen` wait for a layout? Clears the flag (the caller lays it out)."""
    required = screen._layout_required
    screen._layout_required = False
    return required


def render_full_update(screen: Screen[Any]) -> None:
    """Draw the whole screen once, filling its widgets' line caches."""
    screen._compositor.render_update(full=True)


def resume_update_timer(screen: Screen[Any]) -> None:
    """Let the screen's update timer pass its first period now (it waits a whole period
    before its first tick)."""
    screen._update_timer.resume()


# ---- watching Textual work: for the tests and the bench, never called by the app --------
#
# What these observe has no public face: a layout, a rebuild of the compositor's map or a
# repaint request is work, not something a user sees, yet each one is a bench figure's
# cost (see tests/test_textual_private_effects.py, which uses them).


def screen_strips(screen: Screen[Any]) -> list[Strip]:
    """What `screen` shows now, one strip a row, composed from each widget's line cache as
    the next frame would be (a row a widget forgot to repaint shows up stale); draws nothing
    and leaves what is due to be drawn. Textual has no public reader: `App.export_screenshot`
    goes through the compositor too, and marks everything drawn."""
    return screen._compositor.render_strips()


def full_map_stale(screen: Screen[Any]) -> bool:
    """Must the compositor rebuild its map of the whole screen before the next frame? Any
    repaint request does that (2-8 ms a frame with 8 columns)."""
    return screen._compositor._full_map_invalidated


def repaint_requested(widget: Widget) -> bool:
    """Has `widget` asked its screen to repaint it (see `withdraw_repaint_request`)?"""
    return widget._repaint_required


@contextmanager
def watching_layouts(screen: Screen[Any]) -> Iterator[list[object]]:
    """Inside, each layout of `screen` (Textual's reflow of the whole screen, or of its
    visible part after a scroll) appends its arguments to the list given."""
    layouts: list[object] = []
    layout = screen._refresh_layout

    def recording(*args: Any, **kwargs: Any) -> None:
        layouts.append((args, kwargs))
        layout(*args, **kwargs)

    screen._refresh_layout = recording  # type: ignore[method-assign]
    try:
        yield layouts
    finally:
        del screen._refresh_layout  # the class's method again


@contextmanager
def watching_full_map_builds(screen: Screen[Any]) -> Iterator[list[object]]:
    """Inside, each rebuild of `screen`'s map of the whole screen (the compositor's, before
    a frame or a lookup) appends the screen size to the list given."""
    builds: list[object] = []
    compositor = screen._compositor
    base = type(compositor)

    class Watched(base):  # type: ignore[valid-type,misc]
        @property
        def full_map(self) -> Any:
            if self._full_map_invalidated:
                builds.append(self.size)
            return base.full_map.fget(self)  # type: ignore[attr-defined]

    compositor.__class__ = Watched
    try:
        yield builds
    finally:
        compositor.__class__ = base


@contextmanager
def watching_update_ticks(screen_type: type[Screen[Any]]) -> Iterator[list[bool]]:
    """Inside, each tick of the update timer of a `screen_type` screen appends whether the
    screen was current. Enter before the screen mounts: its timer keeps the method it was
    started with."""
    ticks: list[bool] = []
    tick = screen_type._on_timer_update

    def recording(screen: Screen[Any]) -> None:
        ticks.append(screen.is_current)
        tick(screen)

    own = vars(screen_type).get("_on_timer_update")
    screen_type._on_timer_update = recording  # type: ignore[method-assign,assignment]
    try:
        yield ticks
    finally:
        if own is None:
            del screen_type._on_timer_update
        else:
            screen_type._on_timer_update = own  # type: ignore[method-assign]
