"""Building the headless engine against loopback servers, shared by the engine tests."""

from __future__ import annotations

from scillm_tui.core.backends import Backends
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.settings import load_settings


def make_backends(
    gateway: str | None = None,
    sidecar: str | None = None,
    *,
    retry: RetryPolicy,
    idle_s: float = 2.0,
) -> Backends:
    """Backends for the given base URLs (the sidecar defaults to the usual local port)."""
    overrides: dict[str, object] = {"SCILLM_IDLE_TIMEOUT_S": str(idle_s)}
    if gateway:
        overrides["CHUTES_API_BASE"] = gateway
    if sidecar:
        overrides["CODEX_AGENT_API_BASE"] = sidecar
    return Backends(load_settings(None, **overrides), retry=retry)
