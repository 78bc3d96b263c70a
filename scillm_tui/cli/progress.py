"""Progress of a headless run on stderr: live lines on a terminal, plain lines otherwise.

On a terminal one line per variant is redrawn in place. Anywhere else (a CI log, a file,
a pipe) redrawing would leave escape codes in the log, so each change worth a line is
printed once: a variant started, finished, failed or was cancelled; the judge; the verdict.
"""

from __future__ import annotations

import time
from typing import Protocol, TextIO

from scillm_tui.core.judge import JudgeProgress, Verdict
from scillm_tui.core.runs import Run


class Progress(Protocol):
    def update(self, run: Run) -> None: ...
    def finish(self, run: Run) -> None: ...
    def say(self, message: str) -> None: ...
    def judging(self, progress: JudgeProgress) -> None: ...
    def verdict(self, verdict: Verdict) -> None: ...


def progress_for(stream: TextIO) -> Progress:
    """Live lines when `stream` is a terminal, plain lines otherwise."""
    return LiveProgress(stream) if stream.isatty() else PlainProgress(stream)


def judging_line(progress: JudgeProgress) -> str:
    """ "judging 3/12 pairs" """
    return f"judging {progress.done}/{progress.total} {progress.label}"


def verdict_line(verdict: Verdict) -> str:
    if verdict.status in ("verdict", "default"):
        how = " (by default)" if verdict.status == "default" else ""
        agreement = f", agreement {verdict.agreement}" if verdict.agreement else ""
        if len(verdict.jurors) > 1:
            agreement = f", jury {verdict.agreement}" if verdict.agreement else ""
        return f"verdict: {verdict.best_id} wins{how}{agreement}"
    if verdict.status in ("none", "tie"):
        return f"verdict: {verdict.status} — {verdict.reason}"
    return f"judge failed: {verdict.error or 'the judge failed'}"


class LiveProgress:
    """A live line per variant on a terminal's stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lines = 0
        self.last = 0.0

    def _render(self, run: Run) -> list[str]:
        rows = []
        for v in run.variants.values():
            detail = v.error if v.status == "error" else f"{v.chars} chars"
            rows.append(f"  {v.id:<4} {v.model[:28]:<28} {v.status:<10} {detail}"[:200])
        return rows

    def update(self, run: Run, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        rows = self._render(run)
        if self.lines:
            self.stream.write(f"\x1b[{self.lines}F")
        self.stream.write("".join(f"\x1b[2K{row}\n" for row in rows))
        self.stream.flush()
        self.lines = len(rows)

    def finish(self, run: Run) -> None:
        self.update(run, force=True)
        self.lines = 0

    def say(self, message: str) -> None:
        self.stream.write(message + "\n")
        self.stream.flush()

    def judging(self, progress: JudgeProgress) -> None:
        """One line redrawn in place; left standing when the last call answers."""
        end = "\n" if progress.done >= progress.total else ""
        self.stream.write(f"\r\x1b[2K{judging_line(progress)}…{end}")
        self.stream.flush()

    def verdict(self, verdict: Verdict) -> None:
        self.say(verdict_line(verdict))


class PlainProgress:
    """One plain line per event worth a line, for logs: no escape codes, no redraws."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._said: dict[str, str] = {}  # variant id -> the last phase printed

    def update(self, run: Run) -> None:
        for v in run.variants.values():
            phase = _phase(v.status)
            if phase is None or self._said.get(v.id) == phase:
                continue
            if phase != "started" and v.id not in self._said:
                self.say(f"{v.id} ({v.model}) started")
            self._said[v.id] = phase
            if phase == "started":
                self.say(f"{v.id} ({v.model}) started")
            elif phase == "finished":
                self.say(f"{v.id} ({v.model}) finished: {v.chars} chars")
            elif phase == "failed":
                self.say(f"{v.id} ({v.model}) failed: {v.error or 'error'}")
            else:
                self.say(f"{v.id} ({v.model}) cancelled: {v.chars} chars kept")

    def finish(self, run: Run) -> None:
        self.update(run)

    def say(self, message: str) -> None:
        self.stream.write(f"scillm-tui: {message}\n")
        self.stream.flush()

    def judging(self, progress: JudgeProgress) -> None:
        """A line per call answered, or per tenth of them when there are many (a log
        of 56 pairwise calls needs no 56 lines)."""
        step = max(1, progress.total // 10) if progress.total > 20 else 1
        if progress.done and (progress.done % step == 0 or progress.done == progress.total):
            self.say(judging_line(progress))

    def verdict(self, verdict: Verdict) -> None:
        self.say(verdict_line(verdict))


def _phase(status: str) -> str | None:
    return {
        "connecting": "started",
        "streaming": "started",
        "retrying": "started",
        "done": "finished",
        "error": "failed",
        "cancelled": "cancelled",
    }.get(status)
