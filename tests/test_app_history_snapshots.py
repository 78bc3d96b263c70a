"""Snapshots of the History screen (seeded) and of a run reopened from it (read-only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

import scillm_tui.core.runs as runs_module
from scillm_tui.core.run_history import HistoryStore, default_path
from scillm_tui.tui.app import ScillmApp
from tests.test_app_history import seed
from tests.tui_support import (
    FrozenClock,
    Script,
    fixed_report,
    freeze_animations,
    make_app,
    show_health,
    wait_for_run,
)

UP = (fixed_report("sidecar", "up"), fixed_report("gateway", "up"))
SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def steady(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_module, "time", FrozenClock())
    monkeypatch.setenv("TZ", "UTC")  # the table shows local times
    time.tzset()


async def settle(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, ScillmApp)
    await app.workers.wait_for_complete()
    await pilot.pause()
    freeze_animations(app)
    for field in app.screen.query("Input"):
        field.cursor_blink = False  # type: ignore[attr-defined]
    app.clear_notifications()
    await pilot.pause()


def test_history_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    seed(6, batch="batch-1")
    store = HistoryStore.open(default_path())
    store.add_judgment(
        "run-00005",
        {"status": "verdict", "judge_model": "judge", "best_id": "v1", "judge_endpoint": "gateway"},
    )
    store.close()
    app = make_app(Script(), tmp_path, poll_health=False)

    async def run_before(pilot: Pilot) -> None:
        await pilot.press("f3")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(180, 20), run_before=run_before)


def test_run_reopened_from_history(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_module, "new_run_id", lambda now=None: "20261125T093000Z-abc123")
    app = make_app(Script(), tmp_path, poll_health=False)

    async def run_before(pilot: Pilot) -> None:
        assert isinstance(pilot.app, ScillmApp)
        show_health(pilot.app, *UP)
        pilot.app.query_one("#prompt").load_text("Explain CRDTs")  # type: ignore[attr-defined]
        pilot.app.query_one("#models").value = "alpha, beta"  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for_run(pilot)
        assert pilot.app.recording.recorder is not None
        await pilot.app.recording.recorder.flush()
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.repaint(force=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 40), run_before=run_before)
