"""How far to trust each judge model: agreement with people, position, length and self bias.

A judge that picks by position, by length or by its own family ranks nothing; these figures
say how much of that each judge does, from the runs it judged. The measures follow the judge
literature this project draws on: agreement with human picks and Cohen's kappa (MT-Bench,
arXiv 2306.05685, reports judge–human agreement), position consistency over shuffled orders
and over a pair judged in both orders (MT-Bench's swap test; arena-hard-auto judges every pair
both ways), length bias against chance 1/N (AlpacaEval's length-controlled win rate exists
because of it), and self-preference (a judge favouring its own model's answers).

Every figure is a `Rate`: hits out of n, with the chance level it should be read against, so
a screen can show "12/40 (30 %, chance 25 %)" and a small n is visible. Pure functions over
plain records; one `JudgeTrust` row per judge model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "JudgeRound",
    "JudgeTrust",
    "JudgedRun",
    "PairVerdict",
    "Rate",
    "cohen_kappa",
    "judge_trust",
]


@dataclass(frozen=True, slots=True)
class JudgeRound:
    """One judging pass over all the variants: the order they were shown in and the pick."""

    order: tuple[str, ...]
    pick: str | None


@dataclass(frozen=True, slots=True)
class PairVerdict:
    """One pair judged in both orders: the pick with ``a`` shown first, then with ``b``
    first (variant ids, ``None`` for a tie)."""

    a: str
    b: str
    pick_ab: str | None
    pick_ba: str | None


@dataclass(frozen=True)
class JudgedRun:
    """What the trust figures need from one judged run.

    ``variants``: variant ids in the run's own (display) order; ``models`` and ``lengths``
    keyed by variant id (lengths in characters of the answer the judge saw).
    """

    run_id: str
    judge_model: str
    variants: tuple[str, ...]
    models: Mapping[str, str]
    lengths: Mapping[str, int]
    judge_pick: str | None
    human_pick: str | None = None
    rounds: tuple[JudgeRound, ...] = ()
    pairs: tuple[PairVerdict, ...] = ()


@dataclass(frozen=True, slots=True)
class Rate:
    """``hits`` out of ``n`` (``rate`` None when n = 0), to be read against ``chance``."""

    hits: int
    n: int
    chance: float | None = None
    rate: float | None = field(init=False)

    def __post_init__(self) -> None:  # a field, not a property: it belongs in --json output
        object.__setattr__(self, "rate", self.hits / self.n if self.n else None)


@dataclass(frozen=True, slots=True)
class JudgeTrust:
    """One row of ``scillm-tui leaderboard --judges``.

    ``agreement``: same pick as the human (chance = the kappa's chance agreement);
    ``kappa``: Cohen's kappa of the same picks (see `cohen_kappa`);
    ``shuffle_consistency``: runs judged in ≥ 2 orders whose rounds all picked the same variant;
    ``swap_consistency``: pairs judged both ways with the same verdict both times;
    ``position_consistency``: both kinds of order test pooled;
    ``length_bias``: picks of a longest answer (chance: longest answers / N);
    ``self_preference``: picks of the judge's own model where one of its variants was present
    (chance: its variants / N).
    """

    judge_model: str
    runs: int
    agreement: Rate
    kappa: float | None
    shuffle_consistency: Rate
    swap_consistency: Rate
    position_consistency: Rate
    length_bias: Rate
    self_preference: Rate


def cohen_kappa(pairs: Sequence[tuple[int, int]]) -> float | None:
    """Cohen's kappa of two pickers over categories: κ = (p_o − p_e) / (1 − p_e).

    For "pick one of N" the categories are **the picked variant's position** in the run's own
    variant order (0 = first variant, …), the same for both pickers, so "same position" means
    "same variant". p_o is the share of runs where both picked the same; p_e is the chance
    agreement from the two pickers' own marginal distributions over positions,
    Σ_k P_judge(k)·P_human(k) — the standard Cohen form, which credits neither picker for a
    habit (always "the first") that the other shares by chance.

    None when undefined: no pairs, or p_e = 1 (both always pick the same single position).
    """
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(1 for x, y in pairs if x == y) / n
    expected = _chance_agreement(pairs)
    if expected >= 1.0 - 1e-12:
        return None
    return (observed - expected) / (1.0 - expected)


def _chance_agreement(pairs: Sequence[tuple[int, int]]) -> float:
    """Σ_k P_first(k)·P_second(k) over the pairs' categories (pairs not empty)."""
    first: dict[int, int] = defaultdict(int)
    second: dict[int, int] = defaultdict(int)
    for x, y in pairs:
        first[x] += 1
        second[y] += 1
    return sum(count * second.get(k, 0) for k, count in first.items()) / len(pairs) ** 2


def _agreement(runs: Sequence[JudgedRun]) -> tuple[Rate, float | None]:
    pairs = [
        (run.variants.index(run.judge_pick), run.variants.index(run.human_pick))
        for run in runs
        if run.judge_pick in run.variants and run.human_pick in run.variants
    ]
    n = len(pairs)
    if n == 0:
        return Rate(0, 0), None
    hits = sum(1 for x, y in pairs if x == y)
    return Rate(hits, n, _chance_agreement(pairs)), cohen_kappa(pairs)


def _consistency(runs: Sequence[JudgedRun]) -> tuple[Rate, Rate]:
    shuffle_hits = shuffle_n = swap_hits = swap_n = 0
    for run in runs:
        picks = [r.pick for r in run.rounds if r.pick is not None]  # unanswered: no test
        if len(picks) >= 2:
            shuffle_n += 1
            shuffle_hits += len(set(picks)) == 1
        for pair in run.pairs:
            swap_n += 1
            swap_hits += pair.pick_ab == pair.pick_ba
    return Rate(shuffle_hits, shuffle_n), Rate(swap_hits, swap_n)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _length_bias(runs: Sequence[JudgedRun]) -> Rate:
    hits, chances = 0, []
    for run in runs:
        if run.judge_pick not in run.variants or len(run.variants) < 2:
            continue
        if any(vid not in run.lengths for vid in run.variants):
            continue
        longest = max(run.lengths[vid] for vid in run.variants)
        tied = [vid for vid in run.variants if run.lengths[vid] == longest]
        chances.append(len(tied) / len(run.variants))
        hits += run.judge_pick in tied
    return Rate(hits, len(chances), _mean(chances))


def _self_preference(runs: Sequence[JudgedRun]) -> Rate:
    hits, chances = 0, []
    for run in runs:
        if run.judge_pick not in run.variants or len(run.variants) < 2:
            continue
        own = [vid for vid in run.variants if run.models.get(vid) == run.judge_model]
        if not own:
            continue
        chances.append(len(own) / len(run.variants))
        hits += run.judge_pick in own
    return Rate(hits, len(chances), _mean(chances))


def judge_trust(runs: Iterable[JudgedRun]) -> list[JudgeTrust]:
    """One `JudgeTrust` row per judge model, in name order."""
    by_judge: dict[str, list[JudgedRun]] = defaultdict(list)
    for run in runs:
        by_judge[run.judge_model].append(run)
    rows = []
    for judge in sorted(by_judge):
        judged = by_judge[judge]
        agreement, kappa = _agreement(judged)
        shuffle, swap = _consistency(judged)
        rows.append(
            JudgeTrust(
                judge_model=judge,
                runs=len(judged),
                agreement=agreement,
                kappa=kappa,
                shuffle_consistency=shuffle,
                swap_consistency=swap,
                position_consistency=Rate(shuffle.hits + swap.hits, shuffle.n + swap.n),
                length_bias=_length_bias(judged),
                self_preference=_self_preference(judged),
            )
        )
    return rows
