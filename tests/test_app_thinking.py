"""Thinking models in the dashboard (issue 16): thinking apart from the answer, the
header's phase, folding, the fold key, a rethink, answer-only copy and Markdown, a
variant cut while thinking, and the judge's thinking.

The scripted transport's thinking models go through the real client (`reasoning_content`
chunks, inline `<think>` tags, a bare `</think>`), so these tests cover the whole path.
"""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import Markdown

from scillm_tui.core.judge import JudgeRound
from scillm_tui.tui.screens.markdown import MarkdownScreen
from scillm_tui.tui.screens.thinking import ThinkingScreen, judge_thinking
from scillm_tui.tui.screens.zoom import ZoomScreen
from scillm_tui.tui.streamview.view import StreamView
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.leaderboard import Leaderboard
from scillm_tui.tui.widgets.variant_column import VariantColumn
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.tui_support import (
    JUDGE_THINKING,
    THINKING_TEXT,
    THOUGHT_ANSWER,
    Script,
    make_app,
    run_to_end,
    screen_text,
    set_form,
    type_prompt,
    wait_for_run,
)


def line(column: VariantColumn, name: str) -> str:
    """The text of one of a column's one-line widgets (header, thought, stats)."""
    return str(getattr(column, f"_{name}").content)


async def test_thinking_streams_apart_from_the_answer_and_folds_once_it_starts(
    tmp_path: Path,
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="thinker, alpha", n="2")
        grid = app.query_one(VariantGrid)
        thinker, alpha = grid.column("v1"), grid.column("v2")
        assert thinker.thinking.text == THINKING_TEXT
        assert thinker.view.text == THOUGHT_ANSWER
        assert thinker.view.received == len(THOUGHT_ANSWER)  # what reached the view
        # Folded to one line: the answer has the room. Usage's reasoning tokens, exact.
        assert not thinker.thinking.display and thinker.view.display
        thought = line(thinker, "thought")
        assert re.fullmatch(r"▸ thought \d+ s · 1,830 tokens", thought)
        assert thought in screen_text(app)
        assert "The user asks about CRDTs" not in screen_text(app)
        assert line(thinker, "header").endswith("done · score 9")
        stats = line(thinker, "stats")
        answer_tokens = len(THOUGHT_ANSWER.split())  # usage: completion less reasoning
        assert "answer " in stats and f"  {answer_tokens} tok" in stats
        # A model that does not think shows no thinking at all.
        assert not alpha._thought.display and not alpha.thinking.display
        assert "thought" not in line(alpha, "stats")
        # The leaderboard: one row per variant, the thinking time in its own column.
        board = app.query_one(Leaderboard)
        assert len(board.rows) == 2
        row = next(r for r in board.rows if r[1] == "v1")
        assert row[4] == str(answer_tokens) and row[5] != "–"

        await pilot.press("f4")  # unfolds every column's thinking
        assert thinker.thinking.display and thinker.view.display
        assert line(thinker, "thought").startswith("▾ thought")
        assert "The user asks about CRDTs" in screen_text(app)
        assert not alpha.thinking.display  # nothing to unfold there
        await pilot.press("f6")  # the zoom follows the fold state
        zoom = app.screen
        assert isinstance(zoom, ZoomScreen)
        assert zoom.column.thinking.display
        assert zoom.column.thinking.text == THINKING_TEXT
        assert zoom.column.view.text == THOUGHT_ANSWER
        await pilot.press("f4")  # folds again, in the zoom and the grid
        await pilot.pause()
        assert not zoom.column.thinking.display and not thinker.thinking.display
        assert "The user asks about CRDTs" not in screen_text(app)
        assert "▸ thought" in screen_text(app)
        keys = {b.key: b.description for (_, b, _, _) in zoom.active_bindings.values() if b.show}
        assert keys["f4"] == "Thinking"


async def test_the_header_says_thinking_then_answering(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="thinker-slow", n="1")
        await pilot.press("ctrl+r")
        await script.thinking_started.wait()
        await pilot.pause()
        app.repaint(force=True)
        await pilot.pause()
        column = app.query_one(VariantGrid).column("v1")
        header = line(column, "header")
        assert header.startswith("thinking ") and header.endswith(" s")
        assert column.thinking.display and not column.view.display
        assert line(column, "thought").startswith("▾ thinking")
        assert "The user asks about CRDTs" in screen_text(app)

        script.release.set()
        await script.answer_started.wait()
        await pilot.pause()
        app.repaint(force=True)
        await pilot.pause()
        assert line(column, "header") == "answering"
        assert column.view.text == "CRDTs converge"
        assert not column.thinking.display and column.view.display  # folded at once
        assert line(column, "thought").startswith("▸ thought")
        await pilot.press("escape")
        await wait_for_run(pilot)


