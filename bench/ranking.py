"""Bench case: the model leaderboard over 10,000 judged runs × 4 variants (~10 models).

Usage: ``python -m bench.ranking [--runs N] [--repeat K]``, or as ``bench.__main__.run_job``
calls a case: ``python -m bench.ranking ranking '{"ranking_runs": N}'``.
Prints the time to turn the runs into battles (`battles_from_run`) and to rate them
(`rate_models`, closed-form intervals and the 100-resample bootstrap), each the median of
``--repeat`` timings. The budget is 1 s for battles + closed-form board on a 2-core machine
(pure Python, no numpy). Prints one ``BENCH-RESULT`` JSON line for ``python -m bench``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time

from bench.common import RESULT_PREFIX
from scillm_tui.core.ranking import battles_from_run, rate_models

BUDGET_S = 1.0


def make_runs(n_runs: int, seed: int = 0) -> list[tuple[dict[str, str], set[str], str | None]]:
    """Judged runs: 4 variants of random models, 5 % failed, winner drawn by BT strength."""
    rng = random.Random(seed)
    models = [f"model-{i}" for i in range(10)]
    strength = {m: 0.2 * i for i, m in enumerate(models)}
    runs = []
    for _ in range(n_runs):
        variants = {f"v{k}": rng.choice(models) for k in range(1, 5)}
        finished = {vid for vid in variants if rng.random() > 0.05}
        ordered = sorted(finished)
        weights = [math.exp(strength[variants[vid]]) for vid in ordered]
        winner = rng.choices(ordered, weights)[0] if ordered else None
        runs.append((variants, finished, winner))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    # The calling convention of bench.__main__.run_job: `<case> <JSON params>`.
    parser.add_argument("case", nargs="?", default="ranking")
    parser.add_argument("params", nargs="?", default="{}")
    args = parser.parse_args()
    params = json.loads(args.params)
    args.runs = int(params.get("ranking_runs", args.runs))
    runs = make_runs(args.runs)
    timings: dict[str, list[float]] = {"battles": [], "rate": [], "rate_bootstrap": []}
    for _ in range(args.repeat):
        start = time.perf_counter()
        battles = [
            battle
            for k, (variants, finished, winner) in enumerate(runs)
            for battle in battles_from_run(variants, finished, winner, f"run-{k}", "judge")
        ]
        timings["battles"].append(time.perf_counter() - start)
        start = time.perf_counter()
        rows = rate_models(battles)
        timings["rate"].append(time.perf_counter() - start)
        start = time.perf_counter()
        rate_models(battles, method="bootstrap", resamples=100)
        timings["rate_bootstrap"].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    total = medians["battles"] + medians["rate"]
    print(f"ranking: {args.runs} runs x 4 variants -> {len(battles)} battles, {len(rows)} models")
    print(f"  battles_from_run      {medians['battles'] * 1000:8.1f} ms")
    print(f"  rate_models (fisher)  {medians['rate'] * 1000:8.1f} ms")
    print(f"  rate_models (boot100) {medians['rate_bootstrap'] * 1000:8.1f} ms")
    verdict = "ok" if total <= BUDGET_S else "OVER BUDGET"
    budget = f"budget {BUDGET_S * 1000:.0f} ms: {verdict}"
    print(f"  battles + board       {total * 1000:8.1f} ms ({budget})")
    result = {
        "case": "ranking",
        "runs": args.runs,
        "battles": len(battles),
        "models": len(rows),
        **{f"{name}_ms": round(value * 1000, 2) for name, value in medians.items()},
        "budget_ms": BUDGET_S * 1000,
        "ok": total <= BUDGET_S,
    }
    print(RESULT_PREFIX + json.dumps(result))


if __name__ == "__main__":
    main()
