"""The dashboard app: lays out the widgets and wires keys and commands to them.

All network work happens in the core engine, driven by workers in the widgets.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input

from scillm_tui.core.errors import ScillmError, first_problem
from scillm_tui.core.history import PromptHistory
from scillm_tui.core.judge import JudgeSpec
from scillm_tui.core.paths import data_dir
from scillm_tui.core.runs import Run, RunSpec
from scillm_tui.core.user_config import config_path
from scillm_tui.gc_pause import settle_start_up
from scillm_tui.session import Session
from scillm_tui.tui.exporter import Exports
from scillm_tui.tui.human_pick import PickRecorder, toggle_pick
from scillm_tui.tui.key_order import after_pending_keys
from scillm_tui.tui.layout import fit_to_size, set_running
from scillm_tui.tui.past_runs import PastRuns
from scillm_tui.tui.run_recording import RunRecording
from scillm_tui.tui.screens.batch import BatchScreen
from scillm_tui.tui.screens.confirm import ConfirmScreen
from scillm_tui.tui.screens.dashboard import DashboardScreen, Row
from scillm_tui.tui.screens.history import HistoryScreen
from scillm_tui.tui.screens.model_picker import ModelPicker
from scillm_tui.tui.screens.zoom import ZoomScreen, prepare_zoom, toggle_zoom
from scillm_tui.tui.user_choices import UserChoices
from scillm_tui.tui.widgets.health_strip import HealthStrip
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.key_bar import SteadyFooter
from scillm_tui.tui.widgets.overflow_hint import OverflowHint, focus_column
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.run_form import RunForm
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from scillm_tui.tui.worker_failures import WorkerFailed

if TYPE_CHECKING:  # the HTTP stack: imported once clients are made
    from scillm_tui.core.backends import Backends

REPAINT_HZ = 25
log = logging.getLogger("scillm_tui.tui")


class ScillmApp(App[int]):
    """The scillm-tui cockpit."""

    CSS_PATH = "app.tcss"
    TITLE = "scillm-tui"

    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="run", priority=True),
        Binding("ctrl+j", "judge", "Judge", id="judge", priority=True),
        Binding("ctrl+e", "export", "Export", id="export", priority=True),
        Binding("escape", "cancel", "Cancel run", id="cancel"),
        Binding("f2", "pick_models", "Models", id="pick-models"),
        Binding("f3", "history", "History", id="history"),
        Binding("ctrl+t", "judge_thinking", "Judge's thinking", id="judge-thinking", show=False),
        Binding("f4", "toggle_thinking", "Thinking", id="toggle-thinking", priority=True),
        Binding("f5", "refresh_health", "Health", id="refresh-health"),
        Binding("f6", "zoom", "Zoom", id="zoom", priority=True),
        Binding("f7", "copy_variant", "Copy", id="copy-variant", priority=True),
        Binding("f8", "markdown", "Markdown", id="markdown", priority=True),
        Binding("f9", "change_theme", "Theme", id="theme"),
        Binding("ctrl+l", "leaderboard", "Leaderboard", id="leaderboard"),
        Binding("b", "mark_best", "Your pick", id="mark-best"),
        Binding("alt+right", "column(1)", "Next column", id="next-column", show=False),
        Binding("alt+left", "column(-1)", "Previous column", id="previous-column", show=False),
    ]

    def __init__(
        self,
        session: Session,
        *,
        history_path: Path | None = None,
        config_path: Path | None = None,
        run_history_path: Path | None = None,
        health_interval_s: float = 10.0,
        poll_health: bool = True,
    ) -> None:
        super().__init__()
        self.session = session
        self.history = PromptHistory(history_path)
        self.choices = UserChoices(config_path, demo=session.demo)  # None: nothing kept
        self.exports = Exports(self)
        self.picks = PickRecorder(self)
        self.health_interval_s = health_interval_s
        self.poll_health = poll_health
        self.backends: Backends | None = None
        self._judge_spec: JudgeSpec | None = None
        self._auto_judge = True
        self.recording = RunRecording(self, path=run_history_path, enabled=session.history_enabled)
        self.past = PastRuns(self, path=run_history_path)
        if session.demo:
            self.sub_title = "demo backend"

    def get_default_screen(self) -> Screen:
        return DashboardScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield HealthStrip(interval_s=self.health_interval_s, id="health")
        with Row(id="top"):
            yield PromptEditor(self.history, id="editor")
            settings = self.session.settings
            initial = self.choices.initial_form(settings)
            yield RunForm(settings, self.session.default_target, initial=initial, id="form")
        with Row(id="main"):
            yield (grid := VariantGrid(id="grid"))
            yield JudgePanel(id="judge")
        yield OverflowHint(grid, id="overflow")
        yield SteadyFooter()

    def on_mount(self) -> None:
        # The clients (and their first health probes) come after the first frame, which
        # shows the health panes "checking…" either way.
        self.call_after_refresh(self._connect)
        self.query_one(PromptEditor).focus_prompt()
        self.choices.apply(self)
        self._grid_and_panel = self.query_one(VariantGrid), self.query_one(JudgePanel)
        self.set_interval(1 / REPAINT_HZ, self.repaint, name="repaint")
        # Long-lived start-up objects never need collecting; freezing them shortens GC pauses.
        self.call_after_refresh(settle_start_up)
        self.run_worker(self.recording.open(), name="history", group="history")
        if self.past.pending is not None:  # `scillm-tui open`
            self.call_after_refresh(self.past.open_pending)

    def repaint(self, *, force: bool = False) -> None:
        """The repaint timer's tick (or, `force`d, everything now): buffered text into
        the columns and, on their stats tick, a streaming run's stats into the
        leaderboard (at once when a variant's status changed), in the same frame."""
        grid, panel = self._grid_and_panel
        stats_due = grid.flush(force=force)
        run = grid.run
        if run is None:
            return
        if grid.take_status_change():  # a variant started or ended: its row in step
            panel.show_run(run)
        elif stats_due and grid.streaming:
            if force:
                panel.show_run(run)
            else:
                panel.show_live(run)  # the time column: once a second

    def _connect(self) -> Backends:
        """The endpoint clients, made once, inside the event loop that uses them (and,
        with ``--demo``, the demo backend served: both after the first frame)."""
        if self.backends is None:
            try:
                self.session.start_demo()
            except ScillmError as exc:  # the requests will fail and say so too
                self.notify(str(exc), title="Demo backend", severity="error")
            self.backends = self.session.make_backends()
            if self.poll_health:
                self.query_one(HealthStrip).start(self.backends)
        return self.backends

    async def on_unmount(self) -> None:
        # Work still on worker threads may not finish once the app has quit.
        self.history.save()
        await self.recording.close()  # a run still streaming: recorded as interrupted
        await self.choices.save(self)
        await self.exports.finish()
        await self.picks.aclose()
        if self.backends is not None:
            await self.backends.aclose()

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: this handler runs before `App._on_resize` has stored it, so
        # `self.size` would still be the size before (a resize back left it narrow).
        fit_to_size(self, event.size)
        for hint in self.query(OverflowHint):  # none before the screen is composed
            self.call_after_refresh(hint.recount)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The dashboard's keys act on widgets the History screen (and a batch's, opened from
        # it) covers (the app's queries go to the screen on top): there, only the theme.
        if isinstance(self.screen, HistoryScreen | BatchScreen) and action != "change_theme":
            return action not in _DASHBOARD_ACTIONS
        return True

    # ---- commands -----------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            action = getattr(self, f"action_{binding.action}", None)
            if action is not None and binding.action != "change_theme":
                key = self.choices.config.keys.get(binding.id or "", binding.key)
                yield SystemCommand(binding.description, key, action)
        yield SystemCommand("Previous prompt", "Recall an older prompt (alt+up)", self._older)
        grids = self.query(VariantGrid)  # none while the app shuts down
        grid = grids.first() if grids else None
        if grid is not None and grid.run is not None and not grid.streaming:  # your pick
            for vid, state in grid.run.variants.items():
                help_text = f"Mark {vid} ({state.model}) as your pick; again clears it (b)"
                yield SystemCommand(f"I pick {vid}", help_text, partial(self._mark, vid))

    def _older(self) -> None:
        self.query_one(PromptEditor).action_history(-1)

    # ---- actions ------------------------------------------------------------------------------

    @after_pending_keys
    async def action_run(self) -> None:
        grid = self.query_one(VariantGrid)
        if grid.streaming:
            question = (
                "A run is still streaming.\n\nCancel it and start a new run? Its columns "
                "will be replaced (press ctrl+e first to keep them)."
            )
            self.push_screen(
                ConfirmScreen(question, yes="Cancel it and run", no="Keep streaming"),
                self._confirmed_run,
            )
            return
        await self._start_run()

    async def _confirmed_run(self, yes: bool | None) -> None:
        if yes:
            self.query_one(VariantGrid).cancel()
            await self._start_run()

    def _spec(self) -> tuple[RunSpec, JudgeSpec, bool] | None:
        editor = self.query_one(PromptEditor)
        try:
            values = self.query_one(RunForm).values()
            spec = values.run_spec(editor.prompt, editor.system)
        except ValueError as exc:
            self.notify(first_problem(exc), title="Cannot run", severity="error")
            return None
        return spec, values.judge_spec(), values.auto_judge

    async def _start_run(self) -> None:
        parsed = self._spec()
        if parsed is None:
            return
        spec, self._judge_spec, self._auto_judge = parsed
        strip = self.query_one(HealthStrip)
        try:
            run = Run(spec, self._connect(), endpoint_limits=strip.endpoint_limits())
        except ScillmError as exc:
            self.notify(str(exc), title="Cannot run", severity="error")
            return
        self.query_one(PromptEditor).remember(spec.prompt)
        self.past.live()
        self.recording.started(run)
        self.query_one(JudgePanel).start(run)
        set_running(self, True)  # once a run: a layout of the whole screen
        if isinstance(self.screen, ZoomScreen):  # it shows a column about to be replaced
            self.screen.close()
        await self.query_one(VariantGrid).show_run(run)

    @on(RunForm.PlanChanged)
    def _plan_changed(self, message: RunForm.PlanChanged) -> None:
        grids = self.query(VariantGrid)  # none once the app quits (`open` fills the form)
        if not grids:
            return
        grid = grids.first()
        if grid.run is None:  # after a run, its columns and leaderboard stay until the next
            grid.show_plan(message.plan)
            self.query_one(JudgePanel).show_plan(message.plan.values())
        # Once, after the first frame: built on its first f6 it would cost ~0.1 s more.
        self.call_after_refresh(prepare_zoom, self, grid)

    @on(VariantGrid.RunFinished)
    def _run_finished(self, message: VariantGrid.RunFinished) -> None:
        run = message.run
        self.recording.finished(run)  # a replaced run too
        if self.query_one(VariantGrid).run is not run:
            return  # a new run has replaced it
        set_running(self, False)
        counts = Counter(state.status for state in run.variants.values())
        if counts["done"] != len(run.variants):  # all done: the headers and panel say so
            summary = ", ".join(_count(n, status) for status, n in counts.items())
            self.notify(f"Run finished: {summary}", timeout=4)
        panel = self.query_one(JudgePanel)
        panel.show_run(run)  # the final stats (same rows: no layout); the verdict ranks them
        if self._auto_judge and not counts["cancelled"]:
            self._judge(run)
        else:  # a cancelled run is judged only when the user asks
            ended = "run cancelled" if counts["cancelled"] else "run finished"
            panel.reset(f"{ended} — press ctrl+j to judge")

    def _judge(self, run: Run) -> None:
        spec = self.past.judge_spec() if run is self.past.viewing else self._judge_spec
        if spec is not None:
            self.query_one(JudgePanel).judge(run, self._connect(), spec)

    @on(JudgePanel.Judged)
    def _judged(self, message: JudgePanel.Judged) -> None:
        verdict = message.verdict
        self.recording.judged(message.run, verdict)
        scores = verdict.scores if verdict.status == "verdict" else {}  # no made-up ones
        by_default = verdict.status == "default"
        grid = self._grid_and_panel[0]  # not `query_one`: the History screen may be on top
        grid.show_verdict(verdict.best_id, scores, by_default=by_default)
        if verdict.status == "error":
            self.notify(verdict.error or "judge failed", title="Judge", severity="error")

    @after_pending_keys
    def action_judge(self) -> None:
        grid = self.query_one(VariantGrid)
        if grid.run is None:
            self.notify("Nothing to judge yet: run first (ctrl+r).", severity="warning")
        elif grid.streaming:
            self.notify("The run is still streaming: wait, or cancel it (escape).")
        else:
            self._judge(grid.run)

    @after_pending_keys
    def action_export(self) -> None:
        grid = self.query_one(VariantGrid)
        if grid.run is None:
            self.notify("Nothing to export yet: run first (ctrl+r).", severity="warning")
            return
        grid.flush(force=True)
        verdict = self.query_one(JudgePanel).verdict
        note = "" if verdict is not None else " (not judged)"
        if grid.streaming:
            note = " (while streaming: partial text)"
        artifacts = self.session.settings.artifacts_dir
        self.exports.start(grid.run, verdict, artifacts, note, grid.human)

    def action_mark_best(self) -> None:
        """b: the focused column is your pick (b again on it clears it)."""
        self._mark(None)

    def _mark(self, variant_id: str | None) -> None:
        grid = self.query_one(VariantGrid)
        human = toggle_pick(grid, self.query_one(JudgePanel), variant_id)
        if human is not None and grid.run is not None:
            self.run_worker(self.picks.record(grid.run, human), group="history")

    def action_cancel(self) -> None:
        # While zoomed, escape is the zoom screen's "close"; this runs only from the palette.
        if self.past.viewing is not None and self.query_one(VariantGrid).run is self.past.viewing:
            self.past.open_history()  # back: a past run has nothing to cancel
        elif not self.query_one(VariantGrid).cancel():
            self.notify("No run is streaming.", timeout=2)

    def action_refresh_health(self) -> None:
        self.query_one(HealthStrip).refresh_now()
        self.notify("Checking health…", timeout=2)

    @after_pending_keys
    def action_zoom(self) -> None:
        toggle_zoom(self, self.query_one(VariantGrid))

    def action_column(self, step: int) -> None:
        focus_column(self.query_one(VariantGrid), step)
        self.query_one(OverflowHint).recount()

    @after_pending_keys
    def action_copy_variant(self) -> None:
        self.query_one(VariantGrid).copy_focused()

    @after_pending_keys
    def action_markdown(self) -> None:
        # f8 again closes it (the app's priority binding runs before the screen's).
        markdown = sys.modules.get("scillm_tui.tui.screens.markdown")  # imported on first use
        if markdown is not None and isinstance(self.screen, markdown.MarkdownScreen):
            self.screen.dismiss(None)
            return
        self.query_one(VariantGrid).open_markdown()

    def action_toggle_thinking(self) -> None:
        """Unfold or fold the thinking in every column (and the zoom)."""
        self.query_one(VariantGrid).toggle_thinking()

    def action_judge_thinking(self) -> None:
        self.query_one(JudgePanel).show_thinking()

    def action_leaderboard(self) -> None:
        """The model leaderboard over the run history (a screen that reads it itself)."""
        from scillm_tui.tui.screens.leaderboard import LeaderboardScreen

        if not isinstance(self.screen, LeaderboardScreen):
            self.push_screen(LeaderboardScreen())

    def action_history(self) -> None:
        """The History screen: every recorded run; enter shows one read-only."""
        if not isinstance(self.screen, DashboardScreen):
            return
        self.past.open_history()

    def action_pick_models(self) -> None:
        form = self.query_one(RunForm)
        models = form.suggester.models
        if not models:
            self.notify("No model list from the endpoints: type model names instead.")
            return
        current = [m.strip() for m in form.query_one("#models", Input).value.split(",")]
        self.push_screen(ModelPicker(models, current), self._picked)

    def _picked(self, models: list[str] | None) -> None:
        if models:
            self.query_one(RunForm).set_model_text(models)

    @on(WorkerFailed)
    def _worker_failed(self, event: WorkerFailed) -> None:
        """A worker that raised (they run with `exit_on_error=False`): logged, and said
        where its result was awaited, instead of "judging…" for ever."""
        worker = event.worker
        error = worker.error
        problem = f"{type(error).__name__}: {error}" if error is not None else "failed"
        if error is not None:
            log.error("worker %s failed", worker.name, exc_info=error)
        self.log.error(f"worker {worker.name!r} failed: {problem}")
        if worker.group == "judge":
            self.query_one(JudgePanel).show_failure(f"the judge stopped: {problem}")
        what = {"judge": "Judge", "run": "Run"}.get(worker.group, "Background task")
        self.notify(problem, title=f"{what} failed", severity="error")

    @on(HealthStrip.Changed)
    def _health_changed(self, message: HealthStrip.Changed) -> None:
        report, previous = message.report, message.previous
        forms = self.query(RunForm)  # none while the app shuts down: a probe may end then
        if report.models and forms:
            forms.first().set_models(report.models, report.endpoint)
        if previous is not None and previous.status != report.status:
            severity: SeverityLevel = "information" if report.status == "up" else "warning"
            self.notify(
                f"{report.endpoint} is {report.status}: {report.message}", severity=severity
            )


_DASHBOARD_ACTIONS = frozenset(
    b.action.split("(")[0] for b in ScillmApp.BINDINGS if isinstance(b, Binding)
)


def _count(n: int, status: str) -> str:
    """'1 error', '3 errors', '2 done', '2 cancelled': statuses as the toast counts them."""
    plural = {"error": "errors"}.get(status, status)
    return f"{n} {status if n == 1 else plural}"


def run_dashboard(session: Session, *, open_target: Path | str | None = None) -> int:
    """Run the app in this terminal; returns the exit code. `open_target`: a saved run
    to show at start (an export's path, or a run id in the history)."""
    app = ScillmApp(session, history_path=data_dir() / "history.json", config_path=config_path())
    app.past.pending = open_target
    app.run()
    return app.return_code or 0
