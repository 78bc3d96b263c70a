"""The built-in demo backend: OpenAI-compatible shapes, made-up answers, the heuristic judge,
pacing, disconnects, and starting/stopping the background server."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from scillm_tui.demo.answers import (
    MAX_WORDS,
    MIN_WORDS,
    compose_answer,
    judge_verdict,
    key_phrases,
    parse_candidates,
    score_candidate,
    stream_pieces,
    word_count,
)
from scillm_tui.demo.app import DemoConfig, create_demo_app
from scillm_tui.demo.server import BackgroundServer, ServerStartError, start_demo_server

PROMPT = "How does connection pooling reduce latency in PostgreSQL under heavy load?"
CHAT = "/v1/chat/completions"


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _sse_data(raw: str) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    return [line[len("data: ") :] for line in raw.splitlines() if line.startswith("data: ")]


async def _stream(client: httpx.AsyncClient, body: dict[str, Any]) -> list[str]:
    response = await client.post(CHAT, json={**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return _sse_data(response.text)


def _content(payloads: list[str]) -> str:
    text = ""
    for payload in payloads:
        if payload == "[DONE]":
            continue
        for choice in json.loads(payload)["choices"]:
            text += choice["delta"].get("content") or ""
    return text


def _judge_prompt(candidates: list[tuple[str, str]], task: str = "Explain TCP slow start") -> str:
    parts = ["Below are a task and some candidates.", "", "=== Task ===", task]
    parts += ["=== End of task ===", ""]
    for label, text in candidates:
        parts += [f"=== Candidate {label} ===", text]
    parts += ["=== End of candidates ===", "", 'Reply with JSON: {"best_id": ...}']
    return "\n".join(parts)


RICH = (
    "TCP slow start grows the congestion window exponentially until loss or ssthresh.\n\n"
    "- the sender starts with a small window\n- each ACK enlarges it\n"
    "- after ssthresh growth becomes linear (congestion avoidance)\n\n"
    "You can watch cwnd with `ss -ti` on Linux while a transfer ramps up."
)
POOR = "I am not sure, sorry."
MIDDLE = "Slow start makes TCP send a little data first and then more when things go well."


@pytest.fixture
async def client(demo_server: BackgroundServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=demo_server.base_url, timeout=10) as c:
        yield c


# ---- shapes ------------------------------------------------------------------------------------


async def test_healthz_says_it_is_the_demo(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "forward_mode": False, "demo": True}


async def test_models_lists_the_demo_models(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/models")).json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [
        "demo-fast",
        "demo-slow",
        "demo-judge",
        "demo-think",
        "demo-think-inline",
    ]
    assert all(m["object"] == "model" and m["owned_by"] == "scillm-demo" for m in body["data"])


async def test_stream_has_role_words_finish_usage_and_done(client: httpx.AsyncClient) -> None:
    payloads = await _stream(
        client,
        {
            "model": "demo-fast",
            "messages": _user(PROMPT),
            "stream_options": {"include_usage": True},
        },
    )
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "demo-fast" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    usage_chunk, finish_chunk = chunks[-1], chunks[-2]
    assert usage_chunk["choices"] == []
    assert finish_chunk["choices"][0]["finish_reason"] == "stop"
    contents = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert len(contents) > 20
    assert all(len(piece.split()) == 1 for piece in contents), "about a word per chunk"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-2])
    usage = usage_chunk["usage"]
    assert usage["completion_tokens"] == len(contents)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


async def test_stream_without_include_usage_has_no_usage_chunk(client: httpx.AsyncClient) -> None:
    payloads = await _stream(client, {"model": "demo-slow", "messages": _user(PROMPT)})
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert all(c["choices"] for c in chunks)
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_non_streaming_completion_has_message_and_usage(client: httpx.AsyncClient) -> None:
    response = await client.post(CHAT, json={"model": "demo-fast", "messages": _user(PROMPT)})
    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    words = word_count(choice["message"]["content"])
    assert MIN_WORDS <= words <= MAX_WORDS
    assert body["usage"]["completion_tokens"] == len(stream_pieces(choice["message"]["content"]))


async def test_answers_differ_per_request_and_echo_the_prompt(client: httpx.AsyncClient) -> None:
    request = {"model": "demo-fast", "messages": _user(PROMPT)}
    texts = [
        (await client.post(CHAT, json=request)).json()["choices"][0]["message"]["content"]
        for _ in range(3)
    ]
    texts.append(_content(await _stream(client, request)))
    assert len(set(texts)) == 4
    for text in texts:
        assert "connection pooling" in text
        assert MIN_WORDS <= word_count(text) <= MAX_WORDS
        assert "lorem" not in text.lower()
        assert len(text.split("\n\n")) >= 2


async def test_the_last_user_message_is_the_one_answered(client: httpx.AsyncClient) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Tell me about volcanoes"},
        {"role": "assistant", "content": "Volcanoes erupt."},
        {"role": "user", "content": [{"type": "text", "text": "Now explain glaciers"}]},
    ]
    response = await client.post(CHAT, json={"model": "demo-fast", "messages": messages})
    text = response.json()["choices"][0]["message"]["content"]
    assert "glaciers" in text and "volcanoes" not in text.lower()


async def test_max_tokens_cuts_the_stream_with_finish_reason_length(
    client: httpx.AsyncClient,
) -> None:
    payloads = await _stream(
        client,
        {
            "model": "demo-fast",
            "messages": _user(PROMPT),
            "max_tokens": 5,
            "stream_options": {"include_usage": True},
        },
    )
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 5
    assert len(_content(payloads).split()) == 5

    plain = await client.post(
        CHAT, json={"model": "demo-fast", "messages": _user(PROMPT), "max_completion_tokens": 3}
    )
    assert plain.json()["choices"][0]["finish_reason"] == "length"
    assert len(plain.json()["choices"][0]["message"]["content"].split()) == 3


async def test_json_mode_on_an_answer_model_wraps_the_answer(client: httpx.AsyncClient) -> None:
    body = {
        "model": "demo-fast",
        "messages": _user(PROMPT),
        "response_format": {"type": "json_object"},
    }
    content = (await client.post(CHAT, json=body)).json()["choices"][0]["message"]["content"]
    assert "connection pooling" in json.loads(content)["answer"]


# ---- errors ------------------------------------------------------------------------------------


async def test_unknown_model_is_an_openai_style_404(client: httpx.AsyncClient) -> None:
    response = await client.post(CHAT, json={"model": "gpt-9", "messages": _user("hi")})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "model 'gpt-9' not found",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    }


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"messages": _user("hi")}).encode(), "'model'"),
        (json.dumps({"model": "demo-fast"}).encode(), "'messages'"),
        (
            json.dumps({"model": "demo-fast", "messages": _user("x"), "max_tokens": 0}).encode(),
            "'max_tokens'",
        ),
    ],
)
async def test_bad_requests_are_openai_style_400s(
    client: httpx.AsyncClient, content: bytes, needle: str
) -> None:
    response = await client.post(CHAT, content=content)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert needle in error["message"]


# ---- the judge ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("response_format", [None, {"type": "json_object"}])
async def test_judge_returns_json_naming_one_of_the_labels(
    client: httpx.AsyncClient, stream: bool, response_format: dict[str, str] | None
) -> None:
    prompt = _judge_prompt([("A", POOR), ("B", RICH), ("C", MIDDLE)])
    body: dict[str, Any] = {"model": "demo-judge", "messages": _user(prompt)}
    if response_format:
        body["response_format"] = response_format
    if stream:
        content = _content(await _stream(client, body))
    else:
        content = (await client.post(CHAT, json=body)).json()["choices"][0]["message"]["content"]
    verdict = json.loads(content)
    assert set(verdict) == {"best_id", "reason", "scores"}
    assert verdict["best_id"] == "B"
    assert set(verdict["scores"]) == {"A", "B", "C"}
    assert all(isinstance(s, int) and 1 <= s <= 10 for s in verdict["scores"].values())
    assert verdict["scores"]["B"] > verdict["scores"]["C"] > verdict["scores"]["A"]
    assert "Candidate B" in verdict["reason"] and verdict["reason"].count(".") == 1


async def test_any_model_named_judge_is_a_judge(client: httpx.AsyncClient) -> None:
    prompt = _judge_prompt([("A", RICH), ("B", POOR)])
    response = await client.post(CHAT, json={"model": "my-judge-v2", "messages": _user(prompt)})
    assert json.loads(response.json()["choices"][0]["message"]["content"])["best_id"] == "A"


async def test_judge_without_candidates_says_so_with_best_id_null(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        CHAT, json={"model": "demo-judge", "messages": _user("Which is best?")}
    )
    verdict = json.loads(response.json()["choices"][0]["message"]["content"])
    assert verdict["best_id"] is None
    assert verdict["scores"] == {}
    assert "no '=== Candidate X ===' blocks" in verdict["reason"]
    assert "error" not in verdict


def test_judge_reads_the_last_user_message_with_candidates() -> None:
    first = _judge_prompt([("A", POOR), ("B", RICH)])
    latest = _judge_prompt([("A", RICH), ("B", POOR)])
    messages = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": "{}"},
        {"role": "user", "content": latest},
    ]
    assert judge_verdict(messages)["best_id"] == "A"
    # a repair turn carries no blocks: the latest prompt that has some is judged
    messages += [{"role": "assistant", "content": "oops"}, {"role": "user", "content": "JSON!"}]
    assert judge_verdict(messages)["best_id"] == "A"


def test_parse_candidates_handles_26_labels_escapes_and_end_marker() -> None:
    letters = [chr(ord("A") + i) for i in range(26)]
    candidates = [(label, f"answer {label}\n\\=== Candidate Z === (quoted)") for label in letters]
    parsed = parse_candidates(_judge_prompt(candidates))
    assert [label for label, _ in parsed] == letters
    assert parsed[-1][1] == "answer Z\n\\=== Candidate Z === (quoted)"  # stops at the end marker
    assert parse_candidates("=== Candidate a ===\nx\n== Candidate B ==\ny") == []


def test_scores_follow_the_documented_rule() -> None:
    assert score_candidate("A", "").score == 1
    rich = score_candidate("B", RICH)
    assert (rich.paragraphs, rich.has_list, rich.has_code) == (3, True, True)
    expected = 1 + min(4, rich.distinct_words // 20) + 3
    assert rich.score == expected
    assert score_candidate("B", RICH, ["slow", "start"]).score == min(10, expected + 2)


def test_judge_ties_go_to_the_earlier_label() -> None:
    verdict = judge_verdict(_user(_judge_prompt([("A", MIDDLE), ("B", MIDDLE)])))
    assert verdict["best_id"] == "A"
    assert verdict["scores"]["A"] == verdict["scores"]["B"]


# ---- the answer generator ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_compose_answer_stays_in_bounds_and_is_seeded(seed: int) -> None:
    text = compose_answer(PROMPT, random.Random(seed))
    assert MIN_WORDS <= word_count(text) <= MAX_WORDS
    assert 2 <= len([p for p in text.split("\n\n") if p.strip()]) <= 6
    assert text == compose_answer(PROMPT, random.Random(seed))
    assert "".join(stream_pieces(text)) == text


def test_key_phrases_pick_topic_words_not_filler() -> None:
    phrases = key_phrases(PROMPT)
    assert phrases[0] == "connection pooling"
    assert "PostgreSQL" in phrases
    assert not {"How", "does", "the", "under"} & set(phrases)
    assert key_phrases('Explain "async generators" in Python')[0] == "async generators"


@pytest.mark.parametrize("text", ["", "one", " lead", "a  b\n\nc ", "tab\there\n", "x\n"])
def test_stream_pieces_join_back_exactly(text: str) -> None:
    pieces = stream_pieces(text)
    assert "".join(pieces) == text
    assert all(len(p.split()) <= 1 for p in pieces)


# ---- pacing ------------------------------------------------------------------------------------


def test_rates_per_model_speed_and_overrides() -> None:
    assert DemoConfig().rate_for("demo-fast") == 80
    assert DemoConfig().rate_for("demo-slow") == 20
    assert DemoConfig(speed=2).rate_for("demo-slow") == 40
    assert DemoConfig(tokens_per_s=7).rate_for("demo-fast") == 7
    assert DemoConfig(tokens_per_s=None, speed=3).rate_for("demo-fast") is None
    with pytest.raises(ValueError):
        DemoConfig(tokens_per_s=0)


async def test_paced_stream_takes_at_least_tokens_over_rate(
    make_demo_server: Callable[..., BackgroundServer],
) -> None:
    server = make_demo_server(DemoConfig(tokens_per_s=200, jitter=0.0, seed=1))
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        started = time.monotonic()
        payloads = await _stream(
            client, {"model": "demo-fast", "messages": _user(PROMPT), "max_tokens": 40}
        )
        elapsed = time.monotonic() - started
    assert len(_content(payloads).split()) == 40
    assert elapsed >= 40 / 200 * 0.9


# ---- disconnects and the background server -----------------------------------------------------


async def test_client_disconnect_stops_generation(
    make_demo_server: Callable[..., BackgroundServer],
) -> None:
    # 10 tokens/s and at least 60 words: a stream that kept going would last >= 6 s.
    server = make_demo_server(DemoConfig(tokens_per_s=10, jitter=0.0, seed=2))
    stats = server.app.state.stats
    body = {"model": "demo-slow", "messages": _user(PROMPT), "stream": True}
    async with (
        httpx.AsyncClient(base_url=server.base_url) as client,
        client.stream("POST", CHAT, json=body) as response,
    ):
        async for line in response.aiter_lines():
            if _content(_sse_data(line)):
                break  # the first word arrived; now hang up
    assert await asyncio.to_thread(stats.wait_for_idle, 3.0), "the stream kept running"
    assert stats.active_streams == 0
    assert (stats.streams_started, stats.streams_cancelled, stats.streams_completed) == (1, 1, 0)
    assert stats.tokens_sent < 10


async def test_stop_is_prompt_even_with_an_open_stream(
    make_demo_server: Callable[..., BackgroundServer],
) -> None:
    server = make_demo_server(DemoConfig(tokens_per_s=5, seed=3))
    body = {"model": "demo-slow", "messages": _user(PROMPT), "stream": True}
    async with (
        httpx.AsyncClient(base_url=server.base_url) as client,
        client.stream("POST", CHAT, json=body) as response,
    ):
        lines = response.aiter_lines()
        assert (await anext(lines)).startswith("data: ")
        started = time.monotonic()
        await asyncio.to_thread(server.stop)
        assert time.monotonic() - started < 1.0
        assert not server.running
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in lines:
                pass
    assert server.app.state.stats.active_streams == 0


def test_start_returns_only_once_connections_are_accepted() -> None:
    with start_demo_server(config=DemoConfig(tokens_per_s=None)) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
        assert server.port > 0
        # no retry loop: the very first request must connect
        transport = httpx.HTTPTransport(retries=0)
        with httpx.Client(base_url=server.base_url, transport=transport) as client:
            assert client.get("/healthz").json()["demo"] is True
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url + "/healthz")


def test_start_fails_clearly_when_the_port_is_taken(demo_server: BackgroundServer) -> None:
    clash = BackgroundServer(create_demo_app(), port=demo_server.port)
    with pytest.raises(ServerStartError, match="could not listen"):
        clash.start(timeout=5)


def test_only_loopback_hosts_are_allowed() -> None:
    with pytest.raises(ValueError, match="loopback"):
        BackgroundServer(create_demo_app(), host="0.0.0.0")


def test_serve_forever_announces_itself_and_exits_cleanly_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scillm_tui.demo.server", "--port", "0", "--unpaced"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.fullmatch(
            r"scillm-tui demo backend \(not a real model\) listening on "
            r"(http://127\.0\.0\.1:\d+)\n",
            line,
        )
        assert match, line
        assert httpx.get(match.group(1) + "/healthz").json()["demo"] is True
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err


async def test_a_deferred_demo_server_listens_at_once_and_answers_once_started() -> None:
    """The dashboard binds the demo backend's socket before its first frame and serves
    it after (uvicorn and starlette cost ~85 ms of start-up): a request made in between
    waits in the backlog and is answered once the server starts."""
    from scillm_tui.demo.deferred import DeferredDemoServer

    server = DeferredDemoServer()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            early = asyncio.create_task(http.get("/healthz"))
            await asyncio.sleep(0.05)  # it connects and waits
            assert not server.started
            await asyncio.to_thread(server.start)
            assert (await early).json()["ok"] is True
            server.start()  # once only
            assert (await http.get("/v1/models")).status_code == 200
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url + "/healthz", timeout=2)


def test_a_deferred_demo_server_never_started_frees_its_port() -> None:
    from scillm_tui.demo.deferred import DeferredDemoServer

    server = DeferredDemoServer()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url + "/healthz", timeout=2)
