"""Health probes: is each endpoint up, and if not, what should the user do about it.

The report itself is in `health_report`, which does not import the HTTP stack.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from scillm_tui.core.client import EndpointClient, parse_model_ids
from scillm_tui.core.errors import EndpointError
from scillm_tui.core.failures import classify_exception, classify_status
from scillm_tui.core.health_report import HealthReport, HealthStatus, unconfigured
from scillm_tui.core.redact import redact

__all__ = ["HealthReport", "HealthStatus", "probe", "unconfigured"]


def _masked(value: Any) -> Any:
    """`value` with registered secrets masked in every string, however deeply nested."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


async def probe(client: EndpointClient) -> HealthReport:
    """Probe an endpoint. Never raises for endpoint trouble; bounded by the health timeout."""
    config = client.config
    demo = config.demo  # a sidecar's /healthz may say it is the demo backend

    def report(
        status: HealthStatus,
        message: str,
        latency_ms: float | None = None,
        healthz: dict[str, Any] | None = None,
        models: list[str] | None = None,
    ) -> HealthReport:
        return HealthReport(
            endpoint=config.name,
            base_url=config.base_url,
            demo=demo,
            status=status,
            message=message,
            latency_ms=latency_ms,
            healthz=healthz,
            models=models,
        )

    started = time.perf_counter()
    healthz: dict[str, Any] | None = None
    degraded: list[str] = []

    if config.name == "sidecar":
        try:
            response = await client.get("/healthz")
        except httpx.HTTPError as exc:
            failure = classify_exception(exc, config, streaming=False)
            return report("down", failure.message)
        if response.status_code == 200:
            try:
                parsed = response.json()
            except ValueError:
                parsed = None
            # Shown verbatim on screen and in --json: mask any key a sidecar reports back.
            if isinstance(parsed, dict):
                healthz = _masked(parsed)
            else:
                healthz = {"body": redact(str(parsed))[:80]}
            if isinstance(parsed, dict) and parsed.get("ok") is False:
                degraded.append("/healthz says ok: false")
            if isinstance(parsed, dict) and parsed.get("demo"):
                demo = True
        elif response.status_code in (401, 403):
            failure = classify_status(response.status_code, response.content, config)
            return report("auth", failure.message)
        elif response.status_code != 404:
            degraded.append(f"/healthz answered HTTP {response.status_code}")

    latency_ms = (time.perf_counter() - started) * 1000
    models: list[str] | None = None
    try:
        response = await client.get("/v1/models")
        if config.name == "gateway":
            latency_ms = (time.perf_counter() - started) * 1000
    except httpx.HTTPError as exc:
        failure = classify_exception(exc, config, streaming=False)
        if healthz is None:
            return report("down", failure.message)
        degraded.append(f"/v1/models failed: {failure.message}")
    else:
        if response.status_code == 200:
            try:
                models = parse_model_ids(response)
            except EndpointError as exc:
                degraded.append(exc.message)
        elif response.status_code == 404 and config.name == "sidecar":
            models = None  # a sidecar without /v1/models is normal
        else:
            failure = classify_status(response.status_code, response.content, config)
            if failure.category == "auth":
                return report("auth", failure.message, latency_ms)
            if healthz is None and config.name == "gateway":
                status: HealthStatus = "down" if response.status_code >= 500 else "degraded"
                return report(status, failure.message, latency_ms)
            degraded.append(f"/v1/models: {failure.message}")

    if config.name == "sidecar" and healthz is None and not degraded and models is None:
        degraded.append("no /healthz and no /v1/models")
    if degraded:
        return report("degraded", "; ".join(degraded), latency_ms, healthz, models)
    message = "ok" if models is not None else "ok — no model list"
    return report("up", message, latency_ms, healthz, models)
