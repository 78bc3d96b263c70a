"""A bounded soak of the headless dashboard: 32 concurrent variants, several runs in a row.

Afterwards nothing may be left behind: no failed variants, no open streams on the server,
no leaked asyncio tasks, and memory back near where it started.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from scillm_tui.demo.server import BackgroundServer
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.servers.fault_app import EXPECTED_TEXT
from tests.test_app_faults import app_for
from tests.tui_support import run_to_end

VARIANTS = 32
RUNS = 3


async def test_dashboard_soak_leaves_nothing_behind(
    make_fault_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    server = make_fault_server(slow_tokens_per_s=400.0)
    faults = server.app.state.faults
    app = app_for(server.base_url, tmp_path, SCILLM_IDLE_TIMEOUT_S="20")
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        baseline_tasks = {t for t in asyncio.all_tasks() if not t.done()}
        pumps: list[int] = []
        tracemalloc.start()
        try:
            for index in range(RUNS):
                await run_to_end(pilot, f"soak run {index}", models="slow, ok", n=str(VARIANTS))
                grid = app.query_one(VariantGrid)
                states = [c.state for c in grid.columns]
                assert len(states) == VARIANTS
                assert all(s.status == "done" for s in states), [s.error for s in states]
                assert all(s.text == EXPECTED_TEXT[s.model] for s in states)
                pumps.append(_widget_tasks())
                if index == 0:
                    gc.collect()
                    after_first, _ = tracemalloc.get_traced_memory()
            gc.collect()
            after_last, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert await asyncio.to_thread(faults.wait_for_idle, 5)
        assert faults.active_streams == 0
        # Widgets of the shown run have their message pumps; removed columns must not.
        assert pumps == [pumps[0]] * RUNS
        leaked = {t for t in asyncio.all_tasks() if not t.done()} - baseline_tasks
        leaked = {t for t in leaked if not t.get_name().startswith("message pump")}
        assert not (leaked - {asyncio.current_task()}), leaked
        # Each run replaces the last one: memory must not grow run after run.
        assert after_last < after_first * 1.5 + 2_000_000


def _widget_tasks() -> int:
    return sum(1 for t in asyncio.all_tasks() if t.get_name().startswith("message pump"))
