"""The run history: a SQLite database of every run, its variants and judgments.

Synchronous on purpose (plain sqlite3 calls, short transactions): the live app writes
through `HistoryRecorder`, which runs these calls on a thread of its own. One connection
per store, guarded by a lock, so a store may be used from more than one thread.

WAL and a busy timeout let two processes (the dashboard and a CLI run) write at once.
Values always go in as parameters, never formatted into SQL: model output is untrusted.
Every text that came from outside passes `redact()` first, so a key a server echoed is
not written either; keys themselves are never part of anything stored here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scillm_tui.core.redact import redact
from scillm_tui.core.run_history import batches
from scillm_tui.core.run_history.models import (
    BatchCounts,
    BatchPromptRun,
    BatchRun,
    HistoryEntry,
    HumanPick,
    JudgedRun,
    LineupVariant,
    RunSnapshot,
    RunStatus,
    RunSummary,
    StoredHumanVerdict,
    StoredJudgment,
    StoredRun,
    StoredVariant,
    VariantSnapshot,
)
from scillm_tui.core.run_history.schema import NewerSchemaError, check_version, migrate

if TYPE_CHECKING:
    from scillm_tui.core.judge import Verdict

log = logging.getLogger("scillm_tui.history")

HISTORY_ENV = "SCILLM_HISTORY"  # "0" turns the history off
DB_NAME = "history.db"
BUSY_TIMEOUT_S = 5.0
_OFF_VALUES = frozenset({"0", "false", "no", "off"})


class HistoryUnavailable(Exception):
    """The history cannot be used this session; the message says why, for the user."""


def history_enabled(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """False when `SCILLM_HISTORY` is 0/false/no/off."""
    value = (environ if environ is not None else os.environ).get(HISTORY_ENV, "")
    return value.strip().lower() not in _OFF_VALUES


def default_path() -> Path:
    """`$XDG_DATA_HOME/scillm-tui/history.db` (next to the prompt history and the log)."""
    from scillm_tui.core.paths import data_dir

    return data_dir() / DB_NAME


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dumps(value: Any) -> str:
    return redact(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def _process_token(pid: int) -> str | None:
    """The start time of process `pid` (Linux), so a reused pid is not mistaken for the
    writer; None if there is no such process (or it is a zombie) or no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _writer_alive(pid: int | None, token: str | None) -> bool:
    if pid is None:
        return False
    current = _process_token(pid)
    if current is not None:
        return not token or current == token
    if Path("/proc/self/stat").exists():
        return False  # /proc works, and has no live process by that id
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fts_query(search: str) -> str | None:
    """Words of `search` as an FTS5 query: every word, each as a prefix, quoted (so no
    user text is ever parsed as FTS syntax). None when it has no words."""
    words = re.findall(r"\w+", search)
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)


def pick_from_ranking(ranking: Any, variant_id: str | None = None) -> str | None:
    """The variant a human verdict picks, read defensively (its JSON shape is open): a list
    of variant ids best first, one variant id, or a dict with "pick" / "best_id" /
    "winner" / "ranking"; a row about one variant (`variant_id`) without any of those
    picks that variant. None when nothing names a variant."""
    if isinstance(ranking, str) and ranking.strip():
        return ranking
    if isinstance(ranking, list):
        first = ranking[0] if ranking else None
        return first if isinstance(first, str) and first else None
    if isinstance(ranking, dict):
        for key in ("pick", "best_id", "winner", "variant_id"):
            value = ranking.get(key)
            if isinstance(value, str) and value:
                return value
        if "ranking" in ranking:
            found = pick_from_ranking(ranking["ranking"])
            if found is not None:
                return found
    return variant_id


