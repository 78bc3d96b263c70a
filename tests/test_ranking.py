"""The model leaderboard's maths, checked against choix and against simulations."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scillm_tui.core.ranking import (
    Battle,
    battles_from_run,
    rank_from_intervals,
    rate_models,
)

TO_ELO = 400 / math.log(10)


def simulate(strengths: dict[str, float], n: int, seed: int, tie_rate: float = 0.0) -> list[Battle]:
    """Battles between random pairs, won with Bradley–Terry probability (natural-log strengths)."""
    rng = random.Random(seed)
    models = sorted(strengths)
    out = []
    for k in range(n):
        a, b = rng.sample(models, 2)
        if rng.random() < tie_rate:
            out.append(Battle(a, b, f"r{k}", "judge", tie=True))
            continue
        p = 1 / (1 + math.exp(strengths[b] - strengths[a]))
        winner, loser = (a, b) if rng.random() < p else (b, a)
        out.append(Battle(winner, loser, f"r{k}", "judge"))
    return out


def true_elo(strengths: dict[str, float]) -> dict[str, float]:
    mean = sum(strengths.values()) / len(strengths)
    return {m: 1000 + TO_ELO * (s - mean) for m, s in strengths.items()}


def by_model(rows):
    return {row.model: row for row in rows}


# --- battles from a judged run -------------------------------------------------------------


def test_the_winner_beats_each_finished_variant_of_another_model() -> None:
    models = {"v1": "gpt", "v2": "qwen", "v3": "gpt", "v4": "llama", "v5": "mistral"}
    battles = battles_from_run(models, {"v1", "v2", "v3", "v4"}, "v1", "run-7", "judge-x")
    # v3 is the winner's own model (skipped), v5 failed (not a battle).
    assert battles == [
        Battle("gpt", "qwen", "run-7", "judge-x"),
        Battle("gpt", "llama", "run-7", "judge-x"),
    ]


@pytest.mark.parametrize("winner", [None, "v2", "v9"])
def test_no_winner_or_a_failed_winner_gives_no_battles(winner: str | None) -> None:
    assert battles_from_run({"v1": "a", "v2": "b"}, {"v1"}, winner, "r", "j") == []


# --- agreement with an independent implementation ------------------------------------------


def test_maximum_likelihood_matches_choix() -> None:
    choix = pytest.importorskip("choix")
    strengths = {"a": 0.0, "b": 0.4, "c": -0.3, "d": 1.1, "e": 0.7, "f": -0.9}
    battles = simulate(strengths, 3000, seed=3)
    models = sorted(strengths)
    index = {m: i for i, m in enumerate(models)}
    data = [(index[b.winner_model], index[b.loser_model]) for b in battles]
    ours = by_model(rate_models(battles, prior=1e-9))
    for theta in (
        choix.ilsr_pairwise(len(models), data, alpha=0.0, tol=1e-12),
        choix.opt_pairwise(len(models), data, alpha=1e-9, tol=1e-10),
    ):
        mean = sum(theta) / len(theta)
        for m in models:
            expected = 1000 + TO_ELO * (theta[index[m]] - mean)
            assert ours[m].rating == pytest.approx(expected, abs=1e-3)  # Elo points


def test_a_tie_counts_half_a_win_each_way() -> None:
    with_ties = [Battle("a", "b", "r", "j")] * 3 + [Battle("b", "a", "r", "j", tie=True)] * 2
    as_halves = [Battle("a", "b", "r", "j")] * 4 + [Battle("b", "a", "r", "j")]
    tied, halves = by_model(rate_models(with_ties)), by_model(rate_models(as_halves))
    assert tied["a"].wins == 4.0 and tied["b"].wins == 1.0 and tied["a"].battles == 5
    assert tied["a"].win_rate == pytest.approx(0.8)
    assert tied["a"].rating == pytest.approx(halves["a"].rating)
    assert tied["a"].rating > 1000 > tied["b"].rating
    even = by_model(rate_models([Battle("a", "b", "r", "j", tie=True)] * 6))
    assert even["a"].rating == pytest.approx(1000) == even["b"].rating


# --- simulations with known strengths ------------------------------------------------------


def test_known_strengths_come_back_in_order_inside_their_intervals() -> None:
    strengths = {f"m{i}": 0.35 * i for i in range(6)}
    truth = true_elo(strengths)
    inside = total = 0
    for seed in range(6):
        rows = rate_models(simulate(strengths, 1500, seed))
        assert [row.model for row in rows] == [f"m{i}" for i in reversed(range(6))]
        for row in rows:
            total += 1
            inside += row.ci_low <= truth[row.model] <= row.ci_high
    assert inside / total >= 0.8


def test_bootstrap_intervals_agree_with_the_closed_form() -> None:
    battles = simulate({"a": 0.0, "b": 0.5, "c": 1.0}, 2000, seed=5)
    fisher = by_model(rate_models(battles))
    boot = by_model(rate_models(battles, method="bootstrap", resamples=200, seed=1))
    for m, row in fisher.items():
        assert boot[m].rating == row.rating
        assert boot[m].ci_low <= row.rating <= boot[m].ci_high
        width, boot_width = row.ci_high - row.ci_low, boot[m].ci_high - boot[m].ci_low
        assert 0.6 < boot_width / width < 1.6
    # Seeded: the same intervals twice.
    again = by_model(rate_models(battles, method="bootstrap", resamples=200, seed=1))
    assert again == boot


# --- lopsided real-world data --------------------------------------------------------------


def finite(rows) -> bool:
    return all(
        math.isfinite(value)
        for row in rows
        for value in (row.rating, row.ci_low, row.ci_high, row.win_rate)
    )


def test_an_undefeated_model_gets_a_finite_rating_and_a_wide_interval() -> None:
    battles = simulate({"b": 0.0, "c": 0.3}, 200, seed=1)
    battles += [Battle("champ", loser, "r", "j") for loser in ("b", "c") for _ in range(12)]
    rows = by_model(rate_models(battles))
    assert finite(rows.values())
    champ = rows["champ"]
    assert champ.rank == 1 and champ.win_rate == 1.0 and champ.rating > rows["c"].rating
    assert champ.ci_high - champ.ci_low > 2 * (rows["b"].ci_high - rows["b"].ci_low)


def test_models_never_compared_stay_finite_and_uncertain_across_groups() -> None:
    battles = [Battle("a", "b", "r", "j")] * 30 + [Battle("b", "a", "r", "j")] * 10
    battles += [Battle("c", "d", "r", "j")] * 20 + [Battle("d", "c", "r", "j")] * 20
    rows = by_model(rate_models(battles))
    assert finite(rows.values())
    # Nothing links {a, b} to {c, d}: every interval overlaps every other, one shared rank.
    assert {row.rank for row in rows.values()} == {1}
    assert rows["a"].rating > rows["b"].rating
    assert rows["c"].rating == pytest.approx(rows["d"].rating)


def test_only_losses_and_a_single_battle_stay_finite() -> None:
    rows = rate_models([Battle("a", "b", "r", "j")])
    assert finite(rows) and [row.model for row in rows] == ["a", "b"]
    assert all(row.too_few for row in rows)


def test_empty_input_and_a_single_model() -> None:
    assert rate_models([]) == []
    (row,) = rate_models([Battle("solo", "solo", "r1", "j")])
    assert (row.model, row.rating, row.rank, row.battles, row.runs) == ("solo", 1000.0, 1, 0, 1)
    assert row.too_few and row.win_rate == 0.0


def test_models_with_few_battles_are_listed_but_marked() -> None:
    battles = simulate({"a": 0.0, "b": 0.2}, 100, seed=2)
    battles += [Battle("new", "a", "r1", "j")] * 4 + [Battle("a", "new", "r2", "j")] * 5
    rows = by_model(rate_models(battles, min_battles=10))
    assert rows["new"].too_few and rows["new"].battles == 9 and rows["new"].runs == 2
    assert not rows["a"].too_few and not rows["b"].too_few
    assert not by_model(rate_models(battles, min_battles=9))["new"].too_few


def test_the_prior_must_be_positive_and_the_method_known() -> None:
    battle = [Battle("a", "b", "r", "j")]
    with pytest.raises(ValueError):
        rate_models(battle, prior=0)
    with pytest.raises(ValueError):
        rate_models(battle, method="elo")


# --- rank rule ------------------------------------------------------------------------------


def test_models_whose_intervals_overlap_share_a_rank() -> None:
    intervals = [(1100, 1200), (1050, 1150), (900, 1000), (990, 1060), (700, 800)]
    # 1: none above. 2: overlaps 1. 3: below 1 and 2 (lows 1100, 1050 > 1000). 4: below 1
    # only (1050 is not above 1060). 5: below everyone.
    assert rank_from_intervals(intervals) == [1, 1, 3, 2, 5]
    assert rank_from_intervals([]) == []


def test_rows_are_sorted_best_first_with_arena_ranks() -> None:
    strengths = {"top": 2.0, "mid": 0.0, "low": -2.0}
    rows = rate_models(simulate(strengths, 900, seed=4))
    assert [(row.model, row.rank) for row in rows] == [("top", 1), ("mid", 2), ("low", 3)]


# --- any battle list ------------------------------------------------------------------------

battle_lists = st.lists(
    st.tuples(st.sampled_from("abcdef"), st.sampled_from("abcdef"), st.booleans()),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(battle_lists, st.sampled_from(["fisher", "bootstrap"]))
def test_any_battles_give_finite_ordered_rows(raw, method: str) -> None:
    battles = [Battle(w, lo, f"r{k}", "j", tie=t) for k, (w, lo, t) in enumerate(raw)]
    rows = rate_models(battles, method=method, resamples=20)
    assert finite(rows)
    assert sorted(row.model for row in rows) == sorted({m for w, lo, _ in raw for m in (w, lo)})
    assert [row.rating for row in rows] == sorted((row.rating for row in rows), reverse=True)
    for row in rows:
        assert row.ci_low <= row.rating <= row.ci_high
        assert 1 <= row.rank <= len(rows)
        assert 0.0 <= row.win_rate <= 1.0 and row.wins <= row.battles
    if rows:
        assert sum(row.rating for row in rows) / len(rows) == pytest.approx(1000)
