"""`b`: your pick next to the judge's, in the dashboard, in the history, in the export."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

import scillm_tui.core.runs as runs_module
from scillm_tui.core.run_history import HistoryStore, default_path
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.tui_support import (
    FrozenClock,
    Script,
    export,
    fixed_report,
    freeze_animations,
    make_app,
    run_to_end,
    screen_text,
    set_form,
    show_health,
    type_prompt,
    wait_for_run,
)

SIZE = (160, 45)


def panel_line(app: ScillmApp) -> str:
    return str(app.query_one("#judge-human", Static).content)


async def test_b_marks_your_pick_shows_disagreement_and_b_again_clears_it(
    tmp_path: Path,
) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="3")
        grid, panel = app.query_one(VariantGrid), app.query_one(JudgePanel)
        assert panel.verdict is not None and panel.verdict.best_id == "v1"
        panel_height = panel.query_one("#judge-human").size.height

        await pilot.press("alt+right", "alt+right")  # the second column: v2
        await pilot.press("b")
        assert grid.human is not None and grid.human.variant_id == "v2"
        assert grid.column("v2").human_pick and not grid.column("v1").human_pick
        text = screen_text(app)
        assert "♥ your pick" in text
        assert "you: v2 · judge: v1 — disagree" in text
        assert panel.query_one("#judge-human").has_class("-disagree")
        assert panel.query_one("#judge-human").size.height == panel_height == 1

        await pilot.press("alt+left", "b")  # v1: the judge's winner
        assert panel_line(app) == "you: v1 · judge: v1 — agree"
        assert grid.column("v1").human_pick and not grid.column("v2").human_pick

        await pilot.press("b")  # again on the same column: cleared
        await pilot.pause()
        assert grid.human is not None and grid.human.variant_id is None
        assert panel_line(app) == ""
        assert not any(c.human_pick for c in grid.columns)
        assert "♥ your pick" not in screen_text(app)

        await pilot.press("b")  # picked again, then a new run: nobody has picked it yet
        assert grid.column("v1").has_class("-human-pick")
        first_run = grid.run
        await pilot.press("ctrl+r")
        await wait_for_run(pilot)
        assert grid.run is not first_run and grid.human is None
        assert not any(c.human_pick or c.has_class("-human-pick") for c in grid.columns)
        assert panel_line(app) == "" and "♥ your pick" not in screen_text(app)

        await app.picks.flush()
    assert first_run is not None
    run_id = first_run.run_id
    store = HistoryStore.open(default_path())
    try:
        stored = store.load_run(run_id)
        assert stored is not None and stored.status == "finished"
        assert [(h.variant_id, h.ranking) for h in stored.human_verdicts] == [
            ("v2", ["v2"]),
            ("v1", ["v1"]),
            (None, []),
            ("v1", ["v1"]),
        ]
        assert all(h.created_at for h in stored.human_verdicts)
        assert {k: v.variant_id for k, v in store.human_picks().items()} == {
            run_id: "v1"
        }  # latest wins
        assert [v.answer for v in stored.variants][1]  # the run itself is there too
    finally:
        store.close()


async def test_no_pick_while_streaming_or_before_a_run(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=SIZE) as pilot:
        app.action_mark_best()
        await pilot.pause()
        assert app.query_one(VariantGrid).human is None
        assert any("run first" in n.message for n in app._notifications)


async def test_palette_pick_without_judge_and_export_carries_it(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, models="alpha, beta", n="2", judge_model="judge-bad")
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"I pick v1", "I pick v2"} <= set(commands)
        commands["I pick v2"].callback()
        await pilot.pause()
        assert panel_line(app) == "you: v2 · no judge verdict"
        await export(pilot)
    (folder,) = (tmp_path / "artifacts" / "runs").iterdir()
    human = json.loads((folder / "run.json").read_text(encoding="utf-8"))["human"]
    assert human["variant_id"] == "v2" and human["ranking"] == ["v2"]
    lines = [json.loads(x) for x in (folder / "winners.jsonl").read_text().splitlines()]
    assert [(x["source"], x["best_id"]) for x in lines] == [("human", "v2")]
    with (folder / "leaderboard.csv").open(encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert {r["variant_id"]: r["human_pick"] for r in table} == {"v1": "", "v2": "yes"}
    (pair,) = (folder / "preferences.jsonl").read_text(encoding="utf-8").splitlines()
    assert set(json.loads(pair)) == {"prompt", "chosen", "rejected"}


def test_snapshot_your_pick_disagrees_with_the_judge(
    snap_compare: Callable[..., bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The panel's line `you: v2 · judge: v1 — disagree` and v2's `♥ your pick`."""
    monkeypatch.setattr(runs_module, "time", FrozenClock())
    app = make_app(Script(), tmp_path, poll_health=False)

    async def run_before(pilot: Pilot) -> None:
        freeze_animations(app)
        show_health(app, fixed_report("sidecar", "up"), fixed_report("gateway", "up"))
        await type_prompt(pilot, "Explain CRDTs in two paragraphs.")
        await set_form(pilot, models="alpha, beta, gamma", n="3")
        await pilot.press("ctrl+r")
        await wait_for_run(pilot)
        await pilot.press("alt+right", "alt+right", "b")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 40), run_before=run_before)
