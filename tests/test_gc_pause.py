"""Full garbage collections wait while a run streams, and only then."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from scillm_tui.tui.gc_pause import DEFERRED_THRESHOLD, full_collections_deferred
from tests.test_app_flows import end_paced_run, paced_app, stream_first_words


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
