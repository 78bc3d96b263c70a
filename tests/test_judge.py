"""The judge against real loopback servers: parsing quirks, repair, JSON mode, rounds, routing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from statistics import mean
from typing import Any

import pytest

from scillm_tui.core.backends import Backends
from scillm_tui.core.judge import JudgeSpec, Verdict, judge_run
from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.runs import Run, RunSpec
from scillm_tui.demo.server import BackgroundServer
from tests.engine_support import make_backends as shared_make_backends
from tests.servers.fault_app import (
    EXPECTED_TEXT,
    JUDGE_GARBAGE_TEXT,
    JUDGE_OK_REASON,
    JUDGE_UNKNOWN_TEXT,
    judge_ok_text,
)

FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05)
BOUND_S = 15.0
# Three candidates with distinct, plain texts, so the order shown to the judge can be read
# back from the prompt the server received.
THREE = ["ok", "burst", "crlf"]


def make_backends(gateway: str | None = None, sidecar: str | None = None) -> Backends:
    return shared_make_backends(gateway, sidecar, retry=FAST)


@pytest.fixture
async def backends(fault_server: BackgroundServer) -> AsyncIterator[Backends]:
    b = make_backends(gateway=fault_server.base_url)
    yield b
    await b.aclose()


async def finished_run(backends: Backends, models: list[str], n: int | None = None) -> Run:
    spec = RunSpec(prompt="which is best?", target="gateway", models=models, n=n or len(models))
    run = Run(spec, backends)
    async with asyncio.timeout(BOUND_S):
        async for _ in run.events():
            pass
    return run


async def judge(run: Run, backends: Backends, model: str, **extra: Any) -> Verdict:
    async with asyncio.timeout(BOUND_S):
        return await judge_run(run, backends, JudgeSpec(model=model, target="gateway", **extra))


def judge_requests(server: BackgroundServer, model: str) -> list[Any]:
    return [r for r in server.app.state.faults.chat_requests() if r.model == model]


def shown_order(request: Any, run: Run) -> list[str]:
    """Variant ids in the order their texts appear in the judge prompt the server got."""
    prompt = request.body["messages"][-1]["content"]
    positions = {vid: prompt.find(v.text) for vid, v in run.variants.items()}
    assert all(p >= 0 for p in positions.values())
    return sorted(positions, key=positions.__getitem__)


# ---- forgiving parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "reason", "scores"),
    [
        ("judge-fenced", "B covers every part of the task.", {"v1": 5.0, "v2": 8.0}),
        ("judge-prose", "B explains the trade-offs.", {"v1": 4.0, "v2": 9.0}),
        ("judge-alias", "B is clearer and more complete.", {"v1": 6.0, "v2": 7.0}),
    ],
)
async def test_judge_answers_in_many_shapes_are_understood(
    fault_server: BackgroundServer,
    backends: Backends,
    model: str,
    reason: str,
    scores: dict[str, float],
) -> None:
    run = await finished_run(backends, ["ok", "burst"])
    verdict = await judge(run, backends, model)
    assert verdict.status == "verdict"
    assert verdict.best_id == "v2"  # "B": the second candidate, shown in order for one round
    assert verdict.reason == reason
    assert verdict.scores == scores
    assert verdict.agreement == "1/1"
    (round_,) = verdict.rounds
    assert round_.order == ["v1", "v2"] and round_.labels == {"A": "v1", "B": "v2"}
    assert round_.raw == [EXPECTED_TEXT[model]] and not round_.repaired
    (request,) = judge_requests(fault_server, model)
    assert request.body["response_format"] == {"type": "json_object"}
    assert "stream" not in request.body or request.body["stream"] is False
    assert shown_order(request, run) == ["v1", "v2"]
    assert verdict.prompt == request.body["messages"]
    assert verdict.judge_base_url == fault_server.base_url


async def test_unknown_candidate_is_a_clear_error_after_one_repair(
    fault_server: BackgroundServer, backends: Backends
) -> None:
    run = await finished_run(backends, ["ok", "burst"])
    verdict = await judge(run, backends, "judge-unknown")
    assert verdict.status == "error"
    assert verdict.best_id is None
    assert verdict.error is not None
    assert "'Z'" in verdict.error and "not one of the candidates (v1..v2)" in verdict.error
    assert "after one repair attempt" in verdict.error
    (round_,) = verdict.rounds
    assert round_.repaired and round_.pick is None
    assert round_.raw == [JUDGE_UNKNOWN_TEXT, JUDGE_UNKNOWN_TEXT]  # raw output kept
    requests = judge_requests(fault_server, "judge-unknown")
    assert len(requests) == 2
    # The repair turn shows the judge its own answer and says what was wrong.
    repair = requests[1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": JUDGE_UNKNOWN_TEXT}
    assert repair[-1]["role"] == "user"


async def test_garbage_is_repaired_once_then_an_error(
    fault_server: BackgroundServer, backends: Backends
) -> None:
    run = await finished_run(backends, ["ok", "burst"])
    verdict = await judge(run, backends, "judge-garbage")
    assert verdict.status == "error"
    assert verdict.error is not None and "after one repair attempt" in verdict.error
    assert verdict.raw_responses == [JUDGE_GARBAGE_TEXT, JUDGE_GARBAGE_TEXT]
    assert len(judge_requests(fault_server, "judge-garbage")) == 2


async def test_garbage_then_ok_gives_a_verdict_from_the_repaired_round(
    fault_server: BackgroundServer, backends: Backends
) -> None:
    run = await finished_run(backends, ["ok", "burst"])
    verdict = await judge(run, backends, "judge-garbage-then-ok")
    assert verdict.status == "verdict"
    assert verdict.best_id == "v1"  # judge-ok picks "A"
    assert verdict.reason == JUDGE_OK_REASON
    (round_,) = verdict.rounds
    assert round_.repaired is True and round_.error is None
    assert round_.raw == [JUDGE_GARBAGE_TEXT, judge_ok_text(["A", "B"])]
    assert verdict.scores == {"v1": 9.0, "v2": 5.0}


async def test_server_rejecting_response_format_is_asked_again_without_it(
    fault_server: BackgroundServer, backends: Backends
) -> None:
    run = await finished_run(backends, ["ok", "burst"])
    verdict = await judge(run, backends, "judge-no-response-format", rounds=2, seed=1)
    assert verdict.status == "verdict"
    assert [r.error for r in verdict.rounds] == [None, None]
    requests = judge_requests(fault_server, "judge-no-response-format")
    # Rejected once, then never sent again (remembered for the second round).
    assert ["response_format" in r.body for r in requests] == [True, False, False]


# ---- fewer than two candidates -------------------------------------------------------------------


async def test_single_candidate_wins_by_default_without_asking_the_judge(
    fault_server: BackgroundServer, backends: Backends
) -> None:
    run = await finished_run(backends, ["ok", "401"])
    verdict = await judge(run, backends, "judge-ok")
    assert verdict.status == "default"
    assert verdict.best_id == "v1"
    assert "default" in verdict.reason
    assert verdict.rounds == []
    assert judge_requests(fault_server, "judge-ok") == []


async def test_no_candidate_gives_no_verdict(
    fault_server: BackgroundServer, backends: Backends
) -> None:
    run = await finished_run(backends, ["401", "404"])
    verdict = await judge(run, backends, "judge-ok")
    assert verdict.status == "none"
    assert verdict.best_id is None
    assert "nothing to judge" in verdict.reason
    assert judge_requests(fault_server, "judge-ok") == []


# ---- K rounds ------------------------------------------------------------------------------------


async def test_rounds_are_shuffled_with_a_recorded_seed_and_majority_wins(
    fault_server: BackgroundServer, backends: Backends
) -> None:
    run = await finished_run(backends, THREE)
    verdict = await judge(run, backends, "judge-ok", rounds=3, seed=7)
    assert verdict.status == "verdict"
    assert verdict.seed == 7
    orders = [r.order for r in verdict.rounds]
    assert len({tuple(o) for o in orders}) > 1  # the order really changes between rounds
    assert all(sorted(o) == ["v1", "v2", "v3"] for o in orders)
    # What was recorded is what the judge was shown.
    requests = judge_requests(fault_server, "judge-ok")
    assert [shown_order(r, run) for r in requests] == orders
    # judge-ok always picks "A", i.e. whichever variant was shown first.
    picks = [r.pick for r in verdict.rounds]
    assert picks == [o[0] for o in orders]
    top = max(picks.count(p) for p in picks)
    assert top == 2  # seed 7 gives a real 2-of-3 majority
    assert verdict.best_id == max(set(picks), key=picks.count)
    assert verdict.agreement == "2/3"
    # Scores are averaged over the rounds (9 when shown first, 5 otherwise).
    expected = {
        vid: round(mean(9.0 if o[0] == vid else 5.0 for o in orders), 2) for vid in run.variants
    }
    assert verdict.scores == expected

    again = await judge(run, backends, "judge-ok", rounds=3, seed=7)
    assert [r.order for r in again.rounds] == orders  # same seed, same orders
    assert again.best_id == verdict.best_id and again.scores == verdict.scores
    other = await judge(run, backends, "judge-ok", rounds=3, seed=3)
    assert [r.order for r in other.rounds] != orders


async def test_summary_matches_the_verdict(
    fault_server: BackgroundServer, backends: Backends
) -> None:
    run = await finished_run(backends, THREE)
    verdict = await judge(run, backends, "judge-ok", rounds=3, seed=7)
    summary = verdict.summary()
    assert summary["best_id"] == verdict.best_id
    assert summary["rounds"] == 3
    assert summary["agreement"] == "2/3"
    assert summary["picks"] == [r.pick for r in verdict.rounds]
    assert summary["scores"] == verdict.scores


# ---- routing -------------------------------------------------------------------------------------


async def test_judge_with_codex_agent_prefix_goes_to_the_sidecar(
    make_fault_server: Callable[..., BackgroundServer],
) -> None:
    gateway = make_fault_server()
    sidecar = make_fault_server()
    backends = make_backends(gateway=gateway.base_url, sidecar=sidecar.base_url)
    try:
        run = await finished_run(backends, ["ok", "burst"])
        verdict = await judge(run, backends, "codex-agent/judge-ok")
    finally:
        await backends.aclose()
    assert verdict.status == "verdict" and verdict.best_id == "v1"
    assert verdict.judge_endpoint == "sidecar"
    assert verdict.judge_base_url == sidecar.base_url
    assert verdict.judge_model == "codex-agent/judge-ok"
    assert [r.model for r in sidecar.app.state.faults.chat_requests()] == ["judge-ok"]
    assert sorted(r.model for r in gateway.app.state.faults.chat_requests()) == ["burst", "ok"]


def test_the_reason_names_variants_not_labels() -> None:
    from scillm_tui.core.judge import name_variants

    mapping = {"A": "v3", "B": "v1"}
    reason = "Candidate B is clearer than candidate A; Variant C is unknown; B alone stays."
    assert name_variants(reason, mapping) == (
        "v1 is clearer than v3; Variant C is unknown; B alone stays."
    )
