"""Recording live runs into the history without ever blocking the event loop on disk.

The loop side only copies a run's state (`snapshot_run`, `snapshot_variant`: a few dicts
and the text strings, which are immutable and so safe to hand over); the SQLite writes run
in order on one worker thread. A failed write is logged and kept in `write_error`; it
never reaches the run. A recorder built without a store (history off or unavailable)
accepts every call and does nothing, so callers never test for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scillm_tui.core.records import endpoint_bases, variant_record
from scillm_tui.core.run_history.models import RunSnapshot, RunStatus, VariantSnapshot
from scillm_tui.core.run_history.store import HistoryStore, HistoryUnavailable, history_enabled

if TYPE_CHECKING:
    from scillm_tui.core.judge import Verdict
    from scillm_tui.core.runs import Run, VariantState

log = logging.getLogger("scillm_tui.history")

CHECKPOINT_INTERVAL_S = 5.0
_TEXT_KEYS = ("text", "reasoning", "thinking")  # kept in their own columns, not in `record`
_SPEC_TEXTS = ("prompt", "system")

_Fingerprint = tuple[Any, ...]


def _fingerprint(state: VariantState) -> _Fingerprint:
    """Changes whenever anything worth saving changed (text, status, usage, retries)."""
    return (
        state.status,
        state.chars,
        state.chunks,
        state.reasoning_chars,
        state.error,
        state.finish_reason,
        state.usage,
        state.retries,
        len(state.notices),
    )


def snapshot_variant(state: VariantState, position: int) -> VariantSnapshot:
    """A copy of one variant for the writer thread (call on the loop thread)."""
    record = variant_record(state)
    for key in _TEXT_KEYS:
        record.pop(key, None)
    return VariantSnapshot(
        variant_id=state.id,
        position=position,
        model=state.model,
        endpoint=state.endpoint,
        status=state.status,
        error=state.error,
        answer=state.text,
        thinking=state.reasoning,
        record=record,
    )


def snapshot_run(
    run: Run,
    *,
    batch_id: str | None = None,
    prompt_id: str | None = None,
    tags: Sequence[str] = (),
) -> RunSnapshot:
    """A copy of a run as it starts: its spec (settings), base URLs, variants."""
    spec = run.spec
    settings = spec.model_dump(mode="json", exclude=set(_SPEC_TEXTS))
    return RunSnapshot(
        run_id=run.run_id,
        started_at=run.created_at,
        prompt=spec.prompt,
        system=spec.system,
        models=list(spec.models),
        n=len(run.variants),
        settings=settings,
        bases=endpoint_bases(run),
        variants=tuple(snapshot_variant(v, i) for i, v in enumerate(run.variants.values())),
        batch_id=batch_id,
        prompt_id=prompt_id,
        tags=tuple(tags),
    )


def run_outcome(run: Run) -> RunStatus:
    """`interrupted` if a variant never ended (the app quit mid-run), `cancelled` if one
    was cancelled, else `finished`."""
    statuses = [v.status for v in run.variants.values()]
    if not all(v.finished for v in run.variants.values()):
        return "interrupted"
    if "cancelled" in statuses:
        return "cancelled"
    return "finished"


class HistoryRecorder:
    """Records runs as they happen. All methods but `flush`/`aclose` are plain calls
    meant for the event loop thread; each costs a snapshot, never a disk write."""

    def __init__(self, store: HistoryStore | None, warning: str | None = None) -> None:
        self.store = store
        self.warning = warning if warning is not None else (store.warning if store else None)
        self.write_error: str | None = None
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="scillm-history")
            if store is not None
            else None
        )
        self._seen: dict[str, dict[str, _Fingerprint]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}

    @classmethod
    def open(cls, path: Path | None = None, *, enabled: bool | None = None) -> HistoryRecorder:
        """A recorder on the history at `path` (default location), or a disabled one when
        `enabled` is False (`--no-history`), `SCILLM_HISTORY=0`, or the history cannot be
        opened (`warning` then says why; show it once)."""
        if enabled is None:
            enabled = history_enabled()
        if not enabled:
            return cls.disabled()
        try:
            return cls(HistoryStore.open(path))
        except HistoryUnavailable as exc:
            log.warning("history: %s", exc)
            return cls.disabled(str(exc))

    @classmethod
    async def aopen(
        cls, path: Path | None = None, *, enabled: bool | None = None
    ) -> HistoryRecorder:
        """`open` on a thread: opening may migrate or sweep a large file."""
        return await asyncio.to_thread(cls.open, path, enabled=enabled)

    @classmethod
    def disabled(cls, warning: str | None = None) -> HistoryRecorder:
        """A recorder that records nothing."""
        return cls(None, warning)

    @property
    def enabled(self) -> bool:
        return self._executor is not None

    def _submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._executor is None:
            return
        self._executor.submit(self._guarded, fn, *args)

    def _guarded(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except (sqlite3.Error, OSError, ValueError) as exc:
            self.write_error = f"the run history could not be written: {exc}"
            log.warning("history: %s failed: %s", getattr(fn, "__name__", fn), exc)

    # ---- the run's life -------------------------------------------------------------------

    def run_started(
        self,
        run: Run,
        *,
        batch_id: str | None = None,
        prompt_id: str | None = None,
        tags: Sequence[str] = (),
        checkpoint_every: float | None = CHECKPOINT_INTERVAL_S,
    ) -> None:
        """Record `run` as running. With `checkpoint_every` (seconds) and a running event
        loop, a task checkpoints it on that interval until `run_finished`."""
        if self.store is None:
            return
        self._seen[run.run_id] = {vid: _fingerprint(v) for vid, v in run.variants.items()}
        snap = snapshot_run(run, batch_id=batch_id, prompt_id=prompt_id, tags=tags)
        self._submit(self.store.begin_run, snap)
        if checkpoint_every:
            with contextlib.suppress(RuntimeError):  # no running loop: the caller checkpoints
                self._timers[run.run_id] = asyncio.get_running_loop().create_task(
                    self._every(run, checkpoint_every), name=f"scillm-history-{run.run_id}"
                )

    async def _every(self, run: Run, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.checkpoint(run)

    def checkpoint(self, run: Run) -> bool:
        """Save what changed since the last save; True if anything did. Cheap when nothing
        changed: one small tuple per variant is compared."""
        seen = self._seen.get(run.run_id)
        if self.store is None or seen is None:
            return False
        changed = []
        for position, (vid, state) in enumerate(run.variants.items()):
            mark = _fingerprint(state)
            if seen.get(vid) != mark:
                seen[vid] = mark
                changed.append(snapshot_variant(state, position))
        if changed:
            self._submit(self.store.checkpoint, run.run_id, changed)
        return bool(changed)

    def run_finished(self, run: Run, status: RunStatus | None = None) -> None:
        """Save every variant's final state and end the run (`status` defaults to
        `run_outcome(run)`)."""
        timer = self._timers.pop(run.run_id, None)
        if timer is not None:
            timer.cancel()
        if self.store is None or self._seen.pop(run.run_id, None) is None:
            return
        variants = [snapshot_variant(v, i) for i, v in enumerate(run.variants.values())]
        self._submit(self.store.finish_run, run.run_id, variants, status or run_outcome(run))

    def add_judgment(self, run_id: str, verdict: Verdict) -> None:
        """Add a judgment of a recorded run (each re-judge adds one)."""
        if self.store is None:
            return
        self._submit(self.store.add_judgment, run_id, verdict.model_dump(mode="json"))

    def add_human_verdict(self, run_id: str, ranking: Any, variant_id: str | None = None) -> None:
        if self.store is None:
            return
        self._submit(self.store.add_human_verdict, run_id, ranking, variant_id)

    # ---- waiting and closing ----------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every write submitted so far is done (one worker: FIFO)."""
        if self._executor is None:
            return
        marker: Future[None] = self._executor.submit(lambda: None)
        await asyncio.wrap_future(marker)

    def close(self) -> None:
        """Finish pending writes and close the database (blocks: call at exit)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self.store is not None:
            self.store.close()

    async def aclose(self) -> None:
        """`close` off the loop."""
        await asyncio.to_thread(self.close)
