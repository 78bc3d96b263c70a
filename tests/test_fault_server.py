"""The fault server really does what each scenario promises, checked with raw httpx.

These tests pin the test infrastructure itself: if `drop` ended cleanly or `split` arrived
in one read, the client tests built on them would prove nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from scillm_tui.demo.server import BackgroundServer
from tests.servers.blackhole import BlackHole, unused_port_url
from tests.servers.fault_app import (
    BAD_KEY_TEXT,
    BIG_CHUNKS,
    EXPECTED_TEXT,
    FIRST_ATTEMPT_TEXT,
    SCENARIOS,
    STATUS_ERRORS,
    judge_ok_text,
)

CHAT = "/v1/chat/completions"
SHORT = httpx.Timeout(5.0, read=0.3)  # for "nothing arrives" checks


def _body(model: str, stream: bool = True, prompt: str = "hi", **extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": prompt}]
    return {"model": model, "messages": messages, "stream": stream, **extra}


def _events(raw: bytes) -> list[dict[str, str]]:
    """Parse an SSE body per the spec: CR, LF or CRLF lines, `:` comments, multi-field events."""
    events: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    for line in re.split(r"\r\n|\r|\n", raw.decode("utf-8")):
        if not line:
            if fields:
                events.append(fields)
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        fields[name] = f"{fields[name]}\n{value}" if name in fields else value
    if fields:
        events.append(fields)
    return events


def _json_data(events: list[dict[str, str]]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        data = event.get("data")
        if data is None or data == "[DONE]":
            continue
        try:
            out.append(json.loads(data))
        except ValueError:
            continue
    return out


def _text(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        choice.get("delta", {}).get("content") or ""
        for chunk in chunks
        for choice in chunk.get("choices", [])
    )


def _data_lines(events: list[dict[str, str]]) -> list[str]:
    return [e["data"] for e in events if "data" in e]


@pytest.fixture
def server(fault_server: BackgroundServer) -> BackgroundServer:
    return fault_server


@pytest.fixture
async def client(server: BackgroundServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as c:
        yield c


async def _raw_reads(client: httpx.AsyncClient, model: str) -> list[bytes]:
    async with client.stream("POST", CHAT, json=_body(model)) as response:
        assert response.status_code == 200
        return [piece async for piece in response.aiter_raw() if piece]


async def _wait(fn: Callable[..., bool], *args: Any) -> bool:
    """Wait on a FaultState condition from the test's event loop."""
    return await asyncio.to_thread(fn, *args)


# ---- exact text per scenario -------------------------------------------------------------------

TEXT_SCENARIOS = [
    "ok",
    "no-done",
    "usage-in-choices",
    "error-in-stream",
    "malformed",
    "crlf",
    "split",
    "burst",
    "unicode",
    "big",
    "slow",
    "judge-fenced",
    "judge-prose",
    "judge-alias",
    "judge-unknown",
    "judge-garbage",
]


@pytest.mark.parametrize("scenario", TEXT_SCENARIOS)
async def test_streamed_text_is_exactly_the_documented_text(
    client: httpx.AsyncClient, scenario: str
) -> None:
    raw = b"".join(await _raw_reads(client, scenario))
    assert _text(_json_data(_events(raw))) == EXPECTED_TEXT[scenario]


@pytest.mark.parametrize(
    "scenario", [s for s in TEXT_SCENARIOS if s not in ("error-in-stream",)] + ["judge-ok"]
)
async def test_non_streaming_gives_a_completion_with_the_same_text(
    client: httpx.AsyncClient, scenario: str
) -> None:
    prompt = "=== Candidate A ===\nx\n=== Candidate B ===\ny\n=== End of candidates ==="
    response = await client.post(CHAT, json=_body(scenario, stream=False, prompt=prompt))
    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == EXPECTED_TEXT[scenario]


def test_expected_text_covers_every_scenario_that_says_something() -> None:
    wordless = {"hang", "400-bad-key", "429-forever", "500-forever", "408-forever"}
    wordless |= {"400", "401", "403", "404", "422"}
    assert set(EXPECTED_TEXT) == set(SCENARIOS) - wordless
    assert len(EXPECTED_TEXT["big"].encode()) == 1024 * 1024


# ---- stream shapes -----------------------------------------------------------------------------


