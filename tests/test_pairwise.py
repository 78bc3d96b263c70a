"""Pairwise judging maths: MT-Bench's swap rule, points from pair wins, a jury's vote."""

from __future__ import annotations

import pytest

from scillm_tui.core.pairwise import jury_majority, pairwise_outcome, rank_by_pairwise_wins


@pytest.mark.parametrize(
    ("pick_ab", "pick_ba", "expected"),
    [
        ("v1", "v1", "v1"),  # both orders agree: a win
        ("v2", "v2", "v2"),
        ("v1", "v2", None),  # each order favours whoever came first: a tie
        ("v1", None, None),  # a win one way, a tie the other: a tie
        (None, "v2", None),
        (None, None, None),
    ],
)
def test_a_pair_wins_only_if_both_orders_agree(
    pick_ab: str | None, pick_ba: str | None, expected: str | None
) -> None:
    assert pairwise_outcome(pick_ab, pick_ba) == expected


def test_points_from_pair_wins_with_ties_counting_half() -> None:
    pairs = [
        ("v1", "v2", "v2"),
        ("v1", "v3", None),
        ("v2", "v3", "v2"),
        ("v1", "v4", "v1"),
        ("v3", "v4", None),
        ("v2", "v4", None),
    ]
    # v1: 0 + ½ + 1; v2: 1 + 1 + ½; v3: ½ + 0 + ½; v4: 0 + ½ + ½ (level with v3, seen later)
    assert rank_by_pairwise_wins(pairs) == [("v2", 2.5), ("v1", 1.5), ("v3", 1.0), ("v4", 1.0)]


def test_equal_points_keep_first_appearance_order_and_losers_are_listed() -> None:
    pairs = [("v3", "v1", None), ("v2", "v3", "v2"), ("v2", "v1", "v1")]
    # v3: ½, v1: ½ + 1, v2: 1 → v1 1.5, v2 1.0, v3 0.5
    assert rank_by_pairwise_wins(pairs) == [("v1", 1.5), ("v2", 1.0), ("v3", 0.5)]
    assert rank_by_pairwise_wins([("b", "a", None), ("c", "d", "c")]) == [
        ("c", 1.0),
        ("b", 0.5),
        ("a", 0.5),
        ("d", 0.0),
    ]
    assert rank_by_pairwise_wins([]) == []


def test_a_winner_outside_the_pair_is_an_error() -> None:
    with pytest.raises(ValueError):
        rank_by_pairwise_wins([("v1", "v2", "v3")])


def test_jury_majority() -> None:
    scores = {"v1": 7.0, "v2": 8.5, "v3": 6.0}
    assert jury_majority(["v1", "v1", "v2"], scores) == ("v1", False)  # a plain majority
    assert jury_majority(["v1", "v2", "v3"], scores) == ("v2", True)  # three-way: best score
    assert jury_majority(["v1", "v3", None], scores) == ("v1", True)  # abstention ignored
    assert jury_majority(["v3", None, None], scores) == ("v3", False)


def test_jury_without_a_decision_names_no_winner() -> None:
    assert jury_majority([], {}) == (None, False)
    assert jury_majority([None, None], {"v1": 1.0}) == (None, False)
    assert jury_majority(["v1", "v2"], {"v1": 5.0, "v2": 5.0}) == (None, False)  # equal scores
    assert jury_majority(["v1", "v2"], {"v1": 5.0}) == (None, False)  # a score missing
