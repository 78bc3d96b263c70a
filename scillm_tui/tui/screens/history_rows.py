"""The History screen's rows: which columns, how wide, and each run's or batch's cells."""

from __future__ import annotations

from scillm_tui.core.run_history import BatchSummary, HistoryEntry, RunSummary
from scillm_tui.tui.screens.run_cells import first_line, flexible_width, local_minute

__all__ = ["BATCH_WIDTH", "COLUMNS", "PROMPT_WIDTH", "prompt_width", "row_key", "summary_cells"]

PROMPT_WIDTH = 48
# Fixed widths, so that no row's cells need measuring. The prompt takes what the others
# leave (at least PROMPT_MIN); the most telling columns come first, so a narrow terminal
# still shows time, prompt, status and winner.
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
BATCH_WIDTH = 25  # a batch id: b-20260601T120300Z-a1b2c3


def prompt_width(screen_width: int) -> int:
    """The prompt column's width: what the other columns leave, within limits."""
    fixed = (width for name, width in COLUMNS.items() if name != "prompt")
    return flexible_width(screen_width, fixed, low=PROMPT_MIN, high=PROMPT_WIDTH)


def _batch_line(batch: BatchSummary) -> str:
    if batch.counts is None:  # read after the row is shown
        counts = f"{batch.runs} runs · counting…"
    else:
        counts = f"{batch.counts.prompts} prompts · {batch.counts.judged} judged"
        if batch.counts.failed:
            counts += f" · {batch.counts.failed} failed"
    tags = "".join(f" · #{tag}" for tag in batch.tags)
    return f"▸ batch · {counts}{tags} · {first_line(batch.first_prompt)}"


def _batch_cells(batch: BatchSummary, *, batches: bool) -> tuple[str, ...]:
    cells = [
        local_minute(batch.started_at),
        _batch_line(batch),
        "batch",
        "–",
        "–",
        ", ".join(batch.models),
        "–",
    ]
    if batches:
        cells.append(batch.batch_id)
    return tuple(cells)


def summary_cells(run: HistoryEntry, *, batches: bool) -> tuple[str, ...]:
    """One row's cells, plain text (prompts and models are untrusted: `RunTable` draws
    them literally, never as markup, each cut to its column)."""
    if isinstance(run, BatchSummary):
        return _batch_cells(run, batches=batches)
    cells = [
        local_minute(run.started_at),
        first_line(run.prompt),
        run.status,
        run.winner_model or "–",
        str(run.n),
        ", ".join(dict.fromkeys(run.models)),
        run.judge_model or "–",
    ]
    if batches:
        cells.append(run.batch_id or "")
    return tuple(cells)


def row_key(entry: HistoryEntry) -> str:
    """The table's key for a row: a run's id, or `batch:` and the batch's."""
    return entry.run_id if isinstance(entry, RunSummary) else f"batch:{entry.batch_id}"
