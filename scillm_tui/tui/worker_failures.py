"""Workers that raise are reported, not lost.

The widgets' workers run with `exit_on_error=False` (a failed judge must not close the
dashboard), so an exception ends the worker quietly: "judging…" stayed on screen for
ever. `Worker.StateChanged` goes only to the widget that started the worker (it does
not bubble); `ReportsWorkerFailures` sends a failure on as a `WorkerFailed`, which
bubbles to the app's one handler.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.worker import Worker, WorkerState

__all__ = ["ReportsWorkerFailures", "WorkerFailed"]


class WorkerFailed(Message):
    """A worker of a widget raised: `worker.error` holds the exception."""

    def __init__(self, worker: Worker[Any]) -> None:
        super().__init__()
        self.worker = worker


class ReportsWorkerFailures:
    """Mixed into a widget that starts workers: posts `WorkerFailed` when one raises."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.post_message(WorkerFailed(event.worker))  # type: ignore[attr-defined]
