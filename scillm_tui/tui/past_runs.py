"""Saved runs on the dashboard (issue 19 §2): the History screen (f3) and a run from it
(or from an export, `scillm-tui open`) shown read-only, as it looked at its end.

A past run sits in the same grid and judge panel as a live one, as a `PastRun`: ctrl+j
re-judges it (the verdict is ADDED to its history), ctrl+e exports it, ctrl+r starts a
NEW run — opening a run puts its prompt, system prompt and settings into the editor and
the form, so ctrl+r re-runs it (edit first to change it) — and escape goes back to the
History screen (nothing is cancelled: nothing runs).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual.widgets import Input

from scillm_tui.core.errors import first_problem
from scillm_tui.core.judge import JudgeSpec, Verdict
from scillm_tui.core.run_history import HistoryStore, HistoryUnavailable
from scillm_tui.core.run_history.restore import (
    ExportUnreadable,
    PastRun,
    load_export,
    restore_run,
)
from scillm_tui.tui.screens.history import HistoryScreen
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.run_form import RunForm
from scillm_tui.tui.widgets.variant_grid import VariantGrid

if TYPE_CHECKING:
    from scillm_tui.core.run_history import StoredRun
    from scillm_tui.tui.app import ScillmApp

__all__ = ["PastRuns", "viewing_title"]

EDITOR_TITLE = "Prompt"


def viewing_title(run: PastRun) -> str:
    """The editor's title while a past run is shown: it is not live, and what keys do."""
    where = "from history" if run.source == "history" else "from an export"
    return f"read-only: viewing {run.run_id} {where} · ctrl+r re-runs · esc back"


class PastRuns:
    """The app's History screen and the past run it shows (None: a live run or none)."""

    def __init__(self, app: ScillmApp, *, path: Path | None = None) -> None:
        self.app = app
        self.path = path  # the history database (None: the usual place)
        self.viewing: PastRun | None = None
        self.pending: Path | str | None = None  # to show at start: an export, or a run id
        self._query = ""

    def open_history(self) -> None:
        """Push the History screen; the run chosen there is shown. Not while a run
        streams: its columns would be replaced."""
        if self.app.query_one(VariantGrid).streaming:
            self.app.notify("A run is streaming: wait for it, or cancel it (escape), first.")
            return
        screen = HistoryScreen(path=self.path, query=self._query)

        async def chosen(run_id: str | None) -> None:
            self._query = screen.query_text  # the filter, kept for the next visit
            if run_id is not None:
                await self.open_id(run_id)

        self.app.push_screen(screen, chosen)

    async def open_pending(self) -> None:
        """Show the run `scillm-tui open` named (checked already; a toast if it fails)."""
        target, self.pending = self.pending, None
        if isinstance(target, str):
            await self.open_id(target)
        elif target is not None:
            try:
                run, verdict = load_export(target, self.app.connect())
            except ExportUnreadable as exc:
                self.app.notify(str(exc), title="Cannot open", severity="error")
                return
            await self.show(run, verdict)

    async def open_id(self, run_id: str) -> bool:
        """Show the history's run `run_id`; False (and a toast) when it is not there."""
        try:
            stored = await asyncio.to_thread(_load, self.path, run_id)
        except HistoryUnavailable as exc:
            self.app.notify(str(exc), title="History", severity="error")
            return False
        if stored is None:
            self.app.notify(f"No run {run_id} in the history.", severity="error")
            return False
        run, verdict = restore_run(stored, self.app.connect())
        await self.show(run, verdict)
        return True

    async def show(self, run: PastRun, verdict: Verdict | None) -> None:
        """Show `run` as it was at its end, marked read-only; its prompt and settings go
        into the editor and form, ready for ctrl+r."""
        app = self.app
        self.viewing = run
        grid, panel = app.query_one(VariantGrid), app.query_one(JudgePanel)
        await grid.show_past(run)
        panel.start(run)
        if verdict is not None:
            panel.show_verdict(run, verdict)
            scores = verdict.scores if verdict.status == "verdict" else {}
            grid.show_verdict(verdict.best_id, scores, by_default=verdict.status == "default")
        else:
            panel.reset(f"run {run.status}, not judged — press ctrl+j to judge")
        self._fill_editor(run)
        app.query_one(PromptEditor).border_title = viewing_title(run)
        grid.focus()

    def _fill_editor(self, run: PastRun) -> None:
        spec = self.app.query_one(PromptEditor)
        spec.prompt = run.spec.prompt
        spec.query_one("#system", Input).value = run.spec.system or ""
        form = self.app.query_one(RunForm)
        form.set_model_text(run.spec.models)
        values = {
            "n": run.spec.n,
            "temperature": run.spec.temperature,
            "max-tokens": run.spec.max_tokens,
        }
        for widget_id, value in values.items():
            form.query_one(f"#{widget_id}", Input).value = "" if value is None else str(value)

    def judge_spec(self) -> JudgeSpec | None:
        """The form's judge, for re-judging the past run (None, and a toast, if the
        form's values are wrong)."""
        try:
            return self.app.query_one(RunForm).values().judge_spec()
        except ValueError as exc:
            self.app.notify(first_problem(exc), title="Cannot judge", severity="error")
            return None

    def live(self) -> None:
        """A live run replaced the past one on screen."""
        if self.viewing is not None:
            self.viewing = None
            self.app.query_one(PromptEditor).border_title = EDITOR_TITLE


def _load(path: Path | None, run_id: str) -> StoredRun | None:
    """On a thread: the stored run (None if unknown), the store closed again."""
    store = HistoryStore.open(path)
    try:
        return store.load_run(run_id)
    finally:
        store.close()
