"""The dashboard app: lays out the widgets and wires keys and messages to them.

The app composes, binds keys and delegates; each job has its own module:
`run_control` (a run's start, end, judge, export and your pick), `overlays` (the
screens opened over the dashboard), `palette` (the command palette's commands),
`notices` (failed workers, health changes), `past_runs` (the History screen and a
past run shown), `run_recording` (the run history), `launch` (`run_dashboard`).
All network work happens in the core engine, driven by workers in the widgets.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from scillm_tui.core.errors import ScillmError
from scillm_tui.core.history import PromptHistory
from scillm_tui.gc_pause import settle_start_up
from scillm_tui.session import Session
from scillm_tui.tui import overlays
from scillm_tui.tui.exporter import Exports
from scillm_tui.tui.human_pick import PickRecorder
from scillm_tui.tui.key_order import after_pending_keys
from scillm_tui.tui.layout import fit_to_size
from scillm_tui.tui.notices import health_changed, worker_failed
from scillm_tui.tui.palette import dashboard_commands
from scillm_tui.tui.past_runs import PastRuns
from scillm_tui.tui.run_control import RunControl
from scillm_tui.tui.run_recording import RunRecording
from scillm_tui.tui.screens.dashboard import DashboardScreen, Row
from scillm_tui.tui.screens.zoom import toggle_zoom
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
        self.runs = RunControl(self)
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
        self.call_after_refresh(self.connect)
        self.query_one(PromptEditor).focus_prompt()
        self.choices.apply(self)
        self.grid_and_panel = self.query_one(VariantGrid), self.query_one(JudgePanel)
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
        grid, panel = self.grid_and_panel
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

    def connect(self) -> Backends:
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
        if getattr(self.screen, "COVERS_DASHBOARD", False) and action != "change_theme":
            return action not in _DASHBOARD_ACTIONS
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from dashboard_commands(self)

    # ---- keys ---------------------------------------------------------------------------------

    @after_pending_keys
    async def action_run(self) -> None:
        await self.runs.run()

    @after_pending_keys
    def action_judge(self) -> None:
        self.runs.judge()

    @after_pending_keys
    def action_export(self) -> None:
        self.runs.export()

    def action_mark_best(self) -> None:
        """b: the focused column is your pick (b again on it clears it)."""
        self.runs.mark(None)

    def action_cancel(self) -> None:
        # While zoomed, escape is the zoom screen's "close"; this runs only from the palette.
        self.runs.cancel()

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
        overlays.toggle_markdown(self)

    def action_toggle_thinking(self) -> None:
        """Unfold or fold the thinking in every column (and the zoom)."""
        self.query_one(VariantGrid).toggle_thinking()

    def action_judge_thinking(self) -> None:
        overlays.open_judge_thinking(self)

    def action_leaderboard(self) -> None:
        overlays.open_leaderboard(self)

    def action_history(self) -> None:
        """The History screen: every recorded run; enter shows one read-only."""
        if not isinstance(self.screen, DashboardScreen):
            return
        self.past.open_history()

    def action_pick_models(self) -> None:
        overlays.pick_models(self)

    # ---- messages from the widgets -------------------------------------------------------------

    @on(RunForm.PlanChanged)
    def _plan_changed(self, message: RunForm.PlanChanged) -> None:
        self.runs.plan_changed(message.plan)

    @on(VariantGrid.RunFinished)
    def _run_finished(self, message: VariantGrid.RunFinished) -> None:
        self.runs.finished(message.run)

    @on(JudgePanel.Judged)
    def _judged(self, message: JudgePanel.Judged) -> None:
        self.runs.judged(message.run, message.verdict)

    @on(WorkerFailed)
    def _worker_failed(self, event: WorkerFailed) -> None:
        worker_failed(self, event.worker)

    @on(HealthStrip.Changed)
    def _health_changed(self, message: HealthStrip.Changed) -> None:
        health_changed(self, message.report, message.previous)


_DASHBOARD_ACTIONS = frozenset(
    b.action.split("(")[0] for b in ScillmApp.BINDINGS if isinstance(b, Binding)
)
