"""A model leaderboard across judged runs: Bradley–Terry ratings on the Elo scale.

Every judged run says "the winner beat every other finished variant"; across hundreds of runs
those battles rank the *models*. The method is Chatbot Arena's (lm-sys/FastChat,
``fastchat/serve/monitor/rating_systems.py``): a Bradley–Terry model, reported on the Elo
scale (400 points per factor of 10 in odds, mean 1000), a tie counting half a win each way,
95 % intervals, and a rank of 1 + the number of models whose lower bound is above this model's
upper bound, so that models whose intervals overlap share a rank.

Two things differ from FastChat, both for the small, lopsided histories of one person:

* **A weak prior.** Each model plays ``prior`` virtual games, half won, against a virtual
  opponent of average strength. A model that won every battle, or two groups of models never
  compared with each other, then still get finite ratings (plain maximum likelihood diverges
  or is undetermined there); with thousands of battles the prior changes nothing visible.
* **Intervals from the curvature** (Laplace / inverse Fisher information of the penalised
  likelihood) by default: closed form and instant, like lmarena/arena-rank's "sandwich"
  interval, but honest under separation — a model that always won has a flat likelihood, so
  its interval is wide, whereas both a bootstrap and the sandwich shrink it (every resample is
  still a clean sweep). ``method="bootstrap"`` gives FastChat's percentile intervals instead,
  resampling each pair's aggregated counts (a Poisson bootstrap) rather than every battle.
  The closed-form interval measures a model against the battle-weighted mean (see
  ``_centred_sd``); the ratings themselves are shifted so that their plain mean is 1000.

The fit runs on counts aggregated per pair of models (Newton's method on the penalised
log-likelihood), so 30,000 battles between ten models cost a few milliseconds.
Pure Python, standard library only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ELO_BASE",
    "ELO_MEAN",
    "ELO_SCALE",
    "Battle",
    "ModelRating",
    "PairCounts",
    "aggregate",
    "battles_from_run",
    "fit_bradley_terry",
    "rank_from_intervals",
    "rate_models",
]

ELO_SCALE = 400.0
ELO_BASE = 10.0
ELO_MEAN = 1000.0
_TO_ELO = ELO_SCALE / math.log(ELO_BASE)  # natural-log strength -> Elo points
_Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Battle:
    """One comparison between two models taken from a judged run.

    With ``tie`` the two are interchangeable and each gets half a win.
    """

    winner_model: str
    loser_model: str
    run_id: str
    judge_model: str
    tie: bool = False


@dataclass(frozen=True, slots=True)
class ModelRating:
    """One leaderboard row. ``wins`` counts a tie as half; ``too_few``: under ``min_battles``."""

    model: str
    rating: float
    ci_low: float
    ci_high: float
    rank: int
    wins: float
    battles: int
    win_rate: float
    runs: int
    too_few: bool


def battles_from_run(
    variant_models: Mapping[str, str],
    finished: set[str] | frozenset[str],
    winner: str | None,
    run_id: str,
    judge_model: str,
) -> list[Battle]:
    """The battles one judged run contributes: the winner beat each other finished variant.

    Variants of the winner's own model are skipped (they say nothing about models), failed
    (unfinished) variants are not battles, and a run without a finished winner gives none.
    Losers come in ``variant_models``' order.
    """
    if winner is None or winner not in finished or winner not in variant_models:
        return []
    winner_model = variant_models[winner]
    return [
        Battle(winner_model, model, run_id, judge_model)
        for vid, model in variant_models.items()
        if vid != winner and vid in finished and model != winner_model
    ]


@dataclass(frozen=True, slots=True)
class PairCounts:
    """Battles aggregated per pair: ``models`` sorted, ``cells[(i, j)]`` with i < j holds
    (wins of i, wins of j, ties); plus per-model totals for the table."""

    models: tuple[str, ...]
    cells: dict[tuple[int, int], tuple[int, int, int]]
    wins: tuple[float, ...]
    battles: tuple[int, ...]
    runs: tuple[int, ...]


def aggregate(battles: Iterable[Battle]) -> PairCounts:
    """Count battles per pair of models (same-model battles count for nothing)."""
    raw: dict[tuple[str, str], list[int]] = {}
    run_sets: dict[str, set[str]] = {}
    for battle in battles:
        a, b = battle.winner_model, battle.loser_model
        if a == b:  # says nothing about models, but the model is still listed
            run_sets.setdefault(a, set()).add(battle.run_id)
            continue
        key, first_won = ((a, b), True) if a < b else ((b, a), False)
        cell = raw.get(key)
        if cell is None:
            cell = raw[key] = [0, 0, 0]
        if battle.tie:
            cell[2] += 1
        elif first_won:
            cell[0] += 1
        else:
            cell[1] += 1
        for model in key:
            runs = run_sets.get(model)
            if runs is None:
                runs = run_sets[model] = set()
            runs.add(battle.run_id)
    models = tuple(sorted(run_sets))
    index = {model: i for i, model in enumerate(models)}
    wins = [0.0] * len(models)
    played = [0] * len(models)
    cells: dict[tuple[int, int], tuple[int, int, int]] = {}
    for (a, b), (wa, wb, ties) in raw.items():
        i, j = index[a], index[b]
        cells[(i, j)] = (wa, wb, ties)
        wins[i] += wa + ties / 2
        wins[j] += wb + ties / 2
        played[i] += wa + wb + ties
        played[j] += wa + wb + ties
    return PairCounts(
        models,
        cells,
        tuple(wins),
        tuple(played),
        tuple(len(run_sets[model]) for model in models),
    )


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def _objective(
    theta: Sequence[float], cells: Mapping[tuple[int, int], tuple[float, float]], prior: float
) -> float:
    """Penalised log-likelihood: pair cells hold (wins of i incl. half ties, games)."""
    total = 0.0
    for (i, j), (w, n) in cells.items():
        d = theta[i] - theta[j]
        total += w * _log_sigmoid(d) + (n - w) * _log_sigmoid(-d)
    half = prior / 2
    for t in theta:
        total += half * (_log_sigmoid(t) + _log_sigmoid(-t))
    return total


def _gradient_hessian(
    theta: Sequence[float], cells: Mapping[tuple[int, int], tuple[float, float]], prior: float
) -> tuple[list[float], list[list[float]]]:
    """Gradient of the objective and its negated Hessian (positive definite when prior > 0)."""
    m = len(theta)
    grad = [0.0] * m
    info = [[0.0] * m for _ in range(m)]
    for (i, j), (w, n) in cells.items():
        p = _sigmoid(theta[i] - theta[j])
        r = w - n * p
        grad[i] += r
        grad[j] -= r
        v = n * p * (1 - p)
        info[i][i] += v
        info[j][j] += v
        info[i][j] -= v
        info[j][i] -= v
    for i, t in enumerate(theta):
        p = _sigmoid(t)
        grad[i] += prior * (0.5 - p)
        info[i][i] += prior * p * (1 - p)
    return grad, info


def _solve(matrix: Sequence[Sequence[float]], rhs: Sequence[Sequence[float]]) -> list[list[float]]:
    """Solve A X = B (B given as columns) by Gaussian elimination with partial pivoting."""
    m = len(matrix)
    k = len(rhs)
    a = [[*matrix[r], *(col[r] for col in rhs)] for r in range(m)]
    for c in range(m):
        pivot = max(range(c, m), key=lambda r: abs(a[r][c]))
        a[c], a[pivot] = a[pivot], a[c]
        row = a[c]
        diag = row[c]
        if diag == 0.0:
            raise ZeroDivisionError("singular matrix")
        for r in range(c + 1, m):
            other = a[r]
            factor = other[c] / diag
            if factor:
                for x in range(c, m + k):
                    other[x] -= factor * row[x]
    solution = [[0.0] * m for _ in range(k)]
    for col in range(k):
        out = solution[col]
        for r in range(m - 1, -1, -1):
            row = a[r]
            s = row[m + col] - sum(row[x] * out[x] for x in range(r + 1, m))
            out[r] = s / row[r]
    return solution


def _cells_for_fit(
    cells: Mapping[tuple[int, int], tuple[int, int, int]],
) -> dict[tuple[int, int], tuple[float, float]]:
    return {key: (wa + t / 2, float(wa + wb + t)) for key, (wa, wb, t) in cells.items()}


def fit_bradley_terry(
    m: int,
    cells: Mapping[tuple[int, int], tuple[int, int, int]],
    prior: float = 1.0,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[list[float], list[list[float]]]:
    """Penalised maximum-likelihood strengths (natural log, anchored at the virtual opponent)
    and their covariance (the inverse of the information matrix).

    ``cells[(i, j)]``, i < j: (wins of i, wins of j, ties). ``prior`` > 0 is the number of
    virtual games, half won, each model plays against an opponent of strength 0.
    """
    if prior <= 0:
        raise ValueError("prior must be positive (use a tiny value for plain maximum likelihood)")
    fit_cells = _cells_for_fit(cells)
    theta = [0.0] * m
    current = _objective(theta, fit_cells, prior)
    for _ in range(max_iter):
        grad, info = _gradient_hessian(theta, fit_cells, prior)
        (step,) = _solve(info, [grad])
        scale = 1.0
        while True:  # backtracking: the objective is concave, a halved step always helps
            trial = [t + scale * s for t, s in zip(theta, step, strict=True)]
            value = _objective(trial, fit_cells, prior)
            if value >= current - 1e-12 * abs(current) or scale < 1e-6:
                break
            scale /= 2
        theta, current = trial, value
        if max(map(abs, step), default=0.0) * scale < tol:
            break
    _, info = _gradient_hessian(theta, fit_cells, prior)
    identity = [[1.0 if r == c else 0.0 for r in range(m)] for c in range(m)]
    covariance = _solve(info, identity)  # symmetric, so columns == rows
    return theta, covariance


def _centred_elo(theta: Sequence[float]) -> list[float]:
    mean = sum(theta) / len(theta)
    return [ELO_MEAN + _TO_ELO * (t - mean) for t in theta]


def _centred_sd(covariance: Sequence[Sequence[float]], weights: Sequence[float]) -> list[float]:
    """Standard deviation, in Elo points, of each strength minus the weighted mean strength.

    Weighted by battles: a model measured against the bulk of the data. With plain mean
    weights, one barely-known model's uncertainty would leak into every other interval (the
    mean moves with it), hiding differences the data pin down well.
    """
    m = len(covariance)
    total = sum(weights)
    w = [x / total for x in weights] if total > 0 else [1.0 / m] * m
    row_means = [sum(wj * cij for wj, cij in zip(w, row, strict=True)) for row in covariance]
    grand = sum(wi * ri for wi, ri in zip(w, row_means, strict=True))
    return [
        _TO_ELO * math.sqrt(max(covariance[i][i] - 2 * row_means[i] + grand, 0.0)) for i in range(m)
    ]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation; exact enough for a bootstrap weight
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _bootstrap_intervals(
    m: int,
    cells: Mapping[tuple[int, int], tuple[int, int, int]],
    prior: float,
    resamples: int,
    seed: int,
) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    samples: list[list[float]] = [[] for _ in range(m)]
    for _ in range(resamples):
        drawn = {
            key: (_poisson(rng, wa), _poisson(rng, wb), _poisson(rng, t))
            for key, (wa, wb, t) in cells.items()
        }
        theta, _ = fit_bradley_terry(m, drawn, prior)
        for i, r in enumerate(_centred_elo(theta)):
            samples[i].append(r)
    out = []
    for values in samples:
        values.sort()
        out.append((_quantile(values, 0.025), _quantile(values, 0.975)))
    return out


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rank_from_intervals(intervals: Sequence[tuple[float, float]]) -> list[int]:
    """Arena's rank: 1 + the number of models whose lower bound is above this upper bound."""
    lows = [low for low, _ in intervals]
    return [1 + sum(1 for low in lows if low > high) for _, high in intervals]


