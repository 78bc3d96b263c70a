"""Runs whose variants thought, a scripted judge server and a stub judge client.

Variant states are set directly (`add_reasoning`, `add_text`, status) rather than streamed,
so these tests do not depend on how the client splits thinking out of a stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scillm_tui.core.backends import Backends
from scillm_tui.core.chat import ChatRequest, ChatResult
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.runs import Run, RunSpec
from tests.engine_support import make_backends

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
NOWHERE = "http://127.0.0.1:9"  # never contacted: the variants are set, not streamed


@dataclass
class Shape:
    """How a variant ended: its answer, its thinking, status, finish reason, error."""

    text: str = ""
    reasoning: str = ""
    status: str = "done"
    finish_reason: str | None = "stop"
    error: str | None = None


def thinking_run(shapes: list[Shape], backends: Backends | None = None, **spec: Any) -> Run:
    """A finished run with one variant per shape (models m1, m2, ...)."""
    models = [f"m{i}" for i in range(1, len(shapes) + 1)]
    run_spec = RunSpec(
        prompt=spec.pop("prompt", "Which sorting algorithm?"),
        target="gateway",
        models=models,
        n=len(models),
        **spec,
    )
    run = Run(run_spec, backends or make_backends(NOWHERE, retry=FAST))
    for state, shape in zip(run.variants.values(), shapes, strict=True):
        state.started_at = 100.0
        if shape.reasoning:
            state.add_reasoning(shape.reasoning, 100.2)
        if shape.text:
            state.add_text(shape.text, 100.5)
        state.status = shape.status  # type: ignore[assignment]
        state.finish_reason = shape.finish_reason
        state.error = shape.error
        state.ended_at = 101.0
    return run


# ---- a judge server on loopback ----------------------------------------------------------------


@dataclass
class JudgeScript:
    """Answers in order (the last one repeats); every request body it received."""

    answers: list[dict[str, Any]]  # OpenAI `message` objects
    bodies: list[dict[str, Any]] = field(default_factory=list)


def judge_app(script: JudgeScript) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        script.bodies.append(body)
        message = script.answers[min(len(script.bodies), len(script.answers)) - 1]
        return JSONResponse(
            {
                "id": "chatcmpl-judge",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", **message},
                        "finish_reason": "stop",
                    }
                ],
            }
        )

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


# ---- a stub judge client -------------------------------------------------------------------------


class _Config:
    base_url = "http://judge.invalid"


class StubJudge:
    """Stands in for `Backends` and its client: `chat()` answers with `answer(request)`."""

    def __init__(self, answer: Callable[[ChatRequest], ChatResult]) -> None:
        self.answer = answer
        self.requests: list[ChatRequest] = []
        self.config = _Config()

    def client(self, endpoint: str) -> StubJudge:
        return self

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        return self.answer(request)


def verdict_json(best: str, reason: str = "", **scores: float) -> str:
    return json.dumps({"best_id": best, "reason": reason, "scores": scores})


def label_of(request: ChatRequest, text: str) -> str:
    """The label under which the candidate with answer `text` was shown."""
    prompt = request.messages[-1]["content"]
    lines = prompt.split("\n")
    index = lines.index(text)
    header = lines[index - 1]
    assert header.startswith("=== Candidate ") and header.endswith(" ===")
    return header.removeprefix("=== Candidate ").removesuffix(" ===")
