"""The command palette's dashboard commands: every key of the app by its name (with
the key the user bound to it), "Previous prompt", and, once a run has ended, "I pick
vN" for each of its variants."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding

from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.variant_grid import VariantGrid

if TYPE_CHECKING:
    from scillm_tui.tui.app import ScillmApp

__all__ = ["dashboard_commands"]


def dashboard_commands(app: ScillmApp) -> Iterator[SystemCommand]:
    """The commands after Textual's own (the theme is among those already)."""
    for binding in app.BINDINGS:
        assert isinstance(binding, Binding)
        action = getattr(app, f"action_{binding.action}", None)
        if action is not None and binding.action != "change_theme":
            key = app.choices.config.keys.get(binding.id or "", binding.key)
            yield SystemCommand(binding.description, key, action)

    def older() -> None:
        app.query_one(PromptEditor).action_history(-1)

    yield SystemCommand("Previous prompt", "Recall an older prompt (alt+up)", older)
    grids = app.query(VariantGrid)  # none while the app shuts down
    grid = grids.first() if grids else None
    if grid is not None and grid.run is not None and not grid.streaming:  # your pick
        for vid, state in grid.run.variants.items():
            help_text = f"Mark {vid} ({state.model}) as your pick; again clears it (b)"
            yield SystemCommand(f"I pick {vid}", help_text, partial(app.runs.mark, vid))
