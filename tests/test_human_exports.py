"""Your pick in an export: run.json's `human`, a `source: "human"` winners line next to
the judge's `source: "judge"` one, `human_pick` as the CSV's last column, and the run's
preference pairs in preferences.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from scillm_tui.core.artifacts import LEADERBOARD_COLUMNS, export_run
from scillm_tui.core.backends import Backends
from scillm_tui.core.human_verdict import HumanVerdict
from tests.test_artifacts import backends, drive, judged, make_run, rows

__all__ = ["backends"]  # the fixture, used by name


async def test_export_with_your_pick_against_the_judge(backends: Backends, tmp_path: Path) -> None:
    run = await drive(make_run(backends, ["ok", "burst", "401"]))
    verdict = await judged(backends, run)  # the judge picks v2
    assert verdict.best_id == "v2"
    pick = HumanVerdict.pick("v1")

    first = export_run(run, verdict, tmp_path, pick)
    second = export_run(run, verdict, tmp_path, pick)  # never over the first
    assert first.dir != second.dir and first.run.exists()

    data = json.loads(first.run.read_text(encoding="utf-8"))
    assert data["human"] == {
        "variant_id": "v1",
        "ranking": ["v1"],
        "created_at": pick.created_at.isoformat(),
    }
    lines = [json.loads(x) for x in first.winners.read_text(encoding="utf-8").splitlines()]
    assert [(x["source"], x["best_id"]) for x in lines] == [("judge", "v2"), ("human", "v1")]
    history = first.history.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["source"] for x in history] == ["judge", "human"] * 2

    assert LEADERBOARD_COLUMNS[-1] == "human_pick"
    table = rows(first.leaderboard)
    assert list(table[0])[-1] == "human_pick"
    assert {r["variant_id"]: r["human_pick"] for r in table} == {"v1": "yes", "v2": "", "v3": ""}

    # Your pick wins the run's pairs: v1 over v2; v3 failed, so no pair with it.
    (pair,) = [json.loads(x) for x in first.preferences.read_text(encoding="utf-8").splitlines()]
    assert pair["chosen"] == [{"role": "assistant", "content": run.variants["v1"].text}]
    assert pair["rejected"] == [{"role": "assistant", "content": run.variants["v2"].text}]
    assert pair["prompt"][0] == {"role": "system", "content": "be brief"}


async def test_export_without_a_pick_has_no_human_parts(backends: Backends, tmp_path: Path) -> None:
    run = await drive(make_run(backends, ["ok", "burst"]))
    verdict = await judged(backends, run)
    result = export_run(run, verdict, tmp_path, HumanVerdict.pick(None))  # a cleared pick
    assert json.loads(result.run.read_text(encoding="utf-8"))["human"] is None
    lines = [json.loads(x) for x in result.winners.read_text(encoding="utf-8").splitlines()]
    assert [x["source"] for x in lines] == ["judge"]
    assert all(r["human_pick"] == "" for r in rows(result.leaderboard))
    (pair,) = result.preferences.read_text(encoding="utf-8").splitlines()
    assert json.loads(pair)["chosen"][0]["content"] == run.variants["v2"].text
