"""`python -m bench` writes its results outside the source tree (they are measurements of
one machine, not source), into the user's cache unless `--out` says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import CASES, FULL, QUICK, default_out_dir, details, summarise, table

ROOT = Path(__file__).resolve().parent.parent


def test_results_go_to_the_xdg_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_out_dir() == tmp_path / "scillm-tui" / "bench"


def test_without_xdg_cache_home_they_go_to_dot_cache_not_the_repo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    out = default_out_dir()
    assert out == tmp_path / ".cache" / "scillm-tui" / "bench"
    assert not out.is_relative_to(ROOT)


def screen_result(paint: float, filter_p95: float, lag: float) -> dict:
    """One `bench.history_screen screen` result line, as `run_job` returns it."""
    return {
        "case": "history_screen",
        "runs": 2000,
        "first_paint_ms": paint,
        "first_paint_cpu_ms": paint / 3,
        "screen_ms": paint,
        "load_lag_ms": {"p50": 1.0, "p99": lag, "max": lag, "n": 30},
        "filter_ms": {"p50": filter_p95 / 2, "p99": filter_p95, "max": filter_p95, "n": 13},
        "filter_p95_ms": filter_p95,
        "filter_cpu_ms": {"p50": 20.0, "p99": 40.0, "max": 40.0, "n": 13},
        "filter_lag_ms": {"p50": 1.0, "p99": 30.0, "max": 45.0, "n": 190},
    }


def test_the_history_screen_case_reports_its_three_figures_against_their_targets() -> None:
    assert "history_screen" in CASES
    assert FULL["history_screen_runs"] == 10_000 and QUICK["history_screen_runs"] < 10_000
    runs = {
        "history_screen": [
            {"run": screen_result(80, 60, 30)},
            {"run": screen_result(120, 90, 40)},
            {"run": screen_result(90, 150, 70)},
        ]
    }
    rows = summarise(runs, FULL)
    assert [(r["case"], r["target"], r["measured"], r["pass"]) for r in rows] == [
        ("11 history screen", "≤ 100 ms", 90.0, True),  # the median of the three runs
        ("11 history screen", "≤ 100 ms", 90.0, True),
        ("11 history screen", "≤ 50 ms", 40.0, True),
    ]
    assert "f3 → first rows on screen, 10,000 runs × 4 variants" in rows[0]["figure"]
    assert rows[0]["runs"] == [80, 120, 90]
    (line,) = details(runs)
    assert line.startswith("11 the event loop's CPU from f3 to the rows 30 ms")
    assert "| 11 history screen | f3 → first rows" in table(rows)


def test_a_failed_screen_run_leaves_its_figures_out_not_the_table() -> None:
    runs = {"history_screen": [{"run": {"error": "never showed", "case": "history_screen"}}]}
    rows = summarise(runs, QUICK)
    assert [r["shown"] for r in rows] == ["n/a", "n/a", "n/a"]
    assert all(r["pass"] is None for r in rows)


def test_the_filter_plan_times_only_keys_whose_rows_change(tmp_path: Path) -> None:
    """Every timed key expects text the screen did not show before it, so a frame that
    shows it is that key's result (and not the previous one's)."""
    from bench.history import fill
    from bench.history_screen import TYPED, _plan
    from scillm_tui.core.run_history import HistoryStore
    from scillm_tui.tui.screens.history import NO_MATCH

    store = HistoryStore.open(tmp_path / "h.db")
    fill(store, 200, 2)
    store.close()
    plan = _plan(tmp_path / "h.db", 200)
    assert len(plan) == len(TYPED)
    assert plan[:4] == [
        ("1", None),  # "1*" finds run 199 first, on screen already (the newest): not timed
        ("2", "question 129:"),
        ("3", None),  # run 123 was in "12*"'s page already
        ("4", NO_MATCH),
    ]
    assert plan[4] == ("backspace", "question 123:")
