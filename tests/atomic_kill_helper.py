"""Subprocess for tests/test_atomic.py: write and append in a loop until SIGKILLed.

Usage: python atomic_kill_helper.py <dir> <pause_at> <seed>

Each round N writes `<dir>/export.txt` (about 3 MB, see `content_for`) with
atomic_write_text, then appends `history_line(N)` to `<dir>/history.jsonl` with
append_line_atomic. It resumes after the last sequence number already in the history
(like a program restarted after a crash), so the test can kill and restart it in the same
folder.

It prints one progress line at every interesting moment, including moments *inside* the
atomic write (the temp file half written, before its fsync, before and after the rename),
which it observes by wrapping `os.fdopen`, `os.fsync` and `os.replace` in this process
only. When it prints its `pause_at`-th line it stops there (blocking on stdin) so the
test's SIGKILL lands exactly at that point. With `pause_at` 0 it never stops and only a
tiny seeded random pause between steps spreads the kill, to catch unplanned moments.
It stops by itself after MAX_ROUNDS rounds or when the test process is gone.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from scillm_tui.core.atomic import append_line_atomic, atomic_write_text

BLOCK = "0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"  # 64 chars
BLOCKS = 48_000  # ~3 MB
MAX_ROUNDS = 200  # never outlive a test that died without killing us


def content_for(version: int) -> str:
    """The full, recognisable content of round `version` (checked whole by the test)."""
    return f"version {version}\n" + BLOCK * BLOCKS + f"end of version {version}\n"


def history_line(seq: int) -> str:
    """One history record; the padding makes a torn line obvious."""
    return json.dumps({"seq": seq, "pad": "x" * 200})


class _Progress:
    def __init__(self, pause_at: int) -> None:
        self.count = 0
        self.pause_at = pause_at
        self.step = "start"

    def report(self, what: str) -> None:
        self.count += 1
        print(f"{self.step}: {what}", flush=True)
        if self.count == self.pause_at and not sys.stdin.readline():
            # The test kills us while we wait here; end of input means the test is gone.
            sys.exit(3)


class _ReportingFile:
    """Wraps the temp file so a report happens with only half the data written."""

    def __init__(self, handle: Any, progress: _Progress) -> None:
        self._handle = handle
        self._progress = progress

    def write(self, data: bytes) -> int:
        half = len(data) // 2
        written = self._handle.write(data[:half])
        self._handle.flush()
        self._progress.report("temp file half written")
        return written + self._handle.write(data[half:])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _ReportingFile:
        self._handle.__enter__()
        return self

    def __exit__(self, *exc: object) -> Any:
        return self._handle.__exit__(*exc)


def _instrument(progress: _Progress) -> None:
    real_fdopen, real_fsync, real_replace = os.fdopen, os.fsync, os.replace

    def fdopen(*args: Any, **kwargs: Any) -> Any:
        return _ReportingFile(real_fdopen(*args, **kwargs), progress)

    def fsync(fd: int) -> None:
        progress.report("before fsync")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        progress.report("before rename")
        real_replace(src, dst)
        progress.report("after rename")

    os.fdopen, os.fsync, os.replace = fdopen, fsync, replace


def main() -> None:
    directory = Path(sys.argv[1])
    progress = _Progress(int(sys.argv[2]))
    rng = random.Random(int(sys.argv[3]))
    target = directory / "export.txt"
    history = directory / "history.jsonl"
    version = 0
    if history.exists():
        lines = history.read_text(encoding="utf-8").splitlines()
        version = json.loads(lines[-1])["seq"] if lines else 0
    _instrument(progress)
    parent = os.getppid()
    for _ in range(MAX_ROUNDS):
        if os.getppid() != parent:
            return
        version += 1
        content = content_for(version)
        progress.step = f"export {version}"
        progress.report("writing")
        if progress.pause_at == 0:
            time.sleep(rng.uniform(0, 0.002))
        atomic_write_text(target, content)
        progress.step = f"history {version}"
        progress.report("appending")
        if progress.pause_at == 0:
            time.sleep(rng.uniform(0, 0.002))
        append_line_atomic(history, history_line(version))
        progress.report("done")


if __name__ == "__main__":
    main()
