"""Driving a batch: each prompt an ordinary run (+ judge), recorded, then let go.

Memory stays flat however long the batch: a run's texts go to the history and the `Run`
is dropped once recorded; only counts are kept. A few runs are in flight at a time (about
four times as many as the stream limit fills: a run being judged holds no stream slot, and
with only twice as many the slots sat idle behind the judge calls: bench.batch 1.7x), and
every run shares one `StreamLimits`, so the limits hold across the whole batch.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from scillm_tui.core.artifacts import export_run
from scillm_tui.core.batch.prompts import BatchPrompt
from scillm_tui.core.endpoints import EndpointName
from scillm_tui.core.judge import JudgeSpec, Verdict, judge_run
from scillm_tui.core.ranking import Battle, battles_from_run
from scillm_tui.core.run_history import BatchRun, HistoryRecorder
from scillm_tui.core.runs import Run, RunSpec, StreamLimits

if TYPE_CHECKING:
    from scillm_tui.core.backends import Backends

PromptStatus = Literal["judged", "finished", "failed", "interrupted"]


def new_batch_id(now: datetime | None = None) -> str:
    """`b-<UTC stamp>-<hex>`: sortable, unique enough to name a batch in history."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"b-{stamp}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class BatchConfig:
    """What every prompt of the batch runs with (the RunSpec minus the prompt)."""

    batch_id: str
    models: list[str]
    n: int
    target: EndpointName
    judge: JudgeSpec | None
    temperature: float | None = 0.7
    max_tokens: int | None = None
    concurrency: int = 8
    tags: tuple[str, ...] = ()
    export_dir: Path | None = None

    def spec(self, prompt: BatchPrompt) -> RunSpec:
        return RunSpec(
            prompt=prompt.prompt,
            system=prompt.system,
            target=self.target,
            models=self.models,
            n=self.n,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )


def judgeable_ids(run: Run) -> list[str]:
    return [vid for vid, v in run.variants.items() if v.judgeable]


def done_prompt_ids(runs: Iterable[BatchRun], config: BatchConfig) -> set[str]:
    """Prompts of the batch already done with the same models, n and judge: judged with a
    winner (or, without a judge, finished). Failed and interrupted ones run again."""
    judge_model = config.judge.model if config.judge is not None else None
    done: set[str] = set()
    for run in runs:
        if run.prompt_id is None or run.models != config.models or run.n != config.n:
            continue
        if judge_model is None:
            if run.status == "finished":
                done.add(run.prompt_id)
        elif run.judge_model == judge_model and run.winner_id is not None:
            done.add(run.prompt_id)
    return done


@dataclass(frozen=True)
class PromptOutcome:
    """How one prompt went (what progress prints; no texts)."""

    prompt_id: str
    run_id: str
    status: PromptStatus
    winner_model: str | None = None
    failed_variants: int = 0
    note: str | None = None


@dataclass
class BatchStats:
    """Counts so far; `streaming` is filled in by `BatchRunner.stats()`."""

    total: int
    skipped: int = 0
    judged: int = 0
    finished: int = 0  # without a judge: at least one variant finished
    failed: int = 0
    interrupted: int = 0
    failed_variants: int = 0
    agree: int = 0  # judge rounds that agreed with their verdict
    rounds: int = 0
    streaming: int = 0
    in_flight: int = 0
    stopping: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.judged + self.finished + self.failed + self.interrupted

    @property
    def agreement(self) -> float | None:
        return self.agree / self.rounds if self.rounds else None

    def eta_s(self) -> float | None:
        """Seconds left at the pace so far (None before the first prompt ends)."""
        if not self.done:
            return None
        left = self.total - self.skipped - self.done
        return (time.monotonic() - self.started) / self.done * max(0, left)


