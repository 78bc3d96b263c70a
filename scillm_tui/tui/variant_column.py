"""One variant's column: header (id, model, live status), streaming text, stats footer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from scillm_tui.core.runs import VariantState
from scillm_tui.tui.formatting import score_text, stats_text, status_text
from scillm_tui.tui.stream_view import StreamView

_STATUS_CLASSES = tuple(
    f"-{s}" for s in ("queued", "connecting", "retrying", "streaming", "done", "error", "cancelled")
)


class VariantColumn(Vertical):
    """Shows one `VariantState`. The grid feeds text with `append` and repaints on a timer.

    Everything the model or the server sent is shown literally (no markup parsing).
    """

    ALLOW_MAXIMIZE = True

    def __init__(self, state: VariantState, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="variant-column")
        self.state = state
        self.score: float | None = None
        self.winner = False
        self._shown: tuple[str, str, str] | None = None
        self.view = StreamView(placeholder="waiting for the first token…", classes="column-text")

    def compose(self) -> ComposeResult:
        yield Static("", markup=False, classes="column-header")
        yield self.view
        yield Static("", markup=False, classes="column-error")
        yield Static("", markup=False, classes="column-stats")

    def on_mount(self) -> None:
        self.border_title = f"{self.state.id} · {self.state.model}"
        self.refresh_chrome()

    def append(self, text: str) -> None:
        """Buffer text; it appears on the next `flush` (called by the app's repaint timer)."""
        self.view.append(text)

    def flush(self) -> bool:
        return self.view.flush()

    def set_verdict(self, score: float | None, winner: bool) -> None:
        self.score = score
        self.winner = winner
        self.set_class(winner, "-winner")
        self.refresh_chrome()

    def refresh_chrome(self) -> None:
        """Repaint header, error line and stats if they changed."""
        state = self.state
        header = status_text(state)
        if self.score is not None:
            header += f" · score {score_text(self.score)}"
        if self.winner:
            header = f"★ winner · {header}"
        error = f"⚠ {state.error}" if state.error else ""
        if state.status == "cancelled":
            error = f"cancelled — {state.chars} characters kept"
        stats = stats_text(state)
        shown = (header, error, stats)
        if shown == self._shown:
            return
        self._shown = shown
        self.query_one(".column-header", Static).update(header)
        error_line = self.query_one(".column-error", Static)
        error_line.update(error)
        error_line.display = bool(error)
        self.query_one(".column-stats", Static).update(stats)
        if state.finished and not state.chars:
            self.view.placeholder = "(no text received)"
            self.view.refresh()
        status_class = f"-{state.status}"
        self.remove_class(*(c for c in _STATUS_CLASSES if c != status_class))
        self.add_class(status_class)
