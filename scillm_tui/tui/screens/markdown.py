"""A finished variant rendered as Markdown, on demand (streaming columns stay plain text).

Model output is untrusted: links are not opened, and Markdown never runs Textual markup.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from scillm_tui.tui.widgets.border_titles import set_border_title


class MarkdownScreen(ModalScreen[None]):
    """Escape (or the same key again) closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="markdown-close"),
        Binding("f8", "dismiss", "Close", show=False),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="markdown-box") as box:
            set_border_title(box, self.title_text)
            box.border_subtitle = "escape closes"
            yield Markdown(self.text, open_links=False, id="markdown")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
