"""One batch, opened from the History screen: its prompts with each winner, and the batch's
model leaderboard (the rows `scillm-tui batch` prints, from the same ratings).

The runs and the ratings are read on a thread (`HistoryStore` is plain SQLite; a batch
may hold thousands of runs). Enter on a prompt dismisses the screen with its run id,
which the History screen passes on: the run opens read-only as one picked there.
Prompts, models and tags are untrusted: every cell and title is literal text.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static

from scillm_tui.core.batch.leaderboard import batch_ratings
from scillm_tui.core.ranking import ModelRating
from scillm_tui.core.run_history import BatchPromptRun, BatchSummary, HistoryStore
from scillm_tui.tui.screens.leaderboard import MODEL_HEADER, model_cells
from scillm_tui.tui.screens.run_cells import first_line, flexible_width, local_minute
from scillm_tui.tui.widgets.border_titles import set_border_title
from scillm_tui.tui.widgets.run_table import RunTable

__all__ = ["PROMPT_HEADER", "BatchScreen", "batch_heading", "prompt_cells"]

PROMPT_HEADER = ("prompt id", "prompt", "status", "winner", "judge", "agreement")
PROMPT_WIDTH = 60
PROMPT_MIN = 20
# Fixed widths (a batch may hold thousands of runs: nothing is measured per row); the
# prompt takes what the others leave, within limits. None: the prompt's.
PROMPT_COLUMNS = (14, None, 18, 20, 20, 9)  # p-<12 hex>; "no winner (re-run)"
_MODEL_RIGHT = frozenset({0, 2, 3, 4, 5})


def batch_heading(batch: BatchSummary) -> str:
    """What the batch is, in one line: tags, counts, models, when."""
    parts = [f"#{tag}" for tag in batch.tags]
    counts = batch.counts
    if counts is None:  # still being read
        parts.append(f"{batch.runs} runs")
    else:
        parts.append(f"{counts.prompts} prompts ({batch.runs} runs)")
        parts.append(f"{counts.done} done · {counts.judged} judged · {counts.failed} failed")
    parts.append("models: " + ", ".join(batch.models))
    parts.append(f"{local_minute(batch.first_started_at)} – {local_minute(batch.started_at)}")
    return " · ".join(parts)


def _status(run: BatchPromptRun) -> str:
    if run.winner_id is not None:
        status = "judged"
    elif run.judge_model is not None:
        status = "no winner"
    else:
        status = run.status
    return status if run.latest else f"{status} (re-run)"


def prompt_cells(run: BatchPromptRun) -> tuple[str, ...]:
    """One run of the batch as cells of `PROMPT_HEADER`."""
    return (
        run.prompt_id or "–",
        first_line(run.prompt),
        _status(run),
        run.winner_model or "–",
        run.judge_model or "–",
        run.agreement or "–",
    )


def _load(
    store: HistoryStore, batch: BatchSummary
) -> tuple[BatchSummary, list[BatchPromptRun], list[ModelRating]]:
    """The batch with its counts (if the History screen had not read them yet), its runs
    and its ratings."""
    if batch.counts is None:
        batch = replace(batch, counts=store.batch_counts([batch.batch_id]).get(batch.batch_id))
    return batch, store.batch_prompt_runs(batch.batch_id), batch_ratings(store, batch.batch_id)


class BatchScreen(Screen[str | None]):
    """A batch's prompts and leaderboard; enter opens a prompt's run, escape goes back."""

    COVERS_DASHBOARD: ClassVar[bool] = True  # the dashboard's keys do nothing under it

    BINDINGS = [Binding("escape", "close", "Back", id="batch-close")]

    DEFAULT_CSS = """
    BatchScreen > #batch-box {
        width: 100%; height: 100%; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    BatchScreen #batch-heading { height: auto; margin-bottom: 1; }
    BatchScreen #batch-prompts { height: 1fr; }
    BatchScreen #batch-board-title { height: 1; margin-top: 1; text-style: bold; }
    BatchScreen #batch-board { height: auto; max-height: 12; }
    """

    def __init__(self, batch: BatchSummary, store: HistoryStore) -> None:
        """`store`: the History screen's open history (it stays open under this screen)."""
        super().__init__()
        self.summary = batch
        self.store = store
        self.runs: list[BatchPromptRun] = []
        self.ratings: list[ModelRating] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="batch-box") as box:
            set_border_title(box, f"Batch {self.summary.batch_id}")
            box.border_subtitle = "enter opens the prompt's run (read-only) · escape back"
            yield Static(Text(batch_heading(self.summary)), id="batch-heading")
            yield RunTable(id="batch-prompts")
            yield Static("Reading the batch…", markup=False, id="batch-board-title")
            yield DataTable[Text](id="batch-board", cursor_type="none", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#batch-board").display = False
        self.query_one("#batch-prompts").focus()
        self.load()

    @work(exclusive=True, group="batch", exit_on_error=False)
    async def load(self) -> None:
        """Read the batch's runs and ratings off the event loop, then show them."""
        try:
            batch, runs, ratings = await asyncio.to_thread(_load, self.store, self.summary)
        except (sqlite3.Error, OSError) as exc:  # a damaged or vanished file: say so
            self._board_title(f"The run history could not be read: {exc}")
            return
        if batch != self.summary:
            self.summary = batch
            self.query_one("#batch-heading", Static).update(Text(batch_heading(batch)))
        self.show(runs, ratings)

    def show(self, runs: list[BatchPromptRun], ratings: list[ModelRating]) -> None:
        self.runs, self.ratings = runs, ratings
        fixed = (w for w in PROMPT_COLUMNS if w is not None)
        prompt = flexible_width(self.app.size.width, fixed, low=PROMPT_MIN, high=PROMPT_WIDTH)
        widths = [prompt if w is None else w for w in PROMPT_COLUMNS]
        self.query_one("#batch-prompts", RunTable).show(
            list(zip(PROMPT_HEADER, widths, strict=True)),
            ((run.run_id, prompt_cells(run)) for run in runs),
        )
        if not ratings:
            self._board_title("Leaderboard: no judged prompt with two models or more yet.")
            return
        self._board_title("Leaderboard over this batch's judged prompts")
        board: DataTable[Text] = self.query_one("#batch-board", DataTable)
        board.clear(columns=True)
        for i, name in enumerate(MODEL_HEADER):
            board.add_column(Text(name, justify="right" if i in _MODEL_RIGHT else "left"))
        for rating in ratings:
            cells = model_cells(rating)
            board.add_row(
                *(
                    Text(c, justify="right" if i in _MODEL_RIGHT else "left")
                    for i, c in enumerate(cells)
                )
            )
        board.display = True

    def _board_title(self, text: str) -> None:
        self.query_one("#batch-board-title", Static).update(Text(text))

    @on(RunTable.Selected, "#batch-prompts")
    def _open_row(self, event: RunTable.Selected) -> None:
        event.stop()
        self.dismiss(event.key)

    def action_close(self) -> None:
        self.dismiss(None)
