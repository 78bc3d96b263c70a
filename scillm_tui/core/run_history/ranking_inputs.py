"""From the run history to a model leaderboard and the judges' trust figures.

The glue between the store (what was recorded) and the pure ranking code (`core.ranking`,
`core.judge_trust`), shared by `scillm-tui leaderboard` and the dashboard's Leaderboard
screen so both count the same battles. Synchronous: call it off the event loop.

A run counts once: its latest judgment (by the judge asked for, if one is), or its
latest human pick; with `source="both"` a person's pick replaces the judge's for that run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from scillm_tui.core import judge_trust as trust
from scillm_tui.core.ranking import Battle, ModelRating, battles_from_run, rate_models
from scillm_tui.core.run_history.models import LineupVariant
from scillm_tui.core.run_history.store import HistoryStore, default_path

__all__ = [
    "DEFAULT_MIN_BATTLES",
    "HUMAN_JUDGE",
    "JURY_PREFIX",
    "SOURCES",
    "TRUST_HEADER",
    "Leaderboard",
    "Source",
    "collect_battles",
    "jury_name",
    "load_leaderboard",
    "model_leaderboard",
    "rate_text",
    "trust_cells",
    "trust_rows",
    "trust_runs",
]

Source = Literal["judge", "human", "both"]
SOURCES: tuple[Source, ...] = ("judge", "human", "both")
HUMAN_JUDGE = "human"  # the `judge_model` of a battle a person decided
JURY_PREFIX = "jury: "  # the trust table's row for a jury's combined verdict
DEFAULT_MIN_BATTLES = 10


def _judge_battles(
    store: HistoryStore, judge_model: str | None, since: datetime | None
) -> dict[str, list[Battle]]:
    latest: dict[str, list[Battle]] = {}
    for judged in store.judged_runs(judge_model=judge_model, since=since):
        if judged.status != "verdict":  # "default": one finisher, a walkover
            continue
        latest[judged.run_id] = battles_from_run(
            judged.models,
            frozenset(judged.finished),
            judged.winner_id,
            judged.run_id,
            judged.judge_model,
        )
    return latest


def _finished(lineup: Iterable[LineupVariant]) -> frozenset[str]:
    return frozenset(v.variant_id for v in lineup if v.status == "done")


def _human_battles(store: HistoryStore, since: datetime | None) -> dict[str, list[Battle]]:
    picks = store.human_picks(since=since)
    if not picks:
        return {}
    lineups = store.lineups(set(picks))
    out: dict[str, list[Battle]] = {}
    for run_id, pick in picks.items():
        lineup = lineups.get(run_id, [])
        models = {v.variant_id: v.model for v in lineup}
        finished = _finished(lineup) | {pick.variant_id}  # a person may pick a partial answer
        out[run_id] = battles_from_run(models, finished, pick.variant_id, run_id, HUMAN_JUDGE)
    return out


def collect_battles(
    store: HistoryStore,
    *,
    source: Source = "judge",
    judge_model: str | None = None,
    since: datetime | None = None,
) -> list[Battle]:
    """The battles of every counted run (see the module docstring). `judge_model` filters
    the judge's verdicts only; a person's picks are never filtered by it."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    by_run: dict[str, list[Battle]] = {}
    if source in ("judge", "both"):
        by_run.update(_judge_battles(store, judge_model, since))
    if source in ("human", "both"):
        by_run.update(_human_battles(store, since))  # the person's pick wins
    return [battle for battles in by_run.values() for battle in battles]


def model_leaderboard(
    store: HistoryStore,
    *,
    source: Source = "judge",
    judge_model: str | None = None,
    since: datetime | None = None,
    min_battles: int = DEFAULT_MIN_BATTLES,
) -> list[ModelRating]:
    """`rate_models` over `collect_battles`: one row per model, best first."""
    battles = collect_battles(store, source=source, judge_model=judge_model, since=since)
    return rate_models(battles, min_battles=min_battles)


def _rounds(verdict: Mapping[str, Any]) -> tuple[trust.JudgeRound, ...]:
    out = []
    for round_ in verdict.get("rounds") or ():
        if not isinstance(round_, dict):
            continue
        order = round_.get("order")
        pick = round_.get("pick")
        if isinstance(order, list) and all(isinstance(x, str) for x in order):
            out.append(trust.JudgeRound(tuple(order), pick if isinstance(pick, str) else None))
    return tuple(out)


def _pairs(verdict: Mapping[str, Any]) -> tuple[trust.PairVerdict, ...]:
    """Pairs judged in both orders, if the verdict holds any (pairwise judging); read
    defensively: a shape this code does not know is skipped, never an error."""
    out = []
    for pair in verdict.get("pairs") or ():
        if not isinstance(pair, dict):
            continue
        a, b = pair.get("a"), pair.get("b")
        if not isinstance(a, str) or not isinstance(b, str):
            continue
        ab, ba = pair.get("pick_ab"), pair.get("pick_ba")
        out.append(
            trust.PairVerdict(
                a, b, ab if isinstance(ab, str) else None, ba if isinstance(ba, str) else None
            )
        )
    return tuple(out)


def jury_name(models: Iterable[str]) -> str:
    """The trust table's name for a jury's combined verdict: "jury: a + b + c"."""
    return JURY_PREFIX + " + ".join(models)


_JUDGED = ("verdict", "default")  # statuses that picked something (a tie or error did not)


