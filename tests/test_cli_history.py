"""`scillm-tui history` and `scillm-tui leaderboard` over a seeded run history, and
`scillm-tui run` recording into it (or not, with --no-history / SCILLM_HISTORY=0)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from scillm_tui.cli.main import main
from scillm_tui.core.run_history import HistoryStore, default_path
from scillm_tui.demo.server import BackgroundServer
from tests.history_seed import add_jury_judgment, add_run, seed
from tests.test_cli import run_cli


@pytest.fixture
def seeded() -> Path:
    path = default_path()  # under the test's own XDG_DATA_HOME (conftest)
    seed(path)
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = cli(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def by_model(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["model"]: row for row in rows}


# ---- history --------------------------------------------------------------------------------


def test_history_lists_runs_newest_first_with_their_winner(
    seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = cli_json(capsys, "history", "--limit", "3")
    assert [r["run_id"] for r in rows] == ["a-11", "a-10", "a-09"]
    first = rows[0]
    keys = {"run_id", "started_at", "prompt", "models", "n", "status", "winner_model"}
    assert keys | {"judge_model"} <= set(first)
    assert first["models"] == ["alpha", "beta", "gamma"] and first["n"] == 3
    assert first["winner_model"] == "beta" and first["judge_model"] == "judge-a"
    assert first["status"] == "finished"

    code, out, _ = cli(capsys, "history", "--limit", "2")
    assert code == 0
    header, newest, older = out.splitlines()
    assert header.split() == ["time", "prompt", "N", "models", "winner", "judge", "status"]
    assert "june question 11" in newest and "second line" not in newest  # first line only
    assert "beta" in newest and "judge-a" in newest and newest.endswith("finished")
    assert "june question 10" in older


def test_history_search_finds_the_prompt(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = cli_json(capsys, "history", "--search", "january")
    assert sorted(r["run_id"] for r in rows) == [f"b-{i:02d}" for i in range(6)]
    code, out, _ = cli(capsys, "history", "--search", "nowhere-to-be-found")
    assert code == 0 and "No recorded run matches" in out


def test_an_empty_history_says_so_and_creates_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "history")
    assert code == 0 and err == ""
    assert out.startswith("No runs recorded yet")
    assert cli_json(capsys, "history") == []
    code, out, _ = cli(capsys, "leaderboard")
    assert code == 0 and out.startswith("No runs judged yet")
    assert cli_json(capsys, "leaderboard") == []
    assert not default_path().exists()


# ---- leaderboard -------------------------------------------------------------------------------


def test_leaderboard_json_ranks_the_judges_favourite_first(
    seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = cli_json(capsys, "leaderboard")
    keys = {"model", "rating", "ci_low", "ci_high", "rank", "wins", "battles", "win_rate"}
    assert all(keys | {"runs", "too_few"} <= set(row) for row in rows)
    # judge-a: alpha wins 10 of 12 runs (20 battles won); judge-b: beta wins 6 runs.
    models = by_model(rows)
    assert models["alpha"]["wins"] == 20 and models["alpha"]["battles"] == 28
    assert models["beta"]["wins"] == 16 and models["beta"]["battles"] == 26
    assert models["gamma"]["wins"] == 0 and models["gamma"]["battles"] == 18
    assert rows[-1]["model"] == "gamma"
    for row in rows:
        assert row["ci_low"] <= row["rating"] <= row["ci_high"]
        assert not row["too_few"]
    assert models["alpha"]["win_rate"] == round(20 / 28, 3)


def test_leaderboard_table_and_csv(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "leaderboard", "--csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert list(table[0]) == [
        "model",
        "rating",
        "ci_low",
        "ci_high",
        "rank",
        "wins",
        "battles",
        "win_rate",
        "runs",
        "too_few",
    ]
    assert {row["model"] for row in table} == {"alpha", "beta", "gamma"}
    code, out, _ = cli(capsys, "leaderboard", "--min-battles", "27")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["rank", "model", "rating"]
    assert lines[1].split()[:2] == ["1", "alpha"]
    alpha = next(line for line in lines if " alpha " in line)
    assert "20/28" in alpha and not alpha.endswith("too few")
    beta = next(line for line in lines if " beta " in line)
    assert "16/26" in beta and beta.endswith("too few")  # 26 < 27
    assert "under 27 battles" in out


def test_min_battles_marks_too_few(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = by_model(cli_json(capsys, "leaderboard", "--min-battles", "27"))
    assert not rows["alpha"]["too_few"] and rows["beta"]["too_few"]  # 28 vs 26 battles
    assert rows["gamma"]["too_few"]


def test_since_and_judge_filter_the_verdicts(
    seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recent = by_model(cli_json(capsys, "leaderboard", "--since", "2026-03-01"))
    assert recent["alpha"]["battles"] == 22 and recent["beta"]["wins"] == 4  # June only
    assert recent["alpha"]["rank"] == 1 and recent["alpha"]["rating"] > recent["beta"]["rating"]
    judge_b = cli_json(capsys, "leaderboard", "--judge", "judge-b")
    assert judge_b[0]["model"] == "beta" and judge_b[0]["wins"] == 12
    assert sum(row["battles"] for row in judge_b) == 24  # 6 runs x 2 battles, counted twice
    with pytest.raises(SystemExit) as exited:
        main(["leaderboard", "--since", "last tuesday"])
    assert exited.value.code == 2 and "--since" in capsys.readouterr().err


def test_source_human_and_both(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    human = cli_json(capsys, "leaderboard", "--source", "human")
    assert human[0]["model"] == "gamma"
    assert by_model(human)["gamma"]["wins"] == 8 and by_model(human)["alpha"]["battles"] == 4
    assert all(row["too_few"] for row in human)  # 4 runs, under 10 battles each
    both = by_model(cli_json(capsys, "leaderboard", "--source", "both"))
    # a-00..a-03: the person's gamma replaces judge-a's alpha.
    assert both["alpha"]["wins"] == 12 and both["gamma"]["wins"] == 8
    # Those 4 runs now give alpha 1 battle each (a loss to gamma), not 2 wins.
    assert both["alpha"]["battles"] == 28 - 4


def test_judges_trust_figures(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    judges = {row["judge_model"]: row for row in cli_json(capsys, "leaderboard", "--judges")}
    a = judges["judge-a"]
    assert a["runs"] == 12
    assert (a["agreement"]["hits"], a["agreement"]["n"]) == (0, 4)  # you picked gamma
    assert (a["shuffle_consistency"]["hits"], a["shuffle_consistency"]["n"]) == (10, 12)
    assert (a["length_bias"]["hits"], a["length_bias"]["n"]) == (10, 12)
    assert a["length_bias"]["chance"] == pytest.approx(1 / 3)
    assert judges["judge-b"]["runs"] == 6
    code, out, _ = cli(capsys, "leaderboard", "--judges")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("judge-a"))
    assert "0/4 (0%" in line and "10/12 (83%, chance 33%)" in line


@pytest.fixture
def jury_seeded() -> Path:
    """Six runs (alpha, judge-y, gamma) judged by a jury of judge-x, judge-y, judge-z.

    You picked v1 (alpha) in runs 0-2 and v3 (gamma) in runs 3-5. judge-x and judge-z
    vote with you (each shown two orders, the same pick both times); judge-y always votes
    for v2, its own model's answer, and changes its pick when the order changes. The
    jury's majority is always your pick."""
    path = default_path()
    store = HistoryStore.open(path)
    try:
        for i in range(6):
            run_id = f"j-{i:02d}"
            add_run(store, run_id, ["alpha", "judge-y", "gamma"], winner=None)
            yours = 0 if i < 3 else 2
            with_you = (yours, [((0, 1, 2), yours), ((2, 1, 0), yours)])
            votes = {
                "judge-x": with_you,
                "judge-y": (1, [((0, 1, 2), 1), ((2, 1, 0), 0)]),
                "judge-z": with_you,
            }
            add_jury_judgment(store, run_id, votes, winner=yours)
            store.add_human_verdict(run_id, [f"v{yours + 1}"])
    finally:
        store.close()
    return path