async def test_ok_has_role_content_stop_usage_and_done(client: httpx.AsyncClient) -> None:
    events = _events(b"".join(await _raw_reads(client, "ok")))
    data = _data_lines(events)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == len(EXPECTED_TEXT["ok"].split())
    assert all(len(c["choices"][0]["delta"].get("content", "").split()) <= 1 for c in chunks[:-1])


async def test_no_done_ends_cleanly_without_finish_usage_or_done(
    client: httpx.AsyncClient, server: BackgroundServer
) -> None:
    async with client.stream("POST", CHAT, json=_body("no-done")) as response:
        raw = b"".join([piece async for piece in response.aiter_raw()])  # no exception
        assert response.headers["connection"] == "close"
    data = _data_lines(_events(raw))
    assert "[DONE]" not in data
    chunks = [json.loads(d) for d in data]
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)
    assert all("usage" not in c for c in chunks)
    assert server.app.state.faults.disconnects == 0


async def test_usage_in_choices_has_a_non_empty_choices_list(client: httpx.AsyncClient) -> None:
    chunks = _json_data(_events(b"".join(await _raw_reads(client, "usage-in-choices"))))
    usage_chunks = [c for c in chunks if "usage" in c]
    assert len(usage_chunks) == 1
    assert usage_chunks[0]["choices"] == [{"index": 0, "delta": {}}]
    assert any(c["choices"] and c["choices"][0].get("finish_reason") == "stop" for c in chunks)


async def test_error_in_stream_is_a_200_ending_in_an_error_object(
    client: httpx.AsyncClient,
) -> None:
    raw = b"".join(await _raw_reads(client, "error-in-stream"))
    data = _data_lines(_events(raw))
    assert json.loads(data[-1]) == {
        "error": {"message": "upstream model crashed", "type": "server_error", "code": None}
    }
    assert "[DONE]" not in data
    plain = await client.post(CHAT, json=_body("error-in-stream", stream=False))
    assert plain.status_code == 200 and plain.json()["error"]["type"] == "server_error"


async def test_drop_makes_httpx_raise_after_the_text(client: httpx.AsyncClient) -> None:
    received = b""
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        async with client.stream("POST", CHAT, json=_body("drop")) as response:
            async for piece in response.aiter_raw():
                received += piece
    assert _text(_json_data(_events(received))) == EXPECTED_TEXT["drop"]
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(CHAT, json=_body("drop", stream=False))


async def test_silent_sends_text_then_nothing_and_sees_the_disconnect(
    client: httpx.AsyncClient, server: BackgroundServer
) -> None:
    state = server.app.state.faults
    received = b""
    with pytest.raises(httpx.ReadTimeout):
        async with client.stream("POST", CHAT, json=_body("silent"), timeout=SHORT) as response:
            async for piece in response.aiter_raw():
                received += piece
    assert _text(_json_data(_events(received))) == EXPECTED_TEXT["silent"]
    assert await _wait(state.wait_for_disconnects, 1, 5.0)
    assert await _wait(state.wait_for_idle, 5.0)


async def test_hang_sends_no_headers_and_sees_the_disconnect(
    client: httpx.AsyncClient, server: BackgroundServer
) -> None:
    state = server.app.state.faults
    with pytest.raises(httpx.ReadTimeout):
        await client.post(CHAT, json=_body("hang"), timeout=SHORT)
    assert [r.model for r in state.chat_requests()] == ["hang"]
    assert await _wait(state.wait_for_disconnects, 1, 5.0)
    assert state.disconnects == 1


async def test_malformed_has_a_non_json_data_line_between_good_chunks(
    client: httpx.AsyncClient,
) -> None:
    data = _data_lines(_events(b"".join(await _raw_reads(client, "malformed"))))
    bad = data.index("this is not json")
    assert 1 < bad < len(data) - 3
    assert data[-1] == "[DONE]"


async def test_crlf_uses_crlf_comments_event_and_id_lines(client: httpx.AsyncClient) -> None:
    raw = b"".join(await _raw_reads(client, "crlf"))
    assert b"\r\n" in raw
    assert re.search(rb"(?<!\r)\n", raw) is None, "every line ends in CRLF"
    assert raw.count(b": ping\r\n") >= 2
    events = _events(raw)
    assert all(e.get("event") == "message" and e.get("id", "").isdigit() for e in events)
    assert _data_lines(events)[-1] == "[DONE]"