def rate_models(
    battles: Iterable[Battle],
    *,
    min_battles: int = 10,
    prior: float = 1.0,
    method: str = "fisher",
    resamples: int = 100,
    seed: int = 0,
) -> list[ModelRating]:
    """The leaderboard: one row per model, best rating first.

    ``method``: ``"fisher"`` (closed-form 95 % intervals from the curvature, the default) or
    ``"bootstrap"`` (2.5–97.5 % percentiles over ``resamples`` Poisson resamples of the pair
    counts, seeded). Models with fewer than ``min_battles`` battles are kept, marked
    ``too_few``.
    """
    if method not in ("fisher", "bootstrap"):
        raise ValueError(f"unknown interval method {method!r}")
    counts = aggregate(battles)
    m = len(counts.models)
    if m == 0:
        return []
    theta, covariance = fit_bradley_terry(m, counts.cells, prior)
    ratings = _centred_elo(theta)
    if method == "bootstrap":
        intervals = _bootstrap_intervals(m, counts.cells, prior, resamples, seed)
        # Percentiles can sit beside the point estimate; never let the interval exclude it.
        intervals = [
            (min(low, r), max(high, r)) for (low, high), r in zip(intervals, ratings, strict=True)
        ]
    else:
        sds = _centred_sd(covariance, counts.battles)
        intervals = [(r - _Z95 * sd, r + _Z95 * sd) for r, sd in zip(ratings, sds, strict=True)]
    ranks = rank_from_intervals(intervals)
    rows = [
        ModelRating(
            model=model,
            rating=ratings[i],
            ci_low=intervals[i][0],
            ci_high=intervals[i][1],
            rank=ranks[i],
            wins=counts.wins[i],
            battles=counts.battles[i],
            win_rate=counts.wins[i] / counts.battles[i] if counts.battles[i] else 0.0,
            runs=counts.runs[i],
            too_few=counts.battles[i] < min_battles,
        )
        for i, model in enumerate(counts.models)
    ]
    rows.sort(key=lambda row: (-row.rating, row.model))
    return rows
