"""Benchmark: N columns of streamed text in a headless Textual app.

Runs in its own process and prints one JSON line of results:

    python bench/view_bench.py --columns 8 --chunks 500 --rate 100 --view streamview
    python bench/view_bench.py --columns 8 --chunks 500 --rate 100 --compare

``--compare`` runs every view kind in a fresh subprocess, one after the other, and adds
a final JSON line with ratios (``static / streamview`` and ``log / streamview``).

What is measured (between the first chunk and the frame that shows the last one):

* ``cpu_s`` -- ``time.process_time()`` of the whole process (app + feeders + probe).
* ``frames``/``fps`` -- screen updates actually composed: every call of
  ``App._display`` with an update. Headless apps skip turning the update into terminal
  output, so by default (``--no-render-output`` turns it off) the wrapper does that
  step too (``update.render_segments(console)``, string discarded) to charge each frame
  what a real terminal frame costs, minus the write system call.
* ``lag_ms`` -- event-loop lag: how late a 10 ms ``asyncio.sleep`` wakes up
  (p50/p99/max). This is what a user feels as input latency.
* ``flush_delay_ms`` / ``display_delay_ms`` (paced runs) -- chunk arrival to the flush
  that applied it / to the next composed frame after that flush (p50/p99/max).
* ``layouts`` -- full screen layouts (``Screen._refresh_layout`` calls) and their time.
* ``gc`` -- number and duration of garbage collections (via ``gc.callbacks``).

Feeding: one asyncio task per column (like one network consumer per variant) delivers
~4-character chunks of synthetic prose at ``--rate`` chunks/s (0 = as fast as the loop
allows); one app-level timer at ``--fps`` Hz (default 30) applies buffered text for
all columns. View kinds:

* ``streamview`` -- ``StreamView.append`` per chunk, ``StreamView.flush`` per tick
  (``--follow-step N``: jump scrolling, see ``StreamView.follow_step``).
* ``static`` -- ``Static.update(full text)`` per tick for each changed column, inside an
  anchored ``VerticalScroll`` (the naive way to show a growing text with wrapping).
* ``log`` -- ``Log.write(new text)`` per tick (cheap, but does not wrap).

``--gc-freeze`` calls ``gc.collect(); gc.freeze()`` once the app is up, moving
start-up objects (widgets, CSS, caches) out of the collector's view so that later
collections only walk what the run allocates -- an option for the real app to consider
because GC pauses are the biggest lag spikes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Log, Static

try:
    from scillm_tui.tui.streamview.view import StreamView
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from scillm_tui.tui.streamview.view import StreamView

VIEWS = ("streamview", "static", "log")

PROSE = (
    "the model streams tokens into each column while the judge waits for all variants "
    "to finish a response can include code blocks lists and long paragraphs of prose "
    "that wrap across many rows def main return value for index in range print result"
)


def make_chunks(count: int, seed: int) -> list[str]:
    """Synthetic prose cut into 3-5 character chunks, with occasional paragraph breaks."""
    rng = random.Random(seed)
    words = PROSE.split()
    pieces: list[str] = []
    length = 0
    while length < count * 5:
        word = rng.choice(words)
        sep = "\n\n" if rng.random() < 0.02 else "\n" if rng.random() < 0.03 else " "
        pieces.append(word + sep)
        length += len(word) + len(sep)
    text = "".join(pieces)
    chunks: list[str] = []
    position = 0
    for _ in range(count):
        size = rng.randint(3, 5)
        chunks.append(text[position : position + size])
        position += size
    return chunks


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p99/max in milliseconds (values are seconds)."""
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "p50": round(statistics.median(ordered) * 1000, 2),
        "p99": round(p99 * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
    }


