"""The pair of endpoints a session talks to, built once from settings."""

from __future__ import annotations

import asyncio

import httpx

from scillm_tui.core.client import POOL_SIZE, EndpointClient
from scillm_tui.core.endpoints import (
    EndpointConfig,
    EndpointName,
    gateway_config,
    sidecar_config,
)
from scillm_tui.core.errors import ConfigError
from scillm_tui.core.health import HealthReport, probe, unconfigured
from scillm_tui.core.redact import register_secret
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.settings import Settings


class Backends:
    """Clients for the sidecar and (if configured) the gateway.

    `transport` is injected in tests; `demo=True` labels both as the built-in demo backend.
    Each endpoint has one client, and so one connection pool, for every run and judge call
    of the session (a batch, the dashboard's runs): streams reuse its connections.
    `pool_size`: idle connections each keeps (at least the streams in flight at once).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        demo: bool = False,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.settings = settings
        for secret in settings.secret_values():
            register_secret(secret)
        sidecar = sidecar_config(settings).model_copy(update={"demo": demo})
        gateway = gateway_config(settings)
        if gateway is not None:
            gateway = gateway.model_copy(update={"demo": demo})

        def client(config: EndpointConfig) -> EndpointClient:
            return EndpointClient(
                config,
                transport=transport,
                idle_timeout_s=settings.idle_timeout_s,
                retry=retry,
                pool_size=pool_size,
            )

        self.sidecar = client(sidecar)
        self.gateway = client(gateway) if gateway is not None else None

    def client(self, name: EndpointName) -> EndpointClient:
        """The client for `name`; a clear `ConfigError` if the gateway is not configured."""
        if name == "sidecar":
            return self.sidecar
        if self.gateway is None:
            raise ConfigError("the gateway is not configured — set CHUTES_API_BASE")
        return self.gateway

    async def probe(self, name: EndpointName) -> HealthReport:
        """One endpoint's health now (no request if it is not configured)."""
        client = self.sidecar if name == "sidecar" else self.gateway
        return await probe(client) if client is not None else unconfigured(name)

    async def health(self) -> dict[EndpointName, HealthReport]:
        """Probe both endpoints concurrently."""
        sidecar, gateway = await asyncio.gather(self.probe("sidecar"), self.probe("gateway"))
        return {"sidecar": sidecar, "gateway": gateway}

    async def aclose(self) -> None:
        await self.sidecar.aclose()
        if self.gateway is not None:
            await self.gateway.aclose()
