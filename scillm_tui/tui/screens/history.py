"""f3: the History screen — every recorded run, newest first, filtered as you type.

The history may hold tens of thousands of runs: the table loads one page and the next
when the cursor nears its end. A batch's runs are one row (a filter lists the matching
runs flat instead, each with its batch); enter on it opens the batch's screen. Every query
runs on a thread (`HistoryStore` is plain SQLite); the latest query wins and a slower,
older one never paints over it. Enter dismisses the screen with the chosen run's id (one
picked in a batch's screen too); escape with None.

The first paint is what f3 feels like (`python -m bench --cases history_screen`): the first
page is read on a thread from the moment the screen is made, while it composes, so that
its rows are usually in the screen's first frame; `RunTable` draws only the rows in sight.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from scillm_tui.core.run_history import (
    BatchSummary,
    HistoryEntry,
    HistoryStore,
    HistoryUnavailable,
    RunSummary,
)
from scillm_tui.tui.screens.history_rows import (
    BATCH_WIDTH,
    COLUMNS,
    prompt_width,
    row_key,
    summary_cells,
)
from scillm_tui.tui.widgets.run_table import RunTable

__all__ = ["EMPTY", "FIRST_PAGE", "NO_MATCH", "PAGE", "HistoryScreen"]

FIRST_PAGE = 50  # enough to fill a tall terminal
PAGE = 200
MORE_WITHIN = 20  # rows from the end: load the next page when the cursor gets this close
EMPTY = "No runs recorded yet: a run started with ctrl+r appears here."
NO_MATCH = "No run matches."


def _page(store: HistoryStore, limit: int, offset: int, query: str) -> list[HistoryEntry]:
    """One page: batches grouped, or, while a filter is typed, the matching runs flat."""
    if query.strip():
        return list(store.list_runs(limit, offset, query))
    return store.list_entries(limit, offset, counted=False)  # counts follow: `_counts`


def _open_and_list(path: Path | None, query: str) -> tuple[HistoryStore, list[HistoryEntry]]:
    """The store and a query's first page, in one trip to a thread."""
    store = HistoryStore.open(path)
    try:
        return store, _page(store, FIRST_PAGE, 0, query)
    except BaseException:
        store.close()
        raise


