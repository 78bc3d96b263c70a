"""Case 11: the History screen (f3) of the real dashboard over a large run history.

Usage (by ``python -m bench``): ``python -m bench.history_screen fill '{"db": ..., "runs": N}'``
fills a database once per suite run (``bench.history.fill``: N runs x 4 variants with a
judgment each); ``python -m bench.history_screen screen '{"db": ...}'`` measures one fresh
app over it. Everything lives in temporary folders (the data and config dirs point there):
never the user's history.

What one ``screen`` job measures, with the app headless at 200x50, every frame charged
its terminal output (``render_segments``, as in ``bench/dashboard.py``), and the garbage
collector as the entry point sets it (``gc_pause.collections_held``: start-up's objects
frozen after the first frame, so full collections do not walk them):

* **first paint** -- from the f3 key (sent through the driver, as a terminal's input thread
  does) to the first composed frame whose output holds the newest run's prompt text, i.e.
  the table's rows on screen. Also the time to the first frame of the screen at all.
* **filter** -- with the search field focused, one character typed (or deleted) at a time,
  waiting for each: from the key to the first frame that shows that query's newest match
  (or "No run matches."). Keystrokes whose result was already on screen are typed but not
  timed. p50/p95 over the keystrokes.
* **CPU** -- the event loop's thread's CPU time (``time.thread_time``) over each of
  those: what a machine busy with other work stretches into wall time.
* **event-loop lag** -- a task sleeps 10 ms in a loop; how late it wakes while the screen
  loads (the f3 key to 0.5 s after the first paint) and while filtering.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from textual import events

from bench.common import emit, pct
from bench.engine import bench_settings
from scillm_tui.core.run_history import HistoryStore
from scillm_tui.gc_pause import collections_held
from scillm_tui.session import Session
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.screens.history import NO_MATCH, HistoryScreen

SIZE = (200, 50)
# What is typed into the filter: digits of the run numbers in the prompts ("question 1234:"),
# so that every keystroke changes the newest match; "\b" is backspace.
TYPED = "1234\b\b\b\b5678\b\b\b\b"
VISIBLE = 40  # rows of a 50-line terminal's table, about


def fill_db(params: dict[str, Any]) -> dict[str, Any]:
    """The database every screen job of this suite run reads."""
    from bench.history import fill

    store = HistoryStore.open(Path(params["db"]))
    try:
        per_run = fill(store, params["runs"], 4)
    finally:
        store.close()
    return {"case": "history_screen_fill", "fill_ms_per_run": round(per_run * 1000, 3)}


def _plan(db: Path, runs: int) -> list[tuple[str, str | None]]:
    """(key, expected text) per keystroke; None: the result was on screen already."""
    store = HistoryStore.open(db)
    try:

        def page(query: str) -> list[str]:
            return [s.prompt for s in store.list_runs(VISIBLE, 0, query or None)]

        plan: list[tuple[str, str | None]] = []
        query, shown = "", page("")
        for char in TYPED:
            query = query[:-1] if char == "\b" else query + char
            rows = page(query)
            if not rows:
                expected: str | None = NO_MATCH
                if not shown:
                    expected = None
            else:
                expected = rows[0].split(":", 1)[0] + ":"
                if any(p.startswith(expected) for p in shown):
                    expected = None
            plan.append(("backspace" if char == "\b" else char, expected))
            shown = rows
        return plan
    finally:
        store.close()


class Probe:
    """Frames, what they show, and event-loop lag, in the app's process."""

    def __init__(self) -> None:
        self.want: str | None = None
        self.seen_at: float | None = None
        self.seen_cpu: float = 0.0  # the event loop's thread's CPU time then
        self.screen_at: float | None = None
        self.frame_event = asyncio.Event()
        self.lags: list[tuple[float, float]] = []  # (woke at, lag)

    def install(self, app: ScillmApp) -> None:
        display, console, probe = app._display, app.console, self

        def counting_display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                output = renderable.render_segments(console)  # a real frame's cost
                now = time.perf_counter()
                if probe.screen_at is None and isinstance(app.screen, HistoryScreen):
                    probe.screen_at = now
                if probe.want is not None and probe.want in output:
                    probe.seen_at, probe.want = now, None
                    probe.seen_cpu = time.thread_time()
                probe.frame_event.set()
            display(screen, renderable)

        app._display = counting_display  # type: ignore[method-assign]

    async def lag_probe(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.lags.append((now, now - start - 0.01))

    async def until_seen(self, timeout_s: float) -> float | None:
        deadline = time.perf_counter() + timeout_s
        while self.seen_at is None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            self.frame_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.frame_event.wait(), remaining)
        return self.seen_at

    def lag_between(self, start: float, end: float) -> dict[str, float | None]:
        return pct([lag for woke, lag in self.lags if start <= woke <= end])


