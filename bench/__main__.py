"""Run the scillm-tui benchmark suite (see docs/performance.md).

Usage: ``python -m bench [--quick] [--runs N] [--cases a,b]``.

Every measurement runs in a fresh process (several Textual apps in one process leak),
against one loopback SSE server (``bench.sse_server``) that runs in a process of its own,
so that its CPU is never charged to the client being measured. Each figure is the
median of ``--runs`` runs (default 3; ``--quick``: 1 run and smaller sizes); every ratio
is computed from two measurements taken back to back in the same suite run, then the
median of the per-run ratios is reported. The table goes to stdout, everything to
``<out>/<UTC timestamp>.json``: ``--out DIR``, by default ``$XDG_CACHE_HOME/scillm-tui/bench/``
(``~/.cache/...``), outside the source tree. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import RESULT_PREFIX, ROOT, quiet_env, sse_server

CASES = (
    "overhead",
    "concurrency",
    "dashboard",
    "maxrate",
    "keys",
    "memory",
    "startup",
    "thinking",
    "ranking",
    "history",
    "history_screen",
)

FULL = {
    "overhead_unpaced_chunks": 2000,
    "overhead_paced_chunks": 300,
    "overhead_rate": 100,
    "concurrency_chunks": 100,  # at 100 chunks/s: a 1 s answer
    "dashboard_chunks": 2000,
    "maxrate_chunks": 2000,
    "keys_chunks": 1500,
    "keys_typed": 40,
    "keys_zooms": 20,
    "memory_kib": 256,
    "memory_chunk_chars": 64,
    "startup_runs": 5,
    "thinking_chunks": 2000,  # then 500 answer chunks, at 100 chunks/s
    "thinking_answer_chunks": 500,
    "ranking_runs": 10_000,  # judged runs x 4 variants, ~10 models
    "history_runs": 10_000,  # runs x 4 variants in the history database
    "history_screen_runs": 10_000,  # the History screen over runs x 4 variants
}
QUICK = {
    "overhead_unpaced_chunks": 500,
    "overhead_paced_chunks": 100,
    "overhead_rate": 100,
    "concurrency_chunks": 50,
    "dashboard_chunks": 400,
    "maxrate_chunks": 1000,
    "keys_chunks": 600,
    "keys_typed": 15,
    "keys_zooms": 8,
    "memory_kib": 32,
    "memory_chunk_chars": 64,
    "startup_runs": 2,
    "thinking_chunks": 400,
    "thinking_answer_chunks": 100,
    "ranking_runs": 10_000,  # pure Python and well under a second: the full size
    "history_runs": 2_000,  # filling 10,000 runs takes ~30 s
    "history_screen_runs": 2_000,  # likewise (filled once per suite run)
}


def run_job(module: str, case: str, params: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """One measurement in a fresh interpreter; returns its result line."""
    command = [sys.executable, "-m", module, case, json.dumps(params)]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=quiet_env(), capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:g} s", "case": case}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
            result["process_s"] = round(time.monotonic() - started, 3)
            if "error" in result:  # keep the numbers for the record, out of the table
                return {"error": result["error"], "case": case, "failed_result": result}
            return result
    tail = (done.stderr or done.stdout)[-1500:]
    return {"error": f"exit {done.returncode}: {tail}", "case": case}


def history_job(runs: int, timeout_s: float) -> dict[str, Any]:
    """`python -m bench.history --json` in a fresh interpreter (it prints one JSON
    document rather than a result line)."""
    command = [sys.executable, "-m", "bench.history", "--json", "--runs", str(runs)]
    command += ["--variants", "4", "--repeat", "20"]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=quiet_env(), capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:g} s", "case": "history"}
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        tail = (done.stderr or done.stdout)[-1500:]
        return {"error": f"exit {done.returncode}: {tail}", "case": "history"}
    return {"case": "history", **result}


def startup_pair(tmp: Path) -> dict[str, Any]:
    """`python -c "import textual.app"` and the `--demo` first frame, back to back."""
    env = quiet_env()
    env["PYTHONPATH"] = str(ROOT)
    env["XDG_DATA_HOME"] = str(tmp / "data")
    # As an installed copy starts, like textual (whose bytecode pip compiled): from cached
    # bytecode, not compiling every module of the project on each run (~0.1 s where
    # PYTHONDONTWRITEBYTECODE is set). The uncounted warm-up pair fills the cache in tmp.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    result: dict[str, Any] = {"case": "startup"}
    commands = {
        "import_textual_app": [
            sys.executable,
            "-c",
            "import textual.app, time; print(f'FIRST-FRAME {time.monotonic():.6f}')",
        ],
        "demo_first_frame": [sys.executable, "-m", "bench.startup"],
        "minimal_app_first_frame": [sys.executable, "-m", "bench.startup", "minimal"],
        # What the first frame needs of the required stack (Textual, pydantic models and
        # settings) before any of the project's code: the floor for a first frame that
        # shows the settings. httpx comes after the first frame.
        "stack_imports": [
            sys.executable,
            "-c",
            "import textual.app, pydantic_settings, time; "
            "print(f'FIRST-FRAME {time.monotonic():.6f}')",
        ],
    }
    for name, command in commands.items():
        started = time.monotonic()
        done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=60)
        exited = time.monotonic()
        stamps = [x for x in done.stdout.splitlines() if x.startswith("FIRST-FRAME ")]
        if not stamps:
            return {"case": "startup", "error": f"{name}: {(done.stderr or done.stdout)[-800:]}"}
        result[f"{name}_s"] = float(stamps[0].split()[1]) - started
        result[f"{name}_exit_s"] = exited - started
    result["ratio"] = result["demo_first_frame_s"] / result["import_textual_app_s"]
    result["minimal_ratio"] = result["minimal_app_first_frame_s"] / result["import_textual_app_s"]
    result["stack_ratio"] = result["stack_imports_s"] / result["import_textual_app_s"]
    return result


def collect(args: argparse.Namespace, base_url: str, sizes: dict[str, Any]) -> dict[str, list]:
    """Run every selected case `args.runs` times; returns raw results per case."""
    with tempfile.TemporaryDirectory(prefix="scillm-bench-suite-") as suite_tmp:
        return _collect(args, base_url, sizes, Path(suite_tmp))


def _collect(
    args: argparse.Namespace, base_url: str, sizes: dict[str, Any], suite_tmp: Path
) -> dict[str, list]:
    runs: dict[str, list] = {case: [] for case in args.cases}
    c4 = {"chars": 4}
    screen_db: dict[str, Any] = {}  # case 11's history, filled once per suite run

    def job(module: str, case: str, params: dict[str, Any], timeout_s: float) -> dict:
        result = run_job(module, case, {"base_url": base_url, **params}, timeout_s)
        if "error" in result:
            print(f"  ! {case}: {result['error']}", file=sys.stderr, flush=True)
        return result

    for rep in range(1, args.runs + 1):
        print(f"run {rep}/{args.runs}", file=sys.stderr, flush=True)
        for case in args.cases:
            started = time.monotonic()
            entry: dict[str, Any]
            if case == "overhead":
                entry = {
                    "unpaced": job(
                        "bench.engine",
                        "overhead",
                        {"chunks": sizes["overhead_unpaced_chunks"], "rate": 0, "ns": [1, 8, 16]},
                        180,
                    ),
                    "paced": job(
                        "bench.engine",
                        "overhead",
                        {
                            "chunks": sizes["overhead_paced_chunks"],
                            "rate": sizes["overhead_rate"],
                            "ns": [1, 8, 16],
                        },
                        180,
                    ),
                }
            elif case == "concurrency":
                params = {"chunks": sizes["concurrency_chunks"], "rate": 100, "n": 8}
                entry = {"run": job("bench.engine", "concurrency", params, 120)}
            elif case == "dashboard":
                k = sizes["dashboard_chunks"]
                paced = {"chunks": k, "rate": 100, **c4}
                timeout = k / 100 + 90
                entry = {
                    "raw8": job("bench.dashboard", "raw", {"n": 8, **paced}, timeout),
                    "app8": job(
                        "bench.dashboard", "dashboard", {"mode": "paced", "n": 8, **paced}, timeout
                    ),
                    "app16": job(
                        "bench.dashboard", "dashboard", {"mode": "paced", "n": 16, **paced}, timeout
                    ),
                }
            elif case == "maxrate":
                unpaced = {"chunks": sizes["maxrate_chunks"], "rate": 0, **c4}
                entry = {
                    "raw8": job("bench.dashboard", "raw", {"n": 8, **unpaced}, 120),
                    "app8": job(
                        "bench.dashboard", "dashboard", {"mode": "max", "n": 8, **unpaced}, 180
                    ),
                }
            elif case == "keys":
                k = sizes["keys_chunks"]
                params = {
                    "mode": "keys",
                    "n": 8,
                    "chunks": k,
                    "rate": 100,
                    "typed": sizes["keys_typed"],
                    "zooms": sizes["keys_zooms"],
                    **c4,
                }
                entry = {"app8": job("bench.dashboard", "dashboard", params, k / 100 + 90)}
            elif case == "memory":
                chars = sizes["memory_chunk_chars"]
                params = {
                    "mode": "memory",
                    "n": 32,
                    "chunks": sizes["memory_kib"] * 1024 // chars,
                    "rate": 0,
                    "chars": chars,
                }
                entry = {"app32": job("bench.dashboard", "dashboard", params, 300)}
            elif case == "thinking":
                paced = {
                    "chunks": sizes["thinking_answer_chunks"],
                    "think": sizes["thinking_chunks"],
                    "rate": 100,
                    **c4,
                }
                timeout = (paced["chunks"] + paced["think"]) / 100 + 90
                entry = {
                    "raw8": job("bench.dashboard", "raw", {"n": 8, **paced}, timeout),
                    "app8": job(
                        "bench.dashboard", "dashboard", {"mode": "paced", "n": 8, **paced}, timeout
                    ),
                }
            elif case == "ranking":
                params = {"ranking_runs": sizes["ranking_runs"]}
                entry = {"run": job("bench.ranking", "ranking", params, 120)}
            elif case == "history":
                entry = {"run": history_job(sizes["history_runs"], 600)}
                if "error" in entry["run"]:
                    print(f"  ! history: {entry['run']['error']}", file=sys.stderr, flush=True)
            elif case == "history_screen":
                size = sizes["history_screen_runs"]
                if not screen_db:
                    db = suite_tmp / "history-screen.db"
                    params = {"db": str(db), "runs": size}
                    screen_db.update(db=str(db), runs=size)
                    screen_db["fill"] = job("bench.history_screen", "fill", params, 900)
                params = {"db": screen_db["db"], "runs": size}
                entry = {"run": job("bench.history_screen", "screen", params, 180)}
            elif case == "startup":
                with tempfile.TemporaryDirectory(prefix="scillm-bench-") as tmp:
                    startup_pair(Path(tmp))  # warm the page cache; not counted
                    entry = {
                        "pairs": [startup_pair(Path(tmp)) for _ in range(sizes["startup_runs"])]
                    }
            else:  # pragma: no cover - argparse restricts the names
                raise ValueError(case)
            runs[case].append(entry)
            print(f"  {case}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return runs


# ---- the table ------------------------------------------------------------------------------


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _get(result: dict | None, *path: str) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def summarise(runs: dict[str, list], sizes: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of (figure, target, measured, pass) from the raw results."""
    rows: list[dict[str, Any]] = []

    def row(
        case: str,
        figure: str,
        values: list[float | None],
        op: str,
        target: float,
        unit: str = "",
        fmt: str = "{:.2f}",
        detail: str = "",
    ) -> None:
        measured = _median(values)
        ok = None
        if measured is not None:
            ok = measured <= target if op == "<=" else measured >= target
        rows.append(
            {
                "case": case,
                "figure": figure,
                "target": f"{op.replace('<=', '≤').replace('>=', '≥')} {fmt.format(target)}{unit}",
                "measured": None if measured is None else float(fmt.format(measured)),
                "shown": "n/a" if measured is None else f"{fmt.format(measured)}{unit}",
                "pass": ok,
                "runs": [None if v is None else round(v, 4) for v in values],
                "detail": detail,
            }
        )

    for entry_key, label in (("unpaced", "unpaced"), ("paced", "paced")):
        for kind in ("client", "engine"):
            for n in ("1", "8", "16"):
                values = [
                    _get(e[entry_key], "by_n", n, f"{kind}_vs_raw")
                    for e in runs.get("overhead", [])
                ]
                if not runs.get("overhead"):
                    continue
                what = "EndpointClient.stream_chat" if kind == "client" else "Run.events()"
                row("1 engine", f"{what} CPU/chunk ÷ raw httpx, N={n}, {label}", values, "<=", 1.2)
    if runs.get("concurrency"):
        values = [_get(e["run"], "ratio") for e in runs["concurrency"]]
        row(
            "2 concurrency",
            f"wall best-of-8 ÷ best-of-1 ({sizes['concurrency_chunks'] / 100:g} s answers)",
            values,
            "<=",
            1.1,
        )
    if runs.get("dashboard"):
        entries = runs["dashboard"]
        cpu = [_ratio(_get(e["app8"], "cpu_s"), _get(e["raw8"], "cpu_s")) for e in entries]
        row(
            "3 dashboard",
            f"CPU ÷ raw consumer CPU, 8 × {sizes['dashboard_chunks']} @ 100/s",
            cpu,
            "<=",
            3.0,
        )
        fps = [_get(e["app8"], "fps") for e in entries]
        row("3 dashboard", "frames/s while streaming, 8 columns", fps, ">=", 20, fmt="{:.1f}")
        for n in ("8", "16"):
            app = f"app{n}"
            row(
                "3 dashboard",
                f"event-loop lag p99, {n} columns",
                [_get(e[app], "lag_ms", "p99") for e in entries],
                "<=",
                40,
                " ms",
                "{:.0f}",
            )
            row(
                "3 dashboard",
                f"event-loop lag max, {n} columns",
                [_get(e[app], "lag_ms", "max") for e in entries],
                "<=",
                80,
                " ms",
                "{:.0f}",
            )
        scale = [_ratio(_get(e["app16"], "cpu_s"), _get(e["app8"], "cpu_s")) for e in entries]
        row("3 dashboard", "CPU 16 columns ÷ CPU 8 columns", scale, "<=", 1.8)
        for n in ("8", "16"):
            delay = [_get(e[f"app{n}"], "arrival_to_screen_ms", "p99") for e in entries]
            row(
                "3 dashboard",
                f"chunk arrival → on screen p99, {n} columns",
                delay,
                "<=",
                100,
                " ms",
                "{:.0f}",
            )
    if runs.get("thinking"):
        entries = runs["thinking"]
        cpu = [_ratio(_get(e["app8"], "cpu_s"), _get(e["raw8"], "cpu_s")) for e in entries]
        workload = f"8 × ({sizes['thinking_chunks']} thinking + {sizes['thinking_answer_chunks']})"
        row("10 thinking", f"CPU ÷ raw consumer CPU, {workload} @ 100/s", cpu, "<=", 3.0)
        row(
            "10 thinking",
            "event-loop lag p99, 8 columns",
            [_get(e["app8"], "lag_ms", "p99") for e in entries],
            "<=",
            40,
            " ms",
            "{:.0f}",
        )
    if runs.get("maxrate"):
        entries = runs["maxrate"]
        values = [_ratio(_get(e["app8"], "wall_s"), _get(e["raw8"], "wall_s")) for e in entries]
        row(
            "4 max rate",
            f"time to all text on screen ÷ raw time, 8 × {sizes['maxrate_chunks']} unpaced",
            values,
            "<=",
            2.0,
        )
    if runs.get("keys"):
        entries = runs["keys"]
        for kind, label in (("type", "typing in the prompt"), ("zoom", "f6 zoom toggle")):
            values = [_get(e["app8"], "keys_ms", kind, "p99") for e in entries]
            row(
                "5 keys",
                f"key → visible p99, {label}, 8 columns streaming",
                values,
                "<=",
                50,
                " ms",
                "{:.0f}",
            )
    if runs.get("memory"):
        values = [_get(e["app32"], "peak_growth_ratio") for e in runs["memory"]]
        row(
            "6 memory",
            f"peak RSS growth ÷ text size, 32 × {sizes['memory_kib']} KiB",
            values,
            "<=",
            4.0,
        )
    if runs.get("startup"):
        values = [_median([_get(p, "ratio") for p in e["pairs"]]) for e in runs["startup"]]
        row("7 start-up", "first frame of --demo ÷ `import textual.app`", values, "<=", 1.4)
    if runs.get("ranking"):
        entries = runs["ranking"]
        values = [
            None
            if _get(e["run"], "battles_ms") is None
            else _get(e["run"], "battles_ms") + (_get(e["run"], "rate_ms") or 0.0)
            for e in entries
        ]
        row(
            "8 ranking",
            f"leaderboard (battles + ratings), {sizes['ranking_runs']:,} runs × 4 variants",
            values,
            "<=",
            1000,
            " ms",
            "{:.0f}",
        )
    if runs.get("history"):
        entries = runs["history"]
        size = f"{sizes['history_runs']:,} runs × 4 variants"
        row(
            "9 history",
            f"first page of the run list p50, {size}",
            [_get(e["run"], "reads", "list_runs_first_page_ms", "p50") for e in entries],
            "<=",
            100,
            " ms",
            "{:.1f}",
        )
        loop = [_loop_cost(e["run"]) for e in entries]
        row(
            "9 history",
            "recording's event-loop cost p50 (worst of start, checkpoint, finish)",
            loop,
            "<=",
            5,
            " ms",
            "{:.2f}",
        )
        row(
            "9 history",
            f"leaderboard from the history p50, {size}",
            [_get(e["run"], "reads", "leaderboard_ms", "p50") for e in entries],
            "<=",
            1000,
            " ms",
            "{:.0f}",
        )
    if runs.get("history_screen"):
        entries = runs["history_screen"]
        size = f"{sizes['history_screen_runs']:,} runs × 4 variants"
        row(
            "11 history screen",
            f"f3 → first rows on screen, {size}",
            [_get(e["run"], "first_paint_ms") for e in entries],
            "<=",
            100,
            " ms",
            "{:.0f}",
        )
        row(
            "11 history screen",
            "filter key → its rows on screen p95",
            [_get(e["run"], "filter_p95_ms") for e in entries],
            "<=",
            100,
            " ms",
            "{:.0f}",
        )
        row(
            "11 history screen",
            "event-loop lag max while the screen loads",
            [_get(e["run"], "load_lag_ms", "max") for e in entries],
            "<=",
            50,
            " ms",
            "{:.0f}",
        )
    return rows


