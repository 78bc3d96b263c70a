"""The history list with a batch's runs grouped into one entry, paged, and one batch's
runs with their winners (what the History and batch screens show)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from scillm_tui.core.batch.leaderboard import batch_leaderboard, batch_ratings
from scillm_tui.core.run_history import BatchCounts, BatchSummary, HistoryStore, RunSummary
from tests.history_seed import BATCH_ID, NEW, add_run, seed_batch


def entry_keys(entries: list[RunSummary | BatchSummary]) -> list[str]:
    return [e.batch_id if isinstance(e, BatchSummary) else e.run_id for e in entries]


def test_a_batch_is_one_entry_placed_by_time_among_standalone_runs(tmp_path: Path) -> None:
    seed_batch(tmp_path / "h.db")
    store = HistoryStore.open(tmp_path / "h.db")
    try:
        entries = store.list_entries()
        assert entry_keys(entries) == ["solo-new", BATCH_ID, "solo-old"]
        batch = entries[1]
        assert isinstance(batch, BatchSummary)
        assert batch.runs == 3
        assert batch.counts == BatchCounts(prompts=3, done=3, judged=3, failed=0)
        # read without its counts (the History screen's first paint), then with them
        [_, uncounted, _] = store.list_entries(counted=False)
        assert uncounted == replace(batch, counts=None)
        assert store.batch_counts([BATCH_ID]) == {BATCH_ID: batch.counts}
        assert batch.tags == ["nightly"]  # "hard" is one prompt's, not the batch's
        assert batch.first_prompt == "Explain CRDTs"
        assert batch.models == ["alpha", "beta"]
        assert batch.started_at > batch.first_started_at
        # a search lists matching runs flat, each with its batch
        [found] = store.list_runs(search="raft")
        assert (found.run_id, found.batch_id) == ("batch-run-1", BATCH_ID)
    finally:
        store.close()


def test_counts_follow_each_prompts_latest_run(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    try:

        def run(run_id: str, prompt_id: str, minute: int, **kw: object) -> None:
            add_run(
                store,
                run_id,
                ["a", "b"],
                when=NEW + timedelta(minutes=minute),
                batch_id="b-1",
                prompt_id=prompt_id,
                **kw,  # type: ignore[arg-type]
            )

        run("r1", "p1", 1, winner=None, status="interrupted")  # re-run below, judged
        run("r2", "p2", 2, winner=0)
        run("r3", "p3", 3, winner=None, status="cancelled")
        run("r4", "p1", 4, winner=1)  # --resume
        store.add_judgment("r2", {"status": "tie", "judge_model": "j", "best_id": None})
        [batch] = store.list_entries()
        assert isinstance(batch, BatchSummary)
        # p1: judged (its re-run); p2: latest judgment a tie, no winner; p3: cancelled
        assert batch.runs == 4 and batch.counts is not None
        assert (batch.counts.prompts, batch.counts.judged, batch.counts.failed) == (3, 1, 2)
        rows = store.batch_prompt_runs("b-1")
        assert [(r.run_id, r.latest) for r in rows] == [
            ("r1", False),
            ("r2", True),
            ("r3", True),
            ("r4", True),
        ]
        assert rows[3].winner_model == "b" and rows[1].winner_model is None
    finally:
        store.close()


def test_pages_cover_every_entry_once_in_order(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.db")
    try:
        expected: list[str] = []
        for i in range(40):  # every fourth minute starts a 3-run batch, else a lone run
            when = NEW + timedelta(minutes=10 * i)
            if i % 4 == 0:
                for k in range(3):
                    add_run(
                        store,
                        f"b{i}-{k}",
                        ["a", "b"],
                        winner=0,
                        when=when + timedelta(minutes=k),
                        batch_id=f"batch-{i}",
                        prompt_id=f"p{k}",
                    )
                expected.append(f"batch-{i}")
            else:
                add_run(store, f"run-{i}", ["a"], winner=None, when=when)
                expected.append(f"run-{i}")
        pages = [store.list_entries(7, offset) for offset in range(0, 49, 7)]
        assert [len(p) for p in pages] == [7, 7, 7, 7, 7, 5, 0]
        assert [k for page in pages for k in entry_keys(page)] == expected[::-1]
    finally:
        store.close()


def test_a_batchs_runs_carry_prompt_winner_and_agreement(tmp_path: Path) -> None:
    seed_batch(tmp_path / "h.db")
    store = HistoryStore.open(tmp_path / "h.db")
    try:
        rows = store.batch_prompt_runs(BATCH_ID)
        assert [(r.prompt_id, r.prompt, r.winner_model) for r in rows] == [
            ("p1", "Explain CRDTs", "alpha"),
            ("p2", "Compare Raft and Paxos", "beta"),
            ("p3", "What is a vector clock?", "alpha"),
        ]
        assert [r.agreement for r in rows] == ["2/3", None, None]
        assert store.batch_prompt_runs("no-such-batch") == []
        # the batch's leaderboard: the CLI's rows, from the same ratings
        ratings = batch_ratings(store, BATCH_ID)
        assert [(r.model, r.wins, r.battles) for r in ratings] == [
            ("alpha", 2, 3),
            ("beta", 1, 3),
        ]
        assert [row["model"] for row in batch_leaderboard(store, BATCH_ID)] == ["alpha", "beta"]
    finally:
        store.close()
