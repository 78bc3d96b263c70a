"""A batch at scale: 1,000 prompts x 4 variants x judge against the loopback SSE server.

Usage: ``python -m bench.batch [--prompts N] [--variants V] [--concurrency C] [--json]``
(not part of ``python -m bench``: it takes a minute).

Two passes over the same prompts and streams, in one process:
1. raw: the batch engine with no judge and no history (streams only);
2. batch: the same, judged, every run recorded in a history (a temporary file).
Each pass reports the TCP connections it opened (the server counts them): a batch shares
one connection pool per endpoint, so about as many as streams in flight, not one per
stream. Targets: peak RSS growth of pass 2 under 50 MiB (memory stays flat: texts go to the
history, not into a list), and its wall time within 1.3x of pass 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import memory_kib, model_name, reset_peak_rss, sse_server
from scillm_tui.core.backends import Backends
from scillm_tui.core.batch.prompts import BatchPrompt, prompt_id
from scillm_tui.core.batch.runner import BatchConfig, BatchRunner, new_batch_id
from scillm_tui.core.judge import JudgeSpec
from scillm_tui.core.run_history import HistoryRecorder
from scillm_tui.core.settings import load_settings

RSS_GROWTH_MAX_MIB = 50.0
RATIO_MAX = 1.3


def connections(base_url: str) -> int:
    """TCP connections the server has accepted so far (this request's own included)."""
    return int(httpx.get(f"{base_url}/stats", timeout=10).json()["connections"])


def prompts(count: int) -> list[BatchPrompt]:
    texts = [f"prompt number {i}: explain CRDTs briefly" for i in range(count)]
    return [BatchPrompt(prompt_id(t, None), t, None, (), i + 1) for i, t in enumerate(texts)]


async def one_pass(
    base_url: str, items: list[BatchPrompt], args: argparse.Namespace, *, full: bool, db: Path
) -> dict[str, Any]:
    backends = Backends(load_settings(None, CHUTES_API_BASE=base_url))
    recorder = HistoryRecorder.open(db, enabled=True) if full else HistoryRecorder.disabled()
    model = model_name(args.chunks, args.rate, 8)
    config = BatchConfig(
        batch_id=new_batch_id(),
        models=[model],
        n=args.variants,
        target="gateway",
        judge=JudgeSpec(model="bench-judge", target="gateway") if full else None,
        concurrency=args.concurrency,
    )
    runner = BatchRunner(items, config, backends, recorder)
    opened_before = connections(base_url)
    started = time.perf_counter()
    try:
        stats = await runner.run()
    finally:
        await backends.aclose()
        await recorder.aclose()
    wall = time.perf_counter() - started
    opened = connections(base_url) - opened_before - 1  # less the one asking
    return {
        "wall_s": round(wall, 2),
        "connections": opened,
        "prompts_per_s": round(len(items) / wall, 1),
        "judged": stats.judged,
        "finished": stats.finished,
        "failed": stats.failed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.batch", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--prompts", type=int, default=1000, help="prompts in the batch")
    parser.add_argument("--variants", type=int, default=4, help="variants per prompt")
    parser.add_argument("--concurrency", type=int, default=64, help="streams in flight")
    parser.add_argument("--chunks", type=int, default=40, help="chunks per stream")
    parser.add_argument(
        "--rate", type=float, default=200.0, help="chunks/s per stream (0 = unpaced)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = parser.parse_args(argv)
    items = prompts(args.prompts)
    with sse_server() as base_url, tempfile.TemporaryDirectory() as tmp:
        raw = asyncio.run(one_pass(base_url, items, args, full=False, db=Path(tmp) / "h.db"))
        before = memory_kib()["VmRSS"]
        exact_peak = reset_peak_rss()
        full = asyncio.run(one_pass(base_url, items, args, full=True, db=Path(tmp) / "h.db"))
        peak = memory_kib()["VmHWM"]
    growth_mib = (peak - before) / 1024
    ratio = full["wall_s"] / raw["wall_s"]
    result = {
        "prompts": args.prompts,
        "variants": args.variants,
        "concurrency": args.concurrency,
        "streams": args.prompts * args.variants,
        "raw": raw,
        "batch": full,
        "rss_growth_mib": round(growth_mib, 1),
        "peak_rss_exact": exact_peak,
        "wall_ratio": round(ratio, 3),
        "ok": growth_mib <= RSS_GROWTH_MAX_MIB
        and ratio <= RATIO_MAX
        and full["judged"] == args.prompts,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
        print(
            f"batch: {args.prompts} prompts x {args.variants}: raw {raw['wall_s']} s, judged + "
            f"recorded {full['wall_s']} s (x{ratio:.2f}, target <= {RATIO_MAX}); peak RSS "
            f"growth {growth_mib:.1f} MiB (target <= {RSS_GROWTH_MAX_MIB:g})"
        )
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