def _loop_cost(result: dict | None) -> float | None:
    """The slowest p50 of the recorder's loop-side calls, over both answer sizes."""
    sides = _get(result, "loop_side")
    if not isinstance(sides, dict):
        return None
    values = [
        _get(side, name, "p50")
        for side in sides.values()
        for name in ("run_started_ms", "checkpoint_ms", "run_finished_ms")
    ]
    present = [v for v in values if v is not None]
    return max(present) if present else None


def details(runs: dict[str, list]) -> list[str]:
    """Medians of the absolute numbers behind the ratios (context for the table)."""

    def med(case: str, *path: str) -> float | None:
        return _median([_get(entry, *path) for entry in runs.get(case, [])])

    def fmt(value: float | None, spec: str = "{:.2f}") -> str:
        return "n/a" if value is None else spec.format(value)

    lines = []
    if runs.get("overhead"):
        for pacing in ("unpaced", "paced"):
            parts = []
            for n in ("1", "8", "16"):
                us = [
                    fmt(med("overhead", pacing, "by_n", n, kind, "cpu_us_per_chunk"), "{:.1f}")
                    for kind in ("raw", "client", "engine")
                ]
                parts.append(f"N={n} {'/'.join(us)}")
            lines.append(f"1 CPU µs/chunk raw/client/engine, {pacing}: " + "; ".join(parts))
    if runs.get("concurrency"):
        one, eight = (
            med("concurrency", "run", "wall_s", "1"),
            med("concurrency", "run", "wall_s", "8"),
        )
        lines.append(f"2 wall best-of-1 {fmt(one)} s, best-of-8 {fmt(eight)} s")
    if runs.get("dashboard"):
        for n in ("8", "16"):
            app = f"app{n}"
            lines.append(
                f"3 {n} columns: CPU {fmt(med('dashboard', app, 'cpu_s'))} s over "
                f"{fmt(med('dashboard', app, 'wall_s'))} s (raw consumer, 8 streams: "
                f"{fmt(med('dashboard', 'raw8', 'cpu_s'))} s), "
                f"{fmt(med('dashboard', app, 'frames'), '{:.0f}')} frames, lag p50 "
                f"{fmt(med('dashboard', app, 'lag_ms', 'p50'), '{:.1f}')} ms, lag max after "
                f"the first second {fmt(med('dashboard', app, 'lag_after_1s_ms', 'max'), '{:.0f}')}"
                f" ms, arrival → flush p99 "
                f"{fmt(med('dashboard', app, 'arrival_to_flush_ms', 'p99'), '{:.0f}')} ms"
            )
    if runs.get("maxrate"):
        lines.append(
            f"4 all text on screen after {fmt(med('maxrate', 'app8', 'wall_s'))} s "
            f"(CPU {fmt(med('maxrate', 'app8', 'cpu_s'))} s); raw consumer "
            f"{fmt(med('maxrate', 'raw8', 'wall_s'))} s"
        )
    if runs.get("keys"):
        lines.append(
            f"5 p50 typing {fmt(med('keys', 'app8', 'keys_ms', 'type', 'p50'), '{:.0f}')} ms, "
            f"zoom {fmt(med('keys', 'app8', 'keys_ms', 'zoom', 'p50'), '{:.0f}')} ms; "
            f"presses per run {fmt(med('keys', 'app8', 'keys_ms', 'type', 'n'), '{:.0f}')} + "
            f"{fmt(med('keys', 'app8', 'keys_ms', 'zoom', 'n'), '{:.0f}')}, "
            f"effects never seen {fmt(med('keys', 'app8', 'keys_missed'), '{:.0f}')}"
        )
    if runs.get("memory"):
        before, peak = med("memory", "app32", "rss_before_kib"), med("memory", "app32", "peak_kib")
        text = med("memory", "app32", "text_kib")
        lines.append(
            f"6 RSS before the run {fmt(before and before / 1024, '{:.0f}')} MiB, peak "
            f"{fmt(peak and peak / 1024, '{:.0f}')} MiB, text {fmt(text and text / 1024, '{:.0f}')}"
            f" MiB"
        )
    if runs.get("startup"):
        values: dict[str, list] = {
            "import_textual_app_s": [],
            "demo_first_frame_s": [],
            "minimal_app_first_frame_s": [],
            "minimal_ratio": [],
            "stack_imports_s": [],
            "stack_ratio": [],
        }
        for entry in runs["startup"]:
            for key, found in values.items():
                found.extend(_get(pair, key) for pair in entry["pairs"])
        lines.append(
            f"7 first frame {fmt(_median(values['demo_first_frame_s']))} s, "
            f"import textual.app {fmt(_median(values['import_textual_app_s']))} s; "
            "for scale, the first frame of a one-`Static` Textual app "
            f"{fmt(_median(values['minimal_app_first_frame_s']))} s "
            f"({fmt(_median(values['minimal_ratio']))} × the import); importing textual.app and "
            f"pydantic-settings {fmt(_median(values['stack_imports_s']))} s "
            f"({fmt(_median(values['stack_ratio']))} × the import)"
        )
    if runs.get("ranking"):
        lines.append(
            f"8 battles {fmt(med('ranking', 'run', 'battles_ms'), '{:.0f}')} ms, ratings with "
            f"closed-form intervals {fmt(med('ranking', 'run', 'rate_ms'), '{:.0f}')} ms, with a "
            f"100-resample bootstrap {fmt(med('ranking', 'run', 'rate_bootstrap_ms'), '{:.0f}')}"
            " ms"
        )
    if runs.get("history"):
        reads = ("list_runs_page_at_half_ms", "search_common_word_ms", "judged_runs_all_ms")
        parts = [f"{name} {fmt(med('history', 'run', 'reads', name, 'p50'))}" for name in reads]
        parts.append(
            f"judge_trust_ms {fmt(med('history', 'run', 'reads', 'judge_trust_ms', 'p50'))}"
        )
        lines.append(
            f"9 writer thread {fmt(med('history', 'run', 'fill_ms_per_run'))} ms per run; "
            f"database {fmt(med('history', 'run', 'db_mib'), '{:.0f}')} MiB; p50 "
            + ", ".join(parts)
        )
    if runs.get("history_screen"):

        def screen(*path: str) -> str:
            return fmt(med("history_screen", "run", *path), "{:.0f}")

        lines.append(
            f"11 the event loop's CPU from f3 to the rows {screen('first_paint_cpu_ms')} ms, "
            f"from a filter key to its rows p50 {screen('filter_cpu_ms', 'p50')} ms; "
            f"the screen's first frame {screen('screen_ms')} ms after f3; filter p50 "
            f"{screen('filter_ms', 'p50')} ms over {screen('filter_ms', 'n')} keys; lag p99 "
            f"while loading {screen('load_lag_ms', 'p99')} ms, while filtering "
            f"{screen('filter_lag_ms', 'p99')} ms"
        )
    return lines


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| case | figure | target | measured | pass |", "|---|---|---|---|---|"]
    for r in rows:
        verdict = {True: "pass", False: "**miss**", None: "n/a"}[r["pass"]]
        lines.append(f"| {r['case']} | {r['figure']} | {r['target']} | {r['shown']} | {verdict} |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import textual

    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "textual": textual.__version__,
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
    }


