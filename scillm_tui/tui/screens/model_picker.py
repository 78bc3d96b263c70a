"""Pick one or several models from the endpoints' /v1/models lists."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static


class ModelPicker(ModalScreen[list[str] | None]):
    """Space toggles a model, enter accepts, escape leaves the models as they were."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel", id="picker-cancel"),
        Binding("enter", "accept", "Use these models", id="picker-accept", priority=True),
    ]

    def __init__(self, models: list[str], selected: list[str]) -> None:
        super().__init__()
        self.models = models
        self.selected = selected

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Static(
                "Models (space toggles, enter accepts, escape cancels)",
                markup=False,
                id="picker-title",
            )
            yield SelectionList[str](
                *((Content(m), m, m in self.selected) for m in self.models), id="picker-list"
            )

    def action_accept(self) -> None:
        chosen = self.query_one(SelectionList).selected
        self.dismiss(list(chosen) or None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