class BenchApp(App[None]):
    """N columns fed by N feeder tasks and repainted by one timer."""

    CSS = """
    Horizontal { height: 1fr; }
    .col { width: 1fr; height: 1fr; }
    """

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        self.result: dict[str, Any] = {}
        columns = args.columns
        self.pending: list[list[str]] = [[] for _ in range(columns)]
        self.arrivals: list[list[float]] = [[] for _ in range(columns)]
        self.texts = [""] * columns
        self.awaiting_display: list[float] = []
        self.flush_delays: list[float] = []
        self.display_delays: list[float] = []
        self.lags: list[float] = []
        self.frames = 0
        self.layouts: list[float] = []
        self.gc_times: list[float] = []
        self._gc_start = 0.0
        self._last_frame: asyncio.Future[None] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            for index in range(self.args.columns):
                if self.args.view == "streamview":
                    yield StreamView(
                        classes="col", id=f"c{index}", follow_step=self.args.follow_step
                    )
                elif self.args.view == "static":
                    with VerticalScroll(classes="col", id=f"c{index}"):
                        yield Static("", markup=False)
                else:
                    yield Log(classes="col", id=f"c{index}")

    def on_mount(self) -> None:
        if self.args.view == "static":
            for scroll in self.query(VerticalScroll):
                scroll.anchor()
        self.views: list[Any] = [
            self.query_one(f"#c{i}") if self.args.view != "static" else None
            for i in range(self.args.columns)
        ]
        self.statics = (
            [self.query_one(f"#c{i} Static", Static) for i in range(self.args.columns)]
            if self.args.view == "static"
            else []
        )
        self._install_frame_counter()
        self.call_after_refresh(lambda: self.run_worker(self._run(), exclusive=True))

    def _install_frame_counter(self) -> None:
        """Count composed frames (see module docstring) and time displayed chunks."""
        display = self._display
        render_output = self.args.render_output
        console = self.console

        def counting_display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.frames += 1
                if render_output:
                    renderable.render_segments(console)
                now = time.perf_counter()
                if self.awaiting_display:
                    self.display_delays.extend(now - t for t in self.awaiting_display)
                    self.awaiting_display.clear()
                if self._last_frame is not None and not self._last_frame.done():
                    self._last_frame.set_result(None)
            display(screen, renderable)

        self._display = counting_display  # type: ignore[method-assign]

        screen = self.screen
        refresh_layout = screen._refresh_layout

        def timed_layout(*args: Any, **kwargs: Any) -> None:
            start = time.perf_counter()
            refresh_layout(*args, **kwargs)
            self.layouts.append(time.perf_counter() - start)

        screen._refresh_layout = timed_layout  # type: ignore[method-assign]

    def _gc_callback(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_times.append(time.perf_counter() - self._gc_start)

    def _tick(self) -> None:
        """The app-level repaint timer: apply buffered text of every column."""
        now = time.perf_counter()
        view = self.args.view
        for index, arrivals in enumerate(self.arrivals):
            if not arrivals:
                continue
            if view == "streamview":
                self.views[index].flush()
            else:
                new_text = "".join(self.pending[index])
                self.pending[index].clear()
                if view == "static":
                    self.texts[index] += new_text
                    self.statics[index].update(self.texts[index])
                else:
                    self.views[index].write(new_text)
            self.flush_delays.extend(now - t for t in arrivals)
            self.awaiting_display.extend(arrivals)
            self.arrivals[index] = []

    async def _feed(self, index: int, chunks: list[str]) -> None:
        """One network consumer: deliver chunks at the given rate."""
        rate = self.args.rate
        interval = 1 / rate if rate else 0.0
        next_time = time.perf_counter() + interval * index / self.args.columns
        to_view = self.views[index].append if self.args.view == "streamview" else None
        pending = self.pending[index]
        for chunk in chunks:
            if rate:
                await asyncio.sleep(max(0.0, next_time - time.perf_counter()))
                next_time += interval
            else:
                await asyncio.sleep(0)
            if to_view is not None:
                to_view(chunk)
            else:
                pending.append(chunk)
            self.arrivals[index].append(time.perf_counter())

    async def _probe(self) -> None:
        """Event-loop lag: how late a 10 ms sleep wakes up."""
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(time.perf_counter() - start - 0.01)

    async def _run(self) -> None:
        args = self.args
        if args.gc_freeze:
            gc.collect()
            gc.freeze()
        gc.callbacks.append(self._gc_callback)
        chunk_lists = [make_chunks(args.chunks, seed=index) for index in range(args.columns)]
        self.set_interval(1 / args.fps, self._tick, name="bench-flush")
        probe = asyncio.create_task(self._probe())
        wall0, cpu0 = time.perf_counter(), time.process_time()
        self.layouts.clear()
        feeders = [
            asyncio.create_task(self._feed(i, chunks)) for i, chunks in enumerate(chunk_lists)
        ]
        budget = (args.chunks / args.rate * 3 + 30) if args.rate else 300
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.gather(*feeders), timeout=budget)
            # Wait for the tick that applies the last chunks and the frame that shows them.
            while any(self.arrivals) or self.awaiting_display:
                self._last_frame = asyncio.get_running_loop().create_future()
                await asyncio.wait_for(self._last_frame, timeout=5)
        except TimeoutError:
            timed_out = True
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        probe.cancel()
        gc.callbacks.remove(self._gc_callback)
        paced = bool(args.rate)
        self.result = {
            "view": args.view,
            "columns": args.columns,
            "chunks": args.chunks,
            "rate": args.rate,
            "fps_timer": args.fps,
            "gc_freeze": args.gc_freeze,
            "follow_step": args.follow_step if args.view == "streamview" else None,
            "render_output": args.render_output,
            "timed_out": timed_out,
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "cpu_util": round(cpu / wall, 3) if wall else None,
            "frames": self.frames,
            "fps": round(self.frames / wall, 1) if wall else None,
            "layouts": {
                "count": len(self.layouts),
                "total_ms": round(sum(self.layouts) * 1000, 1),
            },
            "lag_ms": percentiles(self.lags),
            "flush_delay_ms": percentiles(self.flush_delays) if paced else None,
            "display_delay_ms": percentiles(self.display_delays) if paced else None,
            "gc": {
                "collections": len(self.gc_times),
                "total_ms": round(sum(self.gc_times) * 1000, 1),
                "max_ms": round(max(self.gc_times, default=0.0) * 1000, 1),
            },
        }
        self.exit()


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    """Run one benchmark in this process."""
    app = BenchApp(args)
    app.run(headless=True, size=(args.width, args.height))
    return app.result


