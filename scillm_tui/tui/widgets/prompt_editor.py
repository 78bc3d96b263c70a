"""The prompt editor: a multi-line prompt, a system prompt, and recall of earlier prompts."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, TextArea

from scillm_tui.core.history import PromptHistory
from scillm_tui.tui.key_order import OrderedInput, OrderedTextArea
from scillm_tui.tui.widgets.mount_classes import VALID
from scillm_tui.tui.worker_failures import ReportsWorkerFailures


class PromptEditor(ReportsWorkerFailures, Vertical):
    """Prompt (focused at start) and system prompt. alt+up / alt+down walk the history."""

    BINDINGS = [
        Binding("alt+up", "history(-1)", "Older prompt", id="history-older", show=False),
        Binding("alt+down", "history(1)", "Newer prompt", id="history-newer", show=False),
    ]

    def __init__(self, history: PromptHistory, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history = history
        self._cursor: int | None = None  # index into history while browsing
        self.border_title = "Prompt"

    def compose(self) -> ComposeResult:
        yield OrderedTextArea(
            "",
            id="prompt",
            soft_wrap=True,
            compact=True,
            tab_behavior="focus",
            placeholder="Type the prompt for every variant… (ctrl+r runs)",
        )
        yield OrderedInput(
            placeholder="system prompt (optional)",
            id="system",
            compact=True,
            classes=VALID,
        )

    @property
    def prompt(self) -> str:
        return self.query_one("#prompt", TextArea).text

    @prompt.setter
    def prompt(self, text: str) -> None:
        area = self.query_one("#prompt", TextArea)
        area.load_text(text)
        area.move_cursor(area.document.end)

    @property
    def system(self) -> str | None:
        value = self.query_one("#system", Input).value.strip()
        return value or None

    def focus_prompt(self) -> None:
        self.query_one("#prompt", TextArea).focus()

    def remember(self, prompt: str) -> None:
        """Add `prompt` to the history, saved on a worker thread (see `PromptHistory`)."""
        self.history.add(prompt)
        self._cursor = None
        self._save_history()

    @work(thread=True, group="history", exit_on_error=False)
    def _save_history(self) -> None:
        self.history.save()

    def action_history(self, step: int) -> None:
        entries = self.history.entries
        if not entries:
            self.notify("No earlier prompts yet.", severity="information")
            return
        cursor = len(entries) if self._cursor is None else self._cursor
        cursor = max(0, min(len(entries), cursor + step))
        self._cursor = cursor
        self.prompt = entries[cursor] if cursor < len(entries) else ""
