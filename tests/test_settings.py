"""Settings: defaults, .env loading, precedence, normalisation, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from scillm_tui.core.errors import ConfigError
from scillm_tui.core.settings import load_settings


def test_defaults_without_env_or_file() -> None:
    s = load_settings()
    assert s.sidecar_base == "http://127.0.0.1:8089"
    assert s.gateway_base is None and not s.gateway_configured
    assert s.model == "deepseek-ai/DeepSeek-R1"
    assert s.effective_judge_model == s.model
    assert s.best_of_n == 3
    assert s.gateway_auth_header == "authorization"
    assert s.idle_timeout_s == 60
    assert s.artifacts_dir == Path(".artifacts")
    assert s.debug is False


def test_dotenv_in_cwd_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "CHUTES_API_BASE=https://llm.example.com/v1/\nCHUTES_API_KEY=cpk_file\nBEST_OF_N=5\n"
        "JUDGE_MODEL=judge/x\n"
    )
    s = load_settings()
    assert s.gateway_base == "https://llm.example.com"
    assert s.gateway_key is not None and s.gateway_key.get_secret_value() == "cpk_file"
    assert s.best_of_n == 5
    assert s.effective_judge_model == "judge/x"


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BEST_OF_N=5\nCHUTES_MODEL=from-file\n")
    monkeypatch.setenv("BEST_OF_N", "7")
    s = load_settings()
    assert s.best_of_n == 7
    assert s.model == "from-file"


def test_explicit_env_file(tmp_path: Path) -> None:
    other = tmp_path / "conf" / "prod.env"
    other.parent.mkdir()
    other.write_text("CODEX_AGENT_API_BASE=http://10.0.0.5:9000/\n")
    (tmp_path / ".env").write_text("CODEX_AGENT_API_BASE=http://ignored:1\n")
    assert load_settings(other).sidecar_base == "http://10.0.0.5:9000"


def test_missing_explicit_env_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.env")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://llm.chutes.ai/v1", "https://llm.chutes.ai"),
        ("https://llm.chutes.ai/v1/", "https://llm.chutes.ai"),
        ("https://llm.chutes.ai/", "https://llm.chutes.ai"),
        ("  https://llm.chutes.ai  ", "https://llm.chutes.ai"),
        ("http://host:8080/prefix/v1", "http://host:8080/prefix"),
    ],
)
def test_gateway_base_is_normalised(monkeypatch: pytest.MonkeyPatch, raw: str, expected: str):
    monkeypatch.setenv("CHUTES_API_BASE", raw)
    assert load_settings().gateway_base == expected


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("BEST_OF_N", "abc", "BEST_OF_N"),
        ("BEST_OF_N", "0", "BEST_OF_N"),
        ("CHUTES_API_BASE", "llm.chutes.ai", "CHUTES_API_BASE: must start with http"),
        ("CODEX_AGENT_API_BASE", "localhost:8089", "CODEX_AGENT_API_BASE"),
        ("SCILLM_IDLE_TIMEOUT_S", "-1", "SCILLM_IDLE_TIMEOUT_S"),
        ("SCILLM_GATEWAY_AUTH_HEADER", "cookie", "SCILLM_GATEWAY_AUTH_HEADER"),
        ("SCILLM_DEBUG", "maybe", "SCILLM_DEBUG"),
    ],
)
def test_bad_values_name_the_variable_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_auth_header_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCILLM_GATEWAY_AUTH_HEADER", "X-API-Key")
    assert load_settings().gateway_auth_header == "x-api-key"


def test_keys_never_show_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUTES_API_KEY", "cpk_SEEKRIT_123")
    monkeypatch.setenv("CODEX_AGENT_API_KEY", "sidecar_SEEKRIT_456")
    s = load_settings()
    for text in (repr(s), str(s), s.model_dump_json(), repr(s.gateway_key)):
        assert "SEEKRIT" not in text
    assert sorted(s.secret_values()) == ["cpk_SEEKRIT_123", "sidecar_SEEKRIT_456"]


def test_blank_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUTES_API_BASE", "")
    monkeypatch.setenv("CHUTES_API_KEY", "  ")
    monkeypatch.setenv("JUDGE_MODEL", "")
    s = load_settings()
    assert s.gateway_base is None and s.gateway_key is None and s.judge_model is None


def test_env_example_lists_every_variable() -> None:
    from tests.conftest import SETTINGS_VARIABLES

    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for name in SETTINGS_VARIABLES:
        assert f"\n{name}=" in example, name
