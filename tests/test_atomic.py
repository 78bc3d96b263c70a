"""Atomic artifact writes and the crash-safe JSONL history."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

from scillm_tui.core import atomic
from scillm_tui.core.atomic import (
    append_line_atomic,
    atomic_write_bytes,
    atomic_write_text,
)

HELPER = Path(__file__).with_name("atomic_kill_helper.py")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of our own (other fixtures may put things in tmp_path)."""
    path = tmp_path / "atomic-test"
    path.mkdir()
    return path


def _tmp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---- atomic_write_text / atomic_write_bytes -----------------------------------------------------


def test_write_creates_and_replaces_without_leftovers(folder: Path) -> None:
    target = folder / "result.md"
    atomic_write_text(target, "first ✓\n")
    assert target.read_text(encoding="utf-8") == "first ✓\n"
    atomic_write_text(target, "second")
    assert target.read_text(encoding="utf-8") == "second"
    atomic_write_bytes(folder / "raw.bin", b"\x00\xffdata")
    assert (folder / "raw.bin").read_bytes() == b"\x00\xffdata"
    assert sorted(p.name for p in folder.iterdir()) == ["raw.bin", "result.md"]


def test_write_honours_encoding(folder: Path) -> None:
    target = folder / "latin.txt"
    atomic_write_text(target, "café", encoding="latin-1")
    assert target.read_bytes() == b"caf\xe9"


