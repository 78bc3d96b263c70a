"""The key bar, recomposed only when the keys it shows change.

Textual's `Footer` rebuilds its keys whenever its screen's bindings *may* have changed:
on every focus change and every time a screen is pushed over or popped off it. A rebuild
mounts new key widgets, i.e. styles them and lays out the whole screen; on the dashboard
with 8 columns streaming, the two rebuilds per f6 toggle (the dashboard suspended, then
resumed) were most of what the zoom screen still cost (bench case 5: f6 p50 255 -> 103 ms).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

from scillm_tui.tui.streamview.line_cache import LineCache

KeySignature = tuple[tuple[str, str, str, bool, str], ...]


def shown_keys(screen: Screen) -> KeySignature:
    """What a `Footer` on `screen` shows (its `compose` reads the same bindings)."""
    return tuple(
        (binding.key, binding.description, binding.action, enabled, tooltip)
        for (_, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show
    )


class SteadyFooter(LineCache, Footer):
    """A `Footer` that skips rebuilds which would show the same keys."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: KeySignature | None = None

    def bindings_changed(self, screen: Screen) -> None:
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            keys = shown_keys(screen)
            if keys == self._shown:
                return
            self._shown = keys
        super().bindings_changed(screen)
