"""One variant's column: header (id, model, live status), streaming text, stats footer.

A model that thinks gets a second stream view above the answer, for its thinking
(dimmed, under a `▾ thinking 12 s` line). Once the answer starts the thinking folds to
that one line (`▸ thought 41 s · 1,830 tokens`), unless the user unfolded thinking
(f4). Showing, folding and unfolding change the column's layout, so they happen at most
at the first thinking, at the first answer and on the key: never per chunk.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from scillm_tui.core.runs import VariantState
from scillm_tui.tui.formatting import (
    score_text,
    stats_text,
    status_text,
    thought_text,
    variant_title,
)
from scillm_tui.tui.streamview.line_cache import LineCache
from scillm_tui.tui.streamview.offscreen import OffscreenQuiet
from scillm_tui.tui.streamview.view import StreamView
from scillm_tui.tui.widgets.border_titles import set_border_title

PLACEHOLDER = "waiting for the first token…"
PLANNED_PLACEHOLDER = "ctrl+r runs the prompt"
# Statuses the stylesheet draws differently, per line. Only these become a class, each on
# the one line it colours (see app.tcss): at a run's start and end every column changes
# status within the same repaint tick, and each class change restyles its line (~0.7 ms).
# "no-answer": done without an answer, drawn as a warning (it is not a success).
_HEADER_STATUSES = frozenset({"streaming", "error", "cancelled", "no-answer"})
_ERROR_STATUSES = frozenset({"cancelled"})
GRID_ERROR_ROWS = 4  # the grid's error line at most (app.tcss); the zoom shows it whole
_STYLED_STATUSES = _HEADER_STATUSES | _ERROR_STATUSES


class _ColumnLine(OffscreenQuiet, LineCache, Static):
    """Header, error and stats lines: drawn again only when they change."""


class VariantColumn(OffscreenQuiet, LineCache, Vertical):
    """Shows one `VariantState`. The grid feeds text with `append` and repaints on a timer.

    Everything the model or the server sent is shown literally (no markup parsing).
    A `planned` column shows a variant of the next run, before it starts.
    """

    def __init__(
        self,
        state: VariantState,
        *,
        follow_step: int = 1,
        follow_phase: int = 0,
        planned: bool = False,
        unfolded: bool = False,
        detailed: bool = False,
        id: str | None = None,
    ) -> None:
        """`unfolded`: show the thinking after the answer has started too (f4).
        `detailed`: the zoomed column, with room for whole errors and notes."""
        super().__init__(id=id, classes="variant-column")
        self.state = state
        self.planned = planned
        self.detailed = detailed
        self.score: float | None = None
        self.winner = False
        self.by_default = False  # the winner as the only variant with an answer
        self.human_pick = False  # your pick (b): `♥ your pick` in the header
        self.unfolded = unfolded
        self._shown: tuple[str, str, str, str, str] | None = None
        self._error_text = ""  # on the error line: kept across `bind`, unlike `_shown`
        # (thinking line, thinking view, answer view) shown: see `_arrange`
        self._arranged = (False, False, True)
        self.thinking = StreamView(
            follow_step=follow_step,
            follow_phase=follow_phase,
            text_source=self._reasoning,
            classes="column-thinking",
        )
        self.thinking.display = False
        self.view = StreamView(
            placeholder=PLANNED_PLACEHOLDER if planned else PLACEHOLDER,
            follow_step=follow_step,
            follow_phase=follow_phase,
            text_source=self._text,  # the run's state keeps the text: no second copy
            classes="column-text",
        )
        self._header = _ColumnLine("", markup=False, classes="column-header")
        self._error = _ColumnLine("", markup=False, classes="column-error")
        self._thought = _ColumnLine("", markup=False, classes="column-thought")
        self._thought.display = False
        self._stats = _ColumnLine("", markup=False, classes="column-stats")

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._thought
        yield self.thinking
        yield self.view
        yield self._error
        yield self._stats

    def on_mount(self) -> None:
        set_border_title(self, variant_title(self.state))
        self.refresh_chrome()

    def show_variant(
        self,
        state: VariantState,
        score: float | None,
        winner: bool,
        *,
        planned: bool = False,
        by_default: bool = False,
    ) -> None:
        """Show another variant's header, stats and verdict (the zoom screen reuses its
        column); the caller replaces the text."""
        self.state = state
        self.planned = planned
        self._shown = None  # repaint all chrome, status class included
        self.view.placeholder = PLANNED_PLACEHOLDER if planned else PLACEHOLDER
        set_border_title(self, variant_title(state))
        self.set_verdict(score, winner, by_default=by_default)

    def bind(
        self,
        state: VariantState,
        *,
        follow_step: int = 1,
        follow_phase: int = 0,
        planned: bool = False,
    ) -> None:
        """Start over on `state`: no text, no verdict, fresh chrome.

        The grid reuses its columns from run to run (and from the planned columns to the
        first run): a reused column is already laid out and drawn, where mounting new
        ones is a layout of the whole screen (~0.1 s for 8 columns) in the first second
        of streaming.
        """
        for view in (self.view, self.thinking):
            view.follow_step = max(1, follow_step)
            view.follow_phase = follow_phase % view.follow_step
        self.human_pick = False  # a new run: nobody has picked yet
        self.remove_class("-human-pick")
        self.show_variant(state, None, False, planned=planned)
        self.view.clear()  # the text source is the new state's from here on
        self.thinking.clear()
        self._arrange()

    def _text(self) -> str:
        return self.state.text

    def _reasoning(self) -> str:
        return self.state.reasoning

    def append(self, text: str) -> None:
        """Buffer answer text; it appears on the next `flush` (the app's repaint timer)."""
        self.view.append(text)

    def append_reasoning(self, text: str) -> None:
        """Buffer thinking text, like `append`."""
        self.thinking.append(text)

    def rethink(self) -> None:
        """All answer text so far was thinking (`VariantRethink`): move it there.

        The state has already moved it, so the answer view's source is empty now: the
        thinking view takes the state's thinking up to what both views had received."""
        received = self.thinking.received + self.view.received
        self.thinking.set_text(self.state.reasoning[:received])
        self.view.clear()

    def flush(self) -> bool:
        """Apply buffered text (the app's repaint timer); True if any changed."""
        if not (self.view.has_pending or self.thinking.has_pending):
            return False
        self._arrange()
        self.thinking.flush()
        self.view.flush()
        return True

    def set_unfolded(self, unfolded: bool) -> None:
        """Show (True) or fold (False) the thinking of a variant that answers (f4)."""
        self.unfolded = unfolded
        self._arrange()
        self.refresh_chrome()

    def _arrange(self) -> None:
        """Show the thinking line and view and the answer view as the text received asks:
        thinking unfolded until an answer arrives (or always, if `unfolded`); the answer
        view once there is one, or for a model that does not think (its placeholder).
        A change is a layout: it happens at the first thinking, the first answer, a
        rethink and the fold key, not per chunk."""
        thinks = self.thinking.has_text
        answers = self.view.has_text
        wanted = (thinks, thinks and (self.unfolded or not answers), answers or not thinks)
        if wanted == self._arranged:
            return
        self._arranged = wanted
        self._thought.display, self.thinking.display, self.view.display = wanted
        if self.is_mounted:  # the thinking line's mark (▸ / ▾) follows at once
            self.refresh_chrome()

    def set_verdict(self, score: float | None, winner: bool, *, by_default: bool = False) -> None:
        self.score = score
        self.winner = winner
        self.by_default = winner and by_default
        self.set_class(winner, "-winner")
        self.refresh_chrome()

    def set_human_pick(self, picked: bool) -> None:
        """Mark (or unmark) this variant as your pick, in its header."""
        self.human_pick = picked
        self.set_class(picked, "-human-pick")
        self.refresh_chrome()

    def refresh_chrome(self) -> None:
        """Repaint header, error line and stats if they changed."""
        state = self.state
        header = "ready" if self.planned else status_text(state)
        if self.score is not None:
            header += f" · score {score_text(self.score)}"
        if self.winner:
            header = f"★ {'won by default' if self.by_default else 'winner'} · {header}"
        if self.human_pick:
            header = f"♥ your pick · {header}"
        error = f"⚠ {state.error}" if state.error else ""
        if state.status == "cancelled":
            error = f"cancelled — {state.chars} characters kept"
        stats = "" if self.planned else stats_text(state, detailed=self.detailed)
        thought = ""
        if self._arranged[0]:
            thought = thought_text(state, folded=not self._arranged[1])
        look = "no-answer" if state.no_answer_reason is not None else state.status
        shown = (header, error, stats, look, thought)
        # After `bind`, everything is drawn again: a line left from the last run (its
        # warning, its status colour) must not outlive it.
        previous = self._shown or ("\0", "\0", "\0", "\0", "\0")
        if shown == previous:
            return
        self._shown = shown
        # Header and stats have a fixed size: repaint them without a screen relayout,
        # which would cost milliseconds per column at 4 Hz.
        if header != previous[0]:
            self._header.update(header, layout=False)
        if stats != previous[2]:
            self._stats.update(stats, layout=False)
        if thought != previous[4]:
            self._thought.update(thought, layout=False)
        if error != self._error_text:  # a height change: only when the text changes
            self._error_text = error
            self._error.update(error if self.detailed else self._fit_error(error))
            self._error.display = bool(error)
        if look != previous[3]:
            for line, styled in ((self._header, _HEADER_STATUSES), (self._error, _ERROR_STATUSES)):
                wanted = {f"-{look}"} if look in styled else set()
                current = {c for c in line.classes if c[1:] in _STYLED_STATUSES}
                if current != wanted:  # one restyle per line, not one per class touched
                    line.set_classes((line.classes - current) | wanted)
            if state.finished and not state.chars:
                self.view.placeholder = "(no text received)"

    def _fit_error(self, error: str) -> str:
        """`error` as it fits the grid's error rows: cut in the middle when too long, so
        its end ("— gave up after 4 attempts") stays readable; f6 shows it whole."""
        width = self._error.content_region.width or self.content_region.width - 2
        if not error or width < 8 or len(_wrapped(error, width)) <= GRID_ERROR_ROWS:
            return error
        head, sep, tail = error.rpartition(" — ")
        if not sep:
            head, tail = error, ""
        tail = f"… — {tail} (f6: all)" if tail else "… (f6: all)"
        while head and len(_wrapped(head + tail, width)) > GRID_ERROR_ROWS:
            head = head[: max(0, len(head) - max(1, width // 2))]
        return head.rstrip() + tail


def _wrapped(text: str, width: int) -> list[Content]:
    return Content(text).wrap(width)
