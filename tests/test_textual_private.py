"""Textual's private API that `scillm_tui.tui.textual_private` relies on is still there.

An upgrade of Textual that renames or drops one of these fails here, with its name,
instead of as a crash or a silent slowdown in a user's terminal.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from scillm_tui.tui import textual_private as private
from scillm_tui.tui.streamview.line_cache import LineCache
from scillm_tui.tui.streamview.view import StreamView


class _Probe(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("x", id="static")


async def test_every_private_name_used_exists_on_a_live_app() -> None:
    app = _Probe()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        widget = app.query_one("#static", Static)
        compositor = private.compositor(widget)
        assert compositor is not None
        for name in ("_visible_widgets", "_visible_map", "_full_map_invalidated", "_full_map"):
            assert hasattr(compositor, name), f"Compositor.{name} is gone"
        for name in ("_repaint_required", "_border_title"):
            assert hasattr(widget, name), f"Widget.{name} is gone"
        scroll = app.query_one(VerticalScroll)
        for name in ("_vertical_scrollbar", "_horizontal_scrollbar"):
            assert hasattr(scroll, name), f"Widget.{name} is gone"
        screen = app.screen
        for name in (
            "_refresh_layout",
            "_layout_required",
            "_update_timer",
            "_compositor",
            "_on_timer_update",
        ):
            assert hasattr(screen, name), f"Screen.{name} is gone"
        assert hasattr(compositor, "render_strips"), "Compositor.render_strips is gone"
        assert isinstance(getattr(type(compositor), "full_map", None), property), (
            "Compositor.full_map is no longer a property"
        )
        for name in ("_start_widget", "_get_screen", "_css_update_count"):
            assert hasattr(app, name), f"App.{name} is gone"
        # The helpers answer as the widgets expect on a live screen.
        assert private.visible_in_last_frame(widget)
        assert not private.known_unseen(widget)
        assert isinstance(private.css_generation(app), int)
        assert private.border_title(widget) is None


@pytest.mark.parametrize(("where", "method"), sorted(private.OVERRIDDEN))
def test_each_overridden_private_method_still_exists_with_our_signature(
    where: str, method: str
) -> None:
    module, _, name = where.rpartition(".")
    base = getattr(importlib.import_module(module), name)
    assert hasattr(base, method), f"{where}.{method} is gone: our override is dead code"
    ours = [
        cls
        for cls in (StreamView, LineCache)
        if method in vars(cls) and (cls is LineCache or issubclass(cls, base))
    ]
    assert ours, f"nothing overrides {where}.{method} any more: drop it from OVERRIDDEN"
    theirs = inspect.signature(getattr(base, method))
    for cls in ours:
        mine = inspect.signature(vars(cls)[method])
        assert list(mine.parameters) == list(theirs.parameters), (cls, method)


class _Tick(Screen[None]):
    """A tall line, and below it one out of sight."""

    CSS = "#tall { height: 30; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("tick", id="tall")
            yield Static("unseen", id="unseen")


async def test_the_watchers_see_textuals_work_on_a_live_app() -> None:
    """What tests/test_textual_private_effects.py relies on: each watcher sees the work it
    watches (a watcher that saw nothing would make those tests pass vacuously)."""
    with private.watching_update_ticks(_Tick) as ticks:
        app = _Probe()
        async with app.run_test(size=(40, 10)) as pilot:
            await app.push_screen(_Tick())
            await pilot.pause()
            screen = app.screen
            unseen = screen.query_one("#unseen", Static)
            assert private.screen_strips(screen)[0].text.rstrip() == "tick"
            assert True in ticks
            assert not private.visible_in_last_frame(unseen)
            with (
                private.watching_layouts(screen) as layouts,
                private.watching_full_map_builds(screen) as builds,
            ):
                unseen.refresh()  # a plain widget asks even while out of sight ...
                assert private.repaint_requested(unseen)
                await pilot.pause()
                assert private.full_map_stale(screen)  # ... which drops the map
                assert unseen.region.height == 1  # a look-up rebuilds it
                assert builds and not private.full_map_stale(screen)
                assert layouts == []
                await pilot.resize_terminal(30, 8)
                await pilot.pause()
                assert layouts
            # Left as they were: the class's own methods again.
            assert "_refresh_layout" not in vars(screen)
            assert type(private.compositor(unseen)).__name__ == "Compositor"
    assert "_on_timer_update" not in vars(_Tick)
