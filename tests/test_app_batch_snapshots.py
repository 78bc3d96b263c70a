"""Snapshots of the History screen with a batch row, and of that batch's screen."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from scillm_tui.core.run_history import default_path
from scillm_tui.tui.widgets.run_table import RunTable
from tests.history_seed import seed_batch
from tests.test_app_history_snapshots import settle
from tests.tui_support import Script, make_app

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")  # the tables show local times
    time.tzset()


def test_history_screen_with_a_batch(snap_compare: SnapCompare, tmp_path: Path) -> None:
    seed_batch(default_path())
    app = make_app(Script(), tmp_path, poll_health=False)

    async def run_before(pilot: Pilot) -> None:
        await pilot.press("f3")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(180, 14), run_before=run_before)


def test_batch_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    seed_batch(default_path())
    app = make_app(Script(), tmp_path, poll_health=False)

    async def run_before(pilot: Pilot) -> None:
        await pilot.press("f3")
        await settle(pilot)
        table = pilot.app.screen.query_one(RunTable)
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(150, 24), run_before=run_before)
