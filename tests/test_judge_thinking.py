"""The judge and thinking models: it sees answers only, leaves out variants with none, reads
a thinking judge's answer only, and gives its reason in variant ids from a winning round."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scillm_tui.core.chat import ChatRequest, ChatResult
from scillm_tui.core.judge import JudgeSpec, Verdict, judge_run, name_variants
from scillm_tui.core.runs import Run
from scillm_tui.demo.server import BackgroundServer
from tests.engine_support import make_backends
from tests.thinking_support import (
    FAST,
    JudgeScript,
    Shape,
    StubJudge,
    judge_app,
    label_of,
    thinking_run,
    verdict_json,
)

BOUND_S = 15.0
V1_THOUGHT = "THOUGHT-MARKER-v1-7f3a: let me reason about quicksort"
V2_THOUGHT = "THOUGHT-MARKER-v2-91c2: merge sort is stable"
JUDGE_THOUGHT = "JUDGE-THOUGHT-9d1e"


@pytest.fixture
def judge_server() -> Iterator[Callable[[JudgeScript], BackgroundServer]]:
    servers: list[BackgroundServer] = []

    def start(script: JudgeScript) -> BackgroundServer:
        server = BackgroundServer(judge_app(script)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


async def judged(run: Run, backends: Any, **spec: Any) -> Verdict:
    async with asyncio.timeout(BOUND_S):
        return await judge_run(run, backends, JudgeSpec(model="judge", target="gateway", **spec))


# ---- what the judge is sent ----------------------------------------------------------------------


async def test_the_judge_request_carries_answers_only_even_in_the_repair_turn(
    judge_server: Callable[[JudgeScript], BackgroundServer],
) -> None:
    # The first answer has no verdict outside its thinking, so a repair turn follows: it
    # echoes the judge's answer, which must not bring the judge's thinking along either.
    script = JudgeScript(
        answers=[
            {"content": f'<think>{JUDGE_THOUGHT} {{"best_id": "B"}}</think>They are both fine.'},
            {"content": verdict_json("A", "Candidate A is right.", A=8, B=3)},
        ]
    )
    server = judge_server(script)
    backends = make_backends(server.base_url, retry=FAST)
    try:
        run = thinking_run(
            [
                Shape(text="Use quicksort.", reasoning=V1_THOUGHT),
                Shape(text="Use merge sort.", reasoning=V2_THOUGHT),
                Shape(reasoning="THOUGHT-MARKER-v3 cut", finish_reason="length"),
            ],
            backends,
        )
        verdict = await judged(run, backends)
    finally:
        await backends.aclose()
    assert verdict.status == "verdict" and verdict.best_id == "v1"
    assert len(script.bodies) == 2
    for body in script.bodies:
        sent = json.dumps(body)
        assert "THOUGHT-MARKER" not in sent
        assert JUDGE_THOUGHT not in sent
        assert "<think>" not in sent
    first = script.bodies[0]["messages"][-1]["content"]
    assert "Use quicksort." in first and "Use merge sort." in first
    assert "=== Candidate C ===" not in first  # v3 had no answer: not a candidate
    repair = script.bodies[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": "They are both fine."}
    (round_,) = verdict.rounds
    assert round_.repaired and round_.raw == [
        "They are both fine.",
        verdict_json("A", "Candidate A is right.", A=8, B=3),
    ]
    assert JUDGE_THOUGHT in round_.reasoning[0] and round_.reasoning[1] == ""


async def test_an_inline_think_block_is_kept_and_its_draft_pick_ignored(
    judge_server: Callable[[JudgeScript], BackgroundServer],
) -> None:
    draft = verdict_json("B", "draft: B", A=1, B=9)
    answer = verdict_json("A", "A is correct.", A=9, B=4)
    script = JudgeScript(answers=[{"content": f"<think>Hmm. {draft} No wait.</think>\n{answer}"}])
    server = judge_server(script)
    backends = make_backends(server.base_url, retry=FAST)
    try:
        run = thinking_run([Shape(text="one"), Shape(text="two")], backends)
        verdict = await judged(run, backends)
    finally:
        await backends.aclose()
    assert verdict.status == "verdict" and verdict.best_id == "v1"
    assert verdict.scores == {"v1": 9.0, "v2": 4.0}
    (round_,) = verdict.rounds
    assert not round_.repaired and round_.raw == [answer]
    assert "No wait." in round_.reasoning[0] and draft in round_.reasoning[0]


async def test_reasoning_content_is_kept_and_never_parsed(
    judge_server: Callable[[JudgeScript], BackgroundServer],
) -> None:
    """The client fills `ChatResult.reasoning` from `message.reasoning_content`: kept, and
    never taken for the verdict."""
    thought = "Candidate B looks best: " + verdict_json("B", "B", A=1, B=9)
    answer = verdict_json("A", "A is correct.", A=9, B=4)
    script = JudgeScript(answers=[{"content": answer, "reasoning_content": thought}])
    server = judge_server(script)
    backends = make_backends(server.base_url, retry=FAST)
    try:
        run = thinking_run([Shape(text="one"), Shape(text="two")], backends)
        verdict = await judged(run, backends)
    finally:
        await backends.aclose()
    assert verdict.best_id == "v1"
    assert verdict.rounds[0].raw == [answer]
    assert verdict.rounds[0].reasoning == [thought]
    assert json.loads(verdict.model_dump_json())["rounds"][0]["reasoning"] == [thought]


async def test_a_judge_whose_thinking_picks_otherwise_is_read_from_its_answer() -> None:
    thought = "Draft " + verdict_json("B", "B is best", A=2, B=9)
    judge = StubJudge(
        lambda _request: ChatResult(
            text=verdict_json("A", "A is correct.", A=9, B=4), reasoning=thought
        )
    )
    run = thinking_run([Shape(text="one"), Shape(text="two")])
    verdict = await judged(run, judge)
    assert verdict.status == "verdict" and verdict.best_id == "v1"
    assert verdict.reason == "A is correct."
    assert verdict.rounds[0].reasoning == [thought]
    dumped = json.loads(verdict.model_dump_json())
    assert dumped["rounds"][0]["reasoning"] == [thought]


async def test_a_judge_that_only_thinks_is_repaired_without_its_thinking() -> None:
    answers = iter(
        [
            ChatResult(text="<think>" + verdict_json("B", "B", A=1, B=9)),  # cut while thinking
            ChatResult(text=verdict_json("B", "B is right.", A=3, B=8), reasoning="ok, B"),
        ]
    )
    judge = StubJudge(lambda _request: next(answers))
    run = thinking_run([Shape(text="one"), Shape(text="two")])
    verdict = await judged(run, judge)
    assert verdict.best_id == "v2"
    (round_,) = verdict.rounds
    assert round_.repaired and round_.raw[0] == ""
    assert round_.reasoning == [verdict_json("B", "B", A=1, B=9), "ok, B"]
    repair = judge.requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": ""}
    assert "only thinking" in repair[-1]["content"]


# ---- who is judged -------------------------------------------------------------------------------


async def test_variants_without_an_answer_are_left_out_with_the_reason() -> None:
    judge = StubJudge(lambda _request: ChatResult(text=verdict_json("B", "B.", A=4, B=7)))
    run = thinking_run(
        [
            Shape(text="answer one", reasoning="thought"),
            Shape(reasoning="thought only"),  # finished, no answer
            Shape(reasoning="a long thought", finish_reason="length"),
            Shape(text="partial", status="error", error="the gateway dropped the stream"),
            Shape(text="  \n"),  # blank answer, no thinking
            Shape(text="answer six"),
            Shape(text="half", status="cancelled", finish_reason=None),
        ]
    )
    verdict = await judged(run, judge)
    assert verdict.candidates == ["v1", "v6"]
    assert verdict.excluded == {
        "v2": "no answer: only thinking",
        "v3": "no answer: cut while thinking (length)",
        "v4": "the gateway dropped the stream",
        "v5": "no text",
        "v7": "cancelled",
    }
    assert verdict.best_id == "v6"
    (request,) = judge.requests
    prompt = request.messages[-1]["content"]
    assert prompt.count("\n=== Candidate ") == 2
    assert verdict.summary()["excluded"] == verdict.excluded
    assert json.loads(verdict.model_dump_json())["excluded"] == verdict.excluded


async def test_one_answer_wins_by_default_and_the_rest_say_why() -> None:
    judge = StubJudge(lambda _request: pytest.fail("the judge must not be asked"))
    run = thinking_run([Shape(reasoning="thinking", finish_reason="length"), Shape(text="yes")])
    verdict = await judged(run, judge)
    assert verdict.status == "default" and verdict.best_id == "v2"
    assert verdict.scores == {}
    assert verdict.excluded == {"v1": "no answer: cut while thinking (length)"}

    nothing = await judged(thinking_run([Shape(reasoning="hm"), Shape()]), judge)
    assert nothing.status == "none" and nothing.best_id is None
    assert nothing.excluded == {"v1": "no answer: only thinking", "v2": "no text"}


# ---- the reason, in variant ids ------------------------------------------------------------------


def test_unambiguous_label_mentions_become_variant_ids_and_bare_letters_stay() -> None:
    mapping = {"A": "v3", "B": "v1", "C": "v2"}
    cases = {
        "A is more concise than C.": "A is more concise than C.",
        "Variant A is more concise than Candidate C.": "v3 is more concise than v2.",
        "Response C rambles; (B) and [A] do not.": "v2 rambles; (v1) and [v3] do not.",
        "A's list is longer than C\u2019s.": "v3's list is longer than v2\u2019s.",
        "Candidates A and C fail, responses B/C differ.": "v3 and v2 fail, v1/v2 differ.",
        "A clear answer in C; Candidate Z?": "A clear answer in C; Candidate Z?",
        "the answer I gave": "the answer I gave",
        "Candidate B and I agree.": "v1 and I agree.",
    }
    for said, shown in cases.items():
        assert name_variants(said, mapping) == shown, said


async def test_the_reason_comes_from_a_winning_round_in_that_rounds_labels() -> None:
    """Round 1 picks v1; rounds 2 and 3 pick v2: the reason is round 2's, and its letters
    are translated with round 2's labels, not round 1's."""
    calls = 0

    def answer(request: ChatRequest) -> ChatResult:
        nonlocal calls
        calls += 1
        best = label_of(request, "answer one" if calls == 1 else "answer two")
        other = label_of(request, "answer three")
        reason = f"Candidate {best} is more concise than Candidate {other}; {best} is right."
        return ChatResult(text=verdict_json(best, reason))

    judge = StubJudge(answer)
    run = thinking_run(
        [Shape(text="answer one"), Shape(text="answer two"), Shape(text="answer three")]
    )
    verdict = await judged(run, judge, rounds=3, seed=5)
    assert [r.pick for r in verdict.rounds] == ["v1", "v2", "v2"]
    source = verdict.rounds[1]
    assert verdict.reason_round == 1
    assert verdict.reason_labels == source.labels
    letter = {vid: label for label, vid in source.labels.items()}
    assert verdict.reason == f"v2 is more concise than v3; {letter['v2']} is right."
    # The round keeps what the judge wrote, in its letters.
    assert source.reason == (
        f"Candidate {letter['v2']} is more concise than Candidate {letter['v3']}; "
        f"{letter['v2']} is right."
    )
    # The seed really shows v2 under another letter in round 1 than in round 2, so the
    # first round's labels would have named the wrong variant.
    assert source.labels["A"] == "v2" and verdict.rounds[0].labels["A"] == "v1"
    assert verdict.reason == "v2 is more concise than v3; A is right."
    assert verdict.summary()["reason_labels"] == source.labels
