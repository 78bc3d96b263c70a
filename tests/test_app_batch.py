"""A batch in the dashboard: one row of the History screen, its own screen with each
prompt's winner and the batch's leaderboard, and any of its runs opened read-only."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable

from scillm_tui.core.run_history import BatchCounts, HistoryStore, default_path
from scillm_tui.tui.screens.batch import BatchScreen
from scillm_tui.tui.screens.history import HistoryScreen
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.run_table import RunTable
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.history_seed import BATCH_ID, seed_batch
from tests.test_app_flows import until
from tests.test_app_history import history_screen, stored_runs
from tests.tui_support import Script, make_app, screen_text


def cells(table: DataTable[Text] | RunTable, column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def test_a_batch_is_one_row_that_opens_its_prompts_and_their_runs(tmp_path: Path) -> None:
    seed_batch(default_path())
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(180, 45)) as pilot:
        history = await history_screen(pilot)
        table = history.query_one(RunTable)
        prompts = cells(table, 1)
        assert prompts[0] == "standalone after" and prompts[2] == "standalone before"
        assert prompts[1].startswith("▸ batch · 3 prompts · 3 judged · #nightly")
        assert cells(table, 2) == ["finished", "batch", "finished"]
        assert cells(table, 7)[1] == BATCH_ID
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        batch = app.screen
        assert isinstance(batch, BatchScreen)
        runs = batch.query_one("#batch-prompts", RunTable)
        assert cells(runs, 1) == [
            "Explain CRDTs",
            "Compare Raft and Paxos",
            "What is a vector clock?",
        ]
        assert cells(runs, 3) == ["alpha", "beta", "alpha"]
        assert cells(runs, 5) == ["2/3", "–", "–"]
        board = batch.query_one("#batch-board", DataTable)
        assert board.display and cells(board, 1) == ["alpha", "beta"]
        assert cells(board, 4) == ["2/3", "1/3"]  # wins/battles over the batch only
        text = screen_text(app)
        assert BATCH_ID in text and "3 prompts (3 runs)" in text and "#nightly" in text
        await pilot.press("ctrl+r", "ctrl+l", "f6")  # the dashboard's keys do nothing here
        await app.workers.wait_for_complete()
        assert app.screen is batch and len(stored_runs()) == 5
        await pilot.press("escape")  # back to the History screen
        await pilot.pause()
        assert app.screen is history
        await pilot.press("enter")  # the batch row is still under the cursor
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, BatchScreen)
        await pilot.press("down", "enter")  # the second prompt's run
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, BatchScreen | HistoryScreen)
        editor = app.query_one(PromptEditor)
        assert "read-only: viewing" in str(editor.border_title)
        assert editor.prompt == "Compare Raft and Paxos"
        assert app.past.viewing is not None and app.past.viewing.run_id == "batch-run-1"
        grid = app.query_one(VariantGrid)
        assert [c.view.text for c in grid.columns] == ["x" * 100, "x" * 100]
        assert grid.column("v2").winner  # beta won that prompt
        await pilot.press("escape")  # back to the History screen, as from any past run
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)


async def test_a_filter_lists_a_batchs_matching_runs_flat(tmp_path: Path) -> None:
    seed_batch(default_path())
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(180, 45)) as pilot:
        history = await history_screen(pilot)
        await pilot.press(*"raft")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = history.query_one(RunTable)
        assert cells(table, 1) == ["Compare Raft and Paxos"]
        assert cells(table, 7) == [BATCH_ID]
        await pilot.press("enter")  # a run, not its batch: opens at once
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.past.viewing is not None and app.past.viewing.run_id == "batch-run-1"


async def test_a_batchs_row_shows_before_its_counts_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big batch's counts read all its runs: the row is on screen first, and the
    counts fill it in when they come (here: when the test lets them)."""
    seed_batch(default_path())
    release = threading.Event()
    read_counts = HistoryStore.batch_counts

    def held(store: HistoryStore, batch_ids: Sequence[str]) -> dict[str, BatchCounts]:
        release.wait(10)
        return read_counts(store, batch_ids)

    monkeypatch.setattr(HistoryStore, "batch_counts", held)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(180, 45)) as pilot:
        await pilot.press("f3")
        history = app.screen
        assert isinstance(history, HistoryScreen)
        table = history.query_one(RunTable)
        await until(pilot, lambda: table.row_count == 3)
        assert cells(table, 1)[1].startswith("▸ batch · 3 runs · counting… · #nightly")
        assert "3 runs · counting…" in screen_text(app)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert cells(table, 1)[1].startswith("▸ batch · 3 prompts · 3 judged · #nightly")
        assert "3 prompts · 3 judged" in screen_text(app)
