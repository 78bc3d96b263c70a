"""The screens the dashboard opens over itself, from its keys: a variant as Markdown
(f8), the judge's thinking (ctrl+t), the model picker (f2) and the model leaderboard
(ctrl+l).

The widgets hold what these screens show; opening a screen is the app's job, so the
widgets never import a screen (the `tui-layers` import contract).
"""

from __future__ import annotations

import sys
from typing import Any

from textual.app import App
from textual.widgets import Input

from scillm_tui.tui.formatting import variant_title
from scillm_tui.tui.screens.model_picker import ModelPicker
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.run_form import RunForm
from scillm_tui.tui.widgets.variant_grid import VariantGrid

__all__ = ["open_judge_thinking", "open_leaderboard", "pick_models", "toggle_markdown"]


def toggle_markdown(app: App[Any]) -> None:
    """Show the focused variant rendered as Markdown, only once it has finished; f8
    again closes it (the app's priority binding runs before the screen's)."""
    markdown = sys.modules.get("scillm_tui.tui.screens.markdown")  # imported on first use
    if markdown is not None and isinstance(app.screen, markdown.MarkdownScreen):
        app.screen.dismiss(None)
        return
    column = app.query_one(VariantGrid).focused_column()
    if column is None or not column.state.finished:
        app.notify("Markdown view is for a finished variant.", severity="warning")
        return
    from scillm_tui.tui.screens.markdown import MarkdownScreen  # Markdown costs start-up

    if not column.view.text.strip() and column.state.reasoning_chars:
        app.notify(f"{column.state.id} has no answer, only thinking (f4 shows it).")
        return
    title = f"{variant_title(column.state)} (rendered as Markdown)"
    app.push_screen(MarkdownScreen(title, column.view.text))


def open_judge_thinking(app: App[Any]) -> None:
    """Open the judge's thinking, read-only; say so when there is none."""
    from scillm_tui.tui.screens.thinking import ThinkingScreen, judge_thinking

    verdict = app.query_one(JudgePanel).verdict
    text = judge_thinking(verdict.all_rounds) if verdict is not None else ""
    if verdict is None or not text:
        app.notify("No thinking from the judge (not judged yet, or it did not think).")
        return
    app.push_screen(ThinkingScreen(f"Judge's thinking · {verdict.judge_model}", text))


def open_leaderboard(app: App[Any]) -> None:
    """The model leaderboard over the run history (a screen that reads it itself)."""
    from scillm_tui.tui.screens.leaderboard import LeaderboardScreen

    if not isinstance(app.screen, LeaderboardScreen):
        app.push_screen(LeaderboardScreen())


def pick_models(app: App[Any]) -> None:
    """Choose the form's models from the endpoints' lists."""
    form = app.query_one(RunForm)
    models = form.suggester.models
    if not models:
        app.notify("No model list from the endpoints: type model names instead.")
        return
    current = [m.strip() for m in form.query_one("#models", Input).value.split(",")]

    def picked(chosen: list[str] | None) -> None:
        if chosen:
            app.query_one(RunForm).set_model_text(chosen)

    app.push_screen(ModelPicker(models, current), picked)