def _judge_verdicts(
    judge_model: str, status: str, best: str | None, verdict: Mapping[str, Any]
) -> Iterator[tuple[str, str | None, Mapping[str, Any]]]:
    """(judge, pick, its calls) for each judge behind one stored judgment.

    One judge: itself. A jury (its verdict lists `jurors`, each with its own pick, rounds
    and pairs): every juror that picked, under its own model, and the combined verdict
    under `jury_name`; never under the first juror's model, which the judgment row carries
    only because it needs one. Old judgments already hold their jurors, so they read the
    same way."""
    jurors = verdict.get("jurors")
    if not isinstance(jurors, list) or not jurors:
        if status in _JUDGED:
            yield judge_model, best, verdict
        return
    names = []
    for juror in jurors:
        if not isinstance(juror, dict) or not isinstance(juror.get("model"), str):
            continue
        names.append(juror["model"])
        pick = juror.get("pick")
        if juror.get("status") in _JUDGED and isinstance(pick, str):
            yield juror["model"], pick, juror
    if status in _JUDGED and names:
        yield jury_name(names), best, {}


def trust_runs(
    store: HistoryStore, *, judge_model: str | None = None, since: datetime | None = None
) -> list[trust.JudgedRun]:
    """One `judge_trust.JudgedRun` per (run, judge model): that judge's latest judgment
    of the run (a juror's own vote counts as its judgment; see `_judge_verdicts`), with the
    run's latest human pick, the candidates' models and lengths."""
    latest: dict[tuple[str, str], tuple[str | None, Mapping[str, Any], Any]] = {}
    for run_id, judgment in store.judgments(judge_model=judge_model, since=since):
        expanded = _judge_verdicts(
            judgment.judge_model, judgment.status, judgment.best_id, judgment.verdict
        )
        for judge, pick, calls in expanded:
            if judge_model is None or judge == judge_model:
                latest[(run_id, judge)] = (pick, calls, judgment.verdict.get("candidates"))
    if not latest:
        return []
    humans = store.human_picks()
    lineups = store.lineups({run_id for run_id, _ in latest}, lengths=True)
    out = []
    for (run_id, judge), (best, calls, seen) in latest.items():
        lineup = lineups.get(run_id, [])
        candidates = set(seen) if isinstance(seen, list) and seen else _finished(lineup)
        shown = [v for v in lineup if v.variant_id in candidates]
        human = humans.get(run_id)
        out.append(
            trust.JudgedRun(
                run_id=run_id,
                judge_model=judge,
                variants=tuple(v.variant_id for v in shown),
                models={v.variant_id: v.model for v in shown},
                lengths={v.variant_id: v.answer_chars for v in shown},
                judge_pick=best,
                human_pick=human.variant_id if human else None,
                rounds=_rounds(calls),
                pairs=_pairs(calls),
            )
        )
    return out


def trust_rows(
    store: HistoryStore, *, judge_model: str | None = None, since: datetime | None = None
) -> list[trust.JudgeTrust]:
    """The judges' trust table (`judge_trust.judge_trust` over `trust_runs`)."""
    return trust.judge_trust(trust_runs(store, judge_model=judge_model, since=since))


TRUST_HEADER = (
    "judge",
    "runs",
    "agrees with you",
    "kappa",
    "same pick reordered",
    "picks longest",
    "picks itself",
)


def rate_text(rate: trust.Rate) -> str:
    """ "12/40 (30%, chance 25%)": hits, n and the chance level together, so a small n
    shows; "–" when there was nothing to measure."""
    if not rate.n or rate.rate is None:
        return "–"
    chance = f", chance {rate.chance:.0%}" if rate.chance is not None else ""
    return f"{rate.hits}/{rate.n} ({rate.rate:.0%}{chance})"


def trust_cells(row: trust.JudgeTrust) -> tuple[str, ...]:
    """One judge's trust figures as the text cells of `TRUST_HEADER` (for the CLI's table
    and the Leaderboard screen alike)."""
    kappa = "–" if row.kappa is None else f"{row.kappa:.2f} (n={row.agreement.n})"
    return (
        row.judge_model,
        str(row.runs),
        rate_text(row.agreement),
        kappa,
        rate_text(row.position_consistency),
        rate_text(row.length_bias),
        rate_text(row.self_preference),
    )


@dataclass(frozen=True)
class Leaderboard:
    """What the Leaderboard screen shows for one source."""

    source: Source
    ratings: list[ModelRating]
    judges: list[trust.JudgeTrust] = field(default_factory=list)
    runs: int = 0  # runs in the history at all
    warning: str | None = None


def load_leaderboard(
    path: Path | None = None,
    *,
    source: Source = "judge",
    min_battles: int = DEFAULT_MIN_BATTLES,
    with_judges: bool = True,
) -> Leaderboard:
    """Open the history at `path` (default location), read both tables (the judges' only
    `with_judges`: they do not depend on `source`, and on a large history they are the
    slow part), close it. A history that does not exist yet is empty (and is not created
    by reading it)."""
    path = path if path is not None else default_path()
    if not path.exists():
        return Leaderboard(source=source, ratings=[])
    store = HistoryStore.open(path)
    try:
        return Leaderboard(
            source=source,
            ratings=model_leaderboard(store, source=source, min_battles=min_battles),
            judges=trust_rows(store) if with_judges else [],
            runs=store.count_runs(),
            warning=store.warning,
        )
    finally:
        store.close()
