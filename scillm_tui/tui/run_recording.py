"""The dashboard's runs into the run history (issue 19 §1): started, ended, judged.

Every call here is a plain call on the event loop that costs a snapshot of the run; the
recorder writes on its own thread. Until the recorder is open (it opens on a thread at
mount) a started run waits here and is recorded once it is. Runs shown from the history
(`PastRun`) are not recorded again; their re-judgments are added to them.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from textual.app import App

from scillm_tui.core.judge import Verdict
from scillm_tui.core.run_history import HistoryRecorder, RunStatus, history_enabled
from scillm_tui.core.run_history.restore import PastRun
from scillm_tui.core.runs import Run

__all__ = ["RunRecording"]

log = logging.getLogger("scillm_tui.tui")


class RunRecording:
    """The app's `HistoryRecorder`, and the live runs it has been told about."""

    def __init__(
        self, app: App[Any], *, path: Path | None = None, enabled: bool | None = None
    ) -> None:
        """`path`: the history database (None: the usual place)."""
        self._app = app
        self._path = path
        # `--no-history` (the session's `history_enabled`, when it has one) or SCILLM_HISTORY
        self._enabled = history_enabled() if enabled is None else enabled
        self.recorder: HistoryRecorder | None = None
        self._live: dict[str, Run] = {}  # started, not yet recorded as ended
        self._waiting: list[Run] = []  # started before the recorder was open

    @property
    def enabled(self) -> bool:
        return self._enabled

    async def open(self) -> None:
        """Open the recorder (on a thread: it may migrate a large file); say once why
        the history is off or was started anew."""
        recorder = await HistoryRecorder.aopen(self._path, enabled=self._enabled)
        self.recorder = recorder
        if recorder.warning:
            self._app.notify(recorder.warning, title="Run history", severity="warning")
        for run in self._waiting:
            recorder.run_started(run)
            if run.finished and run.run_id not in self._live:
                recorder.run_finished(run)
        self._waiting.clear()

    def started(self, run: Run) -> None:
        if isinstance(run, PastRun):
            return
        self._live[run.run_id] = run
        if self.recorder is None:
            self._waiting.append(run)
        else:
            self.recorder.run_started(run)

    def finished(self, run: Run) -> None:
        if self._live.pop(run.run_id, None) is None:
            return
        if self.recorder is not None:
            self.recorder.run_finished(run)

    def judged(self, run: Run, verdict: Verdict) -> None:
        """Add the verdict to the run's history (a re-judge adds another). A run opened
        from an export is not in the history: its verdicts are not recorded."""
        if isinstance(run, PastRun) and run.source != "history":
            return
        if self.recorder is not None:
            self.recorder.add_judgment(run.run_id, verdict)

    async def close(self) -> None:
        """At quit: end the runs still live (interrupted, or cancelled, with their text
        so far) and close the history once its writes are done."""
        recorder = self.recorder
        if recorder is None:
            return
        for run in list(self._live.values()):
            status: RunStatus = "cancelled" if run.finished else "interrupted"
            recorder.run_finished(run, status)
        self._live.clear()
        began = time.perf_counter()
        await recorder.aclose()
        log.debug("history closed in %.1f ms", (time.perf_counter() - began) * 1000)