def _like(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)  # SQLite gives its -wal and -shm files the database's mode
    db = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    try:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")
        check_version(db)  # before anything writes: a newer app's file stays as it was
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("history: journal mode is %s, not WAL", mode)
        # WAL + NORMAL: a killed process loses nothing committed (a power cut may lose
        # the last few transactions; a history can live with that, for no fsync per write)
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db)
        db.execute("SELECT count(*) FROM runs WHERE id = -1").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def move_aside(path: Path) -> Path:
    """Rename a damaged database (and its -wal/-shm) to `<name>.corrupt-<UTC stamp>`;
    never delete it: it may hold the only copy of someone's runs."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            os.replace(extra, aside.with_name(aside.name + suffix))
    return aside


class HistoryStore:
    """The history database. Open with `HistoryStore.open(path)`; see module docstring."""

    def __init__(self, db: sqlite3.Connection, path: Path, warning: str | None = None) -> None:
        self._db = db
        self.path = path
        self.warning = warning  # set when a damaged file was moved aside
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._token = _process_token(self._pid)
        self.has_fts = bool(
            db.execute("SELECT 1 FROM sqlite_master WHERE name = 'variants_fts'").fetchone()
        )

    @classmethod
    def open(cls, path: Path | None = None) -> HistoryStore:
        """Open (creating, migrating) the database at `path` (default: `default_path()`),
        and mark as interrupted the runs whose writer died. A damaged or unreadable file
        is moved aside and a fresh one started (`store.warning` says so). Raises
        `HistoryUnavailable` when there is no way to keep a history this session."""
        path = Path(path) if path is not None else default_path()
        warning = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            db = _connect(path)
        except NewerSchemaError as exc:
            raise HistoryUnavailable(f"history is off: {exc}") from exc
        except (sqlite3.DatabaseError, OSError) as exc:
            if isinstance(exc, sqlite3.Error) and _is_busy(exc):
                raise HistoryUnavailable(f"the run history is busy ({exc})") from exc
            try:
                aside = move_aside(path)
                db = _connect(path)
            except (sqlite3.Error, OSError, NewerSchemaError) as exc2:
                raise HistoryUnavailable(
                    f"the run history at {path} cannot be used ({exc}; {exc2}): "
                    "runs are not recorded this session"
                ) from exc2
            warning = (
                f"The run history at {path} could not be read ({exc}). It was moved to "
                f"{aside.name} and a new history was started."
            )
            log.warning("history: %s", warning)
        store = cls(db, path, warning)
        store.mark_interrupted()
        return store

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (IMMEDIATE: take the write lock up front, so a
        concurrent writer waits on the busy timeout instead of failing mid-transaction)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ---- writes ---------------------------------------------------------------------------

    def begin_run(self, run: RunSnapshot) -> None:
        """Record a run as `running`, with its variants as they are now."""
        now = now_iso()
        with self._write() as db:
            db.execute(
                """INSERT INTO runs (run_id, started_at, updated_at, status, prompt, system,
                       models, n, settings, bases, writer_pid, writer_token,
                       batch_id, prompt_id, tags)
                   VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (run_id) DO UPDATE SET
                       status = 'running', updated_at = excluded.updated_at,
                       ended_at = NULL, writer_pid = excluded.writer_pid,
                       writer_token = excluded.writer_token""",
                (
                    run.run_id,
                    _iso(run.started_at),
                    now,
                    redact(run.prompt),
                    redact(run.system) if run.system else None,
                    _dumps(run.models),
                    run.n,
                    _dumps(run.settings),
                    _dumps(run.bases),
                    self._pid,
                    self._token,
                    run.batch_id,
                    run.prompt_id,
                    _dumps(list(run.tags)) if run.tags else None,
                ),
            )
            self._put_variants(db, run.run_id, run.variants)

    def checkpoint(self, run_id: str, variants: Sequence[VariantSnapshot]) -> None:
        """Save the variants' text and state so far (the run stays `running`)."""
        with self._write() as db:
            self._put_variants(db, run_id, variants)
            db.execute("UPDATE runs SET updated_at = ? WHERE run_id = ?", (now_iso(), run_id))

    def finish_run(
        self, run_id: str, variants: Sequence[VariantSnapshot], status: RunStatus = "finished"
    ) -> None:
        """Save the final variants and end the run with `status`."""
        now = now_iso()
        with self._write() as db:
            self._put_variants(db, run_id, variants)
            db.execute(
                "UPDATE runs SET status = ?, updated_at = ?, ended_at = ? WHERE run_id = ?",
                (status, now, now, run_id),
            )

    @staticmethod
    def _put_variants(
        db: sqlite3.Connection, run_id: str, variants: Sequence[VariantSnapshot]
    ) -> None:
        db.executemany(
            """INSERT INTO variants (run_id, variant_id, position, model, endpoint, status,
                   error, answer, thinking, record)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (run_id, variant_id) DO UPDATE SET
                   status = excluded.status, error = excluded.error,
                   answer = excluded.answer, thinking = excluded.thinking,
                   record = excluded.record""",
            [
                (
                    run_id,
                    v.variant_id,
                    v.position,
                    v.model,
                    v.endpoint,
                    v.status,
                    redact(v.error) if v.error else None,
                    redact(v.answer),
                    redact(v.thinking),
                    _dumps(v.record),
                )
                for v in variants
            ],
        )

    def add_judgment(
        self, run_id: str, verdict: Verdict | dict[str, Any], created_at: datetime | None = None
    ) -> int:
        """Add a judgment of the run (re-judging adds another; none is ever replaced)."""
        data = verdict if isinstance(verdict, dict) else verdict.model_dump(mode="json")
        when = _iso(created_at) if created_at is not None else now_iso()
        with self._write() as db:
            cursor = db.execute(
                """INSERT INTO judgments (run_id, created_at, judge_model, status, best_id,
                       verdict) VALUES (?, ?, ?, ?, ?, ?)""",
                (
                    run_id,
                    when,
                    data.get("judge_model") or "",
                    data.get("status") or "",
                    data.get("best_id"),
                    _dumps(data),
                ),
            )
            return int(cursor.lastrowid or 0)

    def add_human_verdict(self, run_id: str, ranking: Any, variant_id: str | None = None) -> int:
        """A person's ranking of the run (or of one variant)."""
        with self._write() as db:
            cursor = db.execute(
                """INSERT INTO human_verdicts (run_id, variant_id, ranking, created_at)
                   VALUES (?, ?, ?, ?)""",
                (run_id, variant_id, _dumps(ranking), now_iso()),
            )
            return int(cursor.lastrowid or 0)

    def mark_interrupted(self) -> int:
        """End as `interrupted` every `running` run whose writer process is gone (killed,
        crashed, quit mid-run); they keep the text of their last checkpoint."""
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, writer_pid, writer_token FROM runs WHERE status = 'running'"
            ).fetchall()
            dead = [(rid,) for rid, pid, token in rows if not _writer_alive(pid, token)]
            if not dead:
                return 0
            with self._write() as db:
                db.executemany(
                    """UPDATE runs SET status = 'interrupted', ended_at = updated_at
                       WHERE run_id = ? AND status = 'running'""",
                    dead,
                )
            return len(dead)

    # ---- reads ----------------------------------------------------------------------------

    def list_runs(
        self,
        limit: int = 50,
        offset: int = 0,
        search: str | None = None,
        batch_id: str | None = None,
    ) -> list[RunSummary]:
        """Runs newest first; `search` matches words (as prefixes) in prompts and answers."""
        where: list[str] = []
        params: list[Any] = []
        if batch_id is not None:
            where.append("r.batch_id = ?")
            params.append(batch_id)
        if search and search.strip():
            query = _fts_query(search) if self.has_fts else None
            if query is not None:
                where.append(
                    """(r.id IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)
                        OR r.run_id IN (SELECT v.run_id FROM variants_fts f
                            JOIN variants v ON v.id = f.rowid WHERE variants_fts MATCH ?))"""
                )
                params += [query, query]
            else:
                pattern = _like(search.strip())
                where.append(
                    r"""(r.prompt LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM variants v
                        WHERE v.run_id = r.run_id AND v.answer LIKE ? ESCAPE '\'))"""
                )
                params += [pattern, pattern]
        return self._summaries(where, params, limit, offset)

    def _summaries(
        self, where: list[str], params: list[Any], limit: int = -1, offset: int = 0
    ) -> list[RunSummary]:
        sql = f"""
            SELECT r.run_id, r.started_at, r.status, r.prompt, r.models, r.n, r.batch_id,
                   j.judge_model, j.best_id,
                   (SELECT v.model FROM variants v
                    WHERE v.run_id = r.run_id AND v.variant_id = j.best_id)
            FROM runs r
            LEFT JOIN judgments j
                ON j.id = (SELECT max(id) FROM judgments WHERE run_id = r.run_id)
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY r.started_at DESC, r.id DESC
            LIMIT ? OFFSET ?"""
        with self._lock:
            rows = self._db.execute(sql, [*params, limit, offset]).fetchall()
        return [
            RunSummary(
                run_id=row[0],
                started_at=row[1],
                status=row[2],
                prompt=row[3],
                models=json.loads(row[4]),
                n=row[5],
                batch_id=row[6],
                judge_model=row[7],
                winner_id=row[8],
                winner_model=row[9],
            )
            for row in rows
        ]

    def list_entries(
        self, limit: int = 50, offset: int = 0, *, counted: bool = True
    ) -> list[HistoryEntry]:
        """The history list with each batch's runs as one `BatchSummary`, placed at its
        newest run, among the standalone runs; newest first, paged like `list_runs`.
        `counted=False` leaves the batches' counts out (see `batch_counts`): a page of
        big batches then reads in a few ms instead of tens."""
        with self._lock:
            keys = batches.entry_keys(self._db, limit, offset)
            runs = [key for is_batch, key in keys if not is_batch]
            batch_ids = [key for is_batch, key in keys if is_batch]
            summaries = batches.batch_summaries(self._db, batch_ids)
            if counted:
                counts = batches.batch_counts(self._db, batch_ids)
                summaries = {k: replace(b, counts=counts.get(k)) for k, b in summaries.items()}
            found: dict[tuple[bool, str], HistoryEntry] = {
                (True, k): b for k, b in summaries.items()
            }
            if runs:
                marks = ", ".join("?" * len(runs))
                found.update(
                    ((False, r.run_id), r)
                    for r in self._summaries([f"r.run_id IN ({marks})"], runs)
                )
        return [found[key] for key in keys if key in found]

    def batch_counts(self, batch_ids: Sequence[str]) -> dict[str, BatchCounts]:
        """Each batch's counts over its prompts' latest runs (reads every run of each)."""
        with self._lock:
            return batches.batch_counts(self._db, batch_ids)

    def batch_prompt_runs(self, batch_id: str) -> list[BatchPromptRun]:
        """Every run of a batch, oldest first, with its prompt and winner (the batch screen)."""
        with self._lock:
            return batches.batch_prompt_runs(self._db, batch_id)

    def batch_runs(self, batch_id: str) -> list[BatchRun]:
        """The runs of one batch with their latest judgment, oldest first: what `--resume`
        needs to know which prompts are done."""
        sql = """
            SELECT r.run_id, r.prompt_id, r.status, r.models, r.n, j.judge_model, j.best_id
            FROM runs r
            LEFT JOIN judgments j
                ON j.id = (SELECT max(id) FROM judgments WHERE run_id = r.run_id)
            WHERE r.batch_id = ?
            ORDER BY r.started_at, r.id"""
        with self._lock:
            rows = self._db.execute(sql, (batch_id,)).fetchall()
        return [
            BatchRun(
                run_id=row[0],
                prompt_id=row[1],
                status=row[2],
                models=json.loads(row[3]),
                n=row[4],
                judge_model=row[5],
                winner_id=row[6],
            )
            for row in rows
        ]

    def count_runs(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM runs").fetchone()[0])

    def load_run(self, run_id: str) -> StoredRun | None:
        """The run with its variants (texts, stats), judgments and human verdicts."""
        with self._lock:
            db = self._db
            row = db.execute(
                """SELECT run_id, started_at, updated_at, ended_at, status, prompt, system,
                       models, n, settings, bases, batch_id, prompt_id, tags
                   FROM runs WHERE run_id = ?""",
                (run_id,),
            ).fetchone()
            if row is None:
                return None
            variants = db.execute(
                """SELECT variant_id, model, endpoint, status, error, answer, thinking, record
                   FROM variants WHERE run_id = ? ORDER BY position, id""",
                (run_id,),
            ).fetchall()
            judgments = db.execute(
                """SELECT id, created_at, judge_model, status, best_id, verdict
                   FROM judgments WHERE run_id = ? ORDER BY id""",
                (run_id,),
            ).fetchall()
            humans = db.execute(
                """SELECT id, variant_id, ranking, created_at
                   FROM human_verdicts WHERE run_id = ? ORDER BY id""",
                (run_id,),
            ).fetchall()
        return StoredRun(
            run_id=row[0],
            started_at=row[1],
            updated_at=row[2],
            ended_at=row[3],
            status=row[4],
            prompt=row[5],
            system=row[6],
            models=json.loads(row[7]),
            n=row[8],
            settings=json.loads(row[9]),
            bases=json.loads(row[10]),
            batch_id=row[11],
            prompt_id=row[12],
            tags=json.loads(row[13]) if row[13] else [],
            variants=[
                StoredVariant(
                    variant_id=v[0],
                    model=v[1],
                    endpoint=v[2],
                    status=v[3],
                    error=v[4],
                    answer=v[5],
                    thinking=v[6],
                    record={**json.loads(v[7]), "text": v[5]},
                )
                for v in variants
            ],
            judgments=[
                StoredJudgment(
                    id=j[0],
                    created_at=j[1],
                    judge_model=j[2],
                    status=j[3],
                    best_id=j[4],
                    verdict=json.loads(j[5]),
                )
                for j in judgments
            ],
            human_verdicts=[
                StoredHumanVerdict(
                    id=h[0], variant_id=h[1], ranking=json.loads(h[2]), created_at=h[3]
                )
                for h in humans
            ],
        )

    def latest_human_pick(self, run_id: str) -> StoredHumanVerdict | None:
        """The run's latest human verdict (latest wins: a cleared pick is stored too, with
        no variant and an empty ranking); None when nobody ever picked."""
        with self._lock:
            row = self._db.execute(
                """SELECT id, variant_id, ranking, created_at FROM human_verdicts
                   WHERE run_id = ? ORDER BY id DESC LIMIT 1""",
                (run_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredHumanVerdict(
            id=row[0], variant_id=row[1], ranking=json.loads(row[2]), created_at=row[3]
        )

    def judged_runs(
        self,
        judge_model: str | None = None,
        since: datetime | None = None,
        batch_id: str | None = None,
    ) -> Iterator[JudgedRun]:
        """Every judgment that named a winner, oldest first, for a leaderboard across runs
        (or over one batch's runs). A run judged twice gives two entries (a leaderboard may
        keep the latest)."""
        sql = """
            SELECT j.run_id, j.judge_model, j.best_id, j.created_at, j.status,
                   json_extract(j.verdict, '$.candidates')
            FROM judgments j
            WHERE j.best_id IS NOT NULL AND (? IS NULL OR j.judge_model = ?)
                  AND (? IS NULL OR j.created_at >= ?)
                  AND (? IS NULL OR j.run_id IN (SELECT run_id FROM runs WHERE batch_id = ?))
            ORDER BY j.id"""
        since_iso = _iso(since) if since is not None else None
        with self._lock:
            rows = self._db.execute(
                sql, (judge_model, judge_model, since_iso, since_iso, batch_id, batch_id)
            ).fetchall()
            # The variants' models in one pass (a subquery per judgment costs 10x more).
            models: dict[str, dict[str, str]] = {}
            judged = {row[0] for row in rows}
            for run_id, vid, model in self._db.execute(
                "SELECT run_id, variant_id, model FROM variants ORDER BY run_id, position"
            ):
                if run_id in judged:
                    models.setdefault(run_id, {})[vid] = model
        for run_id, judge, best, created, status, candidates in rows:
            yield JudgedRun(
                run_id=run_id,
                models=models.get(run_id, {}),
                finished=json.loads(candidates) if candidates else [],
                winner_id=best,
                judge_model=judge,
                judged_at=created,
                status=status,
            )

    def judgments(
        self, judge_model: str | None = None, since: datetime | None = None
    ) -> Iterator[tuple[str, StoredJudgment]]:
        """Every judgment (run id, judgment with its full verdict), oldest first: what the
        judges' trust figures read (rounds, orders, picks). `judge_model` matches the
        judgment's model or any juror of a jury's."""
        since_iso = _iso(since) if since is not None else None
        with self._lock:
            rows = self._db.execute(
                """SELECT run_id, id, created_at, judge_model, status, best_id, verdict
                   FROM judgments
                   WHERE (? IS NULL OR judge_model = ? OR (json_valid(verdict) AND EXISTS (
                            SELECT 1 FROM json_each(verdict, '$.jurors')
                            WHERE json_extract(value, '$.model') = ?)))
                         AND (? IS NULL OR created_at >= ?)
                   ORDER BY id""",
                (judge_model, judge_model, judge_model, since_iso, since_iso),
            ).fetchall()
        for run_id, jid, created, judge, status, best, verdict in rows:
            try:
                data = json.loads(verdict)
            except ValueError:
                data = {}
            yield (
                run_id,
                StoredJudgment(
                    id=jid,
                    created_at=created,
                    judge_model=judge,
                    status=status,
                    best_id=best,
                    verdict=data if isinstance(data, dict) else {},
                ),
            )

    def human_picks(self, since: datetime | None = None) -> dict[str, HumanPick]:
        """The latest human pick per run (see `pick_from_ranking`), keyed by run id; a run
        whose latest human verdict cleared the pick (`b` again) has none."""
        since_iso = _iso(since) if since is not None else None
        with self._lock:
            rows = self._db.execute(
                """SELECT run_id, variant_id, ranking, created_at FROM human_verdicts
                   WHERE (? IS NULL OR created_at >= ?) ORDER BY id""",
                (since_iso, since_iso),
            ).fetchall()
        picks: dict[str, HumanPick] = {}
        for run_id, variant_id, ranking, created in rows:
            try:
                value = json.loads(ranking)
            except ValueError:
                value = None
            pick = pick_from_ranking(value, variant_id)
            if pick is None:  # a cleared pick: the run has none from here on
                picks.pop(run_id, None)
            else:
                picks[run_id] = HumanPick(run_id, pick, created)
        return picks

    def lineups(
        self, run_ids: set[str] | None = None, *, lengths: bool = False
    ) -> dict[str, list[LineupVariant]]:
        """Each run's variants in display order (model, status and, with `lengths`, the
        answer's length: that reads every answer), for the given runs (None: all), in one
        pass over the variants table."""
        out: dict[str, list[LineupVariant]] = {}
        chars = "length(answer)" if lengths else "0"
        with self._lock:
            cursor = self._db.execute(
                f"""SELECT run_id, variant_id, model, status, {chars} FROM variants
                   ORDER BY run_id, position, id"""
            )
            for run_id, vid, model, status, chars in cursor:
                if run_ids is None or run_id in run_ids:
                    out.setdefault(run_id, []).append(
                        LineupVariant(vid, model, status, int(chars or 0))
                    )
        return out
