"""Batches in the history list: a batch's runs as one entry, and one batch's runs.

Plain SQL on a connection the store hands over (under its lock). The list pages over
standalone runs and batches interleaved by time without reading a batch's runs: one
ordered scan picks the page's keys, then only that page's runs and batches are read.
A batch's counts read all its runs, so they are a second query (`batch_counts`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from scillm_tui.core.run_history.models import BatchCounts, BatchPromptRun, BatchSummary

# Standalone runs and batches (at their newest run), newest first: the page's keys only.
# SQLite merges the two sides, each in index order (`runs_unbatched`, `runs_batch`;
# schema version 4), and stops at the page's end: no sort of the whole history.
ENTRY_KEYS_SQL = """
    SELECT 0, run_id, started_at, id FROM runs
    WHERE batch_id IS NULL
    UNION ALL
    SELECT 1, batch_id, max(started_at), max(id) FROM runs
    WHERE batch_id IS NOT NULL GROUP BY batch_id
    ORDER BY 3 DESC, 4 DESC
    LIMIT ? OFFSET ?"""


def entry_keys(db: sqlite3.Connection, limit: int, offset: int) -> list[tuple[bool, str]]:
    """(is a batch, run id or batch id) for one page of the grouped list."""
    rows = db.execute(ENTRY_KEYS_SQL, (limit, offset)).fetchall()
    return [(bool(kind), key) for kind, key, _, _ in rows]


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def batch_summaries(db: sqlite3.Connection, batch_ids: Sequence[str]) -> dict[str, BatchSummary]:
    """The batches `batch_ids` as list entries, keyed by id, without their counts: their
    runs' number and span come from the `runs_batch` index, the rest from each batch's
    first and newest run (not every run: a batch may hold thousands)."""
    if not batch_ids:
        return {}
    ids = list(batch_ids)
    spans = db.execute(
        f"""SELECT batch_id, count(*), max(started_at), min(started_at) FROM runs
            WHERE batch_id IN ({_marks(len(ids))}) GROUP BY batch_id""",
        ids,
    ).fetchall()
    out: dict[str, BatchSummary] = {}
    for batch_id, runs, newest, oldest in spans:
        # The first and newest run tell the first prompt, the models and the tags the
        # batch shares (a prompt's own differ).
        ends = [
            db.execute(
                f"""SELECT prompt, models, tags FROM runs WHERE batch_id = ?
                    ORDER BY started_at {order}, id {order} LIMIT 1""",
                (batch_id,),
            ).fetchone()
            for order in ("ASC", "DESC")
        ]
        models = list(dict.fromkeys(m for end in ends for m in json.loads(end[1])))
        first_tags, last_tags = (json.loads(end[2]) if end[2] else [] for end in ends)
        out[batch_id] = BatchSummary(
            batch_id=batch_id,
            tags=[tag for tag in first_tags if tag in last_tags],
            runs=int(runs),
            first_prompt=ends[0][0],
            started_at=newest,
            first_started_at=oldest,
            models=models,
        )
    return out


def batch_counts(db: sqlite3.Connection, batch_ids: Sequence[str]) -> dict[str, BatchCounts]:
    """The batches' counts over each prompt's latest run (see `BatchCounts`): every run
    of each batch is read, so the list shows without them and they follow."""
    if not batch_ids:
        return {}
    ids = list(batch_ids)
    marks = _marks(len(ids))
    # Each prompt's latest run (`--resume` re-runs failed prompts), found in the
    # `runs_batch_prompt` index without reading the runs (grouped on the index's own
    # columns: a computed key would sort every run); then only those runs are read.
    rows = db.execute(
        f"""
        WITH latest AS (
            SELECT max(id) AS id FROM runs
            WHERE batch_id IN ({marks}) AND prompt_id IS NOT NULL
            GROUP BY batch_id, prompt_id
            UNION ALL
            SELECT id FROM runs WHERE batch_id IN ({marks}) AND prompt_id IS NULL
        ), r AS (
            SELECT r.batch_id, r.status, j.id AS jid, j.best_id,
                   -- a variant's status is in its (large) row: read only when no judgment
                   -- tells (a judge that saw no finished variant names no winner)
                   CASE WHEN j.id IS NULL AND r.status = 'finished' THEN
                       EXISTS (SELECT 1 FROM variants v
                               WHERE v.run_id = r.run_id AND v.status = 'done')
                   ELSE 1 END AS ok
            FROM latest JOIN runs r ON r.id = latest.id
            LEFT JOIN judgments j
                ON j.id = (SELECT max(id) FROM judgments WHERE run_id = r.run_id)
        )
        SELECT batch_id, count(*), sum(status != 'running'), sum(best_id IS NOT NULL),
               sum(best_id IS NULL AND (status IN ('interrupted', 'cancelled')
                   OR (status = 'finished' AND (NOT ok OR jid IS NOT NULL))))
        FROM r GROUP BY batch_id""",
        [*ids, *ids],
    ).fetchall()
    return {
        batch_id: BatchCounts(
            prompts=int(prompts), done=int(done), judged=int(judged), failed=int(failed)
        )
        for batch_id, prompts, done, judged, failed in rows
    }


def batch_prompt_runs(db: sqlite3.Connection, batch_id: str) -> list[BatchPromptRun]:
    """Every run of the batch, oldest first, with its latest judgment's winner."""
    rows = db.execute(
        """
        SELECT r.run_id, r.prompt_id, r.prompt, r.status, r.started_at,
               j.judge_model, j.best_id,
               (SELECT v.model FROM variants v
                WHERE v.run_id = r.run_id AND v.variant_id = j.best_id),
               json_extract(j.verdict, '$.agreement'),
               r.prompt_id IS NULL OR r.id = (SELECT max(id) FROM runs
                   WHERE batch_id = r.batch_id AND prompt_id = r.prompt_id)
        FROM runs r
        LEFT JOIN judgments j
            ON j.id = (SELECT max(id) FROM judgments WHERE run_id = r.run_id)
        WHERE r.batch_id = ?
        ORDER BY r.started_at, r.id""",
        (batch_id,),
    ).fetchall()
    return [
        BatchPromptRun(
            run_id=row[0],
            prompt_id=row[1],
            prompt=row[2],
            status=row[3],
            started_at=row[4],
            judge_model=row[5],
            winner_id=row[6],
            winner_model=row[7],
            agreement=row[8] if isinstance(row[8], str) else None,
            latest=bool(row[9]),
        )
        for row in rows
    ]
