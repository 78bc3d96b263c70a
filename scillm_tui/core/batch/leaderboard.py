"""A batch's leaderboard: the same rows as `scillm-tui leaderboard --json`, over one batch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scillm_tui.core.ranking import Battle, ModelRating, battles_from_run, rate_models
from scillm_tui.core.run_history import HistoryStore, JudgedRun

ROW_KEYS = ("model", "rating", "ci_low", "ci_high", "rank", "wins", "battles", "win_rate")


def batch_battles(store: HistoryStore, batch_id: str) -> list[Battle]:
    """The battles of the batch's judged runs (the latest judgment of each run counts)."""
    latest: dict[str, JudgedRun] = {}
    for judged in store.judged_runs(batch_id=batch_id):
        latest[judged.run_id] = judged
    battles: list[Battle] = []
    for judged in latest.values():
        battles += battles_from_run(
            judged.models,
            frozenset(judged.finished),
            judged.winner_id,
            judged.run_id,
            judged.judge_model,
        )
    return battles


def batch_ratings(store: HistoryStore, batch_id: str) -> list[ModelRating]:
    """The batch's models rated (what the dashboard's batch screen shows)."""
    return rate_models(batch_battles(store, batch_id))


def batch_leaderboard(store: HistoryStore, batch_id: str) -> list[dict[str, Any]]:
    """Ratings over the batch's judged runs (the latest judgment of each run counts)."""
    return rows_from_ratings(batch_ratings(store, batch_id))


def rows_from_battles(battles: Iterable[Battle]) -> list[dict[str, Any]]:
    """Leaderboard rows (`ROW_KEYS`) rated from `battles`."""
    return rows_from_ratings(rate_models(battles))


def rows_from_ratings(ratings: Iterable[ModelRating]) -> list[dict[str, Any]]:
    """Leaderboard rows (`ROW_KEYS`), rounded as the CLI prints them."""
    return [
        {
            "model": r.model,
            "rating": round(r.rating, 1),
            "ci_low": round(r.ci_low, 1),
            "ci_high": round(r.ci_high, 1),
            "rank": r.rank,
            "wins": r.wins,
            "battles": r.battles,
            "win_rate": round(r.win_rate, 3),
        }
        for r in ratings
    ]
