"""Shared helpers: the loopback server process, statistics, memory, JSON results."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "


def model_name(chunks: int, rate: float = 0.0, chars: int = 4, think: int = 0) -> str:
    """The model name that asks `bench.sse_server` for this workload (rate 0 = unpaced;
    `think` thinking chunks before the answer's `chunks`)."""
    suffix = f"-t{think}" if think else ""
    return f"bench-k{chunks}-r{rate:g}-c{chars}{suffix}"


@contextmanager
def sse_server(timeout_s: float = 15.0) -> Iterator[str]:
    """Run `bench.sse_server` in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.sse_server"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = ""
        while not line.startswith("PORT ") and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
        if not line.startswith("PORT "):
            raise RuntimeError("the benchmark SSE server did not start")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        if process.stdin is not None:
            process.stdin.close()  # the server exits when its stdin closes
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(5)


def pct(values: Sequence[float], scale: float = 1000.0) -> dict[str, float | None]:
    """p50/p99/max (default: seconds in, milliseconds out)."""
    if not values:
        return {"p50": None, "p99": None, "max": None, "n": 0}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "p50": round(statistics.median(ordered) * scale, 3),
        "p99": round(p99 * scale, 3),
        "max": round(ordered[-1] * scale, 3),
        "n": len(ordered),
    }


def memory_kib() -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of this process, in KiB, from /proc/self/status."""
    values: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def emit(result: dict[str, Any]) -> None:
    """Print one result line for the orchestrator (stdout may carry other noise)."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def quiet_env() -> dict[str, str]:
    """Environment for child processes: no settings leaking in from the user's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHUTES_", "CODEX_AGENT_", "SCILLM_", "JUDGE_", "BEST_OF_N"))
    }
    env["PYTHONHASHSEED"] = "0"
    return env
