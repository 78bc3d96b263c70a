"""The dashboard's model Leaderboard screen (ctrl+l) over a seeded run history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from scillm_tui.core.run_history import HistoryStore, default_path
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.screens.leaderboard import LeaderboardScreen
from tests.history_seed import NEW, add_run, seed
from tests.tui_support import Script, freeze_animations, make_app, screen_text

SnapCompare = Callable[..., bool]


def seed_with_markup_name() -> None:
    """The seeded history plus a model whose name looks like markup (it must stay text)."""
    path = default_path()
    seed(path)
    store = HistoryStore.open(path)
    try:
        for i in range(3):
            add_run(store, f"m-{i}", ["[b]gpt[/b]", "alpha"], winner=0, when=NEW)
    finally:
        store.close()


async def settle(pilot: Pilot) -> None:
    """Wait for the screen's reading worker, then until each shown table has laid out its
    rows (a `DataTable` sizes itself on an idle pass after its rows are added)."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.screen
    for _ in range(50):
        tables = [t for t in screen.query(DataTable) if t.display and t.row_count]
        if all(t.virtual_size.height >= t.row_count + 1 for t in tables):
            break
        await pilot.pause()
    await pilot.pause()


async def open_board(pilot: Pilot) -> LeaderboardScreen:
    await pilot.press("ctrl+l")
    await pilot.pause()  # the screen is mounted and its worker started
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LeaderboardScreen)
    return screen


def table_text(screen: LeaderboardScreen, selector: str) -> str:
    """Every cell of a table, as its rows hold them (not as drawn: no race with paint)."""
    table = screen.query_one(selector, DataTable)
    return " ".join(str(c) for i in range(table.row_count) for c in table.get_row_at(i))


def model_column(screen: LeaderboardScreen) -> list[str]:
    table = screen.query_one("#leaderboard-models", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_ctrl_l_opens_the_board_s_switches_the_source_escape_closes(
    tmp_path: Path,
) -> None:
    seed(default_path())
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_board(pilot)
        assert model_column(screen) == ["alpha", "beta", "gamma"]  # the judges' favourite
        text = screen_text(app)
        assert "Counting the judges' verdicts." in text
        assert "20/28" in table_text(screen, "#leaderboard-models")  # alpha's wins/battles
        trust = table_text(screen, "#leaderboard-judges")
        assert "judge-a" in trust and "10/12 (83%, chance 33%)" in trust
        await pilot.press("s")
        await settle(pilot)
        assert screen.source == "human"
        assert model_column(screen)[0] == "gamma"  # your picks
        assert "too few" in screen_text(app)
        assert "10/12 (83%, chance 33%)" in screen_text(app)  # the judges' table stays
        await pilot.press("s", "s")  # both, then the judge again
        await settle(pilot)
        assert screen.source == "judge" and model_column(screen)[0] == "alpha"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LeaderboardScreen)


async def test_an_empty_history_gets_a_friendly_line(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_board(pilot)
        assert "No runs in the history yet" in screen_text(app)
        assert not screen.query_one("#leaderboard-models").display


async def test_the_leaderboard_is_in_the_palette(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(120, 36)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Leaderboard" in titles


def test_leaderboard_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    seed_with_markup_name()
    app = make_app(Script(), tmp_path, poll_health=False)

    async def run_before(pilot: Pilot) -> None:
        assert isinstance(pilot.app, ScillmApp)
        freeze_animations(pilot.app)
        await open_board(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
