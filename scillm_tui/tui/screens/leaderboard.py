"""The model Leaderboard screen (ctrl+l): the models ranked over the run history, and how
far to trust each judge.

The numbers come from `core.run_history.ranking_inputs` (the same battles as
`scillm-tui leaderboard`), read on a thread of their own: the history may hold thousands
of runs. Model names come from endpoints and users: every cell is literal text.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from scillm_tui.core.ranking import ModelRating
from scillm_tui.core.run_history.ranking_inputs import (
    DEFAULT_MIN_BATTLES,
    SOURCES,
    TRUST_HEADER,
    Leaderboard,
    Source,
    load_leaderboard,
    trust_cells,
)
from scillm_tui.core.run_history.store import HistoryUnavailable

__all__ = ["MODEL_HEADER", "LeaderboardScreen", "model_cells"]

MODEL_HEADER = ("#", "model", "rating", "95 % interval", "wins/battles", "win rate", "")
_RIGHT = frozenset({0, 2, 3, 4, 5})
_TRUST_RIGHT = frozenset({1})
_SOURCE_TEXT = {
    "judge": "the judges' verdicts",
    "human": "your picks",
    "both": "your picks, else the judges' verdicts",
}


def model_cells(row: ModelRating) -> tuple[str, ...]:
    """One model's leaderboard row as text cells of `MODEL_HEADER`."""
    return (
        str(row.rank),
        row.model,
        f"{row.rating:.0f}",
        f"{row.ci_low:.0f}–{row.ci_high:.0f}",
        f"{row.wins:g}/{row.battles}",
        f"{row.win_rate:.0%}",
        "too few" if row.too_few else "",
    )


def _fill(
    table: DataTable[Text],
    header: tuple[str, ...],
    rows: list[tuple[str, ...]],
    right: frozenset[int],
) -> None:
    """Replace the table's columns and rows; every cell literal (`Text`, never markup)."""
    table.clear(columns=True)
    for i, name in enumerate(header):
        table.add_column(Text(name, justify="right" if i in right else "left"), key=str(i))
    for row in rows:
        table.add_row(
            *(Text(cell, justify="right" if i in right else "left") for i, cell in enumerate(row))
        )


class LeaderboardScreen(ModalScreen[None]):
    """`s` switches whose picks count (judge / human / both); escape closes."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="leaderboard-close"),
        Binding("s", "cycle_source", "Source", id="leaderboard-source"),
    ]

    def __init__(
        self,
        path: Path | None = None,
        *,
        source: Source = "judge",
        min_battles: int = DEFAULT_MIN_BATTLES,
    ) -> None:
        super().__init__()
        self.path = path
        self.source: Source = source
        self.min_battles = min_battles
        self.board: Leaderboard | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="leaderboard-box") as box:
            box.border_title = "Model leaderboard"
            box.border_subtitle = "s: whose picks count · escape closes"
            yield Static("Reading the run history…", markup=False, id="leaderboard-status")
            yield DataTable[Text](id="leaderboard-models", cursor_type="none", zebra_stripes=True)
            yield Static(
                "Judges: how far to trust them", markup=False, id="leaderboard-judges-title"
            )
            yield DataTable[Text](id="leaderboard-judges", cursor_type="none")

    def on_mount(self) -> None:
        self._show_tables(False)
        self.load()

    @work(exclusive=True, group="leaderboard")
    async def load(self) -> None:
        """Read the leaderboard for `self.source` off the event loop, then show it."""
        source = self.source
        judges = self.board.judges if self.board is not None else None
        try:
            board = await asyncio.to_thread(
                load_leaderboard,
                self.path,
                source=source,
                min_battles=self.min_battles,
                with_judges=judges is None,  # they do not change with the source
            )
        except HistoryUnavailable as exc:
            self._status(str(exc))
            return
        except (sqlite3.Error, OSError) as exc:  # a damaged or vanished file: say so, stay up
            self._status(f"The run history could not be read: {exc}")
            return
        if judges is not None:
            board = replace(board, judges=judges)
        if source == self.source:  # not switched again meanwhile
            self.show(board)

    def show(self, board: Leaderboard) -> None:
        """Fill both tables from `board` (or say why there is nothing to rank)."""
        self.board = board
        if board.warning:
            self.notify(board.warning, title="Run history", severity="warning")
        counted = f"Counting {_SOURCE_TEXT[board.source]}."
        if not board.ratings:
            if board.runs == 0:
                why = "No runs in the history yet: run (ctrl+r) and judge to rank the models."
            elif board.source == "judge":
                why = "No judged runs with two models or more to compare yet."
            else:
                why = "No run you picked a variant in, with two models or more, yet."
            self._status(f"{counted} {why} Press s to count other picks.")
            self._show_tables(bool(board.judges), models=False)
        else:
            few = sum(r.too_few for r in board.ratings)
            note = f" {few} with under {self.min_battles} battles: too few." if few else ""
            self._status(
                f"{counted} Models sharing a rank overlap within their 95 % intervals.{note}"
            )
            self._show_tables(True, judges=bool(board.judges))
            models = [model_cells(r) for r in board.ratings]
            _fill(self.query_one("#leaderboard-models", DataTable), MODEL_HEADER, models, _RIGHT)
        if board.judges:
            judges = [trust_cells(j) for j in board.judges]
            _fill(
                self.query_one("#leaderboard-judges", DataTable), TRUST_HEADER, judges, _TRUST_RIGHT
            )

    def _status(self, text: str) -> None:
        self.query_one("#leaderboard-status", Static).update(Text(text))

    def _show_tables(self, shown: bool, *, models: bool = True, judges: bool = True) -> None:
        self.query_one("#leaderboard-models").display = shown and models
        for name in ("#leaderboard-judges-title", "#leaderboard-judges"):
            self.query_one(name).display = shown and judges

    def action_cycle_source(self) -> None:
        self.source = SOURCES[(SOURCES.index(self.source) + 1) % len(SOURCES)]
        self._status(f"Counting {_SOURCE_TEXT[self.source]}…")
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)
