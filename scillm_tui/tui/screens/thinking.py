"""The judge's thinking, read-only (a thinking judge reasons before its verdict).

Model output is untrusted: the text goes through a `StreamView`, which draws it
literally (no markup, control characters as visible stand-ins).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen

from scillm_tui.core.judge import JudgeRound
from scillm_tui.tui.streamview.view import StreamView
from scillm_tui.tui.widgets.border_titles import set_border_title


def judge_thinking(rounds: Iterable[JudgeRound]) -> str:
    """The thinking of every judging round, one block per answer, or "" if none."""
    blocks: list[str] = []
    for round_ in rounds:
        reasoning = round_.reasoning
        index = round_.index
        for number, text in enumerate(reasoning, start=1):
            if text.strip():
                answer = f", answer {number}" if len(reasoning) > 1 else ""
                blocks.append(f"── round {index + 1}{answer} ──\n{text.strip()}")
    return "\n\n".join(blocks)


class ThinkingScreen(ModalScreen[None]):
    """Escape closes it."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="thinking-close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="thinking-box") as box:
            set_border_title(box, self.title_text)
            box.border_subtitle = "escape closes"
            yield StreamView(self.text, id="thinking-text")

    def on_mount(self) -> None:
        view = self.query_one(StreamView)
        view.following = False
        view.focus()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