def compare(args: argparse.Namespace) -> None:
    """Run each view kind in its own subprocess and print ratios against StreamView."""
    results: dict[str, dict[str, Any]] = {}
    base = [sys.executable, str(Path(__file__).resolve())]
    for view in VIEWS:
        command = [
            *base,
            "--view",
            view,
            "--columns",
            str(args.columns),
            "--chunks",
            str(args.chunks),
            "--rate",
            str(args.rate),
            "--fps",
            str(args.fps),
            "--width",
            str(args.width),
            "--height",
            str(args.height),
        ]
        if args.gc_freeze:
            command.append("--gc-freeze")
        if view == "streamview":
            command += ["--follow-step", str(args.follow_step)]
        if not args.render_output:
            command.append("--no-render-output")
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        line = output.strip().splitlines()[-1]
        print(line, flush=True)
        results[view] = json.loads(line)

    def ratio(view: str, key: str, sub: str | None = None) -> float | None:
        mine, theirs = results["streamview"], results[view]
        a = mine[key] if sub is None else (mine[key] or {}).get(sub)
        b = theirs[key] if sub is None else (theirs[key] or {}).get(sub)
        return round(b / a, 2) if a and b is not None else None

    summary = {
        "summary": f"{args.columns} columns, {args.chunks} chunks at {args.rate}/s",
        **{
            f"{view}_vs_streamview": {
                "cpu": ratio(view, "cpu_s"),
                "lag_p99": ratio(view, "lag_ms", "p99"),
                "lag_max": ratio(view, "lag_ms", "max"),
                "display_delay_p99": ratio(view, "display_delay_ms", "p99"),
                "fps": ratio(view, "fps"),
            }
            for view in VIEWS[1:]
        },
    }
    print(json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--view", choices=VIEWS, default="streamview")
    parser.add_argument("--columns", type=int, default=8)
    parser.add_argument("--chunks", type=int, default=500, help="chunks per column")
    parser.add_argument("--rate", type=float, default=100, help="chunks/s per column; 0 = max")
    parser.add_argument("--fps", type=float, default=30, help="flush timer frequency")
    parser.add_argument("--width", type=int, default=200)
    parser.add_argument("--height", type=int, default=50)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after start-up")
    parser.add_argument(
        "--follow-step", type=int, default=1, help="StreamView.follow_step (jump scrolling)"
    )
    parser.add_argument(
        "--no-render-output",
        dest="render_output",
        action="store_false",
        help="do not build the terminal output string for each frame",
    )
    parser.add_argument("--compare", action="store_true", help="run all views, print ratios")
    args = parser.parse_args()
    if args.compare:
        compare(args)
    else:
        print(json.dumps(run_one(args)), flush=True)


if __name__ == "__main__":
    main()
