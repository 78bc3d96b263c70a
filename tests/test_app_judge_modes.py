"""The dashboard's judge modes: a jury and pairwise from the form, progress in the panel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Select, Static

from scillm_tui.core.judge import JudgeProgress, JudgeSpec, Verdict
from scillm_tui.core.runs import Run
from scillm_tui.tui.widgets import judge_panel
from scillm_tui.tui.widgets.judge_panel import JudgePanel
from scillm_tui.tui.widgets.run_form import RunForm
from tests.tui_support import Script, make_app, run_to_end, screen_text, set_form, type_prompt


def judge_requests(script: Script) -> list[dict[str, Any]]:
    return [r for r in script.requests if r["model"].startswith("judge")]


async def test_a_jury_from_the_form_shows_each_jurors_pick(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(
            pilot, models="alpha, beta", n="2", judge_model="judge, judge-thinks, judge-bad"
        )
        verdict = app.query_one(JudgePanel).verdict
        assert verdict is not None and verdict.best_id == "v1"
        assert {r["model"] for r in judge_requests(script)} == {
            "judge",
            "judge-thinks",
            "judge-bad",
        }
        text = screen_text(app)
        assert "★ winner v1 (alpha) · agreement 2/2" in text
        assert "jury 2/2: judge → v1 ·" in text  # the panel wraps the rest
        shown = app.query_one("#judge-reason", Static).content
        assert str(shown).startswith(
            "jury 2/2: judge → v1 · judge-thinks → v1 · judge-bad failed\n"
        )


async def test_pairwise_from_the_form_judges_both_orders_and_shows_a_tie(tmp_path: Path) -> None:
    script = Script()
    app = make_app(script, tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        app.query_one("#judge-mode", Select).value = "pairwise"
        await run_to_end(pilot, models="alpha, beta, gamma", n="3")
        spec = app.query_one(RunForm).values().judge_spec()
        assert spec.mode == "pairwise" and spec.jurors == ["judge"]
        # The scripted judge always answers "A": every pair, in both orders (6 calls), is
        # a tie.
        assert len(judge_requests(script)) == 6
        verdict = app.query_one(JudgePanel).verdict
        assert verdict is not None and verdict.status == "tie" and verdict.mode == "pairwise"
        text = screen_text(app)
        assert "no winner: a tie · agreement 0/3" in text
        assert "★" not in text.split("Judge")[-1]  # nobody is marked the winner


async def test_the_panel_counts_judge_calls_without_changing_height(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    begun, go, halfway, release = (asyncio.Event() for _ in range(4))

    async def gated_events(
        run: Run, backends: object, spec: JudgeSpec
    ) -> AsyncIterator[JudgeProgress | Verdict]:
        yield JudgeProgress(0, 12, "pairs")
        begun.set()
        await go.wait()
        for done in range(1, 4):
            yield JudgeProgress(done, 12, "pairs")
        halfway.set()
        await release.wait()
        yield Verdict(
            status="verdict",
            best_id="v1",
            reason="v1 wins 3 of its 3 pairs",
            judge_model=spec.model,
            judge_endpoint="gateway",
            mode="pairwise",
        )

    monkeypatch.setattr(judge_panel, "judge_events", gated_events)
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(160, 45)) as pilot:
        panel = app.query_one(JudgePanel)
        await type_prompt(pilot, "Explain CRDTs")
        await set_form(pilot, models="alpha, beta, gamma, alpha", n="4")
        await pilot.press("ctrl+r")
        async with asyncio.timeout(10):
            await begun.wait()
        await pilot.pause()
        height = panel.size.height  # as the judge starts
        assert "judging with judge (1 round)…" in screen_text(app)
        go.set()
        async with asyncio.timeout(10):
            await halfway.wait()
        await pilot.pause()
        assert panel.judging and panel.has_class("-judging")
        assert "judging 3/12 pairs…" in screen_text(app)
        assert panel.size.height == height
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "★ winner v1" in screen_text(app)
        assert panel.size.height == height