def _key(app: ScillmApp, key: str, character: str | None) -> float:
    """Send a key as the terminal's input thread does; returns when it was sent. (From
    the loop's thread: `send_message` only schedules the key there.)"""
    assert app._driver is not None
    event = events.Key(key, character)
    event.set_sender(app)
    started = time.perf_counter()
    app._driver.send_message(event)
    return started


async def screen(params: dict[str, Any]) -> dict[str, Any]:
    db = Path(params["db"])
    runs = params["runs"]
    plan = _plan(db, runs)
    newest = f"question {runs - 1}:"
    probe = Probe()
    tmp = Path(params["tmp"])
    session = Session(settings=bench_settings(params["base_url"]))
    app = ScillmApp(
        session, history_path=tmp / "history.json", run_history_path=db, poll_health=False
    )
    result: dict[str, Any] = {"case": "history_screen", "runs": runs}
    async with app.run_test(headless=True, size=SIZE, notifications=True) as pilot:
        probe.install(app)
        await pilot.pause()
        await app.workers.wait_for_complete()  # the recorder open
        await asyncio.sleep(0.3)  # start-up work (gc.freeze, first layout) settled
        gc.collect()
        lag_task = asyncio.create_task(probe.lag_probe())
        await asyncio.sleep(0.05)
        probe.want, probe.seen_at = newest, None
        cpu0 = time.thread_time()
        t0 = _key(app, "f3", None)
        seen = await probe.until_seen(10.0)
        if seen is None:
            result["error"] = f"the History screen never showed {newest!r}"
        else:
            result["first_paint_ms"] = round((seen - t0) * 1000, 2)
            # The event loop's CPU in that time: what a busy machine multiplies.
            result["first_paint_cpu_ms"] = round((probe.seen_cpu - cpu0) * 1000, 2)
            if probe.screen_at is not None:
                result["screen_ms"] = round((probe.screen_at - t0) * 1000, 2)
            await asyncio.sleep(0.5)
            result["load_lag_ms"] = probe.lag_between(t0, seen + 0.5)
            await app.workers.wait_for_complete()
            latencies: list[float] = []
            cpu: list[float] = []
            per_key: list[list[Any]] = []  # (key, ms), for the record
            missed = 0
            f0 = time.perf_counter()
            for key, expected in plan:
                probe.want, probe.seen_at = expected, None
                character = None if key == "backspace" else key
                cpu0 = time.thread_time()
                sent = _key(app, key, character)
                if expected is None:
                    await asyncio.sleep(0.2)  # nothing new to see: let it settle
                    await app.workers.wait_for_complete()
                    continue
                shown = await probe.until_seen(5.0)
                if shown is None:
                    missed += 1
                    probe.want = None
                else:
                    latencies.append(shown - sent)
                    cpu.append(probe.seen_cpu - cpu0)
                    per_key.append([key, round((shown - sent) * 1000, 1)])
                await app.workers.wait_for_complete()
                await asyncio.sleep(0.1)  # typing pace
            result["filter_ms"] = pct(latencies)
            result["filter_p95_ms"] = _p95(latencies)
            result["filter_cpu_ms"] = pct(cpu)
            result["filter_keys_ms"] = per_key
            result["filter_missed"] = missed
            result["filter_lag_ms"] = probe.lag_between(f0, time.perf_counter())
            if missed:
                result["error"] = f"{missed} filtered result(s) never shown"
        lag_task.cancel()
        app.exit()
    return result


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 2)


def main(argv: list[str]) -> None:
    case, params = argv[0], json.loads(argv[1])
    if case == "fill":
        emit(fill_db(params))
        return
    with tempfile.TemporaryDirectory(prefix="scillm-bench-") as tmp:
        params["tmp"] = tmp
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        with collections_held():  # as the entry point: start-up's objects frozen after it
            emit(asyncio.run(screen(params)))


if __name__ == "__main__":
    main(sys.argv[1:])