def default_out_dir() -> Path:
    """Results are machine-specific measurements, not source: they go to the user's cache
    (``$XDG_CACHE_HOME/scillm-tui/bench``), never into the git tree."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "scillm-tui" / "bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run, smaller sizes (< 2 min)")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 3)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"subset of {','.join(CASES)}")
    parser.add_argument(
        "--out",
        "--out-dir",
        dest="out_dir",
        default=str(default_out_dir()),
        help="where the JSON goes (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    args.runs = args.runs or (1 if args.quick else 3)
    sizes = QUICK if args.quick else FULL
    info = machine()
    started = time.monotonic()
    with sse_server() as base_url:
        runs = collect(args, base_url, sizes)
    info["loadavg_end"] = os.getloadavg()
    rows = summarise(runs, sizes)
    elapsed = time.monotonic() - started
    command = "python -m bench" + (" --quick" if args.quick else "")
    if argv is None and len(sys.argv) > 1:
        command = "python -m bench " + " ".join(sys.argv[1:])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{stamp}.json"
    document = {
        "command": command,
        "created": stamp,
        "elapsed_s": round(elapsed, 1),
        "machine": info,
        "sizes": sizes,
        "runs_per_figure": args.runs,
        "summary": rows,
        "runs": runs,
    }
    out.write_text(json.dumps(document, indent=1) + "\n")
    notes = details(runs)
    document["details"] = notes
    out.write_text(json.dumps(document, indent=1) + "\n")
    print(table(rows))
    print()
    print("\n".join(f"- {line}" for line in notes))
    print(
        f"\n{command}: {elapsed:.0f} s on {info['nproc']} × {info['cpu_model'] or '?'}, "
        f"Python {info['python']}, textual {info['textual']}; "
        f"load {info['loadavg_start'][0]:.2f} → {info['loadavg_end'][0]:.2f}"
    )
    print(f"results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
