"""Full garbage collections wait while a run streams, and only then."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from scillm_tui import cli
from scillm_tui.gc_pause import (
    DEFERRED_THRESHOLD,
    collections_held,
    full_collections_deferred,
    settle_start_up,
)
from scillm_tui.tui import launch
from tests.test_app_flows import end_paced_run, paced_app, stream_first_words
from tests.tui_support import Script, make_app


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Nothing frozen before the test, and nothing it froze kept frozen after it."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.fixture
def threshold() -> Iterator[tuple[int, int, int]]:
    """Python's thresholds before the test, restored after it whatever happens."""
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_deferred_inside_and_restored_after(threshold: tuple[int, int, int]) -> None:
    with full_collections_deferred():
        assert gc.get_threshold() == (*threshold[:2], DEFERRED_THRESHOLD)
    assert gc.get_threshold() == threshold


def test_overlapping_uses_restore_once_when_the_last_ends(
    threshold: tuple[int, int, int],
) -> None:
    """A new run can start while the cancelled one winds down: the order of the ends
    differs from the order of the starts."""
    first, second = ExitStack(), ExitStack()
    first.enter_context(full_collections_deferred())
    second.enter_context(full_collections_deferred())
    first.close()
    assert gc.get_threshold()[2] == DEFERRED_THRESHOLD
    second.close()
    assert gc.get_threshold() == threshold


def test_restored_when_the_block_raises(threshold: tuple[int, int, int]) -> None:
    with pytest.raises(RuntimeError), full_collections_deferred():
        raise RuntimeError("stream failed")
    assert gc.get_threshold() == threshold


async def test_the_dashboard_defers_them_for_exactly_its_run(
    tmp_path: Path, threshold: tuple[int, int, int]
) -> None:
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    app = paced_app(tmp_path, chunks)
    async with app.run_test(size=(160, 45)) as pilot:
        assert gc.get_threshold() == threshold
        await stream_first_words(pilot, chunks, "Streaming now. ")
        assert gc.get_threshold()[2] == DEFERRED_THRESHOLD
        await end_paced_run(pilot, chunks)
        assert gc.get_threshold() == threshold


class _Cycle:
    """Garbage only a collection frees: it refers to itself."""

    def __init__(self) -> None:
        self.me = self


def test_collections_held_are_resumed_by_settle_start_up_which_frees_the_garbage(
    unfrozen: None,
) -> None:
    """Start-up ran ~165 collections (~50 ms) before the first frame; after it, one
    collection frees start-up's garbage, so that freezing keeps only what lives on."""
    assert gc.isenabled()
    with collections_held():
        assert not gc.isenabled()
        garbage = weakref.ref(_Cycle())
        settle_start_up()
        assert gc.isenabled()
        assert garbage() is None
        assert gc.get_freeze_count() > 0  # what lives on is frozen
    assert gc.isenabled()


def test_settle_start_up_outside_the_entry_point_neither_collects_nor_freezes(
    unfrozen: None,
) -> None:
    garbage = _Cycle()
    gone = weakref.ref(garbage)
    del garbage
    settle_start_up()
    assert gc.get_freeze_count() == 0
    assert gone() is not None  # no collection ran on its behalf either
    gc.collect()
    assert gone() is None


def test_collections_held_resume_when_the_block_ends_without_a_first_frame() -> None:
    with pytest.raises(RuntimeError), collections_held():
        raise RuntimeError("bad settings")
    assert gc.isenabled()


async def test_the_dashboard_resumes_collections_after_its_first_frame(
    tmp_path: Path, unfrozen: None
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    with collections_held():
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0  # the entry point's start-up freezes


async def test_a_dashboard_mounted_without_the_entry_point_freezes_nothing(
    tmp_path: Path, unfrozen: None
) -> None:
    """Tests (and the bench's in-process apps) mount the app many times in one process:
    freezing each time kept every test's garbage frozen (~2.9 M objects, 720 MB)."""
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert gc.get_freeze_count() == 0


def test_the_entry_point_holds_collections_for_the_dashboard_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def fake_dashboard(session: object) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(launch, "run_dashboard", fake_dashboard)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--demo"]) == 0
    assert seen == [False]  # the dashboard starts with collecting off ...
    assert gc.isenabled()  # ... and it is on again once the entry point returns
    assert cli.main(["--demo", "health", "--json"]) == 0
    assert gc.isenabled()
