"""Issue 17's dashboard items: what the screen said that was wrong or misleading."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.keys import _character_to_key  # what Pilot.press uses
from textual.widgets import Input

from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.tui_support import Script, make_app, set_form, type_prompt, wait_for_run


def burst(app: ScillmApp, *keys: str) -> None:
    """Post `keys` to the app at once, as a fast typist or a script delivers them: none
    is handled before the next arrives."""
    for key in keys:
        char = key if len(key) == 1 else None
        app.post_message(events.Key(_character_to_key(key) if char else key, char))


async def test_ctrl_r_runs_exactly_the_prompt_typed_before_it(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    typed = "Explain CRDTs to a new engineer, with an example of a counter and a set, briefly."
    async with app.run_test(size=(160, 45)) as pilot:
        await set_form(pilot, models="alpha", n="1")
        burst(app, *typed, "ctrl+r")
        await pilot.pause()
        await wait_for_run(pilot)
        grid = app.query_one(VariantGrid)
        assert grid.run is not None and grid.run.spec.prompt == typed
        assert script.requests[0]["messages"][-1]["content"] == typed


async def test_ctrl_r_at_start_up_waits_for_the_keys_before_it(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        burst(app, *"hello there", "ctrl+r")
        await pilot.pause()
        await wait_for_run(pilot)
        assert app.query_one(PromptEditor).prompt == "hello there"
        assert not any("empty" in n.message for n in app._notifications)
        grid = app.query_one(VariantGrid)
        assert grid.run is not None and grid.run.spec.prompt == "hello there"


async def test_n_typed_in_a_burst_is_what_the_run_uses(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="alpha")
        app.query_one("#n").focus()
        await pilot.pause()
        burst(app, "end", "backspace", "4", "ctrl+r")
        await pilot.pause()
        await wait_for_run(pilot)
        assert app.query_one("#n", Input).value == "4"
        grid = app.query_one(VariantGrid)
        assert grid.run is not None and len(grid.run.variants) == 4
