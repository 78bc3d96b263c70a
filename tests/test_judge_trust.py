"""Judge trust figures, against hand-computed cases and simulated judges."""

from __future__ import annotations

import random

import pytest

from scillm_tui.core.judge_trust import (
    JudgedRun,
    JudgeRound,
    PairVerdict,
    Rate,
    cohen_kappa,
    judge_trust,
)

VARIANTS = ("v1", "v2", "v3")
MODELS = {"v1": "gpt", "v2": "qwen", "v3": "llama"}
LENGTHS = {"v1": 100, "v2": 300, "v3": 200}


def run(
    judge_pick: str | None,
    human_pick: str | None = None,
    *,
    judge: str = "judge-a",
    models: dict[str, str] | None = None,
    lengths: dict[str, int] | None = None,
    rounds: tuple[JudgeRound, ...] = (),
    pairs: tuple[PairVerdict, ...] = (),
    run_id: str = "r",
) -> JudgedRun:
    return JudgedRun(
        run_id=run_id,
        judge_model=judge,
        variants=VARIANTS,
        models=models or MODELS,
        lengths=lengths or LENGTHS,
        judge_pick=judge_pick,
        human_pick=human_pick,
        rounds=rounds,
        pairs=pairs,
    )


# --- Cohen's kappa --------------------------------------------------------------------------


def test_kappa_by_hand() -> None:
    # p_o = 3/4; marginals judge {0: 2, 1: 1, 2: 1}, human {0: 1, 1: 2, 2: 1}:
    # p_e = (2·1 + 1·2 + 1·1) / 16 = 5/16; κ = (12/16 − 5/16) / (11/16) = 7/11.
    assert cohen_kappa([(0, 0), (1, 1), (0, 1), (2, 2)]) == pytest.approx(7 / 11)


def test_kappa_degenerate_cases() -> None:
    assert cohen_kappa([]) is None  # n = 0
    assert cohen_kappa([(0, 0), (1, 1)]) == pytest.approx(1.0)  # perfect agreement
    assert cohen_kappa([(0, 1), (1, 0)]) == pytest.approx(-1.0)  # perfect disagreement
    # Both always pick the first variant: chance agreement is 1, kappa undefined.
    assert cohen_kappa([(0, 0), (0, 0), (0, 0)]) is None


def test_agreement_with_the_human_counts_only_runs_with_both_picks() -> None:
    runs = [
        run("v1", "v1"),
        run("v2", "v2"),
        run("v1", "v2"),
        run("v3", "v3"),
        run("v2", None),  # no human pick: not counted
        run(None, "v1"),  # the judge gave no pick: not counted
    ]
    (row,) = judge_trust(runs)
    assert row.runs == 6
    assert row.agreement == Rate(3, 4, 5 / 16)
    assert row.agreement.rate == 0.75
    assert row.kappa == pytest.approx(7 / 11)


def test_no_human_picks_gives_no_agreement_figures() -> None:
    (row,) = judge_trust([run("v1"), run("v2")])
    assert row.agreement == Rate(0, 0) and row.agreement.rate is None
    assert row.kappa is None


# --- position consistency -------------------------------------------------------------------


def test_shuffled_rounds_and_swapped_pairs_by_hand() -> None:
    same = (JudgeRound(("v1", "v2", "v3"), "v2"), JudgeRound(("v3", "v1", "v2"), "v2"))
    changed = (JudgeRound(("v1", "v2", "v3"), "v1"), JudgeRound(("v2", "v3", "v1"), "v2"))
    one_round = (JudgeRound(("v1", "v2", "v3"), "v1"),)
    unanswered = (JudgeRound(("v1", "v2", "v3"), "v3"), JudgeRound(("v3", "v2", "v1"), None))
    pairs = (
        PairVerdict("v1", "v2", "v1", "v1"),  # consistent
        PairVerdict("v1", "v3", "v1", "v3"),  # flips with the order
        PairVerdict("v2", "v3", None, None),  # a tie both ways is consistent
    )
    runs = [
        run("v2", rounds=same, pairs=pairs),
        run("v1", rounds=changed),
        run("v1", rounds=one_round),  # one order only: no test
        run("v3", rounds=unanswered),  # one answered round: no test
    ]
    (row,) = judge_trust(runs)
    assert row.shuffle_consistency == Rate(1, 2)
    assert row.swap_consistency == Rate(2, 3)
    assert row.position_consistency == Rate(3, 5)


def first_position_judge_runs(seed: int, prefers_first: bool) -> list[JudgedRun]:
    """Runs judged in 3 shuffled orders and every pair both ways, by a judge that either
    always picks whatever it sees first, or always picks the best model (qwen)."""
    rng = random.Random(seed)
    best = "v2"
    runs = []
    for k in range(40):
        rounds = []
        for _ in range(3):
            order = list(VARIANTS)
            rng.shuffle(order)
            rounds.append(JudgeRound(tuple(order), order[0] if prefers_first else best))
        pairs = []
        for a, b in (("v1", "v2"), ("v1", "v3"), ("v2", "v3")):
            if prefers_first:
                pairs.append(PairVerdict(a, b, a, b))
            else:
                winner = best if best in (a, b) else a
                pairs.append(PairVerdict(a, b, winner, winner))
        runs.append(run(rounds[0].pick, rounds=tuple(rounds), pairs=tuple(pairs), run_id=f"r{k}"))
    return runs


def test_a_judge_that_prefers_the_first_position_is_caught() -> None:
    (biased,) = judge_trust(first_position_judge_runs(1, prefers_first=True))
    (fair,) = judge_trust(first_position_judge_runs(1, prefers_first=False))
    assert biased.swap_consistency == Rate(0, 120)
    assert biased.shuffle_consistency.n == 40
    # Same first variant in 3 random orders: (1/3)² = 1/9 of runs by chance.
    assert biased.shuffle_consistency.rate is not None and biased.shuffle_consistency.rate < 0.3
    assert biased.position_consistency.rate is not None and biased.position_consistency.rate < 0.1
    assert fair.position_consistency == Rate(160, 160)


# --- length bias and self-preference --------------------------------------------------------


def test_length_bias_against_chance() -> None:
    runs = [
        run("v2"),  # v2 is the longest (300): a hit
        run("v3"),  # not the longest
        run("v1", lengths={"v1": 50, "v2": 50, "v3": 10}),  # tied longest: a hit, chance 2/3
        run(None),  # no pick: not counted
    ]
    (row,) = judge_trust(runs)
    assert row.length_bias.hits == 2 and row.length_bias.n == 3
    assert row.length_bias.chance == pytest.approx((1 / 3 + 1 / 3 + 2 / 3) / 3)


def test_self_preference_only_where_its_own_model_was_present() -> None:
    own = {"v1": "judge-a", "v2": "qwen", "v3": "judge-a"}
    runs = [
        run("v1", models=own),  # picked its own model: a hit, chance 2/3
        run("v2", models=own),  # present but not picked
        run("v1"),  # none of its variants present: not counted
    ]
    (row,) = judge_trust(runs)
    assert (row.self_preference.hits, row.self_preference.n) == (1, 2)
    assert row.self_preference.chance == pytest.approx(2 / 3)


def test_one_row_per_judge_in_name_order() -> None:
    rows = judge_trust([run("v1", "v1", judge="zeta"), run("v2", "v1", judge="alpha")])
    assert [(row.judge_model, row.runs, row.agreement.hits) for row in rows] == [
        ("alpha", 1, 0),
        ("zeta", 1, 1),
    ]
    assert judge_trust([]) == []
