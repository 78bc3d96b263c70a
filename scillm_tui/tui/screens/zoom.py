"""One variant full-screen (f6), still streaming.

A pushed screen, not `Screen.maximize`: maximizing restyles and lays out the whole
dashboard on every toggle (~300-600 ms while 8 columns stream); a screen of its own
leaves the dashboard alone. The screen is built once, while the app is idle
(`prepare_zoom`), and reused (installed): building and styling it and its footer cost
more than showing it (~0.1 s against ~30 ms while 8 columns stream), and it is not
restyled when shown (`StyledOnceScreen`). Its column shows the zoomed
variant's `VariantState`; the grid feeds it the same text (`VariantGrid.mirror`) and
stops flushing its own, covered, columns until the zoom closes.
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding

from scillm_tui.core.runs import VariantState
from scillm_tui.tui import textual_private as private
from scillm_tui.tui.screens.dashboard import StyledOnceScreen
from scillm_tui.tui.widgets.key_bar import SteadyFooter
from scillm_tui.tui.widgets.variant_column import VariantColumn
from scillm_tui.tui.widgets.variant_grid import VariantGrid

SCREEN_NAME = "zoom"
SETTLE_ROUNDS = 5  # layouts of the hidden zoom screen before it is drawn (see _settle_hidden)
TOAST_RACK_ID = "textual-toastrack"  # the id Textual gives every screen's toast rack


class ZoomScreen(StyledOnceScreen[None]):
    """Escape (or f6, the app's zoom toggle) closes it; f7/f8 act on its variant."""

    BINDINGS = [Binding("escape", "close", "Close zoom", id="zoom-close")]

    def __init__(self, grid: VariantGrid, state: VariantState) -> None:
        """`state`: what the column shows until the first `show`."""
        super().__init__()
        self.grid = grid
        self.column = VariantColumn(state, follow_step=1, detailed=True, id="zoom-column")
        self._source: VariantColumn | None = None  # to copy once mounted

    def compose(self) -> ComposeResult:
        yield self.column
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._copy_source()
        self.column.view.focus()
        # The footer builds its keys when its screen's bindings are first announced, at
        # the first push; built now, while idle, that push finds them unchanged.
        self.query_one(SteadyFooter).bindings_changed(self)
        self.call_after_refresh(self._draw_while_hidden)

    def _draw_while_hidden(self) -> None:
        """Lay out and draw the screen once, unseen, at the app's size: its first push
        then finds its size current, its footer's keys drawn and its update timer
        running, and does no layout (bench case 5, while 8 columns stream: the first f6
        took 41-48 ms, 19-30 ms now, 3 runs each; a later opening ~15-20 ms).

        Private Textual API, through `textual_private`. A resize before the first push
        only makes Textual lay the screen out again on that push, as it always did.
        """
        if self.is_current or not self.is_attached:
            return
        # Textual's toast rack is displayed until the app first shows it its notifications,
        # at the push; hiding it (empty) now spares that push a layout. With notifications
        # at the push, Textual displays it again.
        for rack in self.query(f"#{TOAST_RACK_ID}"):
            rack.display = False
        private.refresh_layout(self, self.app.size)  # draws nothing while not current
        self.call_after_refresh(self._settle_hidden, SETTLE_ROUNDS)

    def _settle_hidden(self, rounds: int) -> None:
        """Lay the hidden screen out again while its widgets ask for it, then draw it.

        Each widget given its first size asks for another layout (a message, handled
        later), and the footer rebuilds its keys for the screen's focus: laid out here,
        those would else wait for the first push. At most `rounds` more layouts.
        """
        if self.is_current or not self.is_attached:
            return
        if private.layout_required(self):
            private.refresh_layout(self, self.app.size)
            if rounds > 1:
                self.call_after_refresh(self._settle_hidden, rounds - 1)
                return
        private.render_full_update(self)  # fills the widgets' line caches
        # The screen's update timer waits a whole period (1/60 s) before its first tick,
        # then ticks as soon as it is resumed: its first period passes now, not at the
        # first push (which it delayed by ~17 ms).
        private.resume_update_timer(self)

    def show(self, source: VariantColumn) -> None:
        """Show `source`'s variant when next pushed."""
        self._source = source
        if self.is_mounted:  # else on_mount copies it
            self._copy_source()

    def _copy_source(self) -> None:
        column, source, self._source = self.column, self._source, None
        if source is None:
            return
        column.show_variant(source.state, source.score, source.winner, by_default=source.by_default)
        column.set_human_pick(source.human_pick)
        column.unfolded = self.grid.thinking_unfolded
        # What reached the source column, not all its state holds: deltas still queued
        # for the grid reach this column too (`VariantGrid.mirror`).
        for view, text in (
            (column.view, source.view.appended),
            (column.thinking, source.thinking.appended),
        ):
            view.set_text(text)
            view.following = True
        column.flush()  # before the first frame, which must not show the previous variant
        # Copied and mirrored in one step on the app's thread: no delta falls in between.
        self.grid.mirror(column)

    def close(self) -> None:
        """Back to the dashboard; its columns catch up on the next repaint tick."""
        if self.app.screen is not self:
            return  # already closing (dismiss pops whatever screen is on top)
        if self.grid.mirrored is self.column:
            self.grid.mirror(None)
        self.column.view.clear()  # no copy of the text is kept while closed
        self.column.thinking.clear()
        self.dismiss()

    def action_close(self) -> None:
        self.close()


def prepare_zoom(app: App[Any], grid: VariantGrid) -> ZoomScreen | None:
    """Build, style and mount the zoom screen ahead of its first use (call while idle).

    Mounting an installed screen before it is pushed is private Textual API
    (`textual_private.mount_installed_screen`): without it the screen is built on its
    first push, as before. Returns the screen, or None before the grid has a column.
    """
    if app.is_screen_installed(SCREEN_NAME):
        return app.get_screen(SCREEN_NAME, ZoomScreen)
    columns = grid.columns
    if not columns:
        return None
    zoom = ZoomScreen(grid, columns[0].state)
    app.install_screen(zoom, SCREEN_NAME)
    private.mount_installed_screen(app, zoom)
    return zoom


def toggle_zoom(app: App[Any], grid: VariantGrid) -> None:
    """f6: close the zoom, or zoom the focused column (from the dashboard only)."""
    screen = app.screen
    if isinstance(screen, ZoomScreen):
        screen.close()
        return
    if screen is not app.default_screen:
        return  # a modal (e.g. the Markdown view) is open: nothing to zoom there
    column = grid.focused_column()
    if column is None:
        app.notify("No variant column to zoom yet.", severity="warning")
        return
    zoom = prepare_zoom(app, grid)
    assert zoom is not None  # the grid has a column
    zoom.show(column)
    app.push_screen(zoom)
