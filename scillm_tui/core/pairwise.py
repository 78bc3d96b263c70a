"""Pairwise judging maths: both orders of a pair, a ranking from pair wins, a jury's vote.

A judge shown all N answers at once favours positions; judging every pair in both orders
(N·(N−1) calls) cancels that. The rules here are the published ones:

* `pairwise_outcome` — MT-Bench's rule (lm-sys/FastChat, ``fastchat/llm_judge/show_result.py``;
  arXiv 2306.05685): a pair judged A-first and B-first counts as a win only if both orders
  agree; if they disagree the pair is a tie.
* `rank_by_pairwise_wins` — a win is 1 point, a tie ½ each (the Chatbot Arena / arena-hard-auto
  convention), ranked by points.
* `jury_majority` — a jury of judges (PoLL, arXiv 2404.18796) by max vote, a tied vote broken
  by the contenders' mean score.

Pure functions; the judge service that makes the calls lives elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["jury_majority", "pairwise_outcome", "rank_by_pairwise_wins"]


def pairwise_outcome(pick_ab: str | None, pick_ba: str | None) -> str | None:
    """The pair's winner (a variant id), or None for a tie.

    ``pick_ab`` is the verdict with A shown first, ``pick_ba`` with B first, both already
    mapped back to variant ids (None where the judge called a tie). Only a verdict that
    survives the swap counts; disagreement, including a win one way and a tie the other,
    is a tie.
    """
    if pick_ab is not None and pick_ab == pick_ba:
        return pick_ab
    return None


def rank_by_pairwise_wins(
    pairs: Iterable[tuple[str, str, str | None]],
) -> list[tuple[str, float]]:
    """Ids with their points, best first: ``pairs`` holds (a, b, winner or None for a tie).

    A win is worth 1, a tie ½ to each; every id that took part is listed, even on 0.
    Equal points keep the order in which the ids first appeared (stable, so callers can pass
    variants in display order).
    """
    points: dict[str, float] = {}
    for a, b, winner in pairs:
        points.setdefault(a, 0.0)
        points.setdefault(b, 0.0)
        if winner is None:
            points[a] += 0.5
            points[b] += 0.5
        elif winner in (a, b):
            points[winner] += 1.0
        else:
            raise ValueError(f"winner {winner!r} is not in the pair ({a!r}, {b!r})")
    return sorted(points.items(), key=lambda item: -item[1])


def jury_majority(
    votes: Sequence[str | None], mean_scores: Mapping[str, float]
) -> tuple[str | None, bool]:
    """The jury's winner and whether a tied vote was broken by score.

    ``votes``: each juror's pick (None: the juror abstained or failed). The most-voted
    variant wins; if several share the most votes, the one with the highest ``mean_scores``
    wins and the flag is True. No votes, or a tie that the scores cannot break (equal best
    scores, or a leader without a score) gives (None, False): no winner rather than an
    arbitrary one.
    """
    counts: dict[str, int] = {}
    for vote in votes:
        if vote is not None:
            counts[vote] = counts.get(vote, 0) + 1
    if not counts:
        return None, False
    top = max(counts.values())
    leaders = [vid for vid, count in counts.items() if count == top]
    if len(leaders) == 1:
        return leaders[0], False
    if any(vid not in mean_scores for vid in leaders):  # an unknown score breaks nothing
        return None, False
    scored = [(mean_scores[vid], vid) for vid in leaders]
    best = max(score for score, _ in scored)
    best_ids = [vid for score, vid in scored if score == best]
    if len(best_ids) != 1:
        return None, False
    return best_ids[0], True