async def test_split_arrives_in_many_reads_cut_inside_utf8_characters(
    client: httpx.AsyncClient,
) -> None:
    reads = await _raw_reads(client, "split")
    events = _events(b"".join(reads))
    assert len(reads) >= 3 * len(events)

    def decodes(piece: bytes) -> bool:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    assert any(not decodes(piece) for piece in reads), "some read ends mid-character"
    assert b"dat" in reads, "some read ends inside 'data:'"
    assert any(b'{"id"' in p and b"}\n\n" not in p for p in reads), "some read ends in the JSON"
    assert not any(p.startswith(b"data: ") and p.endswith(b"\n\n") for p in reads), "no whole event"


async def test_burst_is_one_single_read(client: httpx.AsyncClient) -> None:
    reads = await _raw_reads(client, "burst")
    assert len(reads) == 1
    assert len(_events(reads[0])) > 200


async def test_unicode_content_survives_byte_for_byte(client: httpx.AsyncClient) -> None:
    text = _text(_json_data(_events(b"".join(await _raw_reads(client, "unicode")))))
    for needle in ["中文", "👩‍💻", "👨‍👩‍👧", "العربية", "עברית", "e\u0301", "\t", "[bold red]x[/]"]:
        assert needle in text
    assert "[@click=app.quit]q[/]" in text
    assert "\x1b[31mred\x1b[0m" in text and "\x1b]8;;https://e.com\x1b\\link" in text


async def test_big_is_one_mebibyte_in_4k_chunks(client: httpx.AsyncClient) -> None:
    chunks = _json_data(_events(b"".join(await _raw_reads(client, "big"))))
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    pieces = [p for p in pieces if p]
    assert len(pieces) == BIG_CHUNKS
    assert {len(p) for p in pieces} == {4096}
    assert len("".join(pieces)) == 1024 * 1024


async def test_slow_is_paced(make_fault_server: Callable[..., BackgroundServer]) -> None:
    server = make_fault_server(slow_tokens_per_s=100)
    words = len(EXPECTED_TEXT["slow"].split())
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        started = time.monotonic()
        await _raw_reads(client, "slow")
        elapsed = time.monotonic() - started
    assert elapsed >= words / 100 * 0.9


