"""Which endpoint a request goes to, and how it authenticates.

SciLLM's model-only routing carries over: a model written `codex-agent/<id>` goes to the
sidecar as `<id>`; any other model goes to the run's target.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from scillm_tui.core.settings import Settings

EndpointName = Literal["sidecar", "gateway"]
SIDECAR_PREFIX = "codex-agent/"


class EndpointConfig(BaseModel):
    """One OpenAI-compatible endpoint. `base_url` has no trailing `/v1`."""

    model_config = ConfigDict(frozen=True)

    name: EndpointName
    base_url: str
    api_key: SecretStr | None = None
    auth_header: Literal["authorization", "x-api-key"] = "authorization"
    key_variable: str = "CHUTES_API_KEY"
    demo: bool = False

    @property
    def label(self) -> str:
        return "codex-agent sidecar" if self.name == "sidecar" else "gateway"

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1].split("/", 1)[0]

    def auth_headers(self) -> dict[str, str]:
        if self.api_key is None or not self.api_key.get_secret_value():
            return {}
        key = self.api_key.get_secret_value()
        if self.auth_header == "x-api-key":
            return {"x-api-key": key}
        return {"Authorization": f"Bearer {key}"}


def sidecar_config(settings: Settings) -> EndpointConfig:
    return EndpointConfig(
        name="sidecar",
        base_url=settings.sidecar_base,
        api_key=settings.sidecar_key,
        auth_header="authorization",
        key_variable="CODEX_AGENT_API_KEY",
    )


def gateway_config(settings: Settings) -> EndpointConfig | None:
    if settings.gateway_base is None:
        return None
    return EndpointConfig(
        name="gateway",
        base_url=settings.gateway_base,
        api_key=settings.gateway_key,
        auth_header=settings.gateway_auth_header,
        key_variable="CHUTES_API_KEY",
    )


def route_model(model: str, target: EndpointName) -> tuple[EndpointName, str]:
    """Map a model name as the user wrote it to (endpoint, model id sent on the wire)."""
    if model.startswith(SIDECAR_PREFIX):
        return "sidecar", model[len(SIDECAR_PREFIX) :]
    return target, model
