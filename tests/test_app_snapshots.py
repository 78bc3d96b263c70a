"""Snapshot tests of the dashboard's screens that matter (`pytest --snapshot-update` to renew).

Every screen is driven by the scripted backend, with fixed health reports and a frozen
clock in the run engine, so each SVG is the same on every run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

import scillm_tui.core.runs as runs_module
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.tui_support import (
    FrozenClock,
    Script,
    fixed_report,
    freeze_animations,
    make_app,
    set_form,
    show_health,
    type_prompt,
    wait_for_run,
)

UP = (fixed_report("sidecar", "up"), fixed_report("gateway", "up"))
SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_module, "time", FrozenClock())


def prepare(
    health: tuple = UP,
    *,
    prompt: str | None = "Explain CRDTs in two paragraphs.",
    models: str = "alpha, beta, gamma",
    n: str = "3",
    script: Script | None = None,
    until_stuck: bool = False,
    until_thinking: bool = False,
) -> Callable[[Pilot], Awaitable[None]]:
    """A `run_before` that sets health, optionally runs, and settles the screen."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, ScillmApp)
        freeze_animations(app)
        show_health(app, *health)
        if prompt is not None:
            await type_prompt(pilot, prompt)
            await set_form(pilot, models=models, n=n)
            await pilot.press("ctrl+r")
            if until_stuck or until_thinking:
                assert script is not None
                event = script.thinking_started if until_thinking else script.stuck_started
                await event.wait()
                await pilot.pause()
            else:
                await wait_for_run(pilot)
        app.repaint(force=True)
        app.clear_notifications()
        await pilot.pause()

    return run_before


def test_idle(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    assert snap_compare(app, terminal_size=(120, 36), run_before=prepare(prompt=None))


def test_streaming(snap_compare: SnapCompare, tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    run_before = prepare(models="alpha, stuck", n="2", script=script, until_stuck=True)
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_judged_winner_highlighted(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    assert snap_compare(app, terminal_size=(160, 40), run_before=prepare())


def test_errors_variant_and_judge(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False, JUDGE_MODEL="judge-bad")
    run_before = prepare(models="alpha, broken, beta", n="3")
    assert snap_compare(app, terminal_size=(160, 40), run_before=run_before)


def test_health_down_and_auth(snap_compare: SnapCompare, tmp_path: Path) -> None:
    health = (
        fixed_report(
            "sidecar",
            "down",
            "connection refused — is the sidecar running on 127.0.0.1:8089?",
            latency_ms=None,
            models=None,
            healthz=None,
        ),
        fixed_report(
            "gateway",
            "auth",
            "key rejected by the gateway (HTTP 401: invalid api key) — check CHUTES_API_KEY",
            models=None,
        ),
    )
    app = make_app(Script(), tmp_path, poll_health=False)
    assert snap_compare(app, terminal_size=(120, 36), run_before=prepare(health, prompt=None))


def test_narrow_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=prepare())


def test_wide_200x50(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    run_before = prepare(models="alpha, beta, gamma, delta", n="4")
    assert snap_compare(app, terminal_size=(200, 50), run_before=run_before)


def test_single_variant(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    assert snap_compare(app, terminal_size=(120, 36), run_before=prepare(models="beta", n="1"))


def test_eight_variants(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    run_before = prepare(models="alpha, beta, gamma, delta", n="8")
    assert snap_compare(app, terminal_size=(200, 50), run_before=run_before)


def test_hostile_output_shown_literally(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    run_before = prepare(models="hostile, gamma", n="2")
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_zoomed_winner(snap_compare: SnapCompare, tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    judged = prepare(models="alpha, beta", n="2")

    async def run_before(pilot: Pilot) -> None:
        await judged(pilot)
        pilot.app.query_one(VariantGrid).column("v1").view.focus()
        await pilot.press("f6")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_a_column_while_thinking(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Dimmed italic thinking under `▾ thinking`, the header `thinking 0 s`."""
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    run_before = prepare(models="thinker-slow, alpha", n="2", script=script, until_thinking=True)
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_thinking_folded_after_the_answer(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """`▸ thought 0 s · 1,830 tokens` above the answer; the leaderboard's think column."""
    app = make_app(Script(), tmp_path, poll_health=False)
    run_before = prepare(models="thinker, thinker-cut, alpha", n="3")
    assert snap_compare(app, terminal_size=(160, 40), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 35)])
def test_streaming_three_columns_on_small_terminals(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """While a run streams, a short screen folds the health panes and the prompt."""
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    run_before = prepare(models="alpha, stuck, gamma", n="3", script=script, until_stuck=True)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_six_columns_at_200_show_the_ones_beyond_the_edge(
    snap_compare: SnapCompare, tmp_path: Path
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    run_before = prepare(models="alpha, beta, gamma, delta, alpha, beta", n="6")
    assert snap_compare(app, terminal_size=(200, 50), run_before=run_before)
