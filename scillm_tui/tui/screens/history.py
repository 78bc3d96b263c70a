"""f3: the History screen — every recorded run, newest first, filtered as you type.

The history may hold tens of thousands of runs: the table loads one page and the next
when the cursor nears its end. A batch's runs are one row (a filter lists the matching
runs flat instead, each with its batch); enter on it opens the batch's screen. Every query
runs on a thread (`HistoryStore` is plain SQLite); the latest query wins and a slower,
older one never paints over it. Enter dismisses the screen with the chosen run's id (one
picked in a batch's screen too); escape with None.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from scillm_tui.core.run_history import (
    BatchSummary,
    HistoryEntry,
    HistoryStore,
    HistoryUnavailable,
    RunSummary,
)
from scillm_tui.tui.screens.batch import BatchScreen

__all__ = ["FIRST_PAGE", "PAGE", "HistoryScreen", "summary_cells"]

FIRST_PAGE = 50  # enough to fill a tall terminal: each row added costs its cells' measuring
PAGE = 200
MORE_WITHIN = 20  # rows from the end: load the next page when the cursor gets this close
PROMPT_WIDTH = 48
EMPTY = "No runs recorded yet: a run started with ctrl+r appears here."
NO_MATCH = "No run matches."
# Fixed widths: a DataTable measures every cell of an auto-width column (~2 ms a row).
# The prompt takes what the others leave (at least PROMPT_MIN); the most telling columns
# come first, so a narrow terminal still shows time, prompt, status and winner.
COLUMNS = {
    "time": 16,
    "prompt": 0,
    "status": 11,
    "winner": 16,
    "N": 3,
    "models": 24,
    "judge": 16,
}
PROMPT_MIN = 24
CELL_PADDING = 2
BATCH_WIDTH = 20


def _time(started_at: str) -> str:
    """The run's start in local time, to the minute."""
    try:
        return datetime.fromisoformat(started_at).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return started_at[:16]


def _first_line(prompt: str, width: int = PROMPT_WIDTH) -> str:
    line = next((part.strip() for part in prompt.splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def prompt_width(screen_width: int) -> int:
    """The prompt column's width: what the other columns leave, within limits."""
    others = sum(w + CELL_PADDING for name, w in COLUMNS.items() if name != "prompt")
    return max(PROMPT_MIN, min(PROMPT_WIDTH, screen_width - 4 - CELL_PADDING - others))


def _page(store: HistoryStore, limit: int, offset: int, query: str) -> list[HistoryEntry]:
    """One page: batches grouped, or, while a filter is typed, the matching runs flat."""
    if query.strip():
        return list(store.list_runs(limit, offset, query))
    return store.list_entries(limit, offset)


def _batch_line(batch: BatchSummary) -> str:
    counts = f"{batch.prompts} prompts · {batch.judged} judged"
    if batch.failed:
        counts += f" · {batch.failed} failed"
    tags = "".join(f" · #{tag}" for tag in batch.tags)
    return f"▸ batch · {counts}{tags} · {_first_line(batch.first_prompt, 200)}"


def summary_cells(
    run: HistoryEntry, *, batches: bool, width: int = PROMPT_WIDTH
) -> tuple[Text, ...]:
    """One row, every cell literal (prompts and models are untrusted: no markup)."""
    if isinstance(run, BatchSummary):
        line = _batch_line(run)
        cells = [
            _time(run.started_at),
            line if len(line) <= width else line[: width - 1] + "…",
            "batch",
            "–",
            "–",
            ", ".join(run.models),
            "–",
        ]
        if batches:
            cells.append(run.batch_id)
        return tuple(Text(cell, no_wrap=True) for cell in cells)
    cells = [
        _time(run.started_at),
        _first_line(run.prompt, width),
        run.status,
        run.winner_model or "–",
        str(run.n),
        ", ".join(dict.fromkeys(run.models)),
        run.judge_model or "–",
    ]
    if batches:
        cells.append(run.batch_id or "")
    return tuple(Text(cell, no_wrap=True) for cell in cells)


class HistoryScreen(Screen[str | None]):
    """The recorded runs; Enter opens one, escape goes back."""

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
    HistoryScreen DataTable { height: 1fr; }
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
        self._prompt_width = PROMPT_WIDTH

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
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
            table.display = False
            yield table

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._search(self.query_text, self._generation)

    async def on_unmount(self) -> None:
        if self.store is not None:
            store, self.store = self.store, None
            await asyncio.to_thread(store.close)

    async def _store(self) -> HistoryStore | None:
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
        rows = await asyncio.to_thread(_page, store, FIRST_PAGE, 0, query)
        if generation != self._generation:
            return  # a newer query was typed meanwhile: its result is the one to show
        self.rows = rows
        self.exhausted = len(rows) < FIRST_PAGE
        self._batches = any(r.batch_id for r in rows)
        table: DataTable[Text] = self.query_one(DataTable)
        table.clear(columns=True)
        self._prompt_width = prompt_width(self.size.width)
        for label, width in COLUMNS.items():
            table.add_column(label, width=width or self._prompt_width)
        if self._batches:
            table.add_column("batch", width=BATCH_WIDTH)
        self._add(rows)
        if not rows:
            self._say(NO_MATCH if query.strip() else EMPTY)
        else:
            self.query_one("#history-empty", Static).display = False
            table.display = True

    def _say(self, text: str) -> None:
        empty = self.query_one("#history-empty", Static)
        empty.update(text)
        empty.display = True
        self.query_one(DataTable).display = False

    def _add(self, rows: list[HistoryEntry]) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for run in rows:
            cells = summary_cells(run, batches=self._batches, width=self._prompt_width)
            key = run.run_id if isinstance(run, RunSummary) else f"batch:{run.batch_id}"
            table.add_row(*cells, key=key)

    @on(DataTable.RowHighlighted)
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
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
            self._add(rows)
        finally:
            self._loading_more = False

    def selected(self) -> HistoryEntry | None:
        """The run or batch under the cursor (None when the table is empty)."""
        table: DataTable[Text] = self.query_one(DataTable)
        if not self.rows or not table.display or table.row_count == 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def _open(self, entry: HistoryEntry) -> None:
        """A run: dismiss with its id. A batch: its screen, whose chosen run is ours."""
        if isinstance(entry, RunSummary):
            self.dismiss(entry.run_id)
        elif self.store is not None:

            def chosen(run_id: str | None) -> None:
                if run_id is not None:
                    self.dismiss(run_id)

            self.app.push_screen(BatchScreen(entry, self.store), chosen)

    @on(DataTable.RowSelected)
    def _open_row(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._open(self.rows[event.cursor_row])

    @on(Input.Submitted, "#history-search")
    def _open_highlighted(self) -> None:
        entry = self.selected()
        if entry is not None:
            self._open(entry)

    def action_to_table(self) -> None:
        table = self.query_one(DataTable)
        if table.display:
            table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
