"""ctrl+e writes the export on a worker thread: the toast, a failure, and quitting."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from scillm_tui.core import artifacts
from tests.tui_support import Script, export, make_app, run_to_end, writer_threads


def exports(tmp_path: Path) -> list[Path]:
    runs = tmp_path / "artifacts" / "runs"
    return sorted(p for p in runs.iterdir() if not p.name.startswith(".")) if runs.exists() else []


async def test_the_export_is_written_off_the_event_loop_and_its_toast_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers = writer_threads(monkeypatch, artifacts)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha", n="2")
        await export(pilot)
        (folder,) = exports(tmp_path)
        assert (folder / "leaderboard.csv").is_file()
        assert writers and threading.main_thread().name not in writers
        assert any(f"Exported to {folder}" in n.message for n in app._notifications)


async def test_an_export_that_cannot_be_written_says_why(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha", n="1")
        (tmp_path / "artifacts").write_text("a file where the folder should be")
        await export(pilot)
        failures = [n for n in app._notifications if n.message.startswith("Export failed")]
        assert len(failures) == 1 and failures[0].severity == "error"


async def test_quitting_right_after_ctrl_e_still_finishes_the_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export's first write waits until the app is quitting (its history save)."""
    quitting = threading.Event()
    write = artifacts.atomic_write_text

    def held(path: Path, text: str) -> None:
        assert quitting.wait(10)
        write(path, text)

    monkeypatch.setattr(artifacts, "atomic_write_text", held)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha", n="2")
        monkeypatch.setattr(app.history, "save", quitting.set)
        await pilot.press("ctrl+e")  # and quit at once
    (folder,) = exports(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "leaderboard.csv",
        "preferences.jsonl",
        "run.json",
        "variants",
        "winners.jsonl",
    ]