class HistoryScreen(Screen[str | None]):
    """The recorded runs; Enter opens one, escape goes back."""

    COVERS_DASHBOARD: ClassVar[bool] = True  # the dashboard's keys do nothing under it

    BINDINGS = [
        Binding("escape", "close", "Back", id="history-close"),
        Binding("down", "to_table", "Runs", show=False),
    ]

    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > #history-box {
        width: 100%; height: 100%; border: thick $primary; background: $surface;
    }
    HistoryScreen #history-search { margin: 0 0 1 0; }
    HistoryScreen #history-empty { padding: 1 2; color: $text-muted; }
    HistoryScreen RunTable { height: 1fr; }
    """

    def __init__(self, *, path: Path | None = None, query: str = "") -> None:
        """`path`: the history database (default: the usual place)."""
        super().__init__()
        self.path = path
        self.initial_query = query
        self.store: HistoryStore | None = None
        self.rows: list[HistoryEntry] = []
        self.query_text = query
        self.exhausted = False
        self._generation = 0  # bumped per query: a result for an older one is dropped
        self._loading_more = False
        self._batches = False
        self._prefetch: asyncio.Future[tuple[HistoryStore, list[HistoryEntry]]] | None = None
        self._closed = False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # made outside the app's loop: the first page waits for mount
            pass
        else:  # the first page, read while the screen composes and mounts
            self._prefetch = loop.run_in_executor(None, _open_and_list, path, query)
            self._prefetch.add_done_callback(self._adopt_store)

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box") as box:
            box.border_title = "History"
            box.border_subtitle = (
                "type to filter (lists matching runs, batches' too) · enter opens · escape back"
            )
            yield Input(
                self.initial_query,
                placeholder="filter: words in prompts and answers",
                id="history-search",
            )
            yield Static("loading…", markup=False, id="history-empty")
            table = RunTable(id="history-runs")
            table.display = False
            yield table

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        rows = self._prefetched(self.query_text)
        if rows is not None:
            self._show(self.query_text, rows)  # before the first frame: no "loading…" frame
        else:
            self._search(self.query_text, self._generation)

    async def on_unmount(self) -> None:
        self._closed = True
        if self.store is not None:
            store, self.store = self.store, None
            await asyncio.to_thread(store.close)

    def _adopt_store(self, future: asyncio.Future[tuple[HistoryStore, list[HistoryEntry]]]) -> None:
        """The first page's thread opened the store: keep it (or close it, if late)."""
        if future.cancelled() or future.exception() is not None:
            return  # `_store` opens it again, and says why it cannot
        store = future.result()[0]
        if self.store is None and not self._closed:
            self.store = store
        else:
            store.close()

    def _prefetched(self, query: str) -> list[HistoryEntry] | None:
        """The first page read while the screen was made, once, if ready and still wanted."""
        future = self._prefetch
        if future is None or not future.done() or query != self.initial_query:
            return None
        self._prefetch = None
        if future.cancelled() or future.exception() is not None:
            return None
        return future.result()[1]

    async def _store(self) -> HistoryStore | None:
        if self._prefetch is not None and not self._prefetch.done():
            await asyncio.wait([self._prefetch])  # its thread opens the store (not cancelled)
        if self.store is None:
            try:
                self.store = await asyncio.to_thread(HistoryStore.open, self.path)
            except HistoryUnavailable as exc:
                self._say(str(exc))
                return None
        return self.store

    @on(Input.Changed, "#history-search")
    def _filter(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._generation += 1
        self._search(event.value, self._generation)

    @work(exclusive=True, group="history-search", exit_on_error=False)
    async def _search(self, query: str, generation: int) -> None:
        store = await self._store()
        if store is None:
            return
        rows = self._prefetched(query)
        if rows is None:
            rows = await asyncio.to_thread(_page, store, FIRST_PAGE, 0, query)
        if generation != self._generation:
            return  # a newer query was typed meanwhile: its result is the one to show
        self._show(query, rows)

    def _show(self, query: str, rows: list[HistoryEntry]) -> None:
        """A query's first page, in place of what the table showed."""
        self.rows = rows
        self.exhausted = len(rows) < FIRST_PAGE
        self._batches = any(r.batch_id for r in rows)
        table = self.query_one(RunTable)
        prompt = prompt_width(self.app.size.width)  # (the screen has no size yet)
        columns = [(label, width or prompt) for label, width in COLUMNS.items()]
        if self._batches:
            columns.append(("batch", BATCH_WIDTH))
        table.show(columns, self.display_rows(rows))
        if not rows:
            self._say(NO_MATCH if query.strip() else EMPTY)
        else:
            self.query_one("#history-empty", Static).display = False
            table.display = True
        self._count_batches(rows)

    def _count_batches(self, rows: list[HistoryEntry]) -> None:
        ids = [r.batch_id for r in rows if isinstance(r, BatchSummary) and r.counts is None]
        if ids:
            self._counts(self._generation, ids)

    @work(group="history-counts", exit_on_error=False)
    async def _counts(self, generation: int, batch_ids: list[str]) -> None:
        """The shown batches' counts, read once their rows are on screen (a big batch's
        take tens of ms: the rows don't wait for them)."""
        store = await self._store()
        if store is None:
            return
        counts = await asyncio.to_thread(store.batch_counts, batch_ids)
        if generation != self._generation:
            return
        table = self.query_one(RunTable)
        for index, entry in enumerate(self.rows):
            if (
                isinstance(entry, BatchSummary)
                and entry.counts is None
                and entry.batch_id in counts
            ):
                entry = self.rows[index] = replace(entry, counts=counts[entry.batch_id])
                cells = summary_cells(entry, batches=self._batches)
                table.update_row(index, cells)

    def _say(self, text: str) -> None:
        empty = self.query_one("#history-empty", Static)
        empty.update(text)
        empty.display = True
        self.query_one(RunTable).display = False

    def display_rows(self, runs: list[HistoryEntry]) -> list[tuple[str, tuple[str, ...]]]:
        """The table's (key, cells) rows for `runs`: the one place summaries become rows."""
        return [(row_key(run), summary_cells(run, batches=self._batches)) for run in runs]

    @on(RunTable.Highlighted)
    def _near_end(self, event: RunTable.Highlighted) -> None:
        table = event.table
        if (
            not self.exhausted
            and not self._loading_more
            and event.cursor_row >= table.row_count - MORE_WITHIN
        ):
            self._loading_more = True
            self._more(self.query_text, self._generation, len(self.rows))

    @work(group="history-more", exit_on_error=False)
    async def _more(self, query: str, generation: int, offset: int) -> None:
        try:
            store = await self._store()
            if store is None:
                return
            rows = await asyncio.to_thread(_page, store, PAGE, offset, query)
            if generation != self._generation:
                return
            self.rows.extend(rows)
            self.exhausted = len(rows) < PAGE
            self.query_one(RunTable).add_rows(self.display_rows(rows))
            self._count_batches(rows)
        finally:
            self._loading_more = False

    def selected(self) -> HistoryEntry | None:
        """The run or batch under the cursor (None when the table is empty)."""
        table = self.query_one(RunTable)
        if not self.rows or not table.display or table.row_count == 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def _open(self, entry: HistoryEntry) -> None:
        """A run: dismiss with its id. A batch: its screen, whose chosen run is ours."""
        if isinstance(entry, RunSummary):
            self.dismiss(entry.run_id)
        elif self.store is not None:
            # Imported here: its leaderboard and ratings would cost the dashboard's start.
            from scillm_tui.tui.screens.batch import BatchScreen

            def chosen(run_id: str | None) -> None:
                if run_id is not None:
                    self.dismiss(run_id)

            self.app.push_screen(BatchScreen(entry, self.store), chosen)

    @on(RunTable.Selected)
    def _open_row(self, event: RunTable.Selected) -> None:
        event.stop()
        self._open(self.rows[event.cursor_row])

    @on(Input.Submitted, "#history-search")
    def _open_highlighted(self) -> None:
        entry = self.selected()
        if entry is not None:
            self._open(entry)

    def action_to_table(self) -> None:
        table = self.query_one(RunTable)
        if table.display:
            table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