def test_new_file_gets_normal_permissions_and_existing_mode_is_kept(folder: Path) -> None:
    fresh = folder / "fresh.txt"
    atomic_write_text(fresh, "x")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600

    kept = folder / "kept.txt"
    kept.write_text("old")
    kept.chmod(0o640)
    atomic_write_text(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


def test_failed_replace_keeps_old_target_and_removes_temp(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = folder / "summary.json"
    atomic_write_text(target, '{"v": 1}')

    def boom(src: str, dst: str) -> None:
        assert Path(src).name.startswith(".summary.json.") and src.endswith(".tmp")
        assert Path(src).read_text() == '{"v": 2}'  # the temp file was complete
        raise OSError("disk on fire")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write_text(target, '{"v": 2}')
    assert target.read_text() == '{"v": 1}'
    assert _tmp_files(folder) == []


def test_failure_during_write_removes_temp_and_creates_no_target(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fsync(fd: int) -> None:
        raise OSError("fsync failed")

    monkeypatch.setattr(atomic.os, "fsync", no_fsync)
    with pytest.raises(OSError, match="fsync failed"):
        atomic_write_bytes(folder / "new.bin", b"payload")
    assert list(folder.iterdir()) == []


def test_interrupt_is_not_swallowed_and_cleans_up(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(folder / "a.txt", "x")
    assert list(folder.iterdir()) == []


def test_write_into_missing_folder_fails_cleanly(folder: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_text(folder / "nope" / "a.txt", "x")
    assert list(folder.iterdir()) == []


# ---- append_line_atomic --------------------------------------------------------------------------


def test_append_creates_file_and_keeps_earlier_lines(folder: Path) -> None:
    history = folder / "history.jsonl"
    append_line_atomic(history, '{"n": 1}')
    append_line_atomic(history, '{"n": 2}')
    assert history.read_text() == '{"n": 1}\n{"n": 2}\n'
    assert not (folder / "history.jsonl.lock").exists()  # the lock leaves nothing behind
    assert _tmp_files(folder) == []


def test_append_removes_the_lock_file_an_earlier_version_left(folder: Path) -> None:
    history = folder / "history.jsonl"
    (folder / "history.jsonl.lock").write_text("")
    append_line_atomic(history, '{"n": 1}')
    assert sorted(p.name for p in folder.iterdir()) == ["history.jsonl"]


def test_append_repairs_a_missing_final_newline(folder: Path) -> None:
    history = folder / "history.jsonl"
    history.write_text('{"n": 1}')
    append_line_atomic(history, '{"n": 2}')
    assert history.read_text() == '{"n": 1}\n{"n": 2}\n'


@pytest.mark.parametrize("line", ['{"a": 1}\n', "x\ny", "x\ry"])
def test_append_rejects_line_breaks(folder: Path, line: str) -> None:
    history = folder / "history.jsonl"
    history.write_text("keep\n")
    with pytest.raises(ValueError, match="line break"):
        append_line_atomic(history, line)
    assert history.read_text() == "keep\n"


def test_failed_append_keeps_history(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = folder / "history.jsonl"
    append_line_atomic(history, '{"n": 1}')

    def boom(src: str, dst: str) -> None:
        raise OSError("no space left")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError, match="no space left"):
        append_line_atomic(history, '{"n": 2}')
    assert history.read_text() == '{"n": 1}\n'
    assert _tmp_files(folder) == []


def test_concurrent_appends_from_threads_lose_nothing(folder: Path) -> None:
    history = folder / "history.jsonl"
    start = threading.Barrier(4)

    def worker(t: int) -> None:
        start.wait()
        for i in range(25):
            append_line_atomic(history, json.dumps({"t": t, "i": i}))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = [json.loads(line) for line in history.read_text().splitlines()]
    assert sorted((r["t"], r["i"]) for r in records) == [
        (t, i) for t in range(4) for i in range(25)
    ]


_APPENDER = """
import json, sys
from pathlib import Path
from scillm_tui.core.atomic import append_line_atomic

path, proc_id = Path(sys.argv[1]), int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()  # wait for "go" so all processes append at the same time
for i in range(25):
    append_line_atomic(path, json.dumps({"proc": proc_id, "i": i, "pad": "y" * 500}))
"""


def test_concurrent_appends_from_processes_lose_nothing(folder: Path) -> None:
    history = folder / "history.jsonl"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, str(history), str(p)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in range(4)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.close()
        for proc in procs:
            assert proc.wait(timeout=60) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    raw = history.read_text()
    assert raw.endswith("\n")
    records = [json.loads(line) for line in raw.splitlines()]  # every line is intact JSON
    assert len(records) == 100
    assert all(r["pad"] == "y" * 500 for r in records)
    assert sorted((r["proc"], r["i"]) for r in records) == [
        (p, i) for p in range(4) for i in range(25)
    ]
    for p in range(4):  # each process's lines stay in its own order
        assert [r["i"] for r in records if r["proc"] == p] == list(range(25))


# ---- SIGKILL at arbitrary points -----------------------------------------------------------------


def _load_helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location("atomic_kill_helper", HELPER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_STRAY_TEMP = re.compile(r"^\.(export\.txt|history\.jsonl)\..+\.tmp$")


def _check_state(directory: Path, helper: ModuleType) -> tuple[int, int]:
    """Assert the folder holds only complete data; return (export version, history length)."""
    target = directory / "export.txt"
    version = 0
    if target.exists():
        content = target.read_text(encoding="utf-8")
        header = content.split("\n", 1)[0]
        assert header.startswith("version "), f"export starts with {header[:40]!r}"
        version = int(header.removeprefix("version "))
        assert content == helper.content_for(version), f"export version {version} is partial"

    seqs: list[int] = []
    history = directory / "history.jsonl"
    if history.exists():
        raw = history.read_text(encoding="utf-8")
        assert raw == "" or raw.endswith("\n"), "history ends in a torn line"
        for line in raw.splitlines():
            assert line == helper.history_line(json.loads(line)["seq"])
            seqs.append(json.loads(line)["seq"])
    assert seqs == list(range(1, len(seqs) + 1)), f"history sequence broken: {seqs}"
    # Round N writes the export, then appends N: the export is at most one round ahead.
    assert version in (len(seqs), len(seqs) + 1), (version, len(seqs))

    for path in directory.iterdir():
        if path.name in ("export.txt", "history.jsonl", "history.jsonl.lock"):
            continue
        # A killed writer may leave its temp file; it must be a hidden *.tmp nobody uses.
        assert _STRAY_TEMP.match(path.name), f"unexpected file {path.name}"
    return version, len(seqs)


def _run_and_kill(directory: Path, pause_at: int, lines_before_kill: int, seed: int) -> list[str]:
    """Start the helper, read `lines_before_kill` progress lines, SIGKILL it, return them."""
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), str(directory), str(pause_at), str(seed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
    lines: list[str] = []
    try:
        for _ in range(lines_before_kill):
            line = proc.stdout.readline()
            assert line, f"helper stopped early: {proc.stderr.read()}"
            lines.append(line.rstrip("\n"))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
    return lines


def _expected_after(lines: list[str]) -> tuple[int, int]:
    """(export version, history length) when the helper dies right after its last line."""
    step, _what = lines[-1].split(": ", 1)
    kind, number = step.split()
    n = int(number)
    renamed = f"{step}: after rename" in lines
    if kind == "export":
        return (n if renamed else n - 1), n - 1
    return n, (n if renamed else n - 1)


# One round prints 13 lines: export (writing, temp half written, before fsync, before rename,
# after rename, before fsync of the folder) then history (appending, the same five, done).
LINES_PER_ROUND = 13
RACE_KILLS = [1, 2, 3, 7, 8, 13]  # no pause: the kill lands wherever the helper got to


def test_sigkill_never_leaves_a_partial_export_or_history(folder: Path) -> None:
    helper = _load_helper()
    progress = (0, 0)
    strays: set[str] = set()
    killed_mid_write = 0
    # Exact points: the helper stops at its k-th line, so the kill lands precisely there.
    for k in range(1, LINES_PER_ROUND + 1):
        lines = _run_and_kill(folder, pause_at=k, lines_before_kill=k, seed=k)
        state = _check_state(folder, helper)
        assert state == _expected_after(lines), lines[-1]
        new_strays = {p.name for p in folder.glob(".*.tmp")} - strays
        step = lines[-1].split(": ", 1)[0]
        inside_write = lines[-1].endswith(("half written", "before fsync", "before rename"))
        if inside_write and f"{step}: after rename" not in lines:
            assert len(new_strays) == 1, lines[-1]  # the kill really hit mid-write
            killed_mid_write += 1
        else:
            assert not new_strays, lines[-1]
        strays |= new_strays
        assert state >= progress  # a restart never loses completed work
        progress = state
    assert killed_mid_write == 6  # half written, before fsync, before rename; x2 files
    # Unplanned points: let the helper run freely and kill it after a few lines.
    for seed, k in enumerate(RACE_KILLS, start=100):
        _run_and_kill(folder, pause_at=0, lines_before_kill=k, seed=seed)
        state = _check_state(folder, helper)
        assert state >= progress
        progress = state
    assert progress[1] >= 3  # the kills after the history rename (k = 11..13) completed rounds
