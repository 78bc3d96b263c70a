"""The judge panel's leaderboard: aligned, literal, fitted to its width."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from scillm_tui.tui.widgets.leaderboard import Leaderboard
from tests.tui_support import screen_text

ROWS = [
    ("★", "v2", "qwen3-coder-480b…", "9", "812", "–", "340ms", "12.1s"),
    ("2", "v1", "[bold]gpt[/bold]", "6", "~95", "–", "1.2s", "3.0s"),
    ("3", "v3", "broken", "–", "~0", "–", "–", "0ms"),
]


class BoardApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Leaderboard()


def board_lines(app: App[None]) -> list[str]:
    return [line.rstrip() for line in screen_text(app).splitlines()[:4]]  # type: ignore[arg-type]


async def test_wide_shows_every_column_aligned_and_the_text_literally() -> None:
    app = BoardApp()
    async with app.run_test(size=(70, 6)) as pilot:
        app.query_one(Leaderboard).show(ROWS, winner=True)
        await pilot.pause()
        header, first, second, third = board_lines(app)
        assert header.split() == ["#", "id", "model", "score", "tok", "ttft", "time"]
        assert second.split()[2] == "[bold]gpt[/bold]"  # markup is text
        # Numbers are right-aligned under their headings.
        for line in (first, second, third):
            assert len(line) == len(header)
        assert first.index("812") + 3 == header.index("tok") + 3
        assert first.endswith("12.1s") and third.endswith("0ms")


async def test_a_thinking_variant_adds_the_think_column_in_the_same_rows() -> None:
    app = BoardApp()
    async with app.run_test(size=(70, 6)) as pilot:
        board = app.query_one(Leaderboard)
        board.show(ROWS)
        await pilot.pause()
        thinking = [(*ROWS[0][:5], "41.2s", *ROWS[0][6:]), *ROWS[1:]]
        board.show(thinking)
        await pilot.pause()
        header, first, *_ = board_lines(app)
        assert header.split() == ["#", "id", "model", "score", "tok", "think", "ttft", "time"]
        assert first.split()[5] == "41.2s"
        assert len(board_lines(app)) == 4  # one row per variant, as before


@pytest.mark.parametrize(
    ("width", "columns"),
    [
        (40, ["#", "id", "model", "score", "tok", "ttft", "time"]),  # one-cell gaps
        (31, ["#", "id", "model", "score", "tok", "time"]),  # model names at 5 cells
        (25, ["#", "id", "model", "score", "tok"]),
        (19, ["#", "id", "model", "score"]),
    ],
)
async def test_narrow_shortens_model_names_then_leaves_out_columns(
    width: int, columns: list[str]
) -> None:
    app = BoardApp()
    async with app.run_test(size=(width, 6)) as pilot:
        app.query_one(Leaderboard).show(ROWS, winner=True)
        await pilot.pause()
        lines = board_lines(app)
        assert lines[0].split() == columns
        assert all(len(line) <= width for line in lines)
        assert lines[1].split()[:2] == ["★", "v2"] and lines[1].split()[2].endswith("…")


async def test_same_rows_change_nothing_and_more_rows_grow_it() -> None:
    app = BoardApp()
    async with app.run_test(size=(70, 8)) as pilot:
        board = app.query_one(Leaderboard)
        board.show(ROWS[:2])
        await pilot.pause()
        assert board.size.height == 3
        board.show(ROWS[:2])
        assert not board._repaint_required
        board.show(ROWS)
        await pilot.pause()
        assert board.size.height == 4
        board.show([])
        await pilot.pause()
        assert not board.display and board_lines(app)[0] == ""
