"""Exports of real runs: folder contents, leaderboard, history, run.json, never overwriting,
and no half-written export after a crash."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scillm_tui import __version__
from scillm_tui.core import artifacts
from scillm_tui.core.artifacts import export_run
from scillm_tui.core.backends import Backends
from scillm_tui.core.events import VariantDelta
from scillm_tui.core.judge import JudgeSpec, Verdict, judge_run
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.runs import Run, RunSpec, new_run_id
from scillm_tui.core.settings import load_settings
from scillm_tui.demo.server import BackgroundServer
from tests.servers.fault_app import EXPECTED_TEXT, JUDGE_FENCED_TEXT

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
BOUND_S = 15.0
HEADER = (
    "variant_id,score,note,rank,model,status,finish_reason,completion_tokens,ttft_ms,"
    "duration_ms,chars,answer_tokens,reasoning_tokens,think_ms,ttft_answer_ms,human_pick"
)


@pytest.fixture
async def backends(fault_server: BackgroundServer) -> AsyncIterator[Backends]:
    b = Backends(
        load_settings(None, CHUTES_API_BASE=fault_server.base_url, SCILLM_IDLE_TIMEOUT_S="2"),
        retry=FAST,
    )
    yield b
    await b.aclose()


def make_run(backends: Backends, models: list[str], **extra: Any) -> Run:
    spec = RunSpec(
        prompt="Explain CRDTs",
        system="be brief",
        target="gateway",
        models=models,
        n=extra.pop("n", len(models)),
        temperature=0.3,
        max_tokens=500,
    )
    return Run(spec, backends, **extra)


async def drive(run: Run, react: Callable[[Any], None] | None = None) -> Run:
    async with asyncio.timeout(BOUND_S):
        async for event in run.events():
            if react is not None:
                react(event)
    return run


async def judged(backends: Backends, run: Run, model: str = "judge-fenced") -> Verdict:
    async with asyncio.timeout(BOUND_S):
        return await judge_run(run, backends, JudgeSpec(model=model, target="gateway"))


def won(best_id: str = "v1") -> Verdict:
    """A verdict with a winner (so the export appends to the history)."""
    return Verdict(status="default", best_id=best_id, judge_model="j", judge_endpoint="gateway")


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (hidden ones too) with its bytes."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# ---- a judged run --------------------------------------------------------------------------------


async def test_export_folder_has_every_file(backends: Backends, tmp_path: Path) -> None:
    run = await drive(make_run(backends, ["ok", "burst", "401"]))
    verdict = await judged(backends, run)
    result = export_run(run, verdict, tmp_path / "art")

    assert result.dir == tmp_path / "art" / "runs" / run.run_id
    files = sorted(str(p.relative_to(result.dir)) for p in result.dir.rglob("*") if p.is_file())
    assert files == [
        "leaderboard.csv",
        "preferences.jsonl",
        "run.json",
        "variants/v1.md",
        "variants/v2.md",
        "variants/v3.md",
        "winners.jsonl",
    ]
    assert result.history == tmp_path / "art" / "winners.jsonl"
    assert result.as_dict() == {
        "dir": str(result.dir),
        "leaderboard": str(result.dir / "leaderboard.csv"),
        "winners": str(result.dir / "winners.jsonl"),
        "run": str(result.dir / "run.json"),
    }
    # Nothing else lies around: no staging folder, no temp files.
    assert [p.name for p in (tmp_path / "art" / "runs").iterdir()] == [run.run_id]
    assert not list((tmp_path / "art").rglob(".*"))
    assert not list((tmp_path / "art").rglob("*.lock"))  # the history's lock leaves nothing


async def test_leaderboard_is_ranked_with_winner_note(backends: Backends, tmp_path: Path) -> None:
    run = await drive(make_run(backends, ["ok", "burst", "401"]))
    verdict = await judged(backends, run)  # picks B (v2); scores A=5, B=8
    assert verdict.best_id == "v2"
    result = export_run(run, verdict, tmp_path)

    text = result.leaderboard.read_text(encoding="utf-8")
    assert text.splitlines()[0] == HEADER
    table = rows(result.leaderboard)
    assert [r["variant_id"] for r in table] == ["v2", "v1", "v3"]
    assert [r["rank"] for r in table] == ["1", "2", "3"]
    assert [r["score"] for r in table] == ["8", "5", ""]
    assert [r["note"] for r in table] == ["winner", "", "error"]
    assert [r["status"] for r in table] == ["done", "done", "error"]
    assert [r["model"] for r in table] == ["burst", "ok", "401"]
    for row in table:
        state = run.variants[row["variant_id"]]
        assert row["chars"] == str(state.chars)
        assert row["completion_tokens"] == str(state.completion_tokens)
        assert row["finish_reason"] == (state.finish_reason or "")
        assert row["duration_ms"] == str(round(state.duration_ms or 0))
    assert table[0]["ttft_ms"] != "" and table[2]["ttft_ms"] == ""  # no token, no ttft


async def test_majority_winner_ranks_first_even_with_a_lower_average_score(
    backends: Backends, tmp_path: Path
) -> None:
    run = await drive(make_run(backends, ["ok", "burst", "unicode"]))
    verdict = Verdict(
        status="verdict",
        best_id="v3",
        judge_model="j",
        judge_endpoint="gateway",
        scores={"v1": 6.0, "v2": 9.0, "v3": 7.5},
        agreement="2/3",
    )
    table = rows(export_run(run, verdict, tmp_path).leaderboard)
    assert [(r["variant_id"], r["score"], r["note"]) for r in table] == [
        ("v3", "7.5", "winner"),
        ("v2", "9", ""),
        ("v1", "6", ""),
    ]


async def test_no_scores_are_made_up_without_judge_scores(
    backends: Backends, tmp_path: Path
) -> None:
    run = await drive(make_run(backends, ["ok", "401"]))
    verdict = await judged(backends, run)
    assert verdict.status == "default" and verdict.scores == {}
    table = rows(export_run(run, verdict, tmp_path / "a").leaderboard)
    assert [(r["variant_id"], r["score"], r["note"], r["rank"]) for r in table] == [
        ("v1", "", "winner (won by default)", "1"),
        ("v2", "", "error", "2"),
    ]
    assert [row.score for row in artifacts.ranked(run, verdict)] == [None, None]

    both = await drive(make_run(backends, ["ok", "burst"]))
    no_scores = Verdict(
        status="verdict", best_id="v2", judge_model="j", judge_endpoint="gateway", scores={}
    )
    table = rows(export_run(both, no_scores, tmp_path / "b").leaderboard)
    assert [(r["variant_id"], r["score"], r["note"]) for r in table] == [
        ("v2", "", "winner"),
        ("v1", "", ""),
    ]


async def test_winners_line_and_history_append(backends: Backends, tmp_path: Path) -> None:
    first = await drive(make_run(backends, ["ok", "burst"]))
    first_verdict = await judged(backends, first)
    second = await drive(make_run(backends, ["burst", "ok"]))
    second_verdict = await judged(backends, second, "judge-ok")

    one = export_run(first, first_verdict, tmp_path)
    two = export_run(second, second_verdict, tmp_path)

    history = one.history.read_text(encoding="utf-8").splitlines()
    assert len(history) == 2
    assert one.winners.read_text(encoding="utf-8") == history[0] + "\n"
    assert two.winners.read_text(encoding="utf-8") == history[1] + "\n"
    record = json.loads(history[0])
    assert record["run_id"] == first.run_id
    assert record["best_id"] == "v2"
    assert record["reason"] == "B covers every part of the task."
    assert record["judge_model"] == "judge-fenced"
    assert record["gen_models"] == ["ok", "burst"]
    assert record["agreement"] == "1/1"
    assert len(record["prompt_sha256"]) == 64
    assert datetime.fromisoformat(record["created_at"]).tzinfo is not None
    assert json.loads(history[1])["run_id"] == second.run_id
    assert json.loads(history[1])["best_id"] == "v1"


async def test_run_json_has_everything_to_understand_the_run(
    fault_server: BackgroundServer, backends: Backends, tmp_path: Path
) -> None:
    run = await drive(make_run(backends, ["ok", "drop", "no-done"]))
    verdict = await judged(backends, run)
    data = json.loads(export_run(run, verdict, tmp_path).run.read_text(encoding="utf-8"))

    assert data["app"] == {"name": "scillm-tui", "version": __version__}
    assert data["run_id"] == run.run_id
    assert data["prompt"] == "Explain CRDTs" and data["system"] == "be brief"
    assert data["parameters"] == {
        "target": "gateway",
        "models": ["ok", "drop", "no-done"],
        "n": 3,
        "temperature": 0.3,
        "max_tokens": 500,
        "concurrency": None,
    }
    assert data["endpoints"]["gateway"] == fault_server.base_url
    assert data["endpoints"]["sidecar"] == "http://127.0.0.1:8089"

    v1, v2, v3 = data["variants"]
    assert v1["text"] == EXPECTED_TEXT["ok"] and v1["status"] == "done"
    assert v1["usage"]["completion_tokens"] == len(EXPECTED_TEXT["ok"].split())
    assert v1["tokens_estimated"] is False
    assert v1["ttft_ms"] is not None and v1["duration_ms"] >= v1["ttft_ms"]
    assert v1["chunks"] >= 1 and v1["chars"] == len(EXPECTED_TEXT["ok"])
    assert v2["status"] == "error" and v2["error_category"] == "dropped"
    assert v2["text"] == EXPECTED_TEXT["drop"] and "mid-stream" in v2["error"]
    assert v3["usage"] is None and v3["tokens_estimated"] is True
    assert v3["finish_reason"] is None

    judge = data["judge"]
    assert judge["best_id"] == "v3"  # "B" is the second candidate: v1, v3 (v2 failed)
    assert judge["judge_model"] == "judge-fenced"
    assert judge["judge_base_url"] == fault_server.base_url
    assert judge["prompt"] == verdict.prompt and judge["prompt"][-1]["role"] == "user"
    assert judge["rounds"][0]["raw"] == [JUDGE_FENCED_TEXT]
    assert judge["scores"] == {"v1": 5.0, "v3": 8.0}


async def test_variant_markdown_files(backends: Backends, tmp_path: Path) -> None:
    run = await drive(make_run(backends, ["unicode", "error-in-stream"]))
    result = export_run(run, None, tmp_path)
    v1 = (result.dir / "variants" / "v1.md").read_text(encoding="utf-8")
    assert v1 == f"<!-- v1 · unicode · done -->\n\n{EXPECTED_TEXT['unicode']}\n"
    v2 = (result.dir / "variants" / "v2.md").read_text(encoding="utf-8")
    assert v2.startswith("<!-- v2 · error-in-stream · error -->\n\n")
    assert EXPECTED_TEXT["error-in-stream"] in v2
    assert "<!-- error: " in v2 and "upstream model crashed" in v2


# ---- never collide, never overwrite --------------------------------------------------------------


async def test_two_exports_of_one_run_never_collide(backends: Backends, tmp_path: Path) -> None:
    run = await drive(make_run(backends, ["ok", "burst"]))
    first = export_run(run, None, tmp_path)
    before = tree(first.dir)
    verdict = await judged(backends, run)
    second = export_run(run, verdict, tmp_path)
    assert first.dir != second.dir
    assert second.dir.name == f"{run.run_id}-2"
    assert tree(first.dir) == before  # the earlier export is untouched
    assert json.loads(second.run.read_text(encoding="utf-8"))["judge"]["best_id"] == "v2"
    # Only the judged export has a winner: the history has its line only.
    (line,) = first.history.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["best_id"] == "v2"


async def test_two_runs_in_the_same_second_never_collide(
    backends: Backends, tmp_path: Path
) -> None:
    now = datetime(2026, 11, 25, 21, 22, 33, tzinfo=UTC)
    ids = {new_run_id(now) for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("20261125T212233Z-") for i in ids)

    a = await drive(make_run(backends, ["ok"], run_id=new_run_id(now)))
    b = await drive(make_run(backends, ["burst"], run_id=new_run_id(now)))
    same = await drive(make_run(backends, ["unicode"], run_id=a.run_id))  # even a clash
    dirs = [export_run(r, None, tmp_path).dir for r in (a, b, same)]
    assert len(set(dirs)) == 3
    texts = [json.loads((d / "run.json").read_text())["variants"][0]["text"] for d in dirs]
    assert texts == [EXPECTED_TEXT["ok"], EXPECTED_TEXT["burst"], EXPECTED_TEXT["unicode"]]


# ---- partial runs --------------------------------------------------------------------------------


async def test_export_before_judging(backends: Backends, tmp_path: Path) -> None:
    run = await drive(make_run(backends, ["401", "ok", "burst"]))
    result = export_run(run, None, tmp_path)
    table = rows(result.leaderboard)
    # No scores yet: finished variants first, in order, then the failed one.
    assert [(r["variant_id"], r["score"], r["note"], r["rank"]) for r in table] == [
        ("v2", "", "", "1"),
        ("v3", "", "", "2"),
        ("v1", "", "error", "3"),
    ]
    assert result.winners.read_text(encoding="utf-8") == ""  # no winner, no line
    assert not result.history.exists()
    assert json.loads(result.run.read_text(encoding="utf-8"))["judge"] is None


async def test_export_after_cancel_keeps_partial_variants(
    make_fault_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    server = make_fault_server(slow_tokens_per_s=10)
    backends = Backends(load_settings(None, CHUTES_API_BASE=server.base_url), retry=FAST)
    run = make_run(backends, ["slow", "ok"])

    def react(event: Any) -> None:
        if isinstance(event, VariantDelta) and event.variant_id == "v1":
            run.cancel()

    try:
        await drive(run, react)
    finally:
        await backends.aclose()
    assert run.variants["v1"].status == "cancelled"
    result = export_run(run, None, tmp_path)
    table = {r["variant_id"]: r for r in rows(result.leaderboard)}
    assert table["v1"]["status"] == "cancelled" and table["v1"]["note"] == "cancelled"
    partial = run.variants["v1"].text
    assert (
        partial and EXPECTED_TEXT["slow"].startswith(partial) and partial != EXPECTED_TEXT["slow"]
    )
    data = json.loads(result.run.read_text(encoding="utf-8"))
    assert data["variants"][0]["status"] == "cancelled"
    assert data["variants"][0]["text"] == partial
    assert partial in (result.dir / "variants" / "v1.md").read_text(encoding="utf-8")


# ---- crash safety --------------------------------------------------------------------------------


def crash_on_call(monkeypatch: pytest.MonkeyPatch, n: int) -> list[Path]:
    """Make the export's `n`-th file write raise, as a crash (disk full, kill) would."""
    calls: list[Path] = []
    real = artifacts.atomic_write_text

    def flaky(path: Path, text: str, **kwargs: Any) -> None:
        calls.append(path)
        if len(calls) == n:
            raise OSError(28, "No space left on device")
        real(path, text, **kwargs)

    monkeypatch.setattr(artifacts, "atomic_write_text", flaky)
    return calls


