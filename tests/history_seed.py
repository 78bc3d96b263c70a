"""Seed a run history through the store's own API, for the `history` / `leaderboard`
commands and the Leaderboard screen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scillm_tui.core.run_history import HistoryStore
from scillm_tui.core.run_history.models import RunSnapshot, VariantSnapshot

OLD = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NEW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def add_run(
    store: HistoryStore,
    run_id: str,
    models: Sequence[str],
    *,
    winner: int | None,
    judge: str = "judge-a",
    when: datetime = NEW,
    prompt: str = "compare these",
    lengths: Sequence[int] | None = None,
    rounds: Sequence[tuple[Sequence[int], int]] = (),
    status: str = "finished",
    batch_id: str | None = None,
    prompt_id: str | None = None,
    tags: Sequence[str] = (),
    agreement: str | None = None,
) -> None:
    """A finished run with one variant per model (`v1`, `v2`, …) and, if `winner` is an
    index, a judgment by `judge` at `when`. `rounds`: (order as indexes, pick index)."""
    lengths = lengths or [100] * len(models)
    ids = [f"v{i + 1}" for i in range(len(models))]
    variants = tuple(
        VariantSnapshot(
            variant_id=vid,
            position=i,
            model=model,
            endpoint="gateway",
            status="done",
            error=None,
            answer="x" * lengths[i],
            thinking="",
            record={"chars": lengths[i]},
        )
        for i, (vid, model) in enumerate(zip(ids, models, strict=True))
    )
    store.begin_run(
        RunSnapshot(
            run_id=run_id,
            started_at=when,
            prompt=prompt,
            system=None,
            models=list(dict.fromkeys(models)),
            n=len(models),
            settings={"models": list(dict.fromkeys(models))},  # enough to reopen it
            bases={"gateway": "http://127.0.0.1:9"},
            variants=variants,
            batch_id=batch_id,
            prompt_id=prompt_id,
            tags=tuple(tags),
        )
    )
    store.finish_run(run_id, variants, status)  # type: ignore[arg-type]
    if winner is None:
        return
    verdict: dict[str, Any] = {
        "status": "verdict",
        "best_id": ids[winner],
        "judge_model": judge,
        "judge_endpoint": "gateway",
        "candidates": ids,
        "rounds": [
            {
                "index": k,
                "order": [ids[i] for i in order],
                "labels": {},
                "pick": ids[pick],
            }
            for k, (order, pick) in enumerate(rounds)
        ],
        "agreement": agreement,
    }
    store.add_judgment(run_id, verdict, created_at=when)


def seed(path: Path) -> None:
    """A history where judge-a prefers alpha, judge-b (older, in January) prefers beta,
    and the person's picks prefer gamma.

    * 12 runs alpha/beta/gamma judged by judge-a in June: alpha wins 10, beta 2.
    * 6 runs judged by judge-b in January: beta wins all.
    * 4 of judge-a's runs also carry a human pick: gamma.
    """
    store = HistoryStore.open(path)
    try:
        trio = ["alpha", "beta", "gamma"]
        for i in range(12):
            add_run(
                store,
                f"a-{i:02d}",
                trio,
                winner=0 if i < 10 else 1,
                when=NEW + timedelta(minutes=i),
                prompt=f"june question {i}\nsecond line",
                lengths=[300, 200, 100],
                rounds=[((0, 1, 2), 0 if i < 10 else 1), ((2, 1, 0), 0)],
            )
        for i in range(6):
            add_run(
                store,
                f"b-{i:02d}",
                trio,
                winner=1,
                judge="judge-b",
                when=OLD + timedelta(minutes=i),
                prompt=f"january question {i}",
            )
        for i in range(4):
            store.add_human_verdict(f"a-{i:02d}", ["v3", "v1", "v2"])
    finally:
        store.close()


def add_jury_judgment(
    store: HistoryStore,
    run_id: str,
    votes: dict[str, tuple[int, Sequence[tuple[Sequence[int], int]]]],
    winner: int,
    *,
    n: int = 3,
    when: datetime = NEW,
) -> None:
    """A jury's judgment of `run_id`, stored as the recorder stores one (the `Verdict`'s
    JSON). `votes`: juror model -> (its pick, its rounds as (order, pick) indexes); the
    first juror is the judgment's `judge_model`, as `judge_run` makes it."""
    from scillm_tui.core.judge import JudgeRound, JurorVote, Verdict

    ids = [f"v{i + 1}" for i in range(n)]
    jurors = [
        JurorVote(
            model=model,
            status="verdict",
            pick=ids[pick],
            rounds=[
                JudgeRound(index=k, order=[ids[i] for i in order], labels={}, pick=ids[p])
                for k, (order, p) in enumerate(rounds)
            ],
        )
        for model, (pick, rounds) in votes.items()
    ]
    verdict = Verdict(
        status="verdict",
        best_id=ids[winner],
        judge_model=next(iter(votes)),
        judge_endpoint="gateway",
        candidates=ids,
        jurors=jurors,
        agreement=f"{sum(j.pick == ids[winner] for j in jurors)}/{len(jurors)}",
    )
    store.add_judgment(run_id, verdict.model_dump(mode="json"), created_at=when)


BATCH_ID = "b-20260601T120300Z-abc123"
BATCH_PROMPTS = ("Explain CRDTs", "Compare Raft and Paxos", "What is a vector clock?")


def seed_batch(path: Path) -> None:
    """Two standalone runs (12:00 and 12:10) around a batch of three prompts (12:03-12:05),
    each judged: alpha, beta, alpha win; tagged "nightly" (and one prompt also "hard")."""
    store = HistoryStore.open(path)
    try:
        add_run(store, "solo-old", ["alpha", "beta"], winner=1, prompt="standalone before")
        for i, prompt in enumerate(BATCH_PROMPTS):
            add_run(
                store,
                f"batch-run-{i}",
                ["alpha", "beta"],
                winner=i % 2,
                when=NEW + timedelta(minutes=3 + i),
                prompt=prompt,
                batch_id=BATCH_ID,
                prompt_id=f"p{i + 1}",
                tags=("nightly", "hard") if i == 1 else ("nightly",),
                agreement="2/3" if i == 0 else None,
            )
        add_run(
            store,
            "solo-new",
            ["gamma"],
            winner=None,
            when=NEW + timedelta(minutes=10),
            prompt="standalone after",
        )
    finally:
        store.close()
