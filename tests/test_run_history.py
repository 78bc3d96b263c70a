"""The run history: real runs against loopback servers recorded, searched, judged, killed.

Two real processes write at once; a helper process is SIGKILLed mid-run and its run is
found `interrupted` with the text of its last checkpoint; a damaged file is moved aside;
the key a server required is nowhere in the database's bytes.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from scillm_tui.core.backends import Backends
from scillm_tui.core.events import VariantDelta
from scillm_tui.core.judge import JudgeSpec, judge_run
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.run_history import (
    HistoryRecorder,
    HistoryStore,
    HistoryUnavailable,
    default_path,
)
from scillm_tui.core.runs import Run, RunSpec
from scillm_tui.demo.server import BackgroundServer
from tests.engine_support import make_backends
from tests.servers.fault_app import EXPECTED_TEXT, OK_TEXT

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
BOUND_S = 30.0  # "it ends at all", never a performance claim
HELPER = Path(__file__).with_name("run_history_helper.py")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hist" / "history.db"


@pytest.fixture
async def gateway(fault_server: BackgroundServer) -> AsyncIterator[Backends]:
    backends = make_backends(gateway=fault_server.base_url, retry=FAST)
    yield backends
    await backends.aclose()


@pytest.fixture
async def recorder(db_path: Path) -> AsyncIterator[HistoryRecorder]:
    rec = await HistoryRecorder.aopen(db_path, enabled=True)
    assert rec.enabled and rec.warning is None
    yield rec
    await rec.aclose()


async def drive(run: Run, react: Callable[[Any], Any] | None = None) -> None:
    async with asyncio.timeout(BOUND_S):
        async for event in run.events():
            if react is not None:
                await react(event)


def spec(models: list[str], n: int, prompt: str = "compare these", **extra: Any) -> RunSpec:
    return RunSpec(prompt=prompt, target="gateway", models=models, n=n, **extra)


async def record(recorder: HistoryRecorder, run: Run) -> None:
    recorder.run_started(run, checkpoint_every=None)
    await drive(run)
    recorder.run_finished(run)
    await recorder.flush()


# ---- a run, start to end -------------------------------------------------------------------


async def test_a_run_is_recorded_from_start_to_end(
    recorder: HistoryRecorder, gateway: Backends, fault_server: BackgroundServer
) -> None:
    run = Run(spec(["ok", "error-in-stream"], 2, system="be brief", temperature=0.3), gateway)
    recorder.run_started(run, tags=["smoke"], checkpoint_every=None)
    await recorder.flush()
    store = recorder.store
    assert store is not None
    [started] = store.list_runs()
    assert (started.run_id, started.status, started.n) == (run.run_id, "running", 2)

    await drive(run)
    recorder.run_finished(run)
    await recorder.flush()

    stored = store.load_run(run.run_id)
    assert stored is not None
    assert stored.status == "finished" and stored.ended_at is not None
    assert (stored.prompt, stored.system, stored.tags) == ("compare these", "be brief", ["smoke"])
    assert stored.settings["temperature"] == 0.3 and stored.settings["models"] == [
        "ok",
        "error-in-stream",
    ]
    assert stored.bases["gateway"] == fault_server.base_url
    ok, bad = stored.variants
    assert (ok.variant_id, ok.model, ok.status, ok.answer) == ("v1", "ok", "done", OK_TEXT)
    assert ok.record["text"] == OK_TEXT and ok.record["chars"] == len(OK_TEXT)
    assert ok.record["finish_reason"] == "stop" and ok.record["ttft_ms"] is not None
    assert bad.status == "error" and bad.error and bad.record["error_category"] == "stream_error"
    assert bad.answer == EXPECTED_TEXT["error-in-stream"]
    [summary] = store.list_runs()
    assert summary.status == "finished" and summary.models == ["ok", "error-in-stream"]


async def test_several_judgments_per_run_are_all_kept(
    recorder: HistoryRecorder, gateway: Backends
) -> None:
    run = Run(spec(["ok", "burst"], 2), gateway)
    await record(recorder, run)
    first = await judge_run(run, gateway, JudgeSpec(model="judge-ok", rounds=2, seed=7))
    second = await judge_run(run, gateway, JudgeSpec(model="judge-fenced", seed=3))
    assert first.status == "verdict" and second.status == "verdict"
    recorder.add_judgment(run.run_id, first)
    recorder.add_judgment(run.run_id, second)
    await recorder.flush()
    store = recorder.store
    assert store is not None and recorder.write_error is None

    stored = store.load_run(run.run_id)
    assert stored is not None
    assert [j.judge_model for j in stored.judgments] == ["judge-ok", "judge-fenced"]
    again = stored.judgments[0].to_verdict()
    assert again == first  # rounds with their order, picks, scores, raw answers
    assert [r.order for r in again.rounds] == [r.order for r in first.rounds]

    [summary] = store.list_runs()
    assert summary.judge_model == "judge-fenced"  # the latest judgment
    assert summary.winner_id == second.best_id
    assert summary.winner_model == run.variants[second.best_id or ""].model

    battles = list(store.judged_runs())
    assert [(b.judge_model, b.winner_id) for b in battles] == [
        ("judge-ok", first.best_id),
        ("judge-fenced", second.best_id),
    ]
    assert battles[0].models == {"v1": "ok", "v2": "burst"}
    assert battles[0].finished == ["v1", "v2"]
    assert [b.judge_model for b in store.judged_runs(judge_model="judge-fenced")] == [
        "judge-fenced"
    ]


# ---- search --------------------------------------------------------------------------------


async def test_search_finds_a_word_in_an_answer_and_in_a_prompt(
    recorder: HistoryRecorder, gateway: Backends
) -> None:
    photo = Run(spec(["ok"], 1, prompt="Explain photosynthesis"), gateway)
    other = Run(spec(["slow"], 1, prompt="Something else"), gateway)
    await record(recorder, photo)
    await record(recorder, other)
    store = recorder.store
    assert store is not None and store.has_fts

    def found(query: str) -> list[str]:
        return [r.run_id for r in store.list_runs(search=query)]

    assert found("epsilon") == [photo.run_id]  # in OK_TEXT, the answer only
    assert found("photosynthesis") == [photo.run_id]  # in the prompt only
    assert found("photo") == [photo.run_id]  # words match as prefixes
    assert found("steady") == [other.run_id]
    assert found("nowhere") == []
    # FTS syntax in the query is taken as words, never as a query language (or an error)
    assert found('"epsilon') == [photo.run_id]
    assert found("(zeta* -alpha:") == [photo.run_id]
    assert found("epsilon OR nowhere") == []  # every word must be there

    store.has_fts = False  # as on a SQLite built without FTS5: LIKE, still found
    assert found("epsilon") == [photo.run_id]
    assert found("100%") == []


# ---- checkpoints ---------------------------------------------------------------------------


async def test_checkpoints_save_the_text_so_far_and_cost_nothing_when_unchanged(
    recorder: HistoryRecorder, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    server = make_fault_server(slow_tokens_per_s=40)
    backends = make_backends(gateway=server.base_url, retry=FAST)
    run = Run(spec(["slow"], 1), backends)
    store = recorder.store
    assert store is not None
    recorder.run_started(run, checkpoint_every=0.05)
    seen: list[str] = []

    async def react(event: Any) -> None:
        if isinstance(event, VariantDelta) and not seen:
            # the timer's checkpoint lands while the run streams
            while not seen:
                await recorder.flush()
                stored = store.load_run(run.run_id)
                assert stored is not None and stored.status == "running"
                if stored.variants[0].answer:
                    seen.append(stored.variants[0].answer)
                else:
                    await asyncio.sleep(0.02)

    try:
        await drive(run, react)
    finally:
        await backends.aclose()
    assert seen and EXPECTED_TEXT["slow"].startswith(seen[0])
    recorder.run_finished(run)
    assert not recorder.checkpoint(run)  # a finished run is not checkpointed again
    await recorder.flush()

    other = Run(spec(["slow"], 1), backends)
    recorder.run_started(other, checkpoint_every=None)
    assert not recorder.checkpoint(other)  # nothing changed since it started
    other.variants["v1"].add_text("x", 0.0)
    assert recorder.checkpoint(other)
    assert not recorder.checkpoint(other)


# ---- a killed writer -----------------------------------------------------------------------


def test_a_run_killed_mid_stream_is_interrupted_with_its_last_checkpoint(
    db_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    server = make_fault_server(slow_tokens_per_s=30)
    db_path.parent.mkdir(parents=True)
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), "kill", str(db_path), server.base_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        first = proc.stdout.readline()
        assert first, proc.stderr.read()
        proc.stdin.write("\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        # Still running, as far as a reader can tell.
        reader = HistoryStore.open(db_path)
        last = json.loads(line)
        assert reader.list_runs()[0].status == "running"
        reader.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=BOUND_S)
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    store = HistoryStore.open(db_path)  # a new process opens the history
    stored = store.load_run(last["run_id"])
    assert stored is not None and stored.status == "interrupted"
    texts = {v.variant_id: v.answer for v in stored.variants}
    assert texts == last["texts"] and any(texts.values())
    assert texts != json.loads(first)["texts"]  # the second checkpoint, not the first
    assert [r.status for r in store.list_runs()] == ["interrupted"]
    store.close()


async def test_a_live_writers_running_run_is_not_called_interrupted(
    recorder: HistoryRecorder, gateway: Backends, db_path: Path
) -> None:
    run = Run(spec(["ok"], 1), gateway)
    recorder.run_started(run, checkpoint_every=None)
    await recorder.flush()
    second = HistoryStore.open(db_path)  # e.g. `scillm-tui history` while the app runs
    assert [r.status for r in second.list_runs()] == ["running"]
    second.close()


# ---- two processes -------------------------------------------------------------------------


def test_two_processes_writing_at_once_both_succeed(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    count = 60
    procs = [
        subprocess.Popen(
            [sys.executable, str(HELPER), "write", str(db_path), tag, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("cli", "app")
    ]
    for proc in procs:  # both open a database that does not exist yet, at once
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == f"done {count}"
    store = HistoryStore.open(db_path)
    assert store.count_runs() == 2 * count
    runs = store.list_runs(limit=1000)
    assert {r.status for r in runs} == {"finished"}
    assert {r.judge_model for r in runs} == {"judge-cli", "judge-app"}
    stored = store.load_run("app-7")
    assert stored is not None and stored.variants[0].answer == "answer app 7"
    store.close()


# ---- files, secrets, damage ------------------------------------------------------------------


async def test_the_database_file_is_private(recorder: HistoryRecorder, gateway: Backends) -> None:
    await record(recorder, Run(spec(["ok"], 1), gateway))
    store = recorder.store
    assert store is not None
    files = [p for p in store.path.parent.iterdir() if p.name.startswith("history.db")]
    assert store.path in files and len(files) >= 2  # the database and its WAL
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_the_key_a_server_required_is_nowhere_in_the_database(
    db_path: Path,
    make_fault_server: Callable[..., BackgroundServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = f"sk-LEAKCHECK-{secrets.token_hex(16)}"
    server = make_fault_server(require_key=key)
    monkeypatch.setenv("CHUTES_API_KEY", key)
    backends = make_backends(gateway=server.base_url, retry=FAST)
    recorder = HistoryRecorder.open(db_path, enabled=True)
    try:
        run = Run(spec(["ok", "judge-ok"], 2), backends)
        await record(recorder, run)
        verdict = await judge_run(run, backends, JudgeSpec(model="judge-ok"))
        recorder.add_judgment(run.run_id, verdict)
        await recorder.flush()
    finally:
        await backends.aclose()
    # The key was really used: the server refuses requests without it.
    assert run.variants["v1"].status == "done" and verdict.status == "verdict"
    store = recorder.store
    assert store is not None
    stored = store.load_run(run.run_id)
    assert stored is not None and stored.bases["gateway"] == server.base_url
    recorder.close()
    files = [p for p in db_path.parent.iterdir() if p.name.startswith("history.db")]
    assert files
    for path in files:
        data = path.read_bytes()
        assert key.encode() not in data and b"LEAKCHECK" not in data, path


def test_a_damaged_database_is_moved_aside_and_a_new_one_started(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = b"this is not a database\n" * 200
    db_path.write_bytes(garbage)
    recorder = HistoryRecorder.open(db_path, enabled=True)
    try:
        assert recorder.enabled
        assert recorder.warning is not None and "moved to history.db.corrupt-" in (recorder.warning)
        [aside] = db_path.parent.glob("history.db.corrupt-*")
        assert aside.read_bytes() == garbage  # kept, never deleted
        assert recorder.store is not None and recorder.store.list_runs() == []
    finally:
        recorder.close()
    again = HistoryStore.open(db_path)  # the fresh one is fine next time: no warning
    assert again.warning is None
    again.close()


def test_a_database_from_a_newer_version_is_left_alone(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA user_version = 999")
    before = db_path.read_bytes()
    with pytest.raises(HistoryUnavailable, match="version 999"):
        HistoryStore.open(db_path)
    recorder = HistoryRecorder.open(db_path, enabled=True)
    assert not recorder.enabled and recorder.warning and "version 999" in recorder.warning
    assert db_path.read_bytes() == before
    assert not list(db_path.parent.glob("*.corrupt-*"))


# ---- off, and failures that must not reach the run -------------------------------------------


async def test_scillm_history_0_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, gateway: Backends
) -> None:
    monkeypatch.setenv("SCILLM_HISTORY", "0")
    recorder = HistoryRecorder.open()
    assert not recorder.enabled and recorder.warning is None
    await record(recorder, Run(spec(["ok"], 1), gateway))  # every call is accepted
    await recorder.aclose()
    assert not default_path().exists()
    monkeypatch.setenv("SCILLM_HISTORY", "1")
    on = HistoryRecorder.open()
    assert on.enabled and on.store is not None
    assert on.store.path == Path(os.environ["XDG_DATA_HOME"]) / "scillm-tui" / "history.db"
    await on.aclose()


async def test_a_failed_write_is_reported_not_raised(recorder: HistoryRecorder) -> None:
    recorder.add_human_verdict("no-such-run", ["v1", "v2"])
    await recorder.flush()
    assert recorder.write_error is not None and "history" in recorder.write_error


async def test_writes_happen_on_the_recorders_thread_never_on_the_loop(
    recorder: HistoryRecorder, gateway: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = recorder.store
    assert store is not None
    release = threading.Event()
    threads: list[str] = []
    real_finish = store.finish_run

    def slow_disk(*args: Any, **kwargs: Any) -> None:
        threads.append(threading.current_thread().name)
        assert release.wait(BOUND_S)  # a disk that takes its time
        real_finish(*args, **kwargs)

    monkeypatch.setattr(store, "finish_run", slow_disk)
    run = Run(spec(["ok"], 1), gateway)
    recorder.run_started(run, checkpoint_every=None)
    await drive(run)
    recorder.run_finished(run)  # returns although the write is stuck
    stored = store.load_run(run.run_id)
    assert stored is not None and stored.status == "running"
    release.set()
    await recorder.flush()
    assert threads and threads[0].startswith("scillm-history")
    assert threads[0] != threading.current_thread().name
    stored = store.load_run(run.run_id)
    assert stored is not None and stored.status == "finished"
