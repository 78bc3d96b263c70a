"""The dashboard and the run history (issue 19 §1–2): every run recorded, the History
screen (f3), a saved run reopened read-only, re-judged, exported, and back."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from scillm_tui.core.run_history import HistoryStore, default_path
from scillm_tui.core.run_history.restore import load_export
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.screens.history import FIRST_PAGE, PAGE, HistoryScreen
from scillm_tui.tui.widgets.leaderboard import Leaderboard
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.run_table import RunTable
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.tui_support import (
    STUCK_TEXT,
    TEXTS,
    Script,
    export,
    make_app,
    make_session,
    run_to_end,
    screen_text,
    set_form,
    type_prompt,
)


def stored_runs() -> list[Any]:
    store = HistoryStore.open(default_path())
    try:
        return [store.load_run(s.run_id) for s in store.list_runs(limit=100)]
    finally:
        store.close()


async def settled(app: ScillmApp) -> None:
    """The recorder open and every write so far done."""
    await app.workers.wait_for_complete()
    assert app.recording.recorder is not None
    await app.recording.recorder.flush()


async def history_screen(pilot: Any) -> HistoryScreen:
    await pilot.press("f3")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def table_prompts(screen: HistoryScreen) -> list[str]:
    table = screen.query_one(RunTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_a_dashboard_run_and_its_verdict_are_recorded(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, prompt="Explain CRDTs", models="alpha, beta", n="2")
        await settled(app)
    (run,) = stored_runs()
    assert run.status == "finished" and run.prompt == "Explain CRDTs"
    assert [v.answer for v in run.variants] == [TEXTS["alpha"], TEXTS["beta"]]
    (judgment,) = run.judgments
    assert judgment.judge_model == "judge" and judgment.best_id == "v1"


async def test_the_recorder_writes_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = HistoryStore.finish_run

    def finish_run(self: HistoryStore, *args: Any, **kwargs: Any) -> None:
        threads.append(threading.current_thread().name)
        real(self, *args, **kwargs)

    monkeypatch.setattr(HistoryStore, "finish_run", finish_run)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        recorder = app.recording.recorder
        assert recorder is not None
        calls: list[float] = []
        real_finished = recorder.run_finished

        def timed(*args: Any, **kwargs: Any) -> None:
            began = time.thread_time()  # CPU of the loop's thread: not other processes'
            real_finished(*args, **kwargs)
            calls.append(time.thread_time() - began)

        monkeypatch.setattr(recorder, "run_finished", timed)
        await run_to_end(pilot, models="alpha, beta", n="2")
        await settled(app)
        loop_thread = threading.current_thread().name
    assert threads and all(t.startswith("scillm-history") and t != loop_thread for t in threads)
    assert calls  # what recording a run's end costs the loop: bench case 9 measures it


async def test_quitting_mid_run_records_it_with_its_text_so_far(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="alpha, stuck", n="2")
        await pilot.press("ctrl+r")
        await script.stuck_started.wait()
        await pilot.pause()
        began = time.perf_counter()
        await pilot.press("ctrl+q")
    quit_s = time.perf_counter() - began
    (run,) = stored_runs()
    assert run.status in ("interrupted", "cancelled")
    assert run.variants[1].answer == STUCK_TEXT
    assert quit_s < 10.0  # no hang waiting for the history (how fast: not a timed test's job)


async def test_history_screen_filters_opens_rejudges_and_goes_back(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, prompt="Explain CRDTs", models="alpha, beta", n="2")
        await run_to_end(pilot, prompt="Compare Raft and Paxos", models="gamma", n="1")
        await settled(app)
        screen = await history_screen(pilot)
        assert table_prompts(screen) == ["Compare Raft and Paxos", "Explain CRDTs"]  # newest first
        await pilot.press("ctrl+r", "f6", "ctrl+j")  # the dashboard's keys: not here
        await app.workers.wait_for_complete()
        assert app.screen is screen and len(stored_runs()) == 2
        await pilot.press(*"crdt")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table_prompts(screen) == ["Explain CRDTs"]
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)
        grid = app.query_one(VariantGrid)
        assert [c.view.text for c in grid.columns] == [TEXTS["alpha"], TEXTS["beta"]]
        assert not grid.streaming and grid.column("v1").winner
        assert "read-only: viewing" in str(app.query_one(PromptEditor).border_title)
        assert "from history" in screen_text(app) and "winner v1" in screen_text(app)
        requests = len(script.requests)
        await pilot.press("ctrl+j")  # re-judge: a judgment ADDED to the stored run
        await app.workers.wait_for_complete()
        await settled(app)
        assert len(script.requests) == requests + 1
        assert script.requests[-1]["model"] == "judge"
        crdt = next(r for r in stored_runs() if r.prompt == "Explain CRDTs")
        assert len(crdt.judgments) == 2
        assert len(stored_runs()) == 2  # viewing and judging recorded no new run
        await export(pilot)  # ctrl+e: the history run exported like any run
        (folder,) = (tmp_path / "artifacts" / "runs").iterdir()
        exported = json.loads((folder / "run.json").read_text())
        assert exported["run_id"] == crdt.run_id and exported["prompt"] == "Explain CRDTs"
        assert [v["text"] for v in exported["variants"]] == [TEXTS["alpha"], TEXTS["beta"]]
        await pilot.press("escape")  # back to the History screen, the filter kept
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        assert app.screen.query_one(Input).value == "crdt"
        await pilot.press("escape")
        await pilot.press("ctrl+r")  # a NEW run of the prompt the history run put there
        await app.workers.wait_for_complete()
        await settled(app)
        assert len(stored_runs()) == 3
        assert "read-only: viewing" not in str(app.query_one(PromptEditor).border_title)


async def test_empty_history_says_so(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await history_screen(pilot)
        assert "No runs recorded yet" in screen_text(app)
        assert not screen.query_one(RunTable).display


def seed(count: int, *, batch: str | None = None) -> None:
    """`count` finished runs straight into the database (one transaction)."""
    store = HistoryStore.open(default_path())
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        (
            f"run-{i:05d}",
            (start + timedelta(minutes=i)).isoformat(),
            (start + timedelta(minutes=i)).isoformat(),
            f"prompt number {i}\nsecond line",
            json.dumps(["alpha", "beta"]),
            batch if i % 2 else None,
        )
        for i in range(count)
    ]
    with store._write() as db:
        db.executemany(
            """INSERT INTO runs (run_id, started_at, updated_at, status, prompt, models, n,
                   settings, bases, batch_id)
               VALUES (?, ?, ?, 'finished', ?, ?, 2, '{}', '{}', ?)""",
            rows,
        )
    store.close()


async def test_a_long_history_loads_a_page_then_more_near_the_end(tmp_path: Path) -> None:
    """One page first, the next when the cursor nears the end (how fast: the bench's
    business, not a timed test's)."""
    seed(1_000)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await history_screen(pilot)
        table = screen.query_one(RunTable)
        assert table.row_count == FIRST_PAGE
        assert table_prompts(screen)[0] == "prompt number 999"  # newest, first line only
        table.focus()
        table.move_cursor(FIRST_PAGE - 1)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == FIRST_PAGE + PAGE


async def test_a_newer_query_wins_over_a_slower_older_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(3)
    release = threading.Event()
    real = HistoryStore.list_runs

    def list_runs(self: HistoryStore, *args: Any, **kwargs: Any) -> Any:
        search = args[2] if len(args) > 2 else kwargs.get("search")
        if search == "1":
            release.wait(5)  # the older query's disk is slow
        return real(self, *args, **kwargs)

    monkeypatch.setattr(HistoryStore, "list_runs", list_runs)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await history_screen(pilot)
        search = screen.query_one(Input)
        search.value = "1"  # stuck on the thread
        await pilot.pause()
        search.value = "2"
        await pilot.pause()
        await asyncio.sleep(0)  # the newer query's thread runs while the older one waits
        for _ in range(50):
            if table_prompts(screen) == ["prompt number 2\u2026"[:15]]:
                break
            await pilot.pause(0.02)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table_prompts(screen) == ["prompt number 2"]


async def test_batch_ids_get_a_column_when_any_run_has_one(tmp_path: Path) -> None:
    seed(4, batch="batch-7")
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await history_screen(pilot)
        table = screen.query_one(RunTable)
        labels = [label for label, _ in table.columns]
        assert labels[-1] == "batch"
        assert str(table.get_row_at(0)[-1]) == "batch-7"


async def test_an_export_reopens_as_it_was_exported(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        await export(pilot)
        before = app.query_one(Leaderboard).rows
    (folder,) = (tmp_path / "artifacts" / "runs").iterdir()
    session = make_session(Script(), tmp_path)
    run, verdict = load_export(folder, session.make_backends())
    assert verdict is not None and verdict.best_id == "v1"
    assert [v.text for v in run.variants.values()] == [TEXTS["alpha"], TEXTS["beta"]]
    app2 = make_app(Script(), tmp_path, poll_health=False)
    async with app2.run_test(size=(160, 45)) as pilot:
        await app2.past.show(run, verdict)
        await pilot.pause()
        grid = app2.query_one(VariantGrid)
        assert [c.view.text for c in grid.columns] == [TEXTS["alpha"], TEXTS["beta"]]
        assert grid.column("v1").winner
        assert "from an export" in screen_text(app2)
        after = app2.query_one(Leaderboard).rows
        # rank, id, model, score, tokens as exported; times within the export's rounding
        assert [row[:5] for row in after] == [row[:5] for row in before]
        assert all(row[5:] for row in after)
        record = json.loads((folder / "run.json").read_text())["variants"][0]
        assert run.variants["v1"].duration_ms == pytest.approx(record["duration_ms"])
        assert run.variants["v1"].ttft_ms == pytest.approx(record["ttft_ms"])


def test_open_says_in_one_line_why_it_cannot(capsys: pytest.CaptureFixture[str]) -> None:
    from scillm_tui.cli.main import main

    assert main(["open", "no-such-folder/"]) == 2
    assert main(["open", "20260101T000000Z-abcdef"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert "cannot read" in err[0] and "no run 20260101T000000Z-abcdef" in err[1]


async def test_open_shows_an_export_and_a_history_run_at_start(tmp_path: Path) -> None:
    from scillm_tui.cli.open import resolve

    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        await export(pilot)
        await settled(app)
    (folder,) = (tmp_path / "artifacts" / "runs").iterdir()
    (stored,) = stored_runs()
    for target, where in ((str(folder), "from an export"), (stored.run_id, "from history")):
        app = make_app(Script(), tmp_path, poll_health=False)
        app.past.pending = resolve(target)
        async with app.run_test(size=(160, 45)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            grid = app.query_one(VariantGrid)
            assert [c.view.text for c in grid.columns] == [TEXTS["alpha"], TEXTS["beta"]]
            assert grid.column("v1").winner and where in screen_text(app)


async def test_the_first_page_is_read_while_the_screen_is_made(tmp_path: Path) -> None:
    """f3's first frame shows the rows: the page is read on a thread from the moment the
    screen is made and is shown as it mounts (no "loading…" frame, no worker to wait for)."""
    seed(60)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = HistoryScreen()
        assert screen._prefetch is not None
        await asyncio.wait([screen._prefetch])  # what composing gives the thread time for
        await app.push_screen(screen)
        table = screen.query_one(RunTable)
        assert table.display and table.row_count == FIRST_PAGE
        assert table_prompts(screen)[0] == "prompt number 59"
        assert not screen.query_one("#history-empty").display
        await pilot.pause()
        assert "prompt number 59" in screen_text(app) and "loading" not in screen_text(app)
        assert screen.store is not None  # the thread's store, kept for the next pages
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        assert screen.store is None  # closed with the screen


async def test_a_screen_made_off_the_loop_reads_its_first_page_when_mounted(
    tmp_path: Path,
) -> None:
    seed(3)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await asyncio.to_thread(HistoryScreen)  # no running loop there
        assert screen._prefetch is None
        await app.push_screen(screen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table_prompts(screen) == ["prompt number 2", "prompt number 1", "prompt number 0"]
