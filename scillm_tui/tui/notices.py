"""What the dashboard says about work in its background: a worker that failed, and an
endpoint whose health changed (whose model list, once known, also feeds the form)."""

from __future__ import annotations

import logging
from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel
from textual.worker import Worker

from scillm_tui.core.health_report import HealthReport
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.run_form import RunForm

__all__ = ["health_changed", "worker_failed"]

log = logging.getLogger("scillm_tui.tui")


def worker_failed(app: App[Any], worker: Worker[Any]) -> None:
    """A worker that raised (they run with `exit_on_error=False`): logged, and said
    where its result was awaited, instead of "judging…" for ever."""
    error = worker.error
    problem = f"{type(error).__name__}: {error}" if error is not None else "failed"
    if error is not None:
        log.error("worker %s failed", worker.name, exc_info=error)
    app.log.error(f"worker {worker.name!r} failed: {problem}")
    if worker.group == "judge":
        app.query_one(JudgePanel).show_failure(f"the judge stopped: {problem}")
    what = {"judge": "Judge", "run": "Run"}.get(worker.group, "Background task")
    app.notify(problem, title=f"{what} failed", severity="error")


def health_changed(app: App[Any], report: HealthReport, previous: HealthReport | None) -> None:
    """A probe's report: its models offered to the form, and a toast when the endpoint
    went up or down."""
    forms = app.query(RunForm)  # none while the app shuts down: a probe may end then
    if report.models and forms:
        forms.first().set_models(report.models, report.endpoint)
    if previous is not None and previous.status != report.status:
        severity: SeverityLevel = "information" if report.status == "up" else "warning"
        app.notify(f"{report.endpoint} is {report.status}: {report.message}", severity=severity)
