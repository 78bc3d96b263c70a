"""Settings read from the environment and a `.env` file (the environment wins).

The variable names are the ones SciLLM users already keep in their `.env`, so
the fields use explicit aliases rather than a prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from scillm_tui.core.errors import ConfigError

DEFAULT_SIDECAR_BASE = "http://127.0.0.1:8089"
DEFAULT_MODEL = "deepseek-ai/DeepSeek-R1"


def normalise_base_url(value: str | None, variable: str) -> str | None:
    """Strip whitespace, trailing `/` and a trailing `/v1`; insist on http(s)."""
    if value is None:
        return None
    url = value.strip()
    if not url:
        return None
    if not (url.startswith("http://") or url.startswith("https://")):
        raise ValueError(f"must start with http:// or https:// (got {url!r})")
    url = url.rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")].rstrip("/")
    if url in ("http:", "https:") or url.endswith("://"):
        raise ValueError(f"has no host (got {value!r})")
    return url


def _alias(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Everything configurable about scillm-tui. Keys are `SecretStr`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
    )

    sidecar_base: str = Field(
        default=DEFAULT_SIDECAR_BASE, validation_alias=_alias("CODEX_AGENT_API_BASE")
    )
    sidecar_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("CODEX_AGENT_API_KEY")
    )
    gateway_base: str | None = Field(default=None, validation_alias=_alias("CHUTES_API_BASE"))
    gateway_key: SecretStr | None = Field(default=None, validation_alias=_alias("CHUTES_API_KEY"))
    model: str = Field(default=DEFAULT_MODEL, validation_alias=_alias("CHUTES_MODEL"))
    judge_model: str | None = Field(default=None, validation_alias=_alias("JUDGE_MODEL"))
    best_of_n: int = Field(default=3, ge=1, le=64, validation_alias=_alias("BEST_OF_N"))
    gateway_auth_header: Literal["authorization", "x-api-key"] = Field(
        default="authorization", validation_alias=_alias("SCILLM_GATEWAY_AUTH_HEADER")
    )
    idle_timeout_s: float = Field(
        default=60.0, gt=0, le=3600, validation_alias=_alias("SCILLM_IDLE_TIMEOUT_S")
    )
    artifacts_dir: Path = Field(
        default=Path(".artifacts"), validation_alias=_alias("SCILLM_ARTIFACTS_DIR")
    )
    debug: bool = Field(default=False, validation_alias=_alias("SCILLM_DEBUG"))

    @field_validator("sidecar_base", mode="before")
    @classmethod
    def _sidecar_url(cls, value: object) -> str:
        url = normalise_base_url(str(value) if value is not None else None, "CODEX_AGENT_API_BASE")
        return url or DEFAULT_SIDECAR_BASE

    @field_validator("gateway_base", mode="before")
    @classmethod
    def _gateway_url(cls, value: object) -> str | None:
        return normalise_base_url(str(value) if value is not None else None, "CHUTES_API_BASE")

    @field_validator("gateway_auth_header", mode="before")
    @classmethod
    def _header_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("sidecar_key", "gateway_key", "judge_model", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @property
    def effective_judge_model(self) -> str:
        return self.judge_model or self.model

    @property
    def gateway_configured(self) -> bool:
        return self.gateway_base is not None

    def secret_values(self) -> list[str]:
        """Every configured secret, for redaction filters."""
        return [
            key.get_secret_value()
            for key in (self.sidecar_key, self.gateway_key)
            if key is not None and key.get_secret_value()
        ]


_FIELD_TO_VARIABLE = {
    name: (choice if isinstance(choice := field.validation_alias.choices[0], str) else name.upper())
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, AliasChoices)
}


def _describe(error: ErrorDetails) -> str:
    loc = error.get("loc") or ("?",)
    field = str(loc[0])
    variable = _FIELD_TO_VARIABLE.get(field, field.upper())
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    raw = error.get("input")
    secret = variable.endswith("_KEY")
    if raw is not None and not secret and "got" not in message and not isinstance(raw, dict):
        message = f"{message} (got {str(raw)!r})"
    return f"{variable}: {message}"


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build settings from the environment and `env_file`; raise `ConfigError` on bad values.

    A missing default `.env` is fine; an explicitly chosen file that does not exist is an error.
    """
    if env_file is not None and env_file != ".env" and not Path(env_file).is_file():
        raise ConfigError(f"--env-file: no such file: {env_file}")
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None