async def test_chunk_delay_spaces_the_chunks(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(chunk_delay_s=0.05)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        started = time.monotonic()
        raw = b"".join(await _raw_reads(client, "ok"))
        elapsed = time.monotonic() - started
    assert _text(_json_data(_events(raw))) == EXPECTED_TEXT["ok"]
    assert elapsed >= 8 * 0.05 * 0.9


async def test_default_chunks_are_still_separate_writes(client: httpx.AsyncClient) -> None:
    reads = await _raw_reads(client, "ok")
    assert len(reads) == len(_events(b"".join(reads)))


async def test_a_completed_stream_is_not_a_disconnect(
    client: httpx.AsyncClient, server: BackgroundServer
) -> None:
    state = server.app.state.faults
    for scenario in ("ok", "malformed", "big"):
        await _raw_reads(client, scenario)
    assert await _wait(state.wait_for_idle, 5.0)
    assert state.disconnects == 0
    assert state.streams_started == 3


async def test_closing_mid_stream_counts_one_disconnect(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(chunk_delay_s=0.2)
    state = server.app.state.faults
    async with (
        httpx.AsyncClient(base_url=server.base_url) as client,
        client.stream("POST", CHAT, json=_body("ok")) as response,
    ):
        await anext(response.aiter_raw())
    assert await _wait(state.wait_for_disconnects, 1, 5.0)
    assert await _wait(state.wait_for_idle, 5.0)
    assert state.disconnects == 1


# ---- statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "status", "header", "value"),
    [
        ("429-then-ok", 429, "retry-after", "1"),
        ("429ms-then-ok", 429, "retry-after-ms", "150"),
        ("429-noheader-then-ok", 429, None, None),
        ("500-then-ok", 500, None, None),
        ("503-then-ok", 503, None, None),
    ],
)
async def test_then_ok_fails_once_then_streams_ok(
    client: httpx.AsyncClient,
    server: BackgroundServer,
    scenario: str,
    status: int,
    header: str | None,
    value: str | None,
) -> None:
    first = await client.post(CHAT, json=_body(scenario))
    assert first.status_code == status
    assert first.json()["error"]["message"] == STATUS_ERRORS[status][0]
    if header:
        assert first.headers[header] == value
    else:
        assert "retry-after" not in first.headers and "retry-after-ms" not in first.headers
    raw = b"".join(await _raw_reads(client, scenario))
    assert _text(_json_data(_events(raw))) == EXPECTED_TEXT[scenario]
    assert server.app.state.faults.attempts[scenario] == 2


@pytest.mark.parametrize(
    ("scenario", "status"), [("429-forever", 429), ("500-forever", 500), ("408-forever", 408)]
)
async def test_forever_fails_every_time(
    client: httpx.AsyncClient, scenario: str, status: int
) -> None:
    for _ in range(3):
        response = await client.post(CHAT, json=_body(scenario))
        assert response.status_code == status
        assert set(response.json()["error"]) == {"message", "type", "code"}


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_status_scenarios(client: httpx.AsyncClient, status: int) -> None:
    response = await client.post(CHAT, json=_body(str(status)))
    assert response.status_code == status
    error = response.json()["error"]
    if status == 404:
        assert error["code"] == "model_not_found" and "'404'" in error["message"]
    else:
        assert error["message"] == STATUS_ERRORS[status][0]


async def test_400_bad_key_body(client: httpx.AsyncClient) -> None:
    response = await client.post(CHAT, json=_body("400-bad-key"))
    assert response.status_code == 400
    assert response.json() == {"error": {"message": BAD_KEY_TEXT}}


async def test_unknown_model_is_404_model_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post(CHAT, json=_body("gpt-4o"))
    assert response.status_code == 404
    assert response.json()["error"] == {
        "message": "model 'gpt-4o' not found",
        "type": "invalid_request_error",
        "code": "model_not_found",
    }


# ---- judge scenarios ---------------------------------------------------------------------------

JUDGE_PROMPT = "\n".join(
    ["=== Task ===", "t", "=== End of task ==="]
    + [f"=== Candidate {x} ===\nanswer {x}" for x in "ABC"]
    + ["=== End of candidates ===", "Reply with JSON."]
)


@pytest.mark.parametrize("stream", [False, True])
async def test_judge_ok_scores_every_label_in_the_prompt(
    client: httpx.AsyncClient, stream: bool
) -> None:
    body = _body("judge-ok", stream=stream, prompt=JUDGE_PROMPT)
    body["response_format"] = {"type": "json_object"}
    response = await client.post(CHAT, json=body)
    if stream:
        content = _text(_json_data(_events(response.content)))
    else:
        content = response.json()["choices"][0]["message"]["content"]
    assert content == judge_ok_text(["A", "B", "C"])
    verdict = json.loads(content)
    assert verdict["best_id"] == "A" and set(verdict["scores"]) == {"A", "B", "C"}


async def test_judge_garbage_then_ok(client: httpx.AsyncClient) -> None:
    body = _body("judge-garbage-then-ok", stream=False, prompt=JUDGE_PROMPT)
    first = (await client.post(CHAT, json=body)).json()["choices"][0]["message"]["content"]
    assert first == FIRST_ATTEMPT_TEXT["judge-garbage-then-ok"]
    assert "{" not in first
    body["messages"] += [
        {"role": "assistant", "content": first},
        {"role": "user", "content": "Reply with only the JSON object."},
    ]
    second = (await client.post(CHAT, json=body)).json()["choices"][0]["message"]["content"]
    assert second == judge_ok_text(["A", "B", "C"])


async def test_judge_garbage_is_garbage_every_time(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await client.post(CHAT, json=_body("judge-garbage", stream=False))
        content = response.json()["choices"][0]["message"]["content"]
        assert "{" not in content and "}" not in content


async def test_judge_no_response_format_rejects_only_that_field(
    client: httpx.AsyncClient,
) -> None:
    body = _body("judge-no-response-format", stream=False, prompt=JUDGE_PROMPT)
    rejected = await client.post(CHAT, json={**body, "response_format": {"type": "json_object"}})
    assert rejected.status_code == 400
    assert "response_format" in rejected.json()["error"]["message"]
    accepted = await client.post(CHAT, json=body)
    assert accepted.json()["choices"][0]["message"]["content"] == judge_ok_text(["A", "B", "C"])


# ---- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 404, 500])
async def test_models_status_option(
    make_fault_server: Callable[..., BackgroundServer], status: int
) -> None:
    server = make_fault_server(models_status=status)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get("/v1/models")
    assert response.status_code == status
    if status == 200:
        ids = {m["id"] for m in response.json()["data"]}
        assert ids == set(SCENARIOS)
    else:
        assert "error" in response.json()


@pytest.mark.parametrize(
    ("healthz", "status", "body"),
    [
        ("default", 200, {"ok": True, "forward_mode": False}),
        ({"ok": True, "forward_mode": True}, 200, {"ok": True, "forward_mode": True}),
        (503, 503, {"ok": False}),
        (None, 404, None),
    ],
)
async def test_healthz_option(
    make_fault_server: Callable[..., BackgroundServer],
    healthz: Any,
    status: int,
    body: dict[str, Any] | None,
) -> None:
    server = make_fault_server() if healthz == "default" else make_fault_server(healthz=healthz)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get("/healthz")
    assert response.status_code == status
    if body is not None:
        assert response.json() == body


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"authorization": "Bearer wrong"}, 401),
        ({"authorization": "Bearer sk-test"}, 200),
        ({"authorization": "bearer sk-test"}, 200),
        ({"x-api-key": "sk-test"}, 200),
        ({"x-api-key": "nope"}, 401),
    ],
)
async def test_require_key(
    make_fault_server: Callable[..., BackgroundServer], headers: dict[str, str], status: int
) -> None:
    server = make_fault_server(require_key="sk-test")
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
        chat = await client.post(CHAT, json=_body("ok", stream=False))
        models = await client.get("/v1/models")
        health = await client.get("/healthz")
    assert chat.status_code == status
    assert models.status_code == status
    assert health.status_code == 200  # the health probe needs no key
    if status == 401:
        assert chat.json()["error"]["code"] == "invalid_api_key"


