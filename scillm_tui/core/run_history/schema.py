"""The history database's schema: one forward migration per version, `PRAGMA user_version`.

`MIGRATIONS[i]` takes a database at version `i` to version `i + 1`. Never edit a released
migration: add a new one (and its seed data in tests/test_run_history_migrations.py, whose
test opens a database built at every older version and checks nothing was lost).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def _v1_tables(db: sqlite3.Connection) -> None:
    """Runs, their variants, judgments (several per run) and human verdicts.

    Integer primary keys give the FTS index (version 2) stable rowids to point at.
    """
    db.executescript(
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL UNIQUE,
            started_at TEXT NOT NULL,          -- ISO 8601 UTC
            updated_at TEXT NOT NULL,
            ended_at TEXT,
            status TEXT NOT NULL,              -- running / finished / interrupted / cancelled
            prompt TEXT NOT NULL,
            system TEXT,
            models TEXT NOT NULL,              -- JSON list, as asked for
            n INTEGER NOT NULL,
            settings TEXT NOT NULL,            -- JSON: the run's spec without its texts
            bases TEXT NOT NULL,               -- JSON: endpoint -> base URL (never a key)
            writer_pid INTEGER,
            writer_token TEXT                  -- the writer's process start time
        );
        CREATE INDEX runs_started ON runs (started_at DESC, id DESC);
        CREATE INDEX runs_status ON runs (status);

        CREATE TABLE variants (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            variant_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            model TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            answer TEXT NOT NULL DEFAULT '',
            thinking TEXT NOT NULL DEFAULT '',
            record TEXT NOT NULL,              -- JSON: records.variant_record minus the texts
            UNIQUE (run_id, variant_id)
        );
        CREATE INDEX variants_model ON variants (model);
        -- covering: a leaderboard reads who ran what without touching the answers
        CREATE INDEX variants_lineup ON variants (run_id, position, variant_id, model);

        CREATE TABLE judgments (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            judge_model TEXT NOT NULL,
            status TEXT NOT NULL,
            best_id TEXT,
            verdict TEXT NOT NULL              -- JSON: judge.Verdict
        );
        CREATE INDEX judgments_run ON judgments (run_id, id);
        CREATE INDEX judgments_model ON judgments (judge_model);

        CREATE TABLE human_verdicts (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            variant_id TEXT,                   -- NULL: a ranking of the whole run
            ranking TEXT NOT NULL,             -- JSON
            created_at TEXT NOT NULL
        );
        CREATE INDEX human_verdicts_run ON human_verdicts (run_id, id);
        """
    )