async def test_a_bare_closing_tag_moves_the_answer_so_far_to_the_thinking(
    tmp_path: Path,
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="thinker-bare, thinker-inline", n="2")
        grid = app.query_one(VariantGrid)
        for column in (grid.column("v1"), grid.column("v2")):
            state = column.state
            assert state.reasoning.strip() == THINKING_TEXT
            assert state.text.strip() == THOUGHT_ANSWER
            # What the views hold and draw, not only what their source says.
            assert column.thinking.received == len(state.reasoning)
            assert column.view.received == len(state.text)
            assert line(column, "thought").startswith("▸ thought")
            assert line(column, "thought").endswith("tokens")
        text = screen_text(app)
        assert "</think>" not in text and "The user asks" not in text


async def test_copy_and_markdown_take_the_answer_only(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="thinker", n="1")
        await pilot.press("f4")  # the thinking is on screen: still not copied
        await pilot.press("f7")
        assert app.clipboard == THOUGHT_ANSWER
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, MarkdownScreen)
        assert app.screen.query_one(Markdown).source == THOUGHT_ANSWER


async def test_a_variant_cut_while_thinking_says_so_and_keeps_its_thinking(
    tmp_path: Path,
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="thinker-cut, alpha", n="2")
        column = app.query_one(VariantGrid).column("v1")
        assert line(column, "header") == "no answer: cut while thinking (length)"
        assert "-no-answer" in column._header.classes
        assert column.thinking.display and column.thinking.text == THINKING_TEXT
        text = screen_text(app)
        assert "no answer: cut while thinking (length)" in text
        assert "The user asks about CRDTs" in text
        column.view.focus()
        await pilot.press("f8")  # nothing to render: it says why
        await pilot.pause()
        assert not isinstance(app.screen, MarkdownScreen)
        assert any("only thinking" in n.message for n in app._notifications)


def _round(index: int, *reasoning: str) -> JudgeRound:
    return JudgeRound(index=index, order=["v1", "v2"], labels={}, reasoning=list(reasoning))


def test_judge_thinking_is_read_per_round() -> None:
    rounds = [_round(0, "first thoughts"), _round(1), _round(2, "", "second")]
    text = judge_thinking(rounds)
    assert text == "── round 1 ──\nfirst thoughts\n\n── round 3, answer 2 ──\nsecond"
    assert judge_thinking([_round(0)]) == ""


async def test_the_judges_thinking_opens_read_only_and_literal(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        panel = app.query_one(JudgePanel)
        await pilot.press("ctrl+t")  # this judge does not think: a note, no screen
        await pilot.pause()
        assert not isinstance(app.screen, ThinkingScreen)
        assert any("No thinking from the judge" in n.message for n in app._notifications)
        # A verdict whose rounds carry thinking (`JudgeRound.reasoning`).
        assert panel.verdict is not None
        rounds = [_round(0, JUDGE_THINKING)]
        panel.verdict = panel.verdict.model_copy(update={"rounds": rounds})
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, ThinkingScreen)
        assert JUDGE_THINKING in app.screen.query_one(StreamView).text
        assert "[bold]A[/] wins." in screen_text(app)  # markup shown as text
        await pilot.press("escape")
        assert not isinstance(app.screen, ThinkingScreen)


async def test_the_zoom_streams_thinking_then_the_answer_and_folds(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="thinker-slow", n="1")
        await pilot.press("ctrl+r")
        await script.thinking_started.wait()
        await pilot.pause()
        await pilot.press("f6")
        zoom = app.screen
        assert isinstance(zoom, ZoomScreen)
        assert zoom.column.thinking.text == THINKING_TEXT and zoom.column.thinking.display
        script.release.set()  # the answer streams while zoomed (the grid mirrors it)
        await script.answer_started.wait()
        await pilot.pause()
        app.repaint(force=True)
        await pilot.pause()
        assert zoom.column.view.received == len("CRDTs converge")
        thinking = zoom.column.state.reasoning
        assert thinking.endswith(" One more thought.")
        assert zoom.column.thinking.received == len(thinking)  # mirrored while zoomed
        assert not zoom.column.thinking.display
        assert "▸ thought" in screen_text(app) and "CRDTs converge" in screen_text(app)
        await pilot.press("f6")
        app.repaint(force=True)
        await pilot.pause()
        column = app.query_one(VariantGrid).column("v1")
        assert column.view.received == len("CRDTs converge") and not column.thinking.display
        assert column.thinking.received == len(thinking)
        await pilot.press("escape")
        await wait_for_run(pilot)


async def test_a_thinking_judges_thinking_opens_from_the_panel(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False, JUDGE_MODEL="judge-thinks")
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2")
        assert "ctrl+t shows the judge's thinking" in screen_text(app)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, ThinkingScreen)
        assert "[bold]A[/] wins." in screen_text(app)


def test_what_a_stream_view_received_counts_text_not_yet_flushed() -> None:
    source = {"text": ""}
    view = StreamView(text_source=lambda: source["text"])
    assert not view.has_text and view.received == 0
    source["text"] = "abc"
    view.append("abc")
    assert view.has_text and view.received == 3
    source["text"] = ""  # the owner moved its text (a rethink): what reached the view stays
    assert view.received == 3
    view.set_text("")
    assert not view.has_text and view.received == 0
    view.set_text("xy")
    assert view.has_text and view.received == 2
