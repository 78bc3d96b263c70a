"""A run's life on the dashboard: started (after a confirm while another streams),
finished, judged, exported, and your pick marked.

The app's keys and messages call in here; the widgets draw. `RunControl` also keeps
what the form said about the judge when the run started: the run is judged with that,
not with whatever the form says by the time it ends.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from scillm_tui.core.errors import ScillmError, first_problem
from scillm_tui.core.judge import JudgeSpec, Verdict
from scillm_tui.core.runs import Run, RunSpec, VariantState
from scillm_tui.tui.human_pick import toggle_pick
from scillm_tui.tui.layout import set_running
from scillm_tui.tui.screens.confirm import ConfirmScreen
from scillm_tui.tui.screens.zoom import ZoomScreen, prepare_zoom
from scillm_tui.tui.widgets.health_strip import HealthStrip
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.run_form import RunForm
from scillm_tui.tui.widgets.variant_grid import VariantGrid

if TYPE_CHECKING:
    from scillm_tui.tui.app import ScillmApp

__all__ = ["RunControl"]

STILL_STREAMING = (
    "A run is still streaming.\n\nCancel it and start a new run? Its columns "
    "will be replaced (press ctrl+e first to keep them)."
)


class RunControl:
    """The app's runs: starting one, and what happens at its end."""

    def __init__(self, app: ScillmApp) -> None:
        self.app = app
        self.judge_spec: JudgeSpec | None = None  # the form's judge when the run started
        self.auto_judge = True

    def plan_changed(self, plan: dict[str, VariantState]) -> None:
        """The form's next run changed: before the first run the grid and the panel show
        its variants (after a run, its columns and leaderboard stay until the next)."""
        app = self.app
        grids = app.query(VariantGrid)  # none once the app quits (`open` fills the form)
        if not grids:
            return
        grid = grids.first()
        if grid.run is None:
            grid.show_plan(plan)
            app.query_one(JudgePanel).show_plan(plan.values())
        # Once, after the first frame: built on its first f6 it would cost ~0.1 s more.
        app.call_after_refresh(prepare_zoom, app, grid)

    async def run(self) -> None:
        """ctrl+r: start a run from the editor and the form (asked first while one
        streams: it would be replaced)."""
        if self.app.query_one(VariantGrid).streaming:
            confirm = ConfirmScreen(STILL_STREAMING, yes="Cancel it and run", no="Keep streaming")
            self.app.push_screen(confirm, self._confirmed)
            return
        await self._start()

    async def _confirmed(self, yes: bool | None) -> None:
        if yes:
            self.app.query_one(VariantGrid).cancel()
            await self._start()

    def _spec(self) -> tuple[RunSpec, JudgeSpec, bool] | None:
        """The run, judge and auto-judge the form describes; None (and a toast naming
        the field) when a value is unusable."""
        app = self.app
        editor = app.query_one(PromptEditor)
        try:
            values = app.query_one(RunForm).values()
            spec = values.run_spec(editor.prompt, editor.system)
        except ValueError as exc:
            app.notify(first_problem(exc), title="Cannot run", severity="error")
            return None
        return spec, values.judge_spec(), values.auto_judge

    async def _start(self) -> None:
        parsed = self._spec()
        if parsed is None:
            return
        app = self.app
        spec, self.judge_spec, self.auto_judge = parsed
        strip = app.query_one(HealthStrip)
        try:
            run = Run(spec, app.connect(), endpoint_limits=strip.endpoint_limits())
        except ScillmError as exc:
            app.notify(str(exc), title="Cannot run", severity="error")
            return
        app.query_one(PromptEditor).remember(spec.prompt)
        app.past.live()
        app.recording.started(run)
        app.query_one(JudgePanel).start(run)
        set_running(app, True)  # once a run: a layout of the whole screen
        if isinstance(app.screen, ZoomScreen):  # it shows a column about to be replaced
            app.screen.close()
        await app.query_one(VariantGrid).show_run(run)

    def finished(self, run: Run) -> None:
        """Every variant of `run` ended: recorded, said, and judged (if asked to)."""
        app = self.app
        app.recording.finished(run)  # a replaced run too
        if app.query_one(VariantGrid).run is not run:
            return  # a new run has replaced it
        set_running(app, False)
        counts = Counter(state.status for state in run.variants.values())
        if counts["done"] != len(run.variants):  # all done: the headers and panel say so
            summary = ", ".join(_count(n, status) for status, n in counts.items())
            app.notify(f"Run finished: {summary}", timeout=4)
        panel = app.query_one(JudgePanel)
        panel.show_run(run)  # the final stats (same rows: no layout); the verdict ranks them
        if self.auto_judge and not counts["cancelled"]:
            self._judge(run)
        else:  # a cancelled run is judged only when the user asks
            ended = "run cancelled" if counts["cancelled"] else "run finished"
            panel.reset(f"{ended} — press ctrl+j to judge")

    def judge(self) -> None:
        """ctrl+j: judge the run on screen (again), once it has ended."""
        app = self.app
        grid = app.query_one(VariantGrid)
        if grid.run is None:
            app.notify("Nothing to judge yet: run first (ctrl+r).", severity="warning")
        elif grid.streaming:
            app.notify("The run is still streaming: wait, or cancel it (escape).")
        else:
            self._judge(grid.run)

    def _judge(self, run: Run) -> None:
        past = self.app.past
        spec = past.judge_spec() if run is past.viewing else self.judge_spec
        if spec is not None:
            self.app.query_one(JudgePanel).judge(run, self.app.connect(), spec)

    def judged(self, run: Run, verdict: Verdict) -> None:
        """The judge panel has a verdict: recorded, and its winner marked in the grid."""
        app = self.app
        app.recording.judged(run, verdict)
        scores = verdict.scores if verdict.status == "verdict" else {}  # no made-up ones
        by_default = verdict.status == "default"
        grid = app.grid_and_panel[0]  # not `query_one`: the History screen may be on top
        grid.show_verdict(verdict.best_id, scores, by_default=by_default)
        if verdict.status == "error":
            app.notify(verdict.error or "judge failed", title="Judge", severity="error")

    def export(self) -> None:
        """ctrl+e: export the run on screen (while it streams too: its text so far)."""
        app = self.app
        grid = app.query_one(VariantGrid)
        if grid.run is None:
            app.notify("Nothing to export yet: run first (ctrl+r).", severity="warning")
            return
        grid.flush(force=True)
        verdict = app.query_one(JudgePanel).verdict
        note = "" if verdict is not None else " (not judged)"
        if grid.streaming:
            note = " (while streaming: partial text)"
        artifacts = app.session.settings.artifacts_dir
        app.exports.start(grid.run, verdict, artifacts, note, grid.human)

    def mark(self, variant_id: str | None) -> None:
        """Your pick: `variant_id` (None: the focused column's), or cleared if it was."""
        app = self.app
        grid = app.query_one(VariantGrid)
        human = toggle_pick(grid, app.query_one(JudgePanel), variant_id)
        if human is not None and grid.run is not None:
            app.run_worker(app.picks.record(grid.run, human), group="history")

    def cancel(self) -> None:
        """escape (from the palette: while zoomed, escape closes the zoom): cancel the
        streaming run; on a past run, back to the History screen."""
        app = self.app
        past = app.past
        if past.viewing is not None and app.query_one(VariantGrid).run is past.viewing:
            past.open_history()  # back: a past run has nothing to cancel
        elif not app.query_one(VariantGrid).cancel():
            app.notify("No run is streaming.", timeout=2)


def _count(n: int, status: str) -> str:
    """'1 error', '3 errors', '2 done', '2 cancelled': statuses as the toast counts them."""
    plural = {"error": "errors"}.get(status, status)
    return f"{n} {status if n == 1 else plural}"
