"""Cases 3-6: the real dashboard (``ScillmApp``) streaming from the loopback server.

One measurement per process (several Textual apps in one process leak). The app runs
headless at 200x50 via ``run_test`` with notifications on, health polling on (the
bench server answers ``/healthz`` and ``/v1/models``), auto-judge off, and is driven like
a user would: the form is filled in, the app settles (the grid shows the N planned
columns, as it does while a user types the prompt), then the ``run`` action starts the
real engine.

Instrumentation (installed in this process only, never in the app's code):

* **frames** -- every ``App._display`` call with an update, i.e. every compositor
  refresh that reaches the terminal layer. Headless apps skip turning the update into
  terminal output, so the wrapper does that step (``update.render_segments(console)``,
  result discarded) to charge each frame what a real terminal frame costs, minus the
  ``write`` system call.
* **arrival -> screen** -- ``VariantColumn.append`` is wrapped to stamp each delta's
  arrival; ``VariantColumn.flush`` (called by the app's 25 Hz repaint timer through
  ``VariantGrid.flush``) moves the stamps of the text it applied to "flushed"; the next
  frame after that flush counts as "on screen". Both delays are reported.
* **event-loop lag** -- a task in the app's loop sleeps 10 ms in a loop and records how
  late it wakes up.
* **keys** -- a separate thread injects ``Key`` events through the driver's
  ``send_message`` (the path a real terminal's input thread uses) and the frame wrapper
  records when the effect is first in a composed frame: the typed character in the
  prompt, or the zoom (``f6``) toggled.
* **memory** -- ``VmRSS``/``VmHWM`` from ``/proc/self/status``; the peak is reset with
  ``/proc/self/clear_refs`` just before the run when the kernel allows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Checkbox, Input, TextArea

from bench.common import emit, memory_kib, model_name, pct, reset_peak_rss
from bench.engine import bench_settings, raw_client, raw_streams
from scillm_tui.session import Session
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.screens.zoom import ZoomScreen
from scillm_tui.tui.widgets.variant_column import VariantColumn
from scillm_tui.tui.widgets.variant_grid import VariantGrid

SIZE = (200, 50)


class Probe:
    """Everything measured inside the app process."""

    def __init__(self, track_chunks: bool) -> None:
        self.track_chunks = track_chunks
        self.frames = 0
        self.pending: dict[int, list[float]] = {}  # id(column) -> arrival stamps
        self.awaiting_paint: list[float] = []
        self.flush_delays: list[float] = []
        self.paint_delays: list[float] = []
        self.last_text_paint = 0.0
        self.lags: list[float] = []
        self.lag_starts: list[float] = []
        self.frame_event = asyncio.Event()
        self.key_lock = threading.Lock()
        self.key_check: tuple[float, str, Any] | None = None
        self.key_seen = threading.Event()
        self.key_latencies: dict[str, list[float]] = {"type": [], "zoom": []}
        self.key_missed = 0
        self.app: ScillmApp | None = None

    # -- wrappers ---------------------------------------------------------------------

    def install_column_hooks(self) -> None:
        if not self.track_chunks:
            return
        probe = self
        append, flush = VariantColumn.append, VariantColumn.flush

        def timed_append(column: VariantColumn, text: str) -> None:
            stamps = probe.pending.get(id(column))
            if stamps is None:
                stamps = probe.pending[id(column)] = []
            stamps.append(time.perf_counter())
            append(column, text)

        def timed_flush(column: VariantColumn) -> bool:
            changed = flush(column)
            stamps = probe.pending.pop(id(column), None)
            if stamps:
                now = time.perf_counter()
                probe.flush_delays.extend(now - t for t in stamps)
                probe.awaiting_paint.extend(stamps)
            return changed

        VariantColumn.append = timed_append  # type: ignore[method-assign,assignment]  # timing probe
        VariantColumn.flush = timed_flush  # type: ignore[method-assign,assignment]  # timing probe

    def install_frame_hook(self, app: ScillmApp) -> None:
        self.app = app
        display = app._display
        console = app.console
        probe = self

        def counting_display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                probe.frames += 1
                renderable.render_segments(console)  # what a real terminal frame costs
                now = time.perf_counter()
                if probe.awaiting_paint:
                    probe.paint_delays.extend(now - t for t in probe.awaiting_paint)
                    probe.awaiting_paint.clear()
                    probe.last_text_paint = now
                if probe.key_check is not None:
                    probe._check_key(now)
                probe.frame_event.set()
            display(screen, renderable)

        app._display = counting_display  # type: ignore[method-assign]

    def _check_key(self, now: float) -> None:
        with self.key_lock:
            check = self.key_check
            if check is None:
                return
            t0, kind, expected = check
            app = self.app
            assert app is not None
            if kind == "type":
                done = len(app.query_one("#prompt", TextArea).text) >= expected
            else:
                done = isinstance(app.screen, ZoomScreen) == expected
            if done:
                self.key_latencies[kind].append(now - t0)
                self.key_check = None
                self.key_seen.set()

    async def lag_probe(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(time.perf_counter() - start - 0.01)
            self.lag_starts.append(start)

    # -- key injection (a thread, like a terminal's input thread) ---------------------

    def inject_keys(self, typed: int, zooms: int, stop: threading.Event, seed: int = 1) -> None:
        app = self.app
        assert app is not None and app._driver is not None
        driver = app._driver
        rng = random.Random(seed)
        base = len(app.query_one("#prompt", TextArea).text)
        plan = [("type", base + i + 1) for i in range(typed)]
        plan += [("zoom", i % 2 == 0) for i in range(zooms)]
        for index, (kind, expected) in enumerate(plan):
            if index == typed:
                # f6 in the prompt is TextArea's "select line": zoom from a column's text,
                # as a user would after clicking into it (not in the same instant: the
                # focus change rebuilds the footer's keys).
                app.call_from_thread(lambda: app.query_one(VariantGrid).columns[0].view.focus())
                if stop.wait(0.3):
                    return
            if stop.wait(rng.uniform(0.04, 0.12)):
                return
            key = events.Key("x", "x") if kind == "type" else events.Key("f6", None)
            key.set_sender(app)
            self.key_seen.clear()
            with self.key_lock:
                t0 = time.perf_counter()
                self.key_check = (t0, kind, expected)
            driver.send_message(key)
            if not self.key_seen.wait(2.0):
                with self.key_lock:
                    self.key_check = None
                self.key_missed += 1


async def _fill_form(app: ScillmApp, model: str, n: int) -> None:
    app.query_one("#n", Input).value = str(n)
    app.query_one("#models", Input).value = model
    app.query_one("#judge-model", Input).value = model
    app.query_one("#auto-judge", Checkbox).value = False
    app.query_one("#prompt", TextArea).load_text("benchmark prompt")


def _grid_done(grid: VariantGrid) -> bool:
    run = grid.run
    return (
        run is not None
        and run.finished
        and not any(c.view._pending for c in grid.columns)  # everything flushed
    )


async def dashboard(params: dict[str, Any]) -> dict[str, Any]:
    """Stream one best-of-N run into the dashboard and measure it (see module docstring)."""
    mode = params["mode"]  # "paced" | "max" | "keys" | "memory"
    n, chunks, rate, chars = params["n"], params["chunks"], params["rate"], params["chars"]
    think = params.get("think", 0)  # thinking chunks before the answer's
    model = model_name(chunks, rate, chars, think)
    probe = Probe(track_chunks=mode != "memory")
    probe.install_column_hooks()
    tmp = Path(params["tmp"])
    session = Session(settings=bench_settings(params["base_url"], model, n))
    app = ScillmApp(session, history_path=tmp / "history.json", poll_health=True)
    result: dict[str, Any] = {"case": "dashboard", "mode": mode, "n": n, "chunks": chunks}
    result.update(rate=rate, chars=chars)
    async with app.run_test(headless=True, size=SIZE, notifications=True) as pilot:
        probe.install_frame_hook(app)
        await _fill_form(app, model, n)
        grid = app.query_one(VariantGrid)
        while len(grid.columns) != n or not all(c.is_mounted for c in grid.columns):
            await pilot.pause()  # the planned columns
        await pilot.pause()
        await asyncio.sleep(0.3)  # let start-up work (health probes, gc.freeze) settle
        gc.collect()
        rss_before = memory_kib()
        peak_reset = reset_peak_rss() if mode == "memory" else False
        lag_task = asyncio.create_task(probe.lag_probe())
        stop_keys = threading.Event()
        key_thread: threading.Thread | None = None
        frames0 = probe.frames
        wall0, cpu0 = time.perf_counter(), time.process_time()
        await app.run_action("run")
        budget = ((chunks + think) / rate * 2 + 60) if rate else 300
        deadline = wall0 + budget
        timed_out = False
        while not _grid_done(grid) or probe.awaiting_paint:
            if mode == "keys" and key_thread is None and probe.pending:
                key_thread = threading.Thread(
                    target=probe.inject_keys,
                    args=(params["typed"], params["zooms"], stop_keys),
                    daemon=True,
                )
                key_thread.start()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                timed_out = True
                break
            probe.frame_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(probe.frame_event.wait(), min(remaining, 1.0))
        if mode == "memory":  # "on screen": the frame after the final flush
            probe.frame_event.clear()
            await asyncio.wait_for(probe.frame_event.wait(), 5)
            probe.last_text_paint = time.perf_counter()
        end = probe.last_text_paint or time.perf_counter()
        cpu = time.process_time() - cpu0
        wall = end - wall0
        frames = probe.frames - frames0
        rss_after = memory_kib()
        stop_keys.set()
        if key_thread is not None:
            key_thread.join(5)
        lag_task.cancel()
        text_chars = sum(len(c.view.text) for c in grid.columns)
        expected_chars = n * chunks * chars
        result.update(
            timed_out=timed_out,
            complete=text_chars == expected_chars,
            text_chars=text_chars,
            expected_chars=expected_chars,
            wall_s=wall,
            cpu_s=cpu,
            frames=frames,
            fps=frames / wall if wall else None,
            lag_ms=pct(probe.lags),
            # Without the run's first second, for comparison.
            lag_after_1s_ms=pct(
                [
                    lag
                    for lag, t in zip(probe.lags, probe.lag_starts, strict=True)
                    if t >= wall0 + 1.0
                ]
            ),
            arrival_to_flush_ms=pct(probe.flush_delays),
            arrival_to_screen_ms=pct(probe.paint_delays),
        )
        if mode == "keys":
            result["keys_ms"] = {k: pct(v) for k, v in probe.key_latencies.items()}
            result["keys_missed"] = probe.key_missed
        if mode == "memory":
            peak = rss_after["VmHWM"] if peak_reset else max(rss_after["VmHWM"], 0)
            text_kib = expected_chars / 1024  # ASCII text: one byte per character
            result.update(
                rss_before_kib=rss_before["VmRSS"],
                rss_after_kib=rss_after["VmRSS"],
                peak_kib=peak,
                peak_reset=peak_reset,
                text_kib=text_kib,
                peak_growth_ratio=(peak - rss_before["VmRSS"]) / text_kib,
                rss_growth_ratio=(rss_after["VmRSS"] - rss_before["VmRSS"]) / text_kib,
            )
        if timed_out or text_chars != expected_chars:
            result["error"] = f"incomplete: {text_chars} of {expected_chars} characters shown"
        app.exit()
    return result


async def raw(params: dict[str, Any]) -> dict[str, Any]:
    """The raw httpx consumer on the same workload, alone in its process."""
    base_url, n = params["base_url"], params["n"]
    model = model_name(params["chunks"], params["rate"], params["chars"], params.get("think", 0))
    async with raw_client(base_url) as http:
        await raw_streams(http, model_name(50, 0), n)  # warm-up, opens the connections
        gc.collect()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        count = await raw_streams(http, model, n)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if count != n * params["chunks"]:
        raise RuntimeError(f"raw consumer: {count} chunks")
    return {"case": "raw", "n": n, "chunks": params["chunks"], "wall_s": wall, "cpu_s": cpu}


def main(argv: list[str]) -> None:
    case, params = argv[0], json.loads(argv[1])
    with tempfile.TemporaryDirectory(prefix="scillm-bench-") as tmp:
        params["tmp"] = tmp  # the prompt history goes here, not into the user's data dir
        # ... and so do the run history and the config: a benchmark records its runs as
        # the app does (that cost is part of the figures), never into the user's history.
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        emit(asyncio.run({"dashboard": dashboard, "raw": raw}[case](params)))


if __name__ == "__main__":
    main(sys.argv[1:])
