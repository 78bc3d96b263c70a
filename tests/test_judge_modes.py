"""Pairwise judging and a jury, against a loopback judge server whose judges have known tastes.

Each judge model on the server prefers one answer text (or the first position): it reads
the candidates from the prompt it was sent, so what it answers depends on what the judge
service really showed it, in which order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scillm_tui.core.artifacts import run_json, winners_line
from scillm_tui.core.judge import JudgeProgress, JudgeSpec, Verdict, judge_events, judge_run
from scillm_tui.core.judge_parse import parse_pairwise_output
from scillm_tui.demo.server import BackgroundServer
from tests.engine_support import make_backends
from tests.thinking_support import FAST, Shape, thinking_run

BOUND_S = 15.0
TEXTS = ["answer one", "answer two", "answer three"]
THOUGHT = "THOUGHT-MARKER-5b1c"
PAIRWISE_ASK = '"best": "<A|B|tie>"'

# model -> (the answer text it prefers, the score it gives that one, the score of the rest);
# "first" always prefers whatever is shown first; "broken" answers HTTP 400.
TASTES: dict[str, tuple[str, float, float]] = {
    "likes-one": ("answer one", 9, 5),
    "also-likes-one": ("answer one", 8, 4),
    "likes-two": ("answer two", 7, 6),
}


@dataclass
class Judges:
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def by_model(self, model: str) -> list[dict[str, Any]]:
        return [b for b in self.bodies if b["model"] == model]


def shown(body: dict[str, Any]) -> list[str]:
    """The candidate texts in the order the judge was shown them."""
    lines = body["messages"][-1]["content"].split("\n")
    return [lines[i + 1] for i, line in enumerate(lines) if line.startswith("=== Candidate ")]


def answer_for(model: str, body: dict[str, Any]) -> str:
    texts = shown(body)
    labels = [chr(ord("A") + i) for i in range(len(texts))]
    pairwise = PAIRWISE_ASK in body["messages"][-1]["content"]
    if model == "first":
        return json.dumps({"best": "A", "reason": "Candidate A is better."})
    liked, high, low = TASTES[model]
    best = labels[texts.index(liked)] if liked in texts else "tie"
    if pairwise:
        return json.dumps({"best": best, "reason": f"Candidate {best} says it best."})
    scores = {lab: high if text == liked else low for lab, text in zip(labels, texts, strict=True)}
    return json.dumps({"best_id": best, "reason": f"Candidate {best} is right.", "scores": scores})


def judges_app(judges: Judges) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        judges.bodies.append(body)
        model = body["model"]
        if model == "broken":
            return JSONResponse({"error": {"message": "no such judge"}}, status_code=400)
        return JSONResponse(
            {
                "id": "chatcmpl-judge",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer_for(model, body)},
                        "finish_reason": "stop",
                    }
                ],
            }
        )

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@pytest.fixture
def judges() -> Iterator[tuple[Judges, str]]:
    state = Judges()
    server = BackgroundServer(judges_app(state)).start()
    yield state, server.base_url
    server.stop()


async def judge(base_url: str, n: int = 3, **spec: Any) -> tuple[Verdict, list[JudgeProgress]]:
    backends = make_backends(base_url, retry=FAST)
    shapes = [Shape(text=text, reasoning=f"{THOUGHT} {i}") for i, text in enumerate(TEXTS[:n])]
    run = thinking_run(shapes, backends)
    progress: list[JudgeProgress] = []
    verdicts: list[Verdict] = []
    try:
        async with asyncio.timeout(BOUND_S):
            async for event in judge_events(run, backends, JudgeSpec(target="gateway", **spec)):
                if isinstance(event, JudgeProgress):
                    assert not verdicts, "progress after the verdict"
                    progress.append(event)
                else:
                    verdicts.append(event)
    finally:
        await backends.aclose()
    (verdict,) = verdicts
    return verdict, progress


# ---- pairwise ------------------------------------------------------------------------------------


async def test_a_judge_that_always_prefers_the_first_position_gives_only_ties(
    judges: tuple[Judges, str],
) -> None:
    state, base_url = judges
    verdict, progress = await judge(base_url, model="first", mode="pairwise")
    # Every order was asked, each exactly once: 3 variants -> 6 ordered pairs.
    orders = sorted(tuple(shown(body)) for body in state.bodies)
    assert orders == sorted((x, y) for x in TEXTS for y in TEXTS if x != y)
    for body in state.bodies:
        sent = json.dumps(body)
        assert THOUGHT not in sent and "<think>" not in sent
        assert PAIRWISE_ASK in body["messages"][-1]["content"]
    assert verdict.mode == "pairwise" and verdict.status == "tie" and verdict.best_id is None
    assert verdict.tied == ["v1", "v2", "v3"]
    assert verdict.scores == {"v1": 1.0, "v2": 1.0, "v3": 1.0}
    assert verdict.agreement == "0/3"
    assert "no winner" in verdict.reason and "3 of 3 pairs changed verdict" in verdict.reason
    assert [(p.a, p.b) for p in verdict.pairs] == [("v1", "v2"), ("v1", "v3"), ("v2", "v3")]
    for pair in verdict.pairs:
        assert (pair.pick_ab, pair.pick_ba, pair.outcome) == (pair.a, pair.b, None)
        assert pair.ab.order == [pair.a, pair.b] and pair.ba.order == [pair.b, pair.a]
    assert verdict.rounds == []
    summary = verdict.summary()
    assert summary["mode"] == "pairwise" and summary["status"] == "tie"
    assert summary["pairs"][0] == {
        "a": "v1",
        "b": "v2",
        "pick_ab": "v1",
        "pick_ba": "v2",
        "outcome": None,
        "complete": True,
    }
    # Progress: 0/6 first, then one step per call, in order, ending at 6/6.
    assert [(p.done, p.total, p.label) for p in progress] == [(i, 6, "pairs") for i in range(7)]


async def test_a_consistent_pairwise_judge_names_the_winner_by_points(
    judges: tuple[Judges, str],
) -> None:
    state, base_url = judges
    verdict, _ = await judge(base_url, model="likes-two", mode="pairwise")
    assert len(state.bodies) == 6
    assert verdict.status == "verdict" and verdict.best_id == "v2"
    assert verdict.scores == {"v1": 0.5, "v2": 2.0, "v3": 0.5}  # v1-v3 both ways A: a tie
    assert verdict.agreement == "3/3"  # v1-v3 said "tie" both ways: consistent too
    assert verdict.reason.startswith("v2 wins 2 of its 2 pairs (2 points): ")
    assert verdict.reason.endswith("v2 says it best.")  # "Candidate B" named as the variant
    # The stored verdict round-trips (run.json, history).
    again = Verdict.model_validate_json(verdict.model_dump_json())
    assert again.pairs[0].ab.labels == verdict.pairs[0].ab.labels


def test_pairwise_answers_read_ties_in_many_spellings() -> None:
    assert parse_pairwise_output('{"best": "B", "reason": "x"}').label == "B"
    for said in ('{"best": "tie"}', '```json\n{"winner": "Draw."}\n```', '{"best": "neither"}'):
        assert parse_pairwise_output(said).label == "tie", said
    assert parse_pairwise_output('{"best": "Tie", "reason": "same"}').reason == "same"


# ---- a jury --------------------------------------------------------------------------------------


async def test_a_jury_of_three_follows_the_majority(judges: tuple[Judges, str]) -> None:
    state, base_url = judges
    jury = ("likes-one", "likes-two", "also-likes-one")
    verdict, progress = await judge(base_url, models=jury)
    assert {b["model"] for b in state.bodies} == set(jury)
    assert verdict.status == "verdict" and verdict.best_id == "v1"
    assert verdict.agreement == "2/3"
    assert [(j.model, j.pick, j.status) for j in verdict.jurors] == [
        ("likes-one", "v1", "verdict"),
        ("likes-two", "v2", "verdict"),
        ("also-likes-one", "v1", "verdict"),
    ]
    assert verdict.judge_model == "likes-one" and verdict.judge_models == list(jury)
    assert "broken by mean score" not in verdict.reason
    summary = verdict.summary()
    assert summary["judge_models"] == list(jury)
    assert [j["pick"] for j in summary["jurors"]] == ["v1", "v2", "v1"]
    assert progress[-1] == JudgeProgress(3, 3, "rounds")


async def test_a_split_jury_is_broken_by_mean_score_and_says_so(
    judges: tuple[Judges, str],
) -> None:
    _, base_url = judges
    # likes-two picks v2 (7 vs 6); likes-one picks v1 (9 vs 5): v1 7.5, v2 6.0 on average.
    verdict, _ = await judge(base_url, n=2, models=("likes-two", "likes-one"))
    assert verdict.best_id == "v1" and verdict.agreement == "1/2"
    assert verdict.scores == {"v1": 7.5, "v2": 6.0}
    assert verdict.reason.startswith(
        "the jury split 1–1 between v1 and v2: broken by mean score (v1 7.5 vs v2 6). "
    )
    assert "likes-one: v1 is right." in verdict.reason


async def test_a_failing_juror_does_not_vote(judges: tuple[Judges, str]) -> None:
    state, base_url = judges
    verdict, _ = await judge(base_url, models=("broken", "likes-two"), mode="pairwise")
    assert verdict.status == "verdict" and verdict.best_id == "v2"
    assert verdict.agreement == "1/1"
    broken, good = verdict.jurors
    assert broken.status == "error" and broken.pick is None and broken.error
    assert good.pick == "v2" and len(good.pairs) == 3
    assert "broken" in verdict.reason and "did not vote" in verdict.reason
    assert len(state.by_model("likes-two")) == 6


async def test_a_jury_whose_every_juror_fails_fails_with_their_errors(
    judges: tuple[Judges, str],
) -> None:
    _, base_url = judges
    backends = make_backends(base_url, retry=FAST)
    run = thinking_run([Shape(text="answer one"), Shape(text="answer two")], backends)
    try:
        async with asyncio.timeout(BOUND_S):
            verdict = await judge_run(
                run,
                backends,
                JudgeSpec(models=("broken", "codex-agent/absent"), target="gateway"),
            )
    finally:
        await backends.aclose()
    assert verdict.status == "error" and verdict.best_id is None
    assert verdict.error is not None and verdict.error.startswith("every juror failed: broken: ")
    assert "codex-agent/absent: " in verdict.error
    assert [j.status for j in verdict.jurors] == ["error", "error"]


async def test_a_pairwise_jury_reports_progress_over_every_jurors_calls(
    judges: tuple[Judges, str],
) -> None:
    state, base_url = judges
    verdict, progress = await judge(base_url, models=("likes-one", "first"), mode="pairwise")
    assert len(state.bodies) == 12
    assert [p.done for p in progress] == list(range(13))
    assert {p.total for p in progress} == {12}
    # "first" finds no winner (a tie: it abstains); likes-one's v1 wins the vote.
    assert [(j.model, j.status, j.pick) for j in verdict.jurors] == [
        ("likes-one", "verdict", "v1"),
        ("first", "tie", None),
    ]
    assert verdict.best_id == "v1" and verdict.agreement == "1/2"


def test_a_jury_spec_keeps_the_one_judge_spelling_working() -> None:
    assert JudgeSpec(model="j").jurors == ["j"]
    jury = JudgeSpec(models=("a", "b"))
    assert jury.model == "a" and jury.jurors == ["a", "b"]
    with pytest.raises(ValueError, match="first juror"):
        JudgeSpec(model="b", models=("a", "b"))
    with pytest.raises(ValueError, match="different model"):
        JudgeSpec(models=("a", "a"))
    assert JudgeSpec(model="j", mode="pairwise").calls_per_juror(4) == 12


async def test_run_json_and_the_winners_line_carry_the_mode_the_pairs_and_the_jurors(
    judges: tuple[Judges, str],
) -> None:
    _, base_url = judges
    backends = make_backends(base_url, retry=FAST)
    run = thinking_run([Shape(text="answer one"), Shape(text="answer two")], backends)
    spec = JudgeSpec(models=("likes-two", "also-likes-one", "likes-one"), mode="pairwise")
    try:
        async with asyncio.timeout(BOUND_S):
            verdict = await judge_run(run, backends, spec)
    finally:
        await backends.aclose()
    now = datetime.now(UTC)
    stored = json.loads(run_json(run, verdict, now))["judge"]
    assert stored["mode"] == "pairwise" and stored["best_id"] == "v1"
    assert stored["agreement"] == "2/3"
    assert [(j["model"], j["pick"]) for j in stored["jurors"]] == [
        ("likes-two", "v2"),
        ("also-likes-one", "v1"),
        ("likes-one", "v1"),
    ]
    pair = stored["jurors"][0]["pairs"][0]
    assert (pair["a"], pair["b"], pair["pick_ab"], pair["pick_ba"], pair["outcome"]) == (
        "v1",
        "v2",
        "v2",
        "v2",
        "v2",
    )
    assert pair["ab"]["order"] == ["v1", "v2"] and pair["ba"]["order"] == ["v2", "v1"]
    line = json.loads(winners_line(run, verdict, now) or "{}")
    assert line["judge_models"] == list(spec.jurors) and line["judge_mode"] == "pairwise"
