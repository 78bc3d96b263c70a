"""Shared fixtures: a clean environment for every test, and the loopback servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.servers.fixtures"]

SETTINGS_VARIABLES = (
    "CODEX_AGENT_API_BASE",
    "CODEX_AGENT_API_KEY",
    "CHUTES_API_BASE",
    "CHUTES_API_KEY",
    "CHUTES_MODEL",
    "JUDGE_MODEL",
    "BEST_OF_N",
    "SCILLM_GATEWAY_AUTH_HEADER",
    "SCILLM_IDLE_TIMEOUT_S",
    "SCILLM_ARTIFACTS_DIR",
    "SCILLM_DEBUG",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's settings, `.env`, data dir or config file."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.chdir(tmp_path)
    assert not (Path(os.getcwd()) / ".env").exists()
    yield