async def test_crash_mid_export_leaves_no_half_written_folder(
    backends: Backends, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = await drive(make_run(backends, ["ok", "burst", "unicode"]))
    art = tmp_path / "art"
    earlier = export_run(await drive(make_run(backends, ["ok"])), won(), art)
    before = tree(art)
    history_before = earlier.history.read_bytes()

    calls = crash_on_call(monkeypatch, 3)
    with pytest.raises(OSError, match="No space left"):
        export_run(run, won(), art)
    assert len(calls) == 3  # it really got part of the way

    assert tree(art) == before  # no new folder, no staging leftovers, nothing changed
    assert sorted(p.name for p in (art / "runs").iterdir()) == [earlier.dir.name]
    assert earlier.history.read_bytes() == history_before


async def test_crash_in_the_very_first_export_leaves_nothing(
    backends: Backends, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = await drive(make_run(backends, ["ok", "burst"]))
    art = tmp_path / "art"
    crash_on_call(monkeypatch, 3)
    with pytest.raises(OSError):
        export_run(run, won(), art)
    assert not (art / "winners.jsonl").exists()
    assert not (art / "runs").exists() or list((art / "runs").iterdir()) == []

    monkeypatch.undo()
    result = export_run(run, won(), art)  # and a retry then works, under the plain name
    assert result.dir.name == run.run_id
    assert len(result.history.read_text(encoding="utf-8").splitlines()) == 1
