"""`scillm-tui batch`: prompt files, a recorded batch with its leaderboard, resume after a
SIGKILL, ctrl+c, progress on stderr, and the shared 429 backoff."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from scillm_tui.cli.batch_progress import batch_progress_for, summary_line
from scillm_tui.core.batch.prompts import PromptFileError, prompt_id, read_prompts
from scillm_tui.core.batch.runner import BatchStats, PromptOutcome
from scillm_tui.core.events import VariantQueued
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.run_history import HistoryStore
from scillm_tui.core.runs import Run, RunSpec, StreamLimits
from scillm_tui.demo.server import BackgroundServer
from tests.engine_support import make_backends
from tests.test_cli import CLI, clean_env, run_cli

BATCH = ("--model", "ok", "--model", "slow", "-n", "2", "--judge-model", "judge-ok")


def history(tmp_path: Path) -> HistoryStore:
    found = list((tmp_path / "home" / "data").rglob("history.db"))
    assert len(found) == 1, found
    return HistoryStore.open(found[0])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- prompt files ---------------------------------------------------------------------------


def test_txt_skips_blank_lines_and_comments_and_hashes_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "p.txt", "# a comment\nfirst prompt\n\n   \n  # another\nsecond\n")
    prompts = read_prompts(path)
    assert [(p.prompt, p.line) for p in prompts] == [("first prompt", 2), ("second", 6)]
    assert prompts[0].id == prompt_id("first prompt", None)
    # The id is the text's, not the line's: moving the prompt keeps it (resume relies on it).
    moved = read_prompts(write(tmp_path, "q.txt", "new one\nsecond\nfirst prompt\n"))
    assert {p.prompt: p.id for p in moved}["first prompt"] == prompts[0].id


def test_jsonl_and_csv_read_every_field(tmp_path: Path) -> None:
    jsonl = write(
        tmp_path,
        "p.jsonl",
        '{"prompt": "a", "system": "be brief", "id": "q1", "tags": ["x", "y"]}\n\n'
        '{"prompt": "b", "id": 7}\n',
    )
    got = [(p.id, p.prompt, p.system, p.tags, p.line) for p in read_prompts(jsonl)]
    assert got == [("q1", "a", "be brief", ("x", "y"), 1), ("7", "b", None, (), 3)]
    csv_path = write(
        tmp_path,
        "p.csv",
        'prompt,system,id,tags\n"multi\nline",,c1,a;b\nplain,sys,,\n',
    )
    got = [(p.id, p.prompt, p.system, p.tags, p.line) for p in read_prompts(csv_path)]
    assert got[0] == ("c1", "multi\nline", None, ("a", "b"), 3)
    assert got[1] == (prompt_id("plain", "sys"), "plain", "sys", (), 4)


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("p.jsonl", '{"prompt": "ok"}\n{"prompt": "x",}\n', 2, "not JSON"),
        ("p.jsonl", '{"prompt": "ok"}\n\n["a list"]\n', 3, "JSON object"),
        ("p.jsonl", '{"prompt": "ok"}\n{"promt": "typo"}\n', 2, "unknown field 'promt'"),
        ("p.jsonl", '{"prompt": "   "}\n', 1, "'prompt' is missing or empty"),
        ("p.jsonl", '{"prompt": "a", "tags": [1]}\n', 1, "'tags'"),
        ("p.jsonl", '{"prompt": "a", "id": "x"}\n{"prompt": "b", "id": "x"}\n', 2, "line 1"),
        ("p.csv", "text,id\nhello,1\n", 1, "no 'prompt' column"),
        ("p.csv", "prompt,id\nhello,1\nbye,2,extra\n", 3, "more fields"),
        ("p.csv", "prompt,id\nhello,1\n,2\n", 3, "'prompt' is missing"),
        ("p.txt", "same\nother\nsame\n", 3, "duplicate prompt id"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, name: str, text: str, line: int, message: str) -> None:
    with pytest.raises(PromptFileError) as caught:
        read_prompts(write(tmp_path, name, text))
    assert caught.value.line == line
    assert f"{name}:{line}: " in str(caught.value) and message in str(caught.value)


def test_unknown_format_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError, match=r"use \.txt, \.jsonl or \.csv"):
        read_prompts(write(tmp_path, "p.md", "hi\n"))
    with pytest.raises(PromptFileError, match="no prompts"):
        read_prompts(write(tmp_path, "p.txt", "# only a comment\n\n"))
    bad = tmp_path / "p.txt"
    bad.write_bytes(b"fine\n\xff\xfe broken\n")
    with pytest.raises(PromptFileError, match=r"p.txt:2: not UTF-8"):
        read_prompts(bad)


def test_cli_rejects_a_bad_file_with_exit_2_and_runs_nothing(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    write(tmp_path, "p.jsonl", '{"prompt": "fine"}\n{"prompt": 3}\n')
    result = run_cli(tmp_path, "--gateway", fault_server.base_url, "batch", "p.jsonl", *BATCH)
    assert result.code == 2 and result.stdout == ""
    assert "p.jsonl:2: 'prompt' is missing or empty" in result.stderr
    assert fault_server.app.state.faults.chat_requests() == []


# ---- a batch end to end ---------------------------------------------------------------------


def test_batch_records_every_prompt_and_prints_the_leaderboard(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    write(
        tmp_path,
        "p.jsonl",
        "".join(
            json.dumps({"prompt": f"q{i}", "id": f"id{i}", "tags": ["t"]}) + "\n" for i in range(4)
        ),
    )
    result = run_cli(
        tmp_path, "--gateway", fault_server.base_url, "batch", "p.jsonl", *BATCH, "--tag", "nightly"
    )
    assert result.code == 0, result.stderr
    out = result.json
    batch_id = out["batch_id"]
    assert batch_id.startswith("b-")
    assert out["counts"] == {
        "prompts": 4,
        "judged": 4,
        "finished": 0,
        "failed": 0,
        "interrupted": 0,
        "skipped": 0,
        "not_started": 0,
    }
    board = {row["model"]: row for row in out["leaderboard"]}
    keys = {"model", "rating", "ci_low", "ci_high", "rank", "wins", "battles", "win_rate"}
    assert set(board) == {"ok", "slow"} and all(set(r) == keys for r in board.values())
    # judge-ok always picks candidate A, and v1 (model "ok") is shown first.
    assert board["ok"]["wins"] == 4 and board["ok"]["battles"] == 4
    assert board["ok"]["rating"] > board["slow"]["rating"]
    store = history(tmp_path)
    try:
        runs = store.list_runs(batch_id=batch_id)
        assert len(runs) == 4 and all(r.status == "finished" for r in runs)
        stored = [store.load_run(r.run_id) for r in runs]
        assert sorted(s.prompt_id for s in stored if s) == ["id0", "id1", "id2", "id3"]
        assert all(s and s.tags == ["nightly", "t"] and len(s.judgments) == 1 for s in stored)
        assert len(list(store.judged_runs(batch_id=batch_id))) == 4
        assert list(store.judged_runs(batch_id="b-other")) == []
    finally:
        store.close()
    # No escape codes in a log; one line per prompt with the counts.
    assert "\x1b" not in result.stderr
    assert result.stderr.count("ok wins") == 4
    assert "[4/4 prompts" in result.stderr


def test_batch_with_every_variant_failing_exits_1(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    write(tmp_path, "p.txt", "one\ntwo\n")
    result = run_cli(
        tmp_path, "--gateway", fault_server.base_url, "batch", "p.txt",
        "--model", "401", "-n", "2", "--judge-model", "judge-ok",
    )  # fmt: skip
    assert result.code == 1
    assert result.json["counts"]["failed"] == 2 and result.json["leaderboard"] == []
    assert "--resume " + result.json["batch_id"] in result.stderr


# ---- interrupting and resuming --------------------------------------------------------------


def _start(tmp_path: Path, base_url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "--gateway", base_url, "batch", *args],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], predicate: Callable[[str], bool]) -> list[str]:
    assert proc.stderr is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if predicate(line):
            return lines
    raise AssertionError("".join(lines))


SLOW = ("--model", "slow", "--model", "ok", "-n", "2", "--judge-model", "judge-ok")


def test_resume_after_sigkill_judges_every_prompt_once(
    tmp_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    server = make_fault_server(slow_tokens_per_s=40)
    write(tmp_path, "p.txt", "".join(f"prompt {i}\n" for i in range(8)))
    proc = _start(tmp_path, server.base_url, "p.txt", *SLOW, "--concurrency", "2")
    try:
        lines = _read_until(proc, lambda line: "[2/8 prompts" in line)
    finally:
        proc.kill()
        proc.wait(10)
    batch_id = lines[0].split()[2].rstrip(":")
    assert batch_id.startswith("b-")
    result = run_cli(tmp_path, "--gateway", server.base_url, "batch", "p.txt", "--resume", batch_id)
    assert result.code == 0, result.stderr
    out = result.json
    assert out["batch_id"] == batch_id and out["models"] == ["slow", "ok"]
    counts = out["counts"]
    assert counts["skipped"] >= 2 and counts["skipped"] + counts["judged"] == 8
    store = history(tmp_path)
    try:
        judged = list(store.judged_runs(batch_id=batch_id))
        prompt_of = {r.run_id: r.prompt_id for r in store.batch_runs(batch_id)}
        per_prompt = Counter(prompt_of[j.run_id] for j in judged)
        expected = {p.id for p in read_prompts(tmp_path / "p.txt")}
        assert set(per_prompt) == expected  # none lost
        assert set(per_prompt.values()) == {1}  # none judged twice
        assert {r.status for r in store.batch_runs(batch_id)} <= {"finished", "interrupted"}
    finally:
        store.close()
    assert sum(row["battles"] for row in out["leaderboard"]) == 16  # 8 prompts, 2 models


def test_ctrl_c_starts_no_new_prompt_and_says_how_to_resume(
    tmp_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    server = make_fault_server(slow_tokens_per_s=40)
    write(tmp_path, "p.txt", "".join(f"prompt {i}\n" for i in range(10)))
    proc = _start(tmp_path, server.base_url, "p.txt", *SLOW, "--concurrency", "2")
    try:
        lines = _read_until(proc, lambda line: "wins" in line)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in stderr
    assert proc.returncode == 0, stderr
    out = json.loads(stdout)
    assert out["stopped"] is True and out["counts"]["not_started"] > 0
    assert out["counts"]["judged"] + out["counts"]["not_started"] == 10
    hint = f"scillm-tui batch p.txt --resume {out['batch_id']}"
    assert out["resume"] == hint and hint in stderr
    assert "no new prompts" in stderr
    store = history(tmp_path)
    try:
        runs = store.batch_runs(out["batch_id"])
        assert len(runs) == out["counts"]["judged"] and all(r.status == "finished" for r in runs)
    finally:
        store.close()
    del lines


def test_second_ctrl_c_interrupts_the_prompts_in_flight(
    tmp_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    server = make_fault_server(slow_tokens_per_s=5)  # a few seconds per run
    write(tmp_path, "p.txt", "one\ntwo\nthree\n")
    proc = _start(tmp_path, server.base_url, "p.txt", *SLOW, "--concurrency", "2")
    try:
        assert server.app.state.faults.wait_for_streams(2, 30)
        proc.send_signal(signal.SIGINT)
        _read_until(proc, lambda line: "no new prompts" in line)
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = json.loads(stdout)
    assert out["counts"]["interrupted"] >= 1 and out["counts"]["judged"] == 0
    assert proc.returncode == 1
    store = history(tmp_path)
    try:
        assert {r.status for r in store.batch_runs(out["batch_id"])} == {"interrupted"}
    finally:
        store.close()


# ---- progress -------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_live_line_on_a_terminal_plain_lines_elsewhere() -> None:
    stats = BatchStats(total=10, judged=3, failed=1, failed_variants=2, agree=5, rounds=6)
    stats.streaming = 4
    outcome = PromptOutcome("p-1", "r1", "judged", winner_model="m-a")
    tty = _Tty()
    live = batch_progress_for(tty)
    live.tick(stats)
    live.prompt_done(outcome, stats)
    text = tty.getvalue()
    assert text.count("\r\x1b[2K") == 2 and "\n" not in text  # rewritten in place
    assert "4/10 prompts · 4 streaming · 1 failed (2 variants) · judge agreement 83%" in text
    assert "ETA " in text
    failed = PromptOutcome("p-2", "r2", "failed", note="judge failed: garbage")
    live.prompt_done(failed, stats)
    assert "p-2: failed — judge failed: garbage\n" in tty.getvalue()  # kept above the line
    log = io.StringIO()
    plain = batch_progress_for(log)
    plain.tick(stats)
    assert log.getvalue() == ""  # no redraws in a log
    plain.prompt_done(outcome, stats)
    assert log.getvalue() == f"scillm-tui: [{summary_line(stats)}] p-1: m-a wins\n"
    assert "\x1b" not in log.getvalue()


# ---- shared limits and the shared 429 backoff -----------------------------------------------


async def test_a_429_holds_the_endpoint_for_every_stream(fault_server: BackgroundServer) -> None:
    faults = fault_server.app.state.faults
    backends = make_backends(gateway=fault_server.base_url, retry=RetryPolicy(), idle_s=10)
    try:
        first = Run(RunSpec(prompt="x", models=["429-then-ok"], n=1), backends)
        first_task = asyncio.create_task(_drain(first))
        client = backends.client("gateway")
        while client.backoff.holds == 0:  # the 429 (Retry-After: 1) has arrived
            await asyncio.sleep(0.01)
        held_at = time.monotonic()
        others = [Run(RunSpec(prompt=f"y{i}", models=["ok"], n=3), backends) for i in range(2)]
        await asyncio.gather(*(_drain(r) for r in others))
        waited = time.monotonic() - held_at
        await first_task
    finally:
        await backends.aclose()
    assert all(v.status == "done" for r in (first, *others) for v in r.variants.values())
    assert first.variants["v1"].retries == 1
    # Six streams started after the 429: none was sent before the Retry-After passed, so
    # the server saw the 429, then the seven requests — not six more attempts at once.
    assert waited >= 0.9
    assert len(faults.chat_requests()) == 8


async def test_shared_limits_cap_streams_across_runs(fault_server: BackgroundServer) -> None:
    faults = fault_server.app.state.faults
    backends = make_backends(gateway=fault_server.base_url, retry=RetryPolicy(), idle_s=10)
    limits = StreamLimits(3)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, faults.active_streams)
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        runs = [
            Run(RunSpec(prompt=f"p{i}", models=["slow"], n=2), backends, shared_limits=limits)
            for i in range(3)
        ]
        results = await asyncio.gather(*(_drain(r) for r in runs))
        reasons = {reason for found in results for reason in found}
    finally:
        watcher.cancel()
        await backends.aclose()
    assert all(v.status == "done" for r in runs for v in r.variants.values())
    assert peak == 3  # six streams, three runs, never more than three at once
    assert "the batch sends 3 at a time" in reasons


async def _drain(run: Run) -> set[str]:
    """Drive `run` to its end; the reasons its variants were queued for."""
    reasons = set()
    async for event in run.events():
        if isinstance(event, VariantQueued) and event.reason:
            reasons.add(event.reason)
    return reasons
