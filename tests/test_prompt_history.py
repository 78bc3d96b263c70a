"""Prompt history: saved off the event loop, newest list wins, nothing lost at quit."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from scillm_tui.core import history as history_module
from scillm_tui.core.history import PromptHistory
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from tests.tui_support import Script, make_app, run_to_end, writer_threads


def saved(path: Path) -> list[str]:
    return json.loads(path.read_text(encoding="utf-8"))["prompts"]


def test_add_changes_the_list_and_save_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "history.json"
    history = PromptHistory(path)
    history.add("one")
    history.add("two")
    history.add("one")  # moved to the end, not repeated
    assert history.entries == ["two", "one"] and not path.exists()
    history.save()
    assert saved(path) == ["two", "one"]
    assert PromptHistory(path).entries == ["two", "one"]


def test_a_save_never_writes_an_older_list_over_a_newer_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that started first but finishes last must not leave its older list."""
    path = tmp_path / "history.json"
    history = PromptHistory(path)
    writing, release = threading.Event(), threading.Event()
    write = history_module.atomic_write_text
    written: list[list[str]] = []

    def slow_first_write(target: Path, text: str) -> None:
        if not written:
            writing.set()
            assert release.wait(10)
        written.append(json.loads(text)["prompts"])
        write(target, text)

    monkeypatch.setattr(history_module, "atomic_write_text", slow_first_write)
    history.add("older")
    first = threading.Thread(target=history.save)
    first.start()
    assert writing.wait(10)  # the first save is writing ["older"]
    history.add("newer")
    second = threading.Thread(target=history.save)
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert written == [["older"], ["older", "newer"]]
    assert saved(path) == ["older", "newer"]
    history.save()  # nothing new: no write
    assert len(written) == 2


def test_an_unwritable_history_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    history = PromptHistory(blocker / "history.json")
    history.add("kept in memory")
    history.save()  # must not raise
    assert history.entries == ["kept in memory"]


async def test_a_run_start_saves_the_history_on_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers = writer_threads(monkeypatch, history_module)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, "a prompt", models="delta", n="1")
        await app.workers.wait_for_complete()
        assert len(writers) == 1
        assert writers[0] != threading.main_thread().name
    assert saved(tmp_path / "history.json") == ["a prompt"]


async def test_quitting_before_the_save_ran_still_keeps_the_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PromptEditor, "_save_history", lambda self: None)  # never ran
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, "last words", models="delta", n="1")
        assert not (tmp_path / "history.json").exists()
    assert saved(tmp_path / "history.json") == ["last words"]