async def test_bad_key_status_400_says_invalid_api_key(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server(require_key="sk-test", bad_key_status=400)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(CHAT, json=_body("ok"), headers={"authorization": "Bearer x"})
    assert response.status_code == 400
    assert "invalid api key" in response.json()["error"]["message"]


async def test_every_request_is_recorded_with_headers_and_body(
    client: httpx.AsyncClient, server: BackgroundServer
) -> None:
    state = server.app.state.faults
    await client.get("/healthz")
    await client.post(
        CHAT, json=_body("ok", stream=False, temperature=0.5), headers={"x-api-key": "k1"}
    )
    await client.post(CHAT, json=_body("ok", stream=False))
    await client.get("/nowhere")
    assert [(r.method, r.path) for r in state.requests] == [
        ("GET", "/healthz"),
        ("POST", CHAT),
        ("POST", CHAT),
        ("GET", "/nowhere"),
    ]
    second = state.requests[1]
    assert second.headers["x-api-key"] == "k1"
    assert second.body["model"] == "ok" and second.body["stream"] is False
    assert state.attempts["ok"] == 2
    state.reset()
    assert state.requests == [] and state.attempts["ok"] == 0


# ---- black hole and refused port ---------------------------------------------------------------


async def test_blackhole_accepts_but_never_answers(blackhole: BlackHole) -> None:
    async with httpx.AsyncClient(base_url=blackhole.base_url, timeout=SHORT) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/v1/models")
    assert blackhole.connections_accepted >= 1


def test_blackhole_close_releases_the_port() -> None:
    hole = BlackHole()
    url = hole.base_url
    hole.close()
    hole.close()  # twice is fine
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/healthz", timeout=2)


async def test_unused_port_refuses_connections() -> None:
    async with httpx.AsyncClient(base_url=unused_port_url(), timeout=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/v1/models")


def test_server_stop_is_prompt_with_a_hanging_request(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    server = make_fault_server()
    state = server.app.state.faults
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        outcome: list[BaseException] = []

        def call() -> None:
            try:
                client.post(CHAT, json=_body("hang"))
            except BaseException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        assert state.wait_for_requests(1, 5.0)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0
        caller.join(5.0)
    assert not caller.is_alive()
    assert outcome and isinstance(outcome[0], httpx.TransportError)
