"""The judge panel: state, winner, reason, agreement, and the ranked leaderboard."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from scillm_tui.core.artifacts import ranked
from scillm_tui.core.human_verdict import HumanVerdict, agreement
from scillm_tui.core.judge import JudgeProgress, JudgeSpec, Verdict, judge_events
from scillm_tui.core.runs import Run, VariantState
from scillm_tui.tui.formatting import answer_tokens_estimated, ms, score_text
from scillm_tui.tui.streamview.line_cache import LineCache
from scillm_tui.tui.streamview.scrollbars import CachedScrollbars
from scillm_tui.tui.widgets.leaderboard import Leaderboard
from scillm_tui.tui.worker_failures import ReportsWorkerFailures

if TYPE_CHECKING:  # the HTTP stack: imported once clients are made
    from scillm_tui.core.backends import Backends

MODEL_WIDTH = 14
LIVE_INTERVAL_S = 1.0


class JudgePanel(ReportsWorkerFailures, CachedScrollbars, LineCache, VerticalScroll):
    """Shows the judge's state and verdict; runs the judge in a worker."""

    class Judged(Message):
        """The judge finished (with a verdict, a default win, nothing, or an error)."""

        def __init__(self, run: Run, verdict: Verdict) -> None:
            super().__init__()
            self.run = run
            self.verdict = verdict

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Judge"
        self.verdict: Verdict | None = None
        self.judging = False  # a judge worker is running
        # Made here, not in `compose`: the form's first plan can reach the panel before
        # the panel has composed its children (a race the tests met under load).
        self._leaderboard = Leaderboard(id="leaderboard")
        self.human: HumanVerdict | None = None  # your pick (b), shown beside the verdict
        self._live_at = 0.0  # monotonic time of the last `show_live` update

    def compose(self) -> ComposeResult:
        yield Static("waiting for a run", markup=False, id="judge-state")
        yield Static("", markup=False, id="judge-human")  # one row, always: no layout
        yield Static("", markup=False, id="judge-reason")
        yield self._leaderboard
        yield Static("", markup=False, id="judge-raw")

    def _state(self, text: str, css_class: str) -> None:
        _update(self.query_one("#judge-state", Static), text)
        self.set_classes(css_class)

    def reset(self, text: str = "waiting for the run to finish") -> None:
        """No verdict: show `text` as the state. The leaderboard keeps its rows."""
        self.verdict = None
        self._state(text, "-waiting")
        _update(self.query_one("#judge-reason", Static), "")
        _update(self.query_one("#judge-raw", Static), "")
        self._show_human()

    def show_plan(self, plan: Iterable[VariantState]) -> None:
        """The variants the next run will have, as the leaderboard's rows.

        The leaderboard thus has its height before a run starts: a change of height is
        a layout of the whole screen (~20-30 ms at 8 columns), which at a run's end had
        come just as its last text was due on screen.
        """
        self._show_rows(((state, None) for state in plan), None)

    def start(self, run: Run) -> None:
        """A run starts: no verdict, no pick, and its variants in the leaderboard."""
        self.reset()
        self.show_human(None)
        self.show_run(run)

    def show_run(self, run: Run) -> None:
        """Fill the leaderboard with the run as it stands (no scores yet): as it starts,
        while it streams (see `show_live`), and when it ends."""
        self._show_rows(((state, score) for state, score, _ in ranked(run, None)), None)

    def show_live(self, run: Run) -> None:
        """`show_run`, at most every LIVE_INTERVAL_S: the table's time column changes on
        every call, and each change redraws the table (~2 ms) while the columns stream."""
        now = time.monotonic()
        if now - self._live_at >= LIVE_INTERVAL_S:
            self._live_at = now
            self.show_run(run)

    @work(exclusive=True, group="judge", exit_on_error=False)
    async def judge(self, run: Run, backends: Backends, spec: JudgeSpec) -> Verdict:
        self.judging = True
        how = "pairwise" if spec.mode == "pairwise" else f"{spec.rounds} round"
        how += "s" if spec.mode == "listwise" and spec.rounds > 1 else ""
        who = spec.model if len(spec.jurors) == 1 else f"a jury of {len(spec.jurors)}"
        self._state(f"judging with {who} ({how})…", "-judging")
        verdict: Verdict | None = None
        try:
            async for event in judge_events(run, backends, spec):
                if isinstance(event, JudgeProgress):
                    self.show_progress(event)
                else:
                    verdict = event
        finally:
            self.judging = False
        assert verdict is not None  # judge_events ends with one
        self.show_verdict(run, verdict)
        self.post_message(self.Judged(run, verdict))
        return verdict

    def show_human(self, human: HumanVerdict | None) -> None:
        """Show your pick next to the judge's (`you: v3 · judge: v1 — disagree`)."""
        self.human = human
        self._show_human()

    def _show_human(self) -> None:
        line = self.query_one("#judge-human", Static)
        _update(line, human_text(self.human, self.verdict))
        line.set_class(agreement(self.human, self.verdict) == "disagree", "-disagree")

    def show_failure(self, error: str) -> None:
        """The judge's worker itself failed (a bug, not a judge's answer): say so
        instead of "judging…" for ever. The rows keep the run's stats, unranked."""
        self.judging = False
        self.verdict = None
        self._state("judge error", "-error")
        _update(self.query_one("#judge-reason", Static), error)
        _update(self.query_one("#judge-raw", Static), "")
        self._show_human()

    def show_progress(self, progress: JudgeProgress) -> None:
        """ "judging 3/12 pairs…" on the state's one row, once a call has answered (and
        only when there is more than one: one round has nothing to count)."""
        if progress.done and progress.total > 1:
            state = self.query_one("#judge-state", Static)
            text = f"judging {progress.done}/{progress.total} {progress.label}…"
            _update(state, text[: max(1, state.size.width)])  # one row: no layout

    def show_verdict(self, run: Run, verdict: Verdict) -> None:
        self.verdict = verdict
        reason = self.query_one("#judge-reason", Static)
        raw = self.query_one("#judge-raw", Static)
        _update(raw, "")
        if verdict.status == "verdict":
            model = run.variants[verdict.best_id].model if verdict.best_id else ""
            agreement = f" · agreement {verdict.agreement}" if verdict.agreement else ""
            self._state(f"★ winner {verdict.best_id} ({model}){agreement}", "-verdict")
            reason.update(reason_text(run, verdict))
        elif verdict.status == "default":
            self._state(f"★ {verdict.best_id} won by default (no score)", "-verdict")
            reason.update(reason_text(run, verdict))
        elif verdict.status == "none":
            self._state("no verdict", "-error")
            reason.update(reason_text(run, verdict))
        elif verdict.status == "tie":
            agreement = f" · agreement {verdict.agreement}" if verdict.agreement else ""
            self._state(f"no winner: a tie{agreement}", "-waiting")
            reason.update(reason_text(run, verdict))
        else:
            self._state("judge error", "-error")
            reason.update(verdict.error or "the judge failed")
            answers = verdict.raw_responses
            if answers:
                raw.update("raw judge output:\n" + "\n---\n".join(answers))
        if verdict.jurors:
            reason.update(f"{jury_line(verdict)}\n{reason.content}")
        if any(text.strip() for r in verdict.all_rounds for text in r.reasoning):
            reason.update(f"{reason.content}\n\n(ctrl+t shows the judge's thinking)")
        self._fill(run, verdict)
        self._show_human()

    def _fill(self, run: Run, verdict: Verdict) -> None:
        # Only numbers the judge gave: no score for a win by default, no rank or score
        # when the judge failed or had nothing to judge.
        judged = verdict.status == "verdict"
        ranking = (
            (state, verdict.scores.get(state.id) if judged else None)
            for state, _, _ in ranked(run, verdict)
        )
        self._show_rows(ranking, verdict.best_id, ranks=verdict.status != "error")

    def _show_rows(
        self,
        ranking: Iterable[tuple[VariantState, float | None]],
        best: str | None,
        *,
        ranks: bool = True,
    ) -> None:
        rows: list[tuple[str, ...]] = []
        for rank, (state, score) in enumerate(ranking, start=1):
            mark = "★" if state.id == best else str(rank) if ranks else ""
            tokens = f"{'~' if state.tokens_estimated else ''}{state.completion_tokens}"
            if state.reasoning_chars:  # the answer's tokens: the thinking's time is beside
                estimated = answer_tokens_estimated(state)
                tokens = f"{'~' if estimated else ''}{state.answer_tokens}"
            if state.started_at is None:
                tokens = "–"  # not started: a planned variant
            model = state.model
            if len(model) > MODEL_WIDTH:
                model = model[: MODEL_WIDTH - 1] + "…"
            cells = (mark, state.id, model, score_text(score), tokens)
            think = ms(state.think_ms)
            rows.append((*cells, think, ms(state.ttft_ms), ms(state.duration_ms)))
        self._leaderboard.show(rows, winner=best is not None)  # ranked first


