"""The run history's costs: what recording costs the event loop, and how fast it reads.

Usage: ``python -m bench.history [--runs N] [--variants V] [--json]``.

1. Loop side: the time `HistoryRecorder.run_started` / `checkpoint` / `run_finished` take
   on the calling thread for a real `Run` of 4 variants with streamed text (the SQLite
   writes happen on the recorder's thread and are not counted; that is the point).
   Target: run_finished <= 5 ms.
2. Reads over a database of N runs x V variants (default 10,000 x 4) with judgments:
   the first page of `list_runs` (target <= 100 ms), a deep page, FTS searches,
   `load_run`, a full `judged_runs` pass, and the leaderboard and judges' trust table
   built from the history (`core.run_history.ranking_inputs`). Seven runs in ten belong
   to one of ten batches (of about 700 prompts each, interleaved with the standalone runs):
   the History screen's grouped first page as it reads it, without the batches' counts
   (`list_entries(counted=False)`; all ten batches fall on it, the worst layout: target
   <= 100 ms), then their counts (`batch_counts`, which follow on screen) and the page
   with them (target <= 300 ms), a deep page, and one batch's screen
   (`batch_prompt_runs`, its ratings). Filling the database is timed too (that is the
   writer thread's cost per run).
Nothing here touches the user's history: everything is in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scillm_tui.core.backends import Backends
from scillm_tui.core.batch.leaderboard import batch_ratings
from scillm_tui.core.events import Usage
from scillm_tui.core.run_history import HistoryRecorder, HistoryStore
from scillm_tui.core.run_history.models import RunSnapshot, VariantSnapshot
from scillm_tui.core.run_history.ranking_inputs import model_leaderboard, trust_rows
from scillm_tui.core.runs import Run, RunSpec
from scillm_tui.core.settings import load_settings

WORDS = [
    "the",
    "of",
    "and",
    "model",
    "answer",
    "prompt",
    "gradient",
    "tensor",
    "kernel",
    "latency",
    "sample",
    "token",
    "judge",
    "variant",
    "cache",
    "shard",
    "vector",
    "matrix",
    "proof",
    "lemma",
    "theorem",
    "python",
    "rust",
    "async",
    "thread",
    "lock",
    "queue",
    "batch",
    "stream",
    "window",
    "buffer",
    "parser",
    "schema",
    "index",
    "query",
    "search",
    "rank",
    "score",
]


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered) * 1000, 3),
        "max": round(ordered[-1] * 1000, 3),
    }


def _timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _stream(run: Run, chars: int, rng: random.Random) -> None:
    """Fill every variant with `chars` of streamed answer, finished."""
    for state in run.variants.values():
        state.started_at = time.perf_counter()
        written = 0
        while written < chars:  # ~4-char chunks, as a fast stream sends them
            piece = " " + rng.choice(WORDS)
            state.add_text(piece, time.perf_counter())
            written += len(piece)
        state.usage = Usage(completion_tokens=written // 4)
        state.status = "done"
        state.finish_reason = "stop"
        state.ended_at = time.perf_counter()


async def loop_side(tmp: Path, repeat: int) -> dict[str, Any]:
    """Loop-thread cost of recording, for short (2 KB) and long (200 KB) answers."""
    backends = Backends(load_settings(None, CHUTES_API_BASE="http://127.0.0.1:9"))
    recorder = HistoryRecorder.open(tmp / "loop.db", enabled=True)
    rng = random.Random(1)
    results: dict[str, Any] = {}
    try:
        for label, chars in (("2KB", 2_000), ("200KB", 200_000)):
            started, checkpoints, idle, finished = [], [], [], []
            for _ in range(repeat):
                run = Run(RunSpec(prompt="bench prompt", models=["m-a", "m-b"], n=4), backends)
                t0 = time.perf_counter()
                recorder.run_started(run, checkpoint_every=None)
                started.append(time.perf_counter() - t0)
                _stream(run, chars, rng)  # the stream's own cost: not counted
                t0 = time.perf_counter()
                recorder.checkpoint(run)  # every variant changed since the start
                checkpoints.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                recorder.checkpoint(run)  # nothing changed: the common timer tick
                idle.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                recorder.run_finished(run)
                finished.append(time.perf_counter() - t0)
                await recorder.flush()  # measure each run on an idle writer thread
            results[label] = {
                "run_started_ms": _ms(started),
                "checkpoint_ms": _ms(checkpoints),
                "checkpoint_unchanged_ms": _ms(idle),
                "run_finished_ms": _ms(finished),
            }
    finally:
        await recorder.aclose()
        await backends.aclose()
    return results


def _answer(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(120))


def fill(store: HistoryStore, runs: int, variants: int) -> float:
    """N runs with V variants and one judgment each; returns seconds per run."""
    rng = random.Random(2)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    start = time.perf_counter()
    for i in range(runs):
        run_id = f"bench-{i:06d}"
        models = [f"model-{(i + k) % 7}" for k in range(variants)]
        snaps = tuple(
            VariantSnapshot(
                variant_id=f"v{k + 1}",
                position=k,
                model=models[k],
                endpoint="gateway",
                status="done",
                error=None,
                answer=_answer(rng) + (" zanzibar" if i % 1000 == 0 else ""),
                thinking="",
                record={"chars": 700, "ttft_ms": 120.0, "tokens_per_s": 80.0},
            )
            for k in range(variants)
        )
        store.begin_run(
            RunSnapshot(
                run_id=run_id,
                started_at=base + timedelta(seconds=i),
                prompt=f"question {i}: " + " ".join(rng.choice(WORDS) for _ in range(12)),
                system=None,
                models=models,
                n=variants,
                settings={"temperature": 0.7},
                bases={"gateway": "http://127.0.0.1:9"},
                variants=snaps,
                batch_id=f"bench-batch-{i % 10}" if i % 10 < 7 else None,
                prompt_id=f"p{i}" if i % 10 < 7 else None,
            )
        )
        store.finish_run(run_id, snaps)
        store.add_judgment(
            run_id,
            {
                "status": "verdict",
                "best_id": f"v{1 + i % variants}",
                "judge_model": "judge-a" if i % 2 else "judge-b",
                "candidates": [s.variant_id for s in snaps],
            },
        )
    return (time.perf_counter() - start) / runs


def reads(store: HistoryStore, runs: int, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["list_runs_first_page_ms"] = _ms(_timed(lambda: store.list_runs(limit=50), repeat))
    out["list_runs_page_at_half_ms"] = _ms(
        _timed(lambda: store.list_runs(limit=50, offset=runs // 2), repeat)
    )
    rare = store.list_runs(limit=50, search="zanzibar")
    out["search_rare_word_hits"] = len(rare)
    out["search_rare_word_ms"] = _ms(
        _timed(lambda: store.list_runs(limit=50, search="zanzibar"), repeat)
    )
    out["search_common_word_ms"] = _ms(
        _timed(lambda: store.list_runs(limit=50, search="gradient"), repeat)
    )
    out["search_prompt_ms"] = _ms(
        _timed(lambda: store.list_runs(limit=50, search=f"question {runs - 1}"), repeat)
    )
    out["entries_first_page_ms"] = _ms(_timed(lambda: store.list_entries(limit=50), repeat))
    out["entries_uncounted_first_page_ms"] = _ms(
        _timed(lambda: store.list_entries(limit=50, counted=False), repeat)
    )
    batch_ids = [f"bench-batch-{i}" for i in range(10)]
    out["batch_counts_ms"] = _ms(_timed(lambda: store.batch_counts(batch_ids), repeat))
    out["entries_page_at_half_ms"] = _ms(
        _timed(lambda: store.list_entries(limit=50, offset=runs * 3 // 20), repeat)
    )
    out["batch_prompt_runs_ms"] = _ms(
        _timed(lambda: store.batch_prompt_runs("bench-batch-0"), max(3, repeat // 4))
    )
    out["batch_ratings_ms"] = _ms(_timed(lambda: batch_ratings(store, "bench-batch-0"), 3))
    out["load_run_ms"] = _ms(_timed(lambda: store.load_run(f"bench-{runs // 2:06d}"), repeat))
    out["judged_runs_all_ms"] = _ms(_timed(lambda: sum(1 for _ in store.judged_runs()), 3))
    # What `scillm-tui leaderboard` and the ctrl+l screen do: history -> battles -> board,
    # and the judges' trust table (which reads every answer's length).
    out["leaderboard_ms"] = _ms(_timed(lambda: model_leaderboard(store), 3))
    out["judge_trust_ms"] = _ms(_timed(lambda: trust_rows(store), 3))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scillm-bench-history-") as folder:
        tmp = Path(folder)
        results: dict[str, Any] = {"loop_side": asyncio.run(loop_side(tmp, args.repeat))}
        store = HistoryStore.open(tmp / "big.db")
        try:
            results["fill_ms_per_run"] = round(fill(store, args.runs, args.variants) * 1000, 3)
            results["reads"] = reads(store, args.runs, args.repeat)
        finally:
            store.close()
        results["db_mib"] = round(sum(p.stat().st_size for p in tmp.glob("big.db*")) / 2**20, 1)
    results["size"] = {"runs": args.runs, "variants": args.variants}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"history bench: {args.runs} runs x {args.variants} variants, {results['db_mib']} MiB")
    for label, row in results["loop_side"].items():
        for name, value in row.items():
            stats = f"p50 {value['p50']:8.3f}  max {value['max']:8.3f}"
            print(f"  loop side, {label:5} answers: {name:24} {stats}")
    print(f"  writer thread: {results['fill_ms_per_run']} ms per run (begin + finish + judgment)")
    for name, value in results["reads"].items():
        if isinstance(value, dict):
            print(f"  {name:32} p50 {value['p50']:8.3f}  max {value['max']:8.3f}")
        else:
            print(f"  {name:32} {value}")
    first = results["reads"]["list_runs_first_page_ms"]["p50"]
    grouped = results["reads"]["entries_first_page_ms"]["p50"]
    uncounted = results["reads"]["entries_uncounted_first_page_ms"]["p50"]
    finish = max(r["run_finished_ms"]["p50"] for r in results["loop_side"].values())
    ok = first <= 100 and uncounted <= 100 and grouped <= 300 and finish <= 5
    print(
        f"targets: first page <= 100 ms ({first}), grouped without counts <= 100 ms "
        f"({uncounted}), with counts <= 300 ms ({grouped}), "
        f"run_finished <= 5 ms ({finish}): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
