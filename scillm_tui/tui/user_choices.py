"""The user's kept choices applied to the app, and gathered again when it exits.

Reading, writing and checking the file is `scillm_tui.core.user_config`'s; this module
decides what wins and shows what went wrong. The environment and flags win over the
saved form values where they set the same thing (`CHUTES_MODEL`, `BEST_OF_N`,
`JUDGE_MODEL`, `--demo`); the theme and key bindings come from the file alone.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.widgets import Input, Select

from scillm_tui.core.settings import Settings
from scillm_tui.core.user_config import (
    FormChoices,
    UserConfig,
    form_choices,
    load_user_config,
    save_user_config,
)

# form field id -> (FormChoices field, the setting that wins over it when set)
FORM_FIELDS = {
    "models": ("models", "model"),
    "n": ("n", "best_of_n"),
    "temperature": ("temperature", None),
    "max-tokens": ("max_tokens", None),
    "judge-model": ("judge_model", "judge_model"),
    "judge-rounds": ("judge_rounds", None),
    "judge-mode": ("judge_mode", None),
}


class UserChoices:
    """The config file's choices for one app: loaded at start, saved at exit."""

    def __init__(self, path: Path | None, *, demo: bool = False) -> None:
        self.path = path
        self.demo = demo
        self.config, self.problem = (
            load_user_config(path) if path is not None else (UserConfig(), None)
        )
        self._inputs: dict[str, Input | Select[str]] = {}  # the form's fields, read at exit

    def initial_form(self, settings: Settings) -> dict[str, str]:
        """Start text for the run form's fields: the saved values, except where the
        environment or a flag set the same thing."""
        given = settings.model_fields_set
        initial: dict[str, str] = {}
        for field_id, (name, setting) in FORM_FIELDS.items():
            value = getattr(self.config.form, name)
            if value is None or (setting is not None and setting in given):
                continue
            initial[field_id] = str(value)
        return initial

    def apply(self, app: App[Any]) -> None:
        """Theme and key bindings onto `app`; one notification if the file is unusable.
        Call it once the form is mounted: its fields are read again at exit, when the
        screens are gone (the widgets keep their values)."""
        self._inputs = {
            w.id: w
            for w in app.query("Input, Select")
            if w.id in FORM_FIELDS and isinstance(w, Input | Select)
        }
        if self.problem:
            app.notify(self.problem, title="Config file", severity="error", timeout=10)
            return
        theme = self.config.theme
        if theme is not None:
            if theme in app.available_themes:
                app.theme = theme
            else:
                app.notify(f"unknown theme {theme!r} in {self.path}", title="Config file")
        keys = self.config.keys
        if not keys:
            return
        known = binding_ids(app)  # imports the other screens: only when keys are rebound
        unknown = sorted(set(keys) - known)
        if unknown:
            app.notify(
                f"{self.path}: no binding with id {', '.join(map(repr, unknown))} "
                f"(ids: {', '.join(sorted(known))})",
                title="Config file",
                severity="warning",
                timeout=10,
            )
        app.set_keymap({k: v for k, v in keys.items() if k in known})

    def gather(self, app: App[Any]) -> UserConfig:
        """The choices as they stand: the theme, and the form's fields (not in the demo,
        whose models are the demo's own)."""
        form: FormChoices = self.config.form
        if not self.demo and self._inputs:
            texts = {
                FORM_FIELDS[field_id][0]: str(widget.value)
                for field_id, widget in self._inputs.items()
            }
            form = form_choices(texts, form)
        return UserConfig(theme=app.theme, form=form, keys=self.config.keys)

    async def save(self, app: App[Any]) -> None:
        """Write the choices if they changed, on a worker thread. A file that could not
        be read is left alone (the user may want to mend it)."""
        if self.path is None or self.problem:
            return
        config = self.gather(app)
        if config == self.config:
            return
        try:
            await asyncio.to_thread(save_user_config, config, self.path)
        except OSError:  # at exit nobody can be told; the next start has the old file
            return
        self.config = config


def binding_ids(app: App[Any]) -> set[str]:
    """Every binding id a `[keys]` table may rebind: the app's, and those of every screen
    and widget of the dashboard that has bindings of its own (found, not listed, so a new
    screen's keys can be rebound as soon as it exists)."""
    import importlib
    import pkgutil

    from textual.dom import DOMNode

    import scillm_tui.tui.screens
    import scillm_tui.tui.widgets

    owners: list[object] = [app]
    for package in (scillm_tui.tui.screens, scillm_tui.tui.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            owners += [
                value
                for value in vars(module).values()
                if isinstance(value, type)
                and issubclass(value, DOMNode)
                and value.__module__ == module.__name__
                and "BINDINGS" in vars(value)
            ]
    return {
        binding.id
        for owner in owners
        for binding in getattr(owner, "BINDINGS", ())
        if isinstance(binding, Binding) and binding.id
    }