def human_text(human: HumanVerdict | None, verdict: Verdict | None) -> str:
    """Your pick beside the judge's: `you: v3 · judge: v1 — disagree` (or `agree`),
    `you: v3 · no judge verdict`; "" without a pick."""
    if human is None or human.variant_id is None:
        return ""
    mine = f"you: {human.variant_id}"
    verdict_agrees = agreement(human, verdict)
    if verdict_agrees is not None and verdict is not None:
        return f"{mine} · judge: {verdict.best_id} — {verdict_agrees}"
    if verdict is not None and verdict.status == "default":
        return f"{mine} · {verdict.best_id} won by default"
    return f"{mine} · no judge verdict"


def reason_text(run: Run, verdict: Verdict) -> str:
    """The judge's reason, with the letters it may still use mapped to variant ids
    ("A=v2 · B=v1"), and the variants left out of judging with why."""
    lines = [verdict.reason] if verdict.reason else []
    labels = verdict.reason_labels
    if labels:
        lines.append(" · ".join(f"{label}={vid}" for label, vid in sorted(labels.items())))
    excluded: dict[str, str] = verdict.excluded or {
        state.id: state.no_answer_reason
        for state in run.variants.values()
        if state.no_answer_reason is not None
    }
    if excluded:
        left_out = ", ".join(f"{vid} ({why})" for vid, why in excluded.items())
        lines.append(f"left out of judging: {left_out}")
    return "\n".join(lines)


def jury_line(verdict: Verdict) -> str:
    """ "jury 2/3: judge-a → v1 · judge-b → v2 · judge-c failed" """
    votes = []
    for juror in verdict.jurors:
        if juror.status == "error":
            votes.append(f"{juror.model} failed")
        else:
            votes.append(f"{juror.model} → {juror.pick or 'tie'}")
    return f"jury {verdict.agreement or '–'}: " + " · ".join(votes)


def _update(static: Static, text: str) -> None:
    """Update `static` only if its text changes, and without a layout if it stays one
    row: a layout reflows the whole screen, and the panel changes at the start and end
    of every run, while the columns stream."""
    old = static.content
    if old == text:
        return
    width = static.size.width

    def one_row(value: object) -> bool:
        return isinstance(value, str) and "\n" not in value and 0 < cell_len(value) <= width

    static.update(text, layout=not (one_row(old) and one_row(text)))