def fts5_available(db: sqlite3.Connection) -> bool:
    """Whether this SQLite was built with FTS5 (without it, search falls back to LIKE)."""
    try:
        db.execute("CREATE VIRTUAL TABLE temp._fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    db.execute("DROP TABLE temp._fts5_probe")
    return True


def _v2_search_index(db: sqlite3.Connection) -> None:
    """Full-text search over prompts and answers (external content: no second copy of the
    text), kept up to date by triggers, and built now for the rows already there."""
    if not fts5_available(db):
        return  # store.py searches with LIKE when these tables are missing
    db.executescript(
        """
        CREATE VIRTUAL TABLE runs_fts USING fts5(
            prompt, system, content='runs', content_rowid='id');
        CREATE TRIGGER runs_fts_ai AFTER INSERT ON runs BEGIN
            INSERT INTO runs_fts (rowid, prompt, system)
            VALUES (new.id, new.prompt, coalesce(new.system, ''));
        END;
        CREATE TRIGGER runs_fts_ad AFTER DELETE ON runs BEGIN
            INSERT INTO runs_fts (runs_fts, rowid, prompt, system)
            VALUES ('delete', old.id, old.prompt, coalesce(old.system, ''));
        END;
        CREATE TRIGGER runs_fts_au AFTER UPDATE OF prompt, system ON runs BEGIN
            INSERT INTO runs_fts (runs_fts, rowid, prompt, system)
            VALUES ('delete', old.id, old.prompt, coalesce(old.system, ''));
            INSERT INTO runs_fts (rowid, prompt, system)
            VALUES (new.id, new.prompt, coalesce(new.system, ''));
        END;

        CREATE VIRTUAL TABLE variants_fts USING fts5(
            answer, content='variants', content_rowid='id');
        CREATE TRIGGER variants_fts_ai AFTER INSERT ON variants BEGIN
            INSERT INTO variants_fts (rowid, answer) VALUES (new.id, new.answer);
        END;
        CREATE TRIGGER variants_fts_ad AFTER DELETE ON variants BEGIN
            INSERT INTO variants_fts (variants_fts, rowid, answer)
            VALUES ('delete', old.id, old.answer);
        END;
        CREATE TRIGGER variants_fts_au AFTER UPDATE OF answer ON variants BEGIN
            INSERT INTO variants_fts (variants_fts, rowid, answer)
            VALUES ('delete', old.id, old.answer);
            INSERT INTO variants_fts (rowid, answer) VALUES (new.id, new.answer);
        END;
        """
    )
    # Index what version 1 stored. (External content: 'rebuild' reads the base tables.)
    db.execute("INSERT INTO runs_fts (runs_fts) VALUES ('rebuild')")
    db.execute("INSERT INTO variants_fts (variants_fts) VALUES ('rebuild')")


def _v3_batches(db: sqlite3.Connection) -> None:
    """Optional batch id, prompt id and tags on runs, for the batch feature."""
    db.executescript(
        """
        ALTER TABLE runs ADD COLUMN batch_id TEXT;
        ALTER TABLE runs ADD COLUMN prompt_id TEXT;
        ALTER TABLE runs ADD COLUMN tags TEXT;  -- JSON list
        CREATE INDEX runs_batch ON runs (batch_id, started_at DESC) WHERE batch_id IS NOT NULL;
        """
    )


def _v4_batch_list(db: sqlite3.Connection) -> None:
    """Indexes for the history list with each batch grouped: standalone runs newest
    first (without walking a batch's runs), and each prompt's latest run of a batch."""
    db.executescript(
        """
        CREATE INDEX runs_unbatched ON runs (started_at DESC, id DESC) WHERE batch_id IS NULL;
        CREATE INDEX runs_batch_prompt ON runs (batch_id, prompt_id, id)
            WHERE batch_id IS NOT NULL;
        """
    )


MIGRATIONS: list[Migration] = [_v1_tables, _v2_search_index, _v3_batches, _v4_batch_list]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchemaError(Exception):
    """The database was written by a newer scillm-tui: leave it alone."""


def check_version(db: sqlite3.Connection) -> int:
    """The database's version; raises `NewerSchemaError` if this app is too old for it."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"the history database is at version {version}; this scillm-tui knows "
            f"up to {SCHEMA_VERSION}"
        )
    return version


def migrate(db: sqlite3.Connection) -> int:
    """Bring `db` to `SCHEMA_VERSION`; returns the version it had. Safe against another
    process migrating at the same time: the version is read inside the write lock.

    `executescript` commits any open transaction, so each migration runs in its own
    explicit transaction, started here with BEGIN IMMEDIATE.
    """
    start = None
    while True:
        version = check_version(db)
        if start is None:
            start = version
        if version == SCHEMA_VERSION:
            return start
        db.execute("BEGIN IMMEDIATE")
        try:
            now = db.execute("PRAGMA user_version").fetchone()[0]
            if now == version:  # nobody migrated it while we waited for the lock
                _run_in_transaction(db, MIGRATIONS[version])
                db.execute(f"PRAGMA user_version = {version + 1:d}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def _run_in_transaction(db: sqlite3.Connection, migration: Migration) -> None:
    """Run `migration` without letting `executescript` commit half of it."""
    migration(_NoCommit(db))  # type: ignore[arg-type]


class _NoCommit:
    """A connection stand-in whose `executescript` runs statements one by one inside the
    caller's transaction (sqlite3's own `executescript` COMMITs first)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def executescript(self, script: str) -> None:
        for statement in _split_sql(script):
            self._db.execute(statement)


def _split_sql(script: str) -> list[str]:
    """Split a script into complete statements (trigger bodies hold `;` of their own)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
