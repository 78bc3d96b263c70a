"""One endpoint's health, as probed: a plain model (the probe, and httpx, are in `health`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scillm_tui.core.endpoints import EndpointName

__all__ = ["HealthReport", "HealthStatus", "endpoint_limits", "unconfigured"]

HealthStatus = Literal["up", "degraded", "auth", "down", "unconfigured"]


class HealthReport(BaseModel):
    """One probe of one endpoint."""

    model_config = ConfigDict(frozen=True)

    endpoint: EndpointName
    base_url: str | None
    status: HealthStatus
    message: str
    latency_ms: float | None = None
    healthz: dict[str, Any] | None = None
    models: list[str] | None = None  # None: the endpoint has no model list
    demo: bool = False
    checked_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def concurrency(self) -> int | None:
        """How many requests the endpoint serves at once, from `/healthz`'s `concurrency`
        (the sidecar reports it); None when it does not say."""
        value = (self.healthz or {}).get("concurrency")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return None
        return value

    @property
    def model_count_text(self) -> str:
        if self.models is None:
            return "no model list"
        return f"{len(self.models)} model" + ("" if len(self.models) == 1 else "s")


def unconfigured(endpoint: EndpointName) -> HealthReport:
    hint = "set CHUTES_API_BASE" if endpoint == "gateway" else "set CODEX_AGENT_API_BASE"
    return HealthReport(
        endpoint=endpoint, base_url=None, status="unconfigured", message=f"not configured — {hint}"
    )


def endpoint_limits(reports: Mapping[EndpointName, HealthReport]) -> dict[EndpointName, int]:
    """Per-endpoint limits for `Run(endpoint_limits=...)` from health reports: requests over
    a sidecar's `concurrency` would sit in its queue and look slow, so the run holds them."""
    return {
        name: report.concurrency
        for name, report in reports.items()
        if report.concurrency is not None
    }
