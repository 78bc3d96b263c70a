"""Keys never leak: not on stdout or stderr, not in logs, artifacts or the data dir, not in
error messages — even when a server echoes the key back in its error body.

The keys are recognisable (`sk-LEAKCHECK-<random>`). Besides the whole key, every check
also looks for "LEAKCHECK", so a key cut in half by a length limit is caught too. And every
test also proves the key really was sent to the host it was configured for, so "the key
appears nowhere" cannot pass merely because it was never used.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from scillm_tui.core.backends import Backends
from scillm_tui.core.client import ChatRequest, EndpointClient
from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.errors import EndpointError
from scillm_tui.core.events import Finished, Notice, StreamFailed, TextDelta
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.settings import load_settings
from scillm_tui.demo.server import BackgroundServer

MARK = "LEAKCHECK"
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
TIMEOUT_S = 60


def new_key() -> str:
    return f"sk-{MARK}-{secrets.token_hex(16)}"


# ---- a server that echoes whatever key it was sent ----------------------------------------------


class EchoState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.headers: list[dict[str, str]] = []

    def keys_seen(self) -> list[str]:
        with self.lock:
            return [h.get("authorization") or h.get("x-api-key") or "" for h in self.headers]


def echo_app(*, models_ok: bool = False) -> Starlette:
    """An OpenAI-ish app whose every failure quotes the credential it received.

    /healthz reports the credential it saw (top level and nested); /v1/models lists the
    echo models when `models_ok`, else answers 401 quoting the credential.

    Models: echo-ok (a good stream), echo-401, echo-400 (the key placed so a 200-character
    cut would split it), echo-stream (an error object quoting the key mid-stream),
    echo-malformed (a non-JSON data line with the key around column 60, then a good
    stream), echo-json-error (a 200 whose JSON body is an error quoting the key).
    """
    state = EchoState()

    def credential(request: Request) -> str:
        with state.lock:
            state.headers.append({k.lower(): v for k, v in request.headers.items()})
        return request.headers.get("authorization") or request.headers.get("x-api-key") or "-"

    def chunk(text: str = "", finish: str | None = None) -> bytes:
        delta = {"content": text} if text else {}
        payload = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(payload)}\n\n".encode()

    def sse(parts: list[bytes]) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for part in parts:
                yield part

        return StreamingResponse(body(), media_type="text/event-stream")

    async def healthz(request: Request) -> Response:
        key = credential(request)
        return JSONResponse({"ok": True, "seen": key, "debug": {"headers": [f"auth={key}"]}})

    async def models(request: Request) -> Response:
        key = credential(request)
        if models_ok:
            return JSONResponse({"data": [{"id": "echo-ok"}, {"id": "echo-401"}]})
        return JSONResponse({"error": {"message": f"the key {key} is not valid"}}, 401)

    async def chat(request: Request) -> Response:
        key = credential(request)
        body = await request.json()
        model = body.get("model")
        if model == "echo-401":
            return JSONResponse({"error": {"message": f"Incorrect API key provided: {key}"}}, 401)
        if model == "echo-400":
            message = "Invalid API key or database error: " + "x" * 150 + " " + key + " end"
            return JSONResponse({"error": {"message": message}}, 400)
        if model == "echo-json-error":
            return JSONResponse({"error": {"message": f"upstream refused {key}"}})
        if not body.get("stream"):
            message = {"role": "assistant", "content": f"plain answer to {model}"}
            return JSONResponse({"choices": [{"index": 0, "message": message}]})
        if model == "echo-stream":
            error = {"error": {"message": f"crashed while using {key}"}}
            return sse([chunk("partial "), f"data: {json.dumps(error)}\n\n".encode()])
        if model == "echo-malformed":
            bad = f"data: {'y' * 60}{key} trailing\n\n".encode()
            return sse(
                [chunk("kept "), bad, chunk("text"), chunk(finish="stop"), b"data: [DONE]\n\n"]
            )
        return sse([chunk("echo ok"), chunk(finish="stop"), b"data: [DONE]\n\n"])

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )
    app.state.echo = state
    return app


@pytest.fixture
def echo_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(echo_app()) as server:
        yield server


@pytest.fixture
def echo_sidecar() -> Iterator[BackgroundServer]:
    """An echoing sidecar that is up: its /healthz fields are shown to the user."""
    with BackgroundServer(echo_app(models_ok=True)) as server:
        yield server


def assert_clean(text: str, *keys: str, where: str) -> None:
    for key in keys:
        assert key not in text, f"a key leaked into {where}"
        assert key[len("sk-") :] not in text, f"a key (without prefix) leaked into {where}"
    assert MARK not in text, f"part of a key leaked into {where}"


# ---- the core: exception and event messages ------------------------------------------------------


async def stream(client: EndpointClient, model: str) -> list[Any]:
    request = ChatRequest(model=model, messages=[{"role": "user", "content": "hi"}])
    async with asyncio.timeout(10):
        return [event async for event in client.stream_chat(request)]


async def test_core_messages_never_carry_the_key(echo_server: BackgroundServer) -> None:
    key = new_key()
    settings = load_settings(None, CHUTES_API_BASE=echo_server.base_url, CHUTES_API_KEY=key)
    backends = Backends(settings, retry=FAST)
    assert backends.gateway is not None
    messages: list[str] = []
    try:
        client = backends.gateway
        for model in ("echo-401", "echo-400", "echo-json-error"):
            with pytest.raises(EndpointError) as caught:
                await client.chat(
                    ChatRequest(model=model, messages=[{"role": "user", "content": "hi"}])
                )
            messages += [str(caught.value), caught.value.message]
        with pytest.raises(EndpointError) as caught:
            await client.models()
        messages.append(str(caught.value))

        for model in ("echo-401", "echo-400", "echo-stream"):
            events = await stream(client, model)
            assert isinstance(events[-1], StreamFailed)
            messages.append(events[-1].message)
        events = await stream(client, "echo-malformed")
        assert isinstance(events[-1], Finished)
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "kept text"
        notices = [e.message for e in events if isinstance(e, Notice)]
        assert len(notices) == 1
        messages += notices
    finally:
        await backends.aclose()

    for message in messages:
        assert_clean(message, key, where=repr(message))
    # The servers did echo something and it was masked, not dropped by accident.
    assert sum("***" in m for m in messages) >= 6
    # The key really went to the configured host, every time.
    assert set(echo_server.app.state.echo.keys_seen()) == {f"Bearer {key}"}


async def test_a_client_built_directly_also_masks_its_key(echo_server: BackgroundServer) -> None:
    key = new_key()  # never registered by Backends
    config = EndpointConfig(
        name="gateway",
        base_url=echo_server.base_url,
        api_key=SecretStr(key),
        auth_header="x-api-key",
    )
    async with EndpointClient(config, retry=FAST) as client:
        with pytest.raises(EndpointError) as caught:
            await client.chat(
                ChatRequest(model="echo-401", messages=[{"role": "user", "content": "hi"}])
            )
        events = await stream(client, "echo-stream")
    assert_clean(str(caught.value), key, where="EndpointError")
    assert isinstance(events[-1], StreamFailed)
    assert_clean(events[-1].message, key, where="StreamFailed")
    assert echo_server.app.state.echo.keys_seen() == [key, key]


# ---- the CLI, end to end -------------------------------------------------------------------------


def run_cli(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "SCILLM_DEBUG": "1",
        "SCILLM_ARTIFACTS_DIR": "art",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "scillm_tui", *args],
        cwd=tmp_path,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_S,
    )


def test_keys_never_leak_through_the_cli(
    tmp_path: Path,
    make_fault_server: Any,
    echo_server: BackgroundServer,
    echo_sidecar: BackgroundServer,
) -> None:
    gateway_key, sidecar_key = new_key(), new_key()
    gateway = make_fault_server(require_key=gateway_key)
    env = {
        "CHUTES_API_BASE": gateway.base_url,
        "CHUTES_API_KEY": gateway_key,
        "CODEX_AGENT_API_BASE": echo_server.base_url,
        "CODEX_AGENT_API_KEY": sidecar_key,
    }
    outputs: list[subprocess.CompletedProcess[str]] = []

    # Health: an up sidecar whose /healthz quotes the key, a gateway whose 401 quotes it.
    health_env = {
        **env,
        "CODEX_AGENT_API_BASE": echo_sidecar.base_url,
        "CHUTES_API_BASE": echo_server.base_url,
    }
    outputs.append(run_cli(tmp_path, health_env, "health", "--json"))
    health = json.loads(outputs[-1].stdout)
    assert health["sidecar"]["status"] == "up"
    assert health["sidecar"]["healthz"]["seen"] == "Bearer ***"
    assert health["sidecar"]["healthz"]["debug"] == {"headers": ["auth=Bearer ***"]}
    assert health["gateway"]["status"] == "auth" and "***" in health["gateway"]["message"]
    outputs.append(run_cli(tmp_path, health_env, "health"))
    sidecar_row = next(row for row in outputs[-1].stdout.splitlines() if row.startswith("sidecar"))
    assert "Bearer ***" in sidecar_row  # the healthz fields are shown, masked

    models = ["ok", "401", "400-bad-key", "codex-agent/echo-401", "codex-agent/echo-400"]
    models += ["codex-agent/echo-stream", "codex-agent/echo-malformed"]
    outputs.append(
        run_cli(
            tmp_path,
            env,
            *("run", "--prompt", "leak test", "--export", "--judge-model", "judge-ok"),
            *(arg for model in models for arg in ("--model", model)),
            *("-n", str(len(models))),
        )
    )
    first = json.loads(outputs[-1].stdout)
    assert outputs[-1].returncode == 0, outputs[-1].stderr
    assert first["judge"]["best_id"] is not None
    statuses = [v["status"] for v in first["variants"]]
    assert statuses == ["done", "error", "error", "error", "error", "error", "done"]
    assert all("***" in first["variants"][i]["error"] for i in (3, 4, 5))

    # The echoing server as the gateway too, and as a judge that fails quoting the key.
    echo_env = {**env, "CHUTES_API_BASE": echo_server.base_url}
    outputs.append(
        run_cli(
            tmp_path,
            echo_env,
            *("run", "--prompt", "leak test 2", "--export", "--judge-model", "echo-401"),
            *("--model", "echo-ok", "--model", "echo-malformed", "--model", "echo-stream"),
            *("-n", "3"),
        )
    )
    second = json.loads(outputs[-1].stdout)
    assert outputs[-1].returncode == 1  # the judge failed
    assert "***" in second["judge"]["error"]

    keys = (gateway_key, sidecar_key)
    for index, proc in enumerate(outputs):
        assert "Traceback" not in proc.stderr
        assert_clean(proc.stdout, *keys, where=f"stdout of command {index}")
        assert_clean(proc.stderr, *keys, where=f"stderr of command {index}")
    assert "POST" in outputs[2].stderr  # SCILLM_DEBUG=1 really logged requests

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "run.json" for p in written)
    assert any(p.name == "winners.jsonl" for p in written)
    for path in written:
        assert_clean(path.read_bytes().decode("utf-8", "replace"), *keys, where=str(path))

    # And the keys did go where they were configured to go.
    gateway_keys = {r.headers.get("authorization") for r in gateway.app.state.faults.requests}
    assert gateway_keys == {f"Bearer {gateway_key}"}
    assert set(echo_server.app.state.echo.keys_seen()) == {
        f"Bearer {sidecar_key}",
        f"Bearer {gateway_key}",
    }
    assert set(echo_sidecar.app.state.echo.keys_seen()) == {f"Bearer {sidecar_key}"}
