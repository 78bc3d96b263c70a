"""The side-by-side variant columns, and the worker that drives a run into them.

The worker only appends to per-column buffers; the app's repaint timer calls `flush()`
at a bounded rate, so many fast streams cost a few frames per second, not one per chunk.

Before the first run the grid shows the next run's variants (`show_plan`), and each run
reuses the columns already on screen: a run starts in columns that are laid out and
drawn, instead of mounting N new ones in its first second of streaming.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable

from textual import work
from textual.containers import HorizontalScroll
from textual.message import Message

from scillm_tui.core.events import VariantDelta, VariantReasoning, VariantRethink
from scillm_tui.core.human_verdict import HumanVerdict
from scillm_tui.core.runs import Run, VariantState
from scillm_tui.gc_pause import full_collections_deferred
from scillm_tui.tui.streamview.line_cache import LineCache
from scillm_tui.tui.streamview.scrollbars import CachedScrollbars
from scillm_tui.tui.widgets.column_layout import column_width, rebind
from scillm_tui.tui.widgets.variant_column import VariantColumn
from scillm_tui.tui.worker_failures import ReportsWorkerFailures

STATS_INTERVAL_S = 0.25  # live stats (elapsed, tokens/s) are repainted at most this often


class VariantGrid(ReportsWorkerFailures, CachedScrollbars, LineCache, HorizontalScroll):
    """Columns for the variants of the current run (before the first run: of the next)."""

    class RunFinished(Message):
        """Every variant of `run` has ended (done, error or cancelled)."""

        def __init__(self, run: Run) -> None:
            super().__init__()
            self.run = run

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run: Run | None = None
        self._dirty: set[str] = set()
        self._last_stats = 0.0
        self._columns: list[VariantColumn] = []
        self._mirror: VariantColumn | None = None
        self.thinking_unfolded = False  # f4: thinking shown after the answer started too
        self._statuses: dict[str, str] = {}  # each variant's status as last drawn
        self._status_changed = False
        self.human: HumanVerdict | None = None  # your pick (b) on the run shown

    @property
    def columns(self) -> list[VariantColumn]:
        """The columns, in variant order: the current run's, or the planned ones before
        the first run."""
        return list(self._columns)

    def column(self, variant_id: str) -> VariantColumn:
        return next(c for c in self._columns if c.state.id == variant_id)

    @property
    def mirrored(self) -> VariantColumn | None:
        """The zoom screen's column, fed like its source column (see `mirror`)."""
        return self._mirror

    def mirror(self, column: VariantColumn | None) -> None:
        """Feed `column` (a copy of one variant's column, on the zoom screen) the same
        text, chrome and verdict as its source; None stops.

        While a mirror is set the zoom screen covers the grid, so the grid's own columns
        only buffer: flushing them would wrap and repaint text nobody sees. When the
        mirror is removed they apply the whole buffer and repaint their chrome at once.
        """
        if column is None and self._mirror is not None:
            self._dirty.update(c.state.id for c in self._columns)
            self._last_stats = 0.0  # stats are due on the next flush
        self._mirror = column

    def toggle_thinking(self) -> bool:
        """Unfold (or fold again) the thinking in every column and the zoom; returns
        whether it is now unfolded. One layout for all columns together."""
        self.thinking_unfolded = unfolded = not self.thinking_unfolded
        mirror = self._mirror
        for column in self._columns if mirror is None else [*self._columns, mirror]:
            column.set_unfolded(unfolded)
        return unfolded

    @property
    def streaming(self) -> bool:
        return self.run is not None and not self.run.finished

    def show_plan(self, plan: dict[str, VariantState]) -> None:
        """Show the variants the next run will have, as ready columns (the app calls it
        before the first run only: after it, the last run's columns stay)."""
        self._show(list(plan.values()), planned=True)

    async def show_run(self, run: Run) -> None:
        """Show `run` in the columns (reused, plus or minus the difference in N) and
        start streaming it."""
        self.run = run
        self.human = None
        self._dirty.clear()
        self._statuses.clear()
        self._mirror = None  # the app closes the zoom first; its state is the old run's
        changes = self._show(list(run.variants.values()), planned=False)
        # The requests go out at once; columns still mounting only buffer until then.
        self._drive(run)
        for change in changes:
            await change
        self.scroll_home(animate=False)
        self.flush(force=True)

    async def show_past(self, run: Run) -> None:
        """Show a run that has ended (one from the history): its columns with all their
        text and final stats, nothing driven."""
        self.run = run
        self._dirty.clear()
        self._statuses.clear()
        self._mirror = None
        for change in self._show(list(run.variants.values()), planned=False):
            await change
        for column in self._columns:
            column.append_reasoning(column.state.reasoning)
            column.append(column.state.text)
            self._dirty.add(column.state.id)
        self.scroll_home(animate=False)
        self.flush(force=True)
        self._status_changed = False

    def _show(self, states: list[VariantState], *, planned: bool) -> list[Awaitable[None]]:
        """Bind the columns to `states`, mounting or removing the difference in number.
        Returns the mount and removal to await (none if the number is unchanged)."""
        self._columns, new, extra = rebind(
            self._columns, states, planned=planned, unfolded=self.thinking_unfolded
        )
        changes: list[Awaitable[None]] = []
        if new or extra:
            # Sized before mounting: sizing them after is a second layout of the screen.
            self._size_columns()
        if extra:
            changes.append(self.remove_children(extra))
        if new:
            changes.append(self.mount_all(new))
        return changes

    def on_resize(self) -> None:
        self._size_columns()

    def _size_columns(self) -> None:
        """Share the width equally, but never below a readable minimum (then scroll)."""
        columns = self._columns
        if not columns:
            return
        width = column_width(self.scrollable_content_region.width, len(columns))
        for column in columns:
            column.styles.width = width

    @work(exclusive=True, group="run", exit_on_error=False)
    async def _drive(self, run: Run) -> None:
        columns = {c.state.id: c for c in self._columns}
        with full_collections_deferred():
            async for event in run.events():
                # Told apart by type, most frequent first: the cheapest check that also
                # narrows the union for the type checker (see `Run._stream`).
                if type(event) is VariantDelta:
                    columns[event.variant_id].append(event.text)
                    mirror = self._mirror
                    if mirror is not None and mirror.state.id == event.variant_id:
                        mirror.append(event.text)
                elif type(event) is VariantReasoning:  # as costly as an answer's delta
                    columns[event.variant_id].append_reasoning(event.text)
                    mirror = self._mirror
                    if mirror is not None and mirror.state.id == event.variant_id:
                        mirror.append_reasoning(event.text)
                elif type(event) is VariantRethink:
                    columns[event.variant_id].rethink()
                    mirror = self._mirror
                    if mirror is not None and mirror.state.id == event.variant_id:
                        mirror.rethink()
                self._dirty.add(event.variant_id)
        self.flush(force=True)
        self._status_changed = False  # the app shows the final rows on RunFinished
        self.post_message(self.RunFinished(run))

    def cancel(self, variant_id: str | None = None) -> bool:
        """Cancel the run (or one variant). Returns False if nothing was streaming."""
        if not self.streaming or self.run is None:
            return False
        self.run.cancel(variant_id)
        return True

    def flush(self, *, force: bool = False) -> bool:
        """Apply buffered text and repaint changed headers; live stats at a lower rate.
        Returns True if this was a stats tick (or `force`d)."""
        if self.run is None:
            return False
        now = time.monotonic()
        stats_due = force or now - self._last_stats >= STATS_INTERVAL_S
        if stats_due:
            self._last_stats = now
        dirty, self._dirty = self._dirty, set()
        mirror = self._mirror
        if mirror is not None:
            self._flush_column(mirror, dirty, stats_due)
            if not force:
                return stats_due  # the grid is covered: `mirror(None)` makes it catch up
        for column in self._columns:  # 25 times a second: no copy
            if column.is_mounted:
                self._flush_column(column, dirty, stats_due)
            elif column.state.id in dirty:  # `show_run` flushes once it is mounted
                self._dirty.add(column.state.id)
        return stats_due

    def take_status_change(self) -> bool:
        """Whether a variant's drawn status changed since the last call: the app then
        updates the leaderboard in the same frame as the columns (a row still read
        "~0 – 248ms" a second after its column said done)."""
        changed, self._status_changed = self._status_changed, False
        return changed

    def _flush_column(self, column: VariantColumn, dirty: set[str], stats_due: bool) -> None:
        column.flush()
        vid = column.state.id
        status = column.state.status
        if self._statuses.get(vid) != status:
            self._statuses[vid] = status
            self._status_changed = True
        live = not column.state.finished
        # Status changes repaint at once; streaming stats wait for the next stats tick.
        if (stats_due and (vid in dirty or live)) or (
            vid in dirty and column.state.status != "streaming"
        ):
            column.refresh_chrome()
        elif vid in dirty:
            self._dirty.add(vid)

    def show_verdict(
        self, best_id: str | None, scores: dict[str, float], *, by_default: bool = False
    ) -> None:
        """Mark the winner (`by_default`: the only variant with an answer) and scores."""
        mirror = self._mirror
        for column in self.columns if mirror is None else [*self.columns, mirror]:
            vid = column.state.id
            column.set_verdict(scores.get(vid), vid == best_id, by_default=by_default)
        if best_id is not None:
            self.column(best_id).scroll_visible(animate=False)

    def show_human(self, human: HumanVerdict | None) -> None:
        """Mark your pick's column (`♥ your pick`); None or a cleared pick: no mark."""
        self.human = human
        picked = human.variant_id if human is not None else None
        mirror = self._mirror
        for column in self.columns if mirror is None else [*self.columns, mirror]:
            if column.human_pick != (column.state.id == picked):
                column.set_human_pick(column.state.id == picked)

    def focused_column(self) -> VariantColumn | None:
        """The zoomed column, else the column holding focus, else the first one; None
        before the first run."""
        if self._mirror is not None:
            return self._mirror
        if self.run is None:
            return None
        focused = self.app.focused
        for column in self.columns:
            if focused is not None and (focused is column or column in focused.ancestors):
                return column
        columns = self.columns
        return columns[0] if columns else None

    def copy_focused(self) -> None:
        """Copy the focused variant's text (see `focused_column`) to the clipboard."""
        column = self.focused_column()
        if column is None:
            self.notify("No variant to copy yet.", severity="warning")
            return
        text = column.view.text
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {column.state.id} ({len(text)} characters) to the clipboard.")
