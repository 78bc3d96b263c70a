"""Progress of `scillm-tui batch` on stderr: one live line on a terminal, plain lines
otherwise (one per prompt that ends, like `cli.progress` for a single run)."""

from __future__ import annotations

from typing import Protocol, TextIO

from scillm_tui.core.batch.runner import BatchStats, PromptOutcome


class BatchProgress(Protocol):
    def tick(self, stats: BatchStats) -> None: ...
    def prompt_done(self, outcome: PromptOutcome, stats: BatchStats) -> None: ...
    def say(self, message: str) -> None: ...
    def close(self, stats: BatchStats) -> None: ...


def batch_progress_for(stream: TextIO) -> BatchProgress:
    return LiveBatchProgress(stream) if stream.isatty() else PlainBatchProgress(stream)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def summary_line(stats: BatchStats) -> str:
    """`12/300 prompts · 6 streaming · 1 failed · agreement 92% · ETA 3m20s`."""
    done = stats.done + stats.skipped
    parts = [f"{done}/{stats.total} prompts"]
    if stats.skipped:
        parts.append(f"{stats.skipped} skipped (done before)")
    parts.append(f"{stats.streaming} streaming")
    if stats.failed or stats.failed_variants:
        parts.append(f"{stats.failed} failed ({stats.failed_variants} variants)")
    if stats.interrupted:
        parts.append(f"{stats.interrupted} interrupted")
    if stats.agreement is not None:
        parts.append(f"judge agreement {stats.agreement:.0%}")
    eta = stats.eta_s()
    if stats.stopping:
        parts.append(f"stopping: {stats.in_flight} in flight")
    elif eta is not None:
        parts.append(f"ETA {_duration(eta)}")
    return " · ".join(parts)


def outcome_line(outcome: PromptOutcome) -> str:
    if outcome.status == "judged":
        text = f"{outcome.prompt_id}: {outcome.winner_model} wins"
    elif outcome.status == "finished":
        text = f"{outcome.prompt_id}: finished"
    else:
        text = f"{outcome.prompt_id}: {outcome.status}"
    if outcome.failed_variants:
        text += f" ({outcome.failed_variants} variant(s) failed)"
    if outcome.note:
        text += f" — {outcome.note}"
    return text


class LiveBatchProgress:
    """One status line rewritten in place (`\\r`, erase line)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def tick(self, stats: BatchStats) -> None:
        self.stream.write(f"\r\x1b[2K{summary_line(stats)[:200]}")
        self.stream.flush()

    def prompt_done(self, outcome: PromptOutcome, stats: BatchStats) -> None:
        if outcome.status != "judged" and outcome.status != "finished":
            self.say(outcome_line(outcome))  # failures stay on screen above the live line
        self.tick(stats)

    def say(self, message: str) -> None:
        self.stream.write(f"\r\x1b[2K{message}\n")
        self.stream.flush()

    def close(self, stats: BatchStats) -> None:
        self.tick(stats)
        self.stream.write("\n")
        self.stream.flush()


class PlainBatchProgress:
    """A line per prompt that ends, with the counts: no escape codes, no redraws."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def tick(self, stats: BatchStats) -> None:
        pass

    def prompt_done(self, outcome: PromptOutcome, stats: BatchStats) -> None:
        self.say(f"[{summary_line(stats)}] {outcome_line(outcome)}")

    def say(self, message: str) -> None:
        self.stream.write(f"scillm-tui: {message}\n")
        self.stream.flush()

    def close(self, stats: BatchStats) -> None:
        self.say(summary_line(stats))
