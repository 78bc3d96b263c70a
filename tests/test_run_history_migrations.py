"""Every older history database opens in this version with its data kept.

A database is built at each older version, filled with data written the way that version
wrote it (plain SQL, as a user's file on disk would be), then opened by the store.
Adding a migration without seed data for the version it leaves behind fails
`test_every_older_version_has_seed_data`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from scillm_tui.core.run_history import SCHEMA_VERSION, BatchSummary, HistoryStore
from scillm_tui.core.run_history.schema import MIGRATIONS


def _seed_v1(db: sqlite3.Connection) -> None:
    """What version 1 wrote: a finished, judged run, and one left `running` by a writer
    that is long gone (pid 0 is never a user process)."""
    db.execute(
        """INSERT INTO runs (run_id, started_at, updated_at, ended_at, status, prompt, system,
               models, n, settings, bases, writer_pid, writer_token)
           VALUES ('old-1', '2026-01-02T03:04:05.000000+00:00', '2026-01-02T03:04:09+00:00',
               '2026-01-02T03:04:09+00:00', 'finished', 'Why is the sky blue?', NULL,
               '["m1","m2"]', 2, '{"temperature":0.7}', '{"gateway":"http://gw"}', 1, 'x')"""
    )
    db.execute(
        """INSERT INTO runs (run_id, started_at, updated_at, status, prompt, models, n,
               settings, bases, writer_pid, writer_token)
           VALUES ('old-2', '2026-01-03T00:00:00.000000+00:00', '2026-01-03T00:00:01+00:00',
               'running', 'unfinished business', '["m1"]', 1, '{}', '{}', 0, 'gone')"""
    )
    for run_id, vid, pos, model, answer in [
        ("old-1", "v1", 0, "m1", "Rayleigh scattering of sunlight"),
        ("old-1", "v2", 1, "m2", "Because of the ocean"),
        ("old-2", "v1", 0, "m1", "half an answ"),
    ]:
        db.execute(
            """INSERT INTO variants (run_id, variant_id, position, model, endpoint, status,
                   answer, record) VALUES (?, ?, ?, ?, 'gateway', 'done', ?, '{"chars": 1}')""",
            (run_id, vid, pos, model, answer),
        )
    db.execute(
        """INSERT INTO judgments (run_id, created_at, judge_model, status, best_id, verdict)
           VALUES ('old-1', '2026-01-02T03:05:00+00:00', 'judge-x', 'verdict', 'v1',
               '{"status":"verdict","best_id":"v1","judge_model":"judge-x",
                 "judge_endpoint":"gateway","candidates":["v1","v2"]}')"""
    )


def _seed_v3(db: sqlite3.Connection) -> None:
    """Version 1's rows, and a batch of two prompts (version 3's batch id, prompt id, tags),
    the first re-run by `--resume`, older than the rest."""
    _seed_v1(db)
    for run_id, prompt_id, when, status in [
        ("bat-1", "p1", "2025-12-01T00:00:00.000000+00:00", "interrupted"),
        ("bat-2", "p2", "2025-12-01T00:01:00.000000+00:00", "finished"),
        ("bat-3", "p1", "2025-12-01T00:02:00.000000+00:00", "finished"),
    ]:
        db.execute(
            """INSERT INTO runs (run_id, started_at, updated_at, status, prompt, models, n,
                   settings, bases, batch_id, prompt_id, tags)
               VALUES (?, ?, ?, ?, 'batch prompt', '["m1"]', 1, '{}', '{}', 'b-old', ?,
                   '["nightly"]')""",
            (run_id, when, when, status, prompt_id),
        )
        db.execute(
            """INSERT INTO variants (run_id, variant_id, position, model, endpoint, status,
                   answer, record) VALUES (?, 'v1', 0, 'm1', 'gateway', 'done', 'a', '{}')""",
            (run_id,),
        )


# The data each version leaves behind: version 2 added no new kind of row, so the version 1
# data is written the same way (at version 2 its triggers index it as it goes).
SEEDS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _seed_v1, 2: _seed_v1, 3: _seed_v3}


def build(path: Path, version: int) -> None:
    """A database at `version`, as that version of scillm-tui left it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    for migration in MIGRATIONS[:version]:
        db.execute("BEGIN")
        migration(db)
        if db.in_transaction:
            db.execute("COMMIT")
    db.execute(f"PRAGMA user_version = {version:d}")
    if version:
        SEEDS[version](db)
    db.close()


def test_every_older_version_has_seed_data() -> None:
    assert set(SEEDS) == set(range(1, SCHEMA_VERSION)), "add seed data for the old version"


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_an_older_database_is_migrated_and_keeps_its_data(tmp_path: Path, version: int) -> None:
    path = tmp_path / "history.db"
    build(path, version)
    store = HistoryStore.open(path)
    try:
        assert store.warning is None
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        if version == 0:
            assert store.list_runs() == []
            return
        runs = [r for r in store.list_runs() if r.batch_id is None]
        assert [r.run_id for r in runs] == ["old-2", "old-1"]
        if version >= 3:  # a batch written before version 4's indexes is one entry
            entries = store.list_entries()
            assert [getattr(e, "run_id", None) for e in entries] == ["old-2", "old-1", None]
            batch = entries[2]
            assert isinstance(batch, BatchSummary)
            assert (batch.batch_id, batch.tags, batch.runs) == ("b-old", ["nightly"], 3)
            assert batch.counts is not None
            assert (batch.counts.prompts, batch.counts.done, batch.counts.failed) == (2, 2, 0)
        # the dead writer's run is interrupted on open, its text kept
        assert runs[0].status == "interrupted"
        old2 = store.load_run("old-2")
        assert old2 is not None and old2.variants[0].answer == "half an answ"
        assert (runs[1].judge_model, runs[1].winner_model) == ("judge-x", "m1")
        old = store.load_run("old-1")
        assert old is not None
        assert [v.answer for v in old.variants] == [
            "Rayleigh scattering of sunlight",
            "Because of the ocean",
        ]
        assert old.settings == {"temperature": 0.7} and old.bases == {"gateway": "http://gw"}
        assert (old.batch_id, old.prompt_id, old.tags) == (None, None, [])
        # rows written before the search index existed are found by it
        assert [r.run_id for r in store.list_runs(search="rayleigh")] == ["old-1"]
        assert [r.run_id for r in store.list_runs(search="sky")] == ["old-1"]
        [battle] = store.judged_runs()
        assert (battle.models, battle.finished) == ({"v1": "m1", "v2": "m2"}, ["v1", "v2"])
    finally:
        store.close()


def test_opening_twice_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    build(path, 1)
    HistoryStore.open(path).close()
    store = HistoryStore.open(path)
    assert [r.run_id for r in store.list_runs(search="ocean")] == ["old-1"]
    store.close()
