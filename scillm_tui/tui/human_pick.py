"""`b`: your own verdict on the run on screen, next to the judge's (issue 20 §1).

The grid marks the column, the judge panel says whether you and the judge agree, and
the run history records every pick and every clearing with its time (latest wins). The
rule of agreement is the core's (`core.human_verdict`); this module only wires it up.

It works on whatever run the grid shows (a live run, or a run reopened from the
history), through the grid and the panel: nothing here depends on a run still streaming.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from scillm_tui.core.human_verdict import HumanVerdict
from scillm_tui.core.run_history import HistoryRecorder

if TYPE_CHECKING:
    from textual.app import App

    from scillm_tui.core.runs import Run
    from scillm_tui.tui.widgets.judge_panel import JudgePanel
    from scillm_tui.tui.widgets.variant_grid import VariantGrid

log = logging.getLogger("scillm_tui.tui")


def toggle_pick(
    grid: VariantGrid, panel: JudgePanel, variant_id: str | None = None
) -> HumanVerdict | None:
    """Mark `variant_id` (default: the focused column's) as your pick, or clear it when it
    already is. Returns the new verdict (a cleared one has no variant), or None when
    there is nothing to pick (a toast says why)."""
    run = grid.run
    if run is None:
        grid.notify("Nothing to pick yet: run first (ctrl+r).", severity="warning")
        return None
    if grid.streaming:
        grid.notify("Pick once every variant has finished (or cancel with escape).")
        return None
    if variant_id is None:
        column = grid.focused_column()
        if column is None:
            return None
        variant_id = column.state.id
    if variant_id not in run.variants:
        return None
    current = grid.human
    cleared = current is not None and current.variant_id == variant_id
    human = HumanVerdict.pick(None if cleared else variant_id)
    grid.show_human(human)
    panel.show_human(human)
    return human


class PickRecorder:
    """Writes picks into the run history.

    Uses the app's recorder (`app.recording`, which also records the runs). An app
    without one (a test harness) gets its own, opened on first use, which records the
    run itself first (the history's human verdicts refer to a recorded run).
    """

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._own: HistoryRecorder | None = None
        self._recorded: set[str] = set()
        # One pick at a time, in the order pressed: the history's latest must be the last
        # pressed, and two quick presses must not open two recorders.
        self._lock = asyncio.Lock()

    async def record(self, run: Run, human: HumanVerdict) -> None:
        """Add `human` to the history (a cleared pick too: latest wins). Nothing is
        written when the app records no history (`--no-history`, SCILLM_HISTORY=0)."""
        async with self._lock:
            recorder = await self._recorder()
            if recorder is not None:
                self._record(run, human, recorder)

    async def _recorder(self) -> HistoryRecorder | None:
        recording = getattr(self._app, "recording", None)  # the app's `RunRecording`
        if recording is not None:
            return recording.recorder if recording.enabled else None
        if self._own is None:
            self._own = await HistoryRecorder.aopen()
        return self._own

    def _record(self, run: Run, human: HumanVerdict, recorder: HistoryRecorder) -> None:
        if recorder is self._own and run.run_id not in self._recorded:
            self._recorded.add(run.run_id)  # no app recorder: nobody recorded the run
            recorder.run_started(run, checkpoint_every=None)
            recorder.run_finished(run)
        recorder.add_human_verdict(run.run_id, list(human.ranking), human.variant_id)

    async def flush(self) -> None:
        """Wait until the picks so far are written."""
        async with self._lock:  # the picks still opening the recorder first
            pass
        recording = getattr(self._app, "recording", None)
        recorder = recording.recorder if recording is not None else self._own
        if recorder is not None:
            await recorder.flush()

    async def aclose(self) -> None:
        if self._own is not None:
            await self._own.aclose()
            self._own = None