class BatchRunner:
    """Runs `prompts` (minus `done_ids`) under `config`. `stop()`: start no new prompt;
    `cancel()`: also stop the ones in flight (recorded as interrupted)."""

    def __init__(
        self,
        prompts: Sequence[BatchPrompt],
        config: BatchConfig,
        backends: Backends,
        recorder: HistoryRecorder,
        *,
        limits: StreamLimits | None = None,
        done_ids: set[str] | frozenset[str] = frozenset(),
        on_prompt: Callable[[PromptOutcome], None] | None = None,
    ) -> None:
        self.prompts = prompts
        self.config = config
        self.backends = backends
        self.recorder = recorder
        self.limits = limits or StreamLimits(config.concurrency)
        self.done_ids = done_ids
        self.on_prompt = on_prompt
        self._stats = BatchStats(total=len(prompts))
        self._in_flight: dict[str, Run] = {}
        self._cancelled = False
        self.battles: list[Battle] = []  # small (no texts): the leaderboard without history

    def stop(self) -> None:
        self._stats.stopping = True

    def cancel(self) -> None:
        self._stats.stopping = True
        self._cancelled = True
        for run in list(self._in_flight.values()):
            run.cancel()

    @property
    def stopping(self) -> bool:
        return self._stats.stopping

    def stats(self) -> BatchStats:
        s = self._stats
        s.in_flight = len(self._in_flight)
        s.streaming = sum(
            v.status == "streaming" for r in self._in_flight.values() for v in r.variants.values()
        )
        return s

    async def run(self) -> BatchStats:
        todo = [p for p in self.prompts if p.id not in self.done_ids]
        self._stats.skipped = len(self.prompts) - len(todo)
        pending = iter(todo)
        per_run = max(1, math.ceil((self.limits.total or self.config.concurrency) / self.config.n))
        workers = min(len(todo), 4 * per_run)
        # Prompts whose writes may still wait in the writer's queue: enough that a worker
        # never waits for the disk, few enough that texts never pile up in memory.
        backlog = asyncio.Semaphore(2 * workers)
        reporters: set[asyncio.Task[None]] = set()

        async def report(outcome: PromptOutcome) -> None:
            # A prompt counts as done (and is reported) only once its record is durable:
            # a SIGKILL before that loses nothing that was reported, and resume re-runs it.
            try:
                await self.recorder.flush()
            finally:
                backlog.release()
            if self.on_prompt is not None:
                self.on_prompt(outcome)

        async def worker() -> None:
            while not self._stats.stopping:
                prompt = next(pending, None)
                if prompt is None:
                    return
                await backlog.acquire()
                try:
                    outcome = await self._one(prompt)
                except BaseException:
                    backlog.release()
                    raise
                task = asyncio.create_task(report(outcome))
                reporters.add(task)
                task.add_done_callback(reporters.discard)

        try:
            await asyncio.gather(*(worker() for _ in range(workers)))
        finally:
            if reporters:
                await asyncio.gather(*list(reporters), return_exceptions=True)
        await self.recorder.flush()
        return self.stats()

    async def _one(self, prompt: BatchPrompt) -> PromptOutcome:
        config = self.config
        run = Run(config.spec(prompt), self.backends, shared_limits=self.limits)
        self._in_flight[run.run_id] = run
        tags = tuple(dict.fromkeys((*config.tags, *prompt.tags)))
        self.recorder.run_started(run, batch_id=config.batch_id, prompt_id=prompt.id, tags=tags)
        try:
            async for _event in run.events():
                pass
        finally:
            del self._in_flight[run.run_id]
        failed = sum(v.status == "error" for v in run.variants.values())
        self._stats.failed_variants += failed
        if self._cancelled:
            self.recorder.run_finished(run, "interrupted")
            self._stats.interrupted += 1
            return PromptOutcome(prompt.id, run.run_id, "interrupted", failed_variants=failed)
        self.recorder.run_finished(run)
        verdict: Verdict | None = None
        if config.judge is not None:
            verdict = await judge_run(run, self.backends, config.judge)
            self.recorder.add_judgment(run.run_id, verdict)
        note = None
        if config.export_dir is not None:
            try:
                await asyncio.to_thread(export_run, run, verdict, config.export_dir)
            except OSError as exc:
                note = f"could not export: {exc.strerror or exc}"
        return self._outcome(prompt, run, verdict, failed, note)

    def _outcome(
        self,
        prompt: BatchPrompt,
        run: Run,
        verdict: Verdict | None,
        failed: int,
        note: str | None,
    ) -> PromptOutcome:
        s = self._stats
        if verdict is None:
            ok = any(v.status == "done" for v in run.variants.values())
            status: PromptStatus = "finished" if ok else "failed"
            s.finished += ok
            s.failed += not ok
            return PromptOutcome(prompt.id, run.run_id, status, None, failed, note)
        if verdict.status in ("verdict", "default") and verdict.best_id is not None:
            s.judged += 1
            picks = [r.pick for r in verdict.rounds if r.pick is not None]
            s.rounds += len(picks)
            s.agree += sum(p == verdict.best_id for p in picks)
            winner = run.variants[verdict.best_id].model
            finished = frozenset(verdict.candidates or judgeable_ids(run))
            models = {vid: v.model for vid, v in run.variants.items()}
            self.battles += battles_from_run(
                models, finished, verdict.best_id, run.run_id, verdict.judge_model
            )
            return PromptOutcome(prompt.id, run.run_id, "judged", winner, failed, note)
        s.failed += 1
        why = verdict.error or verdict.reason or verdict.status
        return PromptOutcome(prompt.id, run.run_id, "failed", None, failed, note or why)
