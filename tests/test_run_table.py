"""`RunTable`, the History screen's light table: literal cells, the cursor, Enter and
clicks, and only the rows in sight drawn."""

from __future__ import annotations

from textual.app import App, ComposeResult

from scillm_tui.tui.widgets.run_table import RunTable

COLUMNS = [("time", 8), ("prompt", 20)]


class TableApp(App[None]):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.count = rows
        self.selected: list[str] = []
        self.highlighted: list[int] = []

    def compose(self) -> ComposeResult:
        yield RunTable()

    def on_mount(self) -> None:
        table = self.query_one(RunTable)
        table.show(COLUMNS, ((f"run-{i}", (f"t{i}", f"prompt {i}")) for i in range(self.count)))
        table.focus()

    def on_run_table_selected(self, event: RunTable.Selected) -> None:
        self.selected.append(event.key)

    def on_run_table_highlighted(self, event: RunTable.Highlighted) -> None:
        self.highlighted.append(event.cursor_row)


def screen_lines(app: App[None]) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_cells_are_drawn_literally_and_cut_to_their_column() -> None:
    app = TableApp(0)
    async with app.run_test(size=(60, 6)) as pilot:
        table = app.query_one(RunTable)
        untrusted = "[b]x[/b]\x1b[31m!\tok"
        table.add_rows([("a", ("now", untrusted)), ("b", ("then", "a" * 30))])
        await pilot.pause()
        lines = screen_lines(app)
        assert lines[0].startswith(" time      prompt")
        assert " [b]x[/b][31m! ok " in lines[1]  # markup shown as typed, no escape code
        assert "\x1b" not in "".join(lines)
        assert " " + "a" * 19 + "…" in lines[2]  # 20 cells: cut, with an ellipsis


async def test_the_cursor_moves_scrolls_into_sight_and_enter_opens_its_row() -> None:
    app = TableApp(100)
    async with app.run_test(size=(60, 11)) as pilot:  # a header and 10 rows in sight
        table = app.query_one(RunTable)
        await pilot.pause()
        assert app.highlighted == [0]  # rows came under the cursor
        await pilot.press("down", "down", "enter")
        assert app.selected == ["run-2"]
        await pilot.press("pagedown")
        assert table.cursor_row == 12
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == 99
        lines = screen_lines(app)
        assert "prompt 99" in lines[-1] and lines[0].startswith(" time")  # header stays
        await pilot.press("home", "up")
        await pilot.pause()
        assert table.cursor_row == 0 and "prompt 0" in screen_lines(app)[1]
        assert app.highlighted == [0, 1, 2, 12, 99, 0]


async def test_a_click_moves_the_cursor_and_a_second_click_opens() -> None:
    app = TableApp(5)
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.click(RunTable, offset=(3, 3))  # line 3: row 2, under the header
        assert app.query_one(RunTable).cursor_row == 2 and app.selected == []
        await pilot.click(RunTable, offset=(3, 3))
        assert app.selected == ["run-2"]


async def test_only_the_rows_in_sight_are_drawn() -> None:
    """The point of the widget: a first page of a long history costs what the screen
    shows, not what the table holds."""
    app = TableApp(5_000)
    async with app.run_test(size=(60, 11)) as pilot:
        await pilot.pause()
        table = app.query_one(RunTable)
        assert 0 < len(table._strips) <= 11
