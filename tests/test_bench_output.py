"""`python -m bench` writes its results outside the source tree (they are measurements of
one machine, not source), into the user's cache unless `--out` says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import default_out_dir

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