def test_each_juror_gets_its_own_trust_figures(
    jury_seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    judges = {row["judge_model"]: row for row in cli_json(capsys, "leaderboard", "--judges")}
    assert set(judges) == {"judge-x", "judge-y", "judge-z", "jury: judge-x + judge-y + judge-z"}
    y = judges["judge-y"]  # its own votes, not the jury's
    assert y["runs"] == 6
    assert (y["agreement"]["hits"], y["agreement"]["n"]) == (0, 6)
    assert y["kappa"] == pytest.approx(0.0)
    assert (y["position_consistency"]["hits"], y["position_consistency"]["n"]) == (0, 6)
    assert (y["self_preference"]["hits"], y["self_preference"]["n"]) == (6, 6)
    x = judges["judge-x"]
    assert (x["agreement"]["hits"], x["agreement"]["n"]) == (6, 6) and x["kappa"] == 1.0
    assert (x["position_consistency"]["hits"], x["position_consistency"]["n"]) == (6, 6)
    jury = judges["jury: judge-x + judge-y + judge-z"]
    assert (jury["agreement"]["hits"], jury["runs"]) == (6, 6)
    only_y = cli_json(capsys, "leaderboard", "--judges", "--judge", "judge-y")
    assert [(row["judge_model"], row["runs"]) for row in only_y] == [("judge-y", 6)]


def test_a_jury_run_is_one_set_of_battles(
    jury_seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = by_model(cli_json(capsys, "leaderboard", "--min-battles", "0"))
    # 6 runs x 2 battles (the jury's winner beats the other two), each counted once.
    assert sum(row["battles"] for row in rows.values()) == 6 * 2 * 2
    assert (rows["alpha"]["wins"], rows["gamma"]["wins"], rows["judge-y"]["wins"]) == (6, 6, 0)


# ---- run records ----------------------------------------------------------------------------


def _run_args(server: BackgroundServer) -> list[str]:
    return [
        "run",
        "--gateway",
        server.base_url + "/v1",
        "--prompt",
        "Explain CRDTs",
        "--model",
        "ok",
        "--model",
        "burst",
        "-n",
        "2",
        "--judge-model",
        "judge-ok",
    ]


def test_run_is_recorded_with_its_winner(tmp_path: Path, fault_server: BackgroundServer) -> None:
    result = run_cli(tmp_path, *_run_args(fault_server))
    assert result.code == 0, result.stderr
    store = HistoryStore.open(tmp_path / "home" / "data" / "scillm-tui" / "history.db")
    try:
        (summary,) = store.list_runs()
        assert summary.run_id == result.json["run_id"]
        assert summary.status == "finished" and summary.prompt == "Explain CRDTs"
        assert summary.winner_id == "v1" and summary.winner_model == "ok"
        assert summary.judge_model == "judge-ok"
        stored = store.load_run(summary.run_id)
        assert stored is not None
        assert [v.answer for v in stored.variants] == [v["text"] for v in result.json["variants"]]
    finally:
        store.close()


@pytest.mark.parametrize("how", ["flag-before", "flag-after", "env"])
def test_no_history_records_nothing(
    tmp_path: Path, fault_server: BackgroundServer, how: str
) -> None:
    args = _run_args(fault_server)
    env = {}
    if how == "flag-before":
        args = ["--no-history", *args]
    elif how == "flag-after":
        args = [*args, "--no-history"]
    else:
        env["SCILLM_HISTORY"] = "0"
    result = run_cli(tmp_path, *args, env=env)
    assert result.code == 0, result.stderr
    assert not (tmp_path / "home" / "data" / "scillm-tui" / "history.db").exists()


def test_history_table_never_sends_a_prompts_escape_sequences(
    capsys: pytest.CaptureFixture[str],
) -> None:

    store = HistoryStore.open(default_path())
    try:
        add_run(store, "evil", ["\x1b]0;owned\x07m", "beta"], winner=0, prompt="\x1b[2Jgone")
    finally:
        store.close()
    code, out, _ = cli(capsys, "history")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "?[2Jgone" in out
    code, out, _ = cli(capsys, "leaderboard", "--min-battles", "0")
    assert "\x1b" not in out and "?]0;owned?m" in out
