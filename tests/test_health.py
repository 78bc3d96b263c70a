"""Health probes against real loopback servers: up, degraded, auth, down, unconfigured."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import SecretStr

from scillm_tui.core.backends import Backends
from scillm_tui.core.client import EndpointClient
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.health import HealthReport, probe
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.settings import load_settings
from scillm_tui.demo.server import BackgroundServer
from tests.servers.blackhole import BlackHole, unused_port_url
from tests.servers.fault_app import SCENARIOS

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
HEALTH_TIMEOUT_S = 0.5
BOUND_S = 10.0  # "it returns at all", never a performance claim


async def check(
    name: str,
    base_url: str,
    *,
    key: str | None = None,
    auth_header: str = "authorization",
) -> HealthReport:
    config = EndpointConfig(
        name=name,  # type: ignore[arg-type]
        base_url=base_url,
        api_key=SecretStr(key) if key else None,
        auth_header=auth_header,  # type: ignore[arg-type]
    )
    async with EndpointClient(config, health_timeout_s=HEALTH_TIMEOUT_S, retry=FAST) as client:
        async with asyncio.timeout(BOUND_S):
            return await probe(client)


# ---- the sidecar ---------------------------------------------------------------------------------


async def test_sidecar_up_keeps_every_healthz_field(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    healthz = {"ok": True, "forward_mode": False, "concurrency": 4, "version": "1.2.3"}
    server = make_fault_server(healthz=healthz)
    report = await check("sidecar", server.base_url)
    assert report.status == "up"
    assert report.message == "ok"
    assert report.healthz == healthz  # extra fields such as concurrency are kept
    assert report.models == sorted(SCENARIOS)
    assert report.latency_ms is not None and report.latency_ms >= 0
    assert report.base_url == server.base_url
    paths = [r.path for r in server.app.state.faults.requests]
    assert paths == ["/healthz", "/v1/models"]


async def test_sidecar_without_model_list_is_up_with_no_model_list(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(models_status=404)
    report = await check("sidecar", server.base_url)
    assert report.status == "up"
    assert report.models is None
    assert "no model list" in report.message
    assert report.model_count_text == "no model list"
    assert report.latency_ms is not None


async def test_sidecar_saying_ok_false_is_degraded(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(healthz={"ok": False, "forward_mode": True})
    report = await check("sidecar", server.base_url)
    assert report.status == "degraded"
    assert "ok: false" in report.message
    assert report.healthz == {"ok": False, "forward_mode": True}
    assert report.models == sorted(SCENARIOS)


async def test_sidecar_whose_model_list_fails_is_degraded(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(models_status=500)
    report = await check("sidecar", server.base_url)
    assert report.status == "degraded"
    assert "/v1/models" in report.message
    assert "500" in report.message
    assert report.healthz is not None and report.healthz["ok"] is True


async def test_sidecar_without_healthz_but_with_models_is_up(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(healthz=None)
    report = await check("sidecar", server.base_url)
    assert report.status == "up"
    assert report.healthz is None
    assert report.models == sorted(SCENARIOS)


async def test_sidecar_refusing_connections_is_down_with_a_hint() -> None:
    url = unused_port_url()
    report = await check("sidecar", url)
    assert report.status == "down"
    host = url.removeprefix("http://")
    assert f"is the sidecar running on {host}?" in report.message
    assert report.message.startswith("connection refused")
    assert report.latency_ms is None


async def test_black_holed_sidecar_is_down_within_the_health_timeout(
    blackhole: BlackHole,
) -> None:
    report = await check("sidecar", blackhole.base_url)  # returns: bounded by BOUND_S
    assert report.status == "down"
    assert "in time" in report.message
    assert blackhole.connections_accepted >= 1  # it really connected and waited


# ---- the gateway ---------------------------------------------------------------------------------


async def test_gateway_up_lists_models_with_latency(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(require_key="sk-health-good")
    report = await check("gateway", server.base_url, key="sk-health-good")
    assert report.status == "up"
    assert report.models == sorted(SCENARIOS)
    assert report.latency_ms is not None and report.latency_ms >= 0
    # A gateway is probed by its model list only.
    (recorded,) = server.app.state.faults.requests
    assert recorded.path == "/v1/models"
    assert recorded.headers["authorization"] == "Bearer sk-health-good"


async def test_gateway_rejecting_the_key_is_auth(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(require_key="sk-the-right-one")
    report = await check("gateway", server.base_url, key="sk-the-wrong-one")
    assert report.status == "auth"
    assert "401" in report.message
    assert "CHUTES_API_KEY" in report.message


async def test_gateway_without_a_key_is_auth_with_set_hint(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(require_key="sk-the-right-one")
    report = await check("gateway", server.base_url)
    assert report.status == "auth"
    assert "set CHUTES_API_KEY" in report.message


async def test_gateway_forbidden_is_auth(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(models_status=403)
    report = await check("gateway", server.base_url, key="sk-whatever")
    assert report.status == "auth"
    assert "403" in report.message


async def test_gateway_400_that_says_bad_key_is_auth(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(require_key="sk-the-right-one", bad_key_status=400)
    report = await check("gateway", server.base_url, key="sk-the-wrong-one")
    assert report.status == "auth"
    assert "400" in report.message
    assert "invalid api key" in report.message


async def test_gateway_x_api_key_header_is_accepted(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(require_key="sk-health-x")
    report = await check("gateway", server.base_url, key="sk-health-x", auth_header="x-api-key")
    assert report.status == "up"
    (recorded,) = server.app.state.faults.requests
    assert recorded.headers["x-api-key"] == "sk-health-x"
    assert "authorization" not in recorded.headers


async def test_gateway_refusing_connections_is_down() -> None:
    url = unused_port_url()
    report = await check("gateway", url)
    assert report.status == "down"
    assert "connection refused" in report.message
    assert url.removeprefix("http://") in report.message


async def test_black_holed_gateway_is_down_within_the_health_timeout(
    blackhole: BlackHole,
) -> None:
    report = await check("gateway", blackhole.base_url)
    assert report.status == "down"
    assert "in time" in report.message


# ---- both, through Backends ----------------------------------------------------------------------


async def test_unconfigured_gateway_is_reported_as_such(fault_server: BackgroundServer) -> None:
    settings = load_settings(None, CODEX_AGENT_API_BASE=fault_server.base_url)
    backends = Backends(settings, retry=FAST)
    try:
        async with asyncio.timeout(BOUND_S):
            reports = await backends.health()
    finally:
        await backends.aclose()
    assert reports["sidecar"].status == "up"
    gateway = reports["gateway"]
    assert gateway.status == "unconfigured"
    assert gateway.base_url is None
    assert "CHUTES_API_BASE" in gateway.message
    assert gateway.latency_ms is None


async def test_backends_probe_both_endpoints(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    sidecar = make_fault_server(healthz={"ok": True, "concurrency": 2})
    gateway = make_fault_server(models_status=401)
    settings = load_settings(
        None,
        CODEX_AGENT_API_BASE=sidecar.base_url,
        CHUTES_API_BASE=gateway.base_url + "/v1/",
        CHUTES_API_KEY="sk-backends-probe",
    )
    backends = Backends(settings, retry=FAST)
    try:
        async with asyncio.timeout(BOUND_S):
            reports = await backends.health()
    finally:
        await backends.aclose()
    assert reports["sidecar"].status == "up"
    assert reports["sidecar"].healthz == {"ok": True, "concurrency": 2}
    assert reports["gateway"].status == "auth"
    assert reports["gateway"].base_url == gateway.base_url
    assert [r.path for r in gateway.app.state.faults.requests] == ["/v1/models"]
