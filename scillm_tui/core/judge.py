"""The judge: pick the best variant, K rounds with shuffled order to blunt position bias.

Never raises for judge trouble: the verdict says what went wrong and keeps the raw output.

The judge sees answers only (`VariantState.text`), never a variant's thinking: thinking
is not what the user gets, and it would let a long chain of thought win on length.
Variants with no answer are left out, each with the reason (`Verdict.excluded`). A judge
that thinks is read from its answer only (`ChatResult.text`, after any inline
``<think>`` block): its thinking is kept (`JudgeRound.reasoning`) but never parsed, since
it often holds draft verdicts it later changed its mind about.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scillm_tui.core.chat import ChatRequest, ChatResult
from scillm_tui.core.endpoints import EndpointName, route_model
from scillm_tui.core.errors import EndpointError, ScillmError
from scillm_tui.core.judge_parse import (
    PAIRWISE_LABELS,
    TIE,
    JudgeParseError,
    JudgePick,
    parse_judge_output,
    parse_pairwise_output,
    split_thinking,
)
from scillm_tui.core.judge_prompt import (
    build_judge_messages,
    build_pairwise_messages,
    build_repair_messages,
    labels_for,
)
from scillm_tui.core.pairwise import jury_majority, pairwise_outcome, rank_by_pairwise_wins
from scillm_tui.core.runs import Run, VariantState

if TYPE_CHECKING:  # the HTTP stack: imported once clients are made
    from scillm_tui.core.backends import Backends
    from scillm_tui.core.client import EndpointClient

# "tie": judged, and no variant came out on top (pairwise points or a jury's vote level).
VerdictStatus = Literal["verdict", "default", "none", "tie", "error"]


JudgeMode = Literal["listwise", "pairwise"]


class JudgeSpec(BaseModel):
    """How to judge. `mode`: "listwise" shows all answers at once, `rounds` times in
    shuffled orders; "pairwise" judges every pair of answers in both orders (N·(N−1)
    calls, `rounds` is not used). `models`: a jury (each juror judges in `mode`, the
    majority wins); empty means the one judge `model`. With a jury, `model` is its first
    juror (it may be left out: it defaults to ``models[0]``)."""

    model_config = ConfigDict(frozen=True)

    model: str
    target: EndpointName = "gateway"
    rounds: int = Field(default=1, ge=1, le=9)
    seed: int | None = None
    temperature: float | None = 0.0
    mode: JudgeMode = "listwise"
    models: tuple[str, ...] = ()
    concurrency: int = Field(default=6, ge=1, le=32)  # judge calls in flight at once

    @model_validator(mode="before")
    @classmethod
    def _first_juror_is_the_model(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("models") and not data.get("model"):
            return {**data, "model": next(iter(data["models"]))}
        return data

    @model_validator(mode="after")
    def _check_jury(self) -> JudgeSpec:
        if self.models:
            if self.models[0] != self.model:
                raise ValueError("the first juror of `models` must be `model`")
            if len(set(self.models)) != len(self.models):
                raise ValueError("each juror must be a different model")
        return self

    @property
    def jurors(self) -> list[str]:
        """The judge models: the jury, or the one judge."""
        return list(self.models) or [self.model]

    def calls_per_juror(self, candidates: int) -> int:
        """Judge calls one juror makes for `candidates` answers (repairs not counted)."""
        if self.mode == "pairwise":
            return candidates * (candidates - 1)
        return self.rounds


class JudgeRound(BaseModel):
    """One judge call: the order shown, the labels used, and what the judge said.

    In pairwise mode a round shows two answers (labels "A" and "B") and may end in a tie
    (`tie`, `pick` None); a round with `error` set gave no usable answer."""

    index: int
    order: list[str]  # variant ids in the order shown
    labels: dict[str, str]  # label -> variant id
    pick: str | None = None  # variant id
    tie: bool = False  # pairwise: the judge said neither answer is better
    reason: str | None = None  # as the judge wrote it: in this round's labels ("A", "B")
    scores: dict[str, float] = Field(default_factory=dict)  # by variant id
    raw: list[str] = Field(default_factory=list)  # every answer (thinking cut), repair included
    reasoning: list[str] = Field(default_factory=list)  # the judge's thinking, one per answer
    error: str | None = None
    repaired: bool = False

    @property
    def named_reason(self) -> str | None:
        """The reason with this round's unambiguous label mentions as variant ids."""
        return None if self.reason is None else name_variants(self.reason, self.labels)


class PairJudgment(BaseModel):
    """One pair judged in both orders (pairwise mode).

    `ab`: the call with `a` shown first (as "A"); `ba`: `b` shown first. `pick_ab` /
    `pick_ba` are the variant ids those calls picked (None: a tie, or a failed call, whose
    round has `error`). `outcome` is MT-Bench's rule (`pairwise_outcome`): the winner only
    if both orders agree, else None, a tie. A pair with a failed call is not `complete`
    and earns nobody points. `reasons`: the judge's reason per order, in variant ids."""

    a: str
    b: str
    pick_ab: str | None = None
    pick_ba: str | None = None
    outcome: str | None = None
    complete: bool = True
    reasons: list[str] = Field(default_factory=list)
    ab: JudgeRound
    ba: JudgeRound

    @property
    def consistent(self) -> bool:
        """Both orders answered and gave the same verdict (the same winner, or both a tie)."""
        return self.complete and self.pick_ab == self.pick_ba


class JurorVote(BaseModel):
    """One juror of a jury: its own verdict, in short, plus the calls behind it.

    `pick` is its vote (its `best_id`); None when it found no winner (status "tie") or
    failed (status "error", `error` says why): such a juror does not vote."""

    model: str
    status: VerdictStatus
    pick: str | None = None
    reason: str = ""
    scores: dict[str, float] = Field(default_factory=dict)
    agreement: str | None = None  # its own rounds' or pairs' agreement
    error: str | None = None
    rounds: list[JudgeRound] = Field(default_factory=list)  # listwise calls
    pairs: list[PairJudgment] = Field(default_factory=list)  # pairwise calls


@dataclass(frozen=True, slots=True)
class JudgeProgress:
    """`done` of `total` judge calls have answered; `label` names them ("pairs", "rounds")."""

    done: int
    total: int
    label: str


class Verdict(BaseModel):
    """The judge's outcome. `reason` is in variant ids where the judge's wording was
    unambiguous; `reason_labels` maps the letters it may still contain ("A is more
    concise") to variant ids, for the round the reason was taken from (a round whose
    pick won: letters mean other variants in other rounds).

    Where the calls are, by mode: listwise, one judge: `rounds`. Pairwise, one judge:
    `pairs` (`rounds` is empty); `scores` are pairwise points (a win 1, a tie ½) and
    `agreement` is pairs whose verdict survived the swap / complete pairs. A jury:
    `jurors`, each with its own `rounds` or `pairs` (the top-level `rounds` and `pairs`
    are empty); `scores` are the voting jurors' mean scores, `agreement` is votes for the
    winner / jurors that voted, and `judge_model` is the first juror. Status "tie": no
    winner (`best_id` None), `tied` names the variants level at the top."""

    status: VerdictStatus
    best_id: str | None = None
    reason: str = ""
    reason_labels: dict[str, str] = Field(default_factory=dict)  # label -> variant id
    reason_round: int | None = None  # index of the round `reason` comes from
    scores: dict[str, float] = Field(default_factory=dict)  # averaged over rounds
    rounds: list[JudgeRound] = Field(default_factory=list)
    agreement: str | None = None  # e.g. "2/3"
    judge_model: str
    judge_endpoint: EndpointName
    judge_base_url: str | None = None
    seed: int = 0
    prompt: list[dict[str, str]] = Field(default_factory=list)  # first round's messages
    error: str | None = None
    candidates: list[str] = Field(default_factory=list)
    excluded: dict[str, str] = Field(default_factory=dict)  # variant id -> why not judged
    mode: JudgeMode = "listwise"
    pairs: list[PairJudgment] = Field(default_factory=list)
    jurors: list[JurorVote] = Field(default_factory=list)
    tied: list[str] = Field(default_factory=list)

    @property
    def all_rounds(self) -> list[JudgeRound]:
        """Every judge call behind this verdict: its rounds, its pairs' two orders, and
        the same for each juror."""
        out = [*self.rounds, *(r for p in self.pairs for r in (p.ab, p.ba))]
        for juror in self.jurors:
            out += [*juror.rounds, *(r for p in juror.pairs for r in (p.ab, p.ba))]
        return out

    @property
    def raw_responses(self) -> list[str]:
        return [raw for r in self.all_rounds for raw in r.raw]

    @property
    def judge_models(self) -> list[str]:
        """Every judge model: the jurors, or the one judge."""
        return [j.model for j in self.jurors] or [self.judge_model]

    def summary(self) -> dict[str, Any]:
        """The `judge` object of the CLI's JSON output."""
        return {
            "status": self.status,
            "best_id": self.best_id,
            "reason": self.reason,
            "reason_labels": self.reason_labels,
            "scores": self.scores,
            "rounds": len(self.rounds),
            "agreement": self.agreement,
            "picks": [r.pick for r in self.rounds],
            "error": self.error,
            "excluded": self.excluded,
            "mode": self.mode,
            "judge_models": self.judge_models,
            "tied": self.tied,
            "pairs": [
                {"a": p.a, "b": p.b, "pick_ab": p.pick_ab, "pick_ba": p.pick_ba}
                | {"outcome": p.outcome, "complete": p.complete}
                for p in self.pairs
            ],
            "jurors": [
                {"model": j.model, "status": j.status, "pick": j.pick}
                | {"agreement": j.agreement, "error": j.error}
                for j in self.jurors
            ],
        }


def judgeable(run: Run) -> list[VariantState]:
    """Variants that finished with a non-blank answer (thinking does not count)."""
    return [v for v in run.variants.values() if v.judgeable]


def exclusion_reason(state: VariantState) -> str:
    """Why a variant is not judged: its no-answer reason, its error, or its status."""
    if state.no_answer_reason is not None:
        return state.no_answer_reason
    if state.status == "error":
        return state.error or "error"
    return state.status


def excluded(run: Run) -> dict[str, str]:
    """The variants the judge does not see, each with `exclusion_reason`."""
    return {v.id: exclusion_reason(v) for v in run.variants.values() if not v.judgeable}


async def judge_run(run: Run, backends: Backends, spec: JudgeSpec) -> Verdict:
    """Judge the finished variants of `run` (see module docstring); `judge_events`
    without the progress."""
    verdict: Verdict | None = None
    async for event in judge_events(run, backends, spec):
        if isinstance(event, Verdict):
            verdict = event
    assert verdict is not None  # judge_events always ends with one
    return verdict


async def judge_events(
    run: Run, backends: Backends, spec: JudgeSpec
) -> AsyncIterator[JudgeProgress | Verdict]:
    """Judge `run`: `JudgeProgress` as judge calls answer (first ``0/total``), then the
    `Verdict`, last. Calls run concurrently, at most `spec.concurrency` at once (jurors
    concurrently, a juror's pairwise calls concurrently, its listwise rounds in turn).
    Closing the iterator early cancels the calls still running."""
    seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31)
    endpoint = route_model(spec.model, spec.target)[0]
    base: dict[str, Any] = dict(
        judge_model=spec.model,
        judge_endpoint=endpoint,
        seed=seed,
        excluded=excluded(run),
        mode=spec.mode,
    )
    candidates = judgeable(run)
    if not candidates:
        yield Verdict(
            **base, status="none", reason="no variant finished with an answer — nothing to judge"
        )
        return
    if len(candidates) == 1:
        only = candidates[0].id
        yield Verdict(
            **base,
            status="default",
            best_id=only,
            reason=f"{only} wins by default: it is the only variant with an answer",
            candidates=[only],
        )
        return
    label = "pairs" if spec.mode == "pairwise" else "rounds"
    total = spec.calls_per_juror(len(candidates)) * len(spec.jurors)
    queue: asyncio.Queue[JudgeProgress | None] = asyncio.Queue()
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        queue.put_nowait(JudgeProgress(done, total, label))

    limit = asyncio.Semaphore(spec.concurrency)

    async def every_juror() -> list[Verdict]:
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        _juror(run, backends, spec, model, candidates, seed, limit, tick)
                    )
                    for model in spec.jurors
                ]
            return [t.result() for t in tasks]
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(every_juror())
    try:
        yield JudgeProgress(0, total, label)
        while (item := await queue.get()) is not None:
            yield item
        verdicts = await task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if len(verdicts) == 1:
        yield verdicts[0]
    else:
        yield _jury_verdict(verdicts, base, [v.id for v in candidates])


async def _juror(
    run: Run,
    backends: Backends,
    spec: JudgeSpec,
    model: str,
    candidates: list[VariantState],
    seed: int,
    limit: asyncio.Semaphore,
    tick: Callable[[], None],
) -> Verdict:
    """One judge's verdict in `spec.mode`; never raises for judge trouble."""
    endpoint, wire_model = route_model(model, spec.target)
    ids = [v.id for v in candidates]
    base: dict[str, Any] = dict(
        judge_model=model,
        judge_endpoint=endpoint,
        seed=seed,
        excluded=excluded(run),
        mode=spec.mode,
        candidates=ids,
    )
    try:
        client = backends.client(endpoint)
    except ScillmError as exc:
        for _ in range(spec.calls_per_juror(len(candidates))):
            tick()  # its calls will not happen: the progress still reaches the total
        return Verdict(**base, status="error", error=str(exc))
    base["judge_base_url"] = client.config.base_url
    judge = _Judge(client, wire_model, spec, run, limit)
    if spec.mode == "pairwise":
        return await _pairwise(judge, candidates, base, tick)
    return await _listwise(judge, candidates, spec, seed, base, tick)


async def _listwise(
    judge: _Judge,
    candidates: list[VariantState],
    spec: JudgeSpec,
    seed: int,
    base: dict[str, Any],
    tick: Callable[[], None],
) -> Verdict:
    """K rounds of all candidates at once, shuffled (seeded) when K > 1; majority wins."""
    ids = [v.id for v in candidates]
    rounds: list[JudgeRound] = []
    for index in range(spec.rounds):
        order = list(candidates)
        if index > 0 or spec.rounds > 1:
            random.Random(seed + index).shuffle(order)
        rounds.append(await judge.one_round(index, order))
        tick()
    first_prompt = judge.first_prompt

    good = [r for r in rounds if r.pick is not None]
    if not good:
        errors = "; ".join(dict.fromkeys(r.error or "no pick" for r in rounds))
        return Verdict(
            **base,
            status="error",
            rounds=rounds,
            error=f"the judge gave no usable verdict: {errors}",
            prompt=first_prompt,
        )
    scores = _average_scores(good)
    votes = Counter(r.pick for r in good)
    top = max(votes.values())
    tied = [vid for vid in ids if votes.get(vid) == top]
    best = max(tied, key=lambda vid: (scores.get(vid, 0.0), -ids.index(vid)))
    source = next(r for r in good if r.pick == best)  # its letters mean what the judge meant
    return Verdict(
        **base,
        status="verdict",
        best_id=best,
        reason=source.named_reason or "",
        reason_labels=dict(source.labels),
        reason_round=source.index,
        scores=scores,
        rounds=rounds,
        agreement=f"{top}/{len(rounds)}",
        prompt=first_prompt,
    )


async def _pairwise(
    judge: _Judge,
    candidates: list[VariantState],
    base: dict[str, Any],
    tick: Callable[[], None],
) -> Verdict:
    """Every pair in both orders, concurrently; MT-Bench's rule per pair, then points.

    Points level at the top give status "tie" (no winner): the pairs said no variant is
    better, and picking one by display order or by length would be the bias this mode
    is there to remove."""
    ids = [v.id for v in candidates]
    matchups = [(x, y) for i, x in enumerate(candidates) for y in candidates[i + 1 :]]

    async def call(index: int, first: VariantState, second: VariantState) -> JudgeRound:
        result = await judge.pair_round(index, first, second)
        tick()
        return result

    calls = await asyncio.gather(
        *(
            call(2 * k + swap, *((x, y) if swap == 0 else (y, x)))
            for k, (x, y) in enumerate(matchups)
            for swap in (0, 1)
        )
    )
    pairs: list[PairJudgment] = []
    for k, (x, y) in enumerate(matchups):
        ab, ba = calls[2 * k], calls[2 * k + 1]
        complete = ab.error is None and ba.error is None
        pairs.append(
            PairJudgment(
                a=x.id,
                b=y.id,
                pick_ab=ab.pick,
                pick_ba=ba.pick,
                outcome=pairwise_outcome(ab.pick, ba.pick) if complete else None,
                complete=complete,
                reasons=[r.named_reason or "" for r in (ab, ba)],
                ab=ab,
                ba=ba,
            )
        )
    base = {**base, "pairs": pairs, "prompt": judge.first_prompt}
    counted = [p for p in pairs if p.complete]
    if not counted:
        errors = "; ".join(dict.fromkeys(r.error or "no pick" for r in calls))
        return Verdict(
            **base, status="error", error=f"the judge gave no usable pairwise verdict: {errors}"
        )
    points = dict(rank_by_pairwise_wins((p.a, p.b, p.outcome) for p in counted))
    scores = {vid: points.get(vid, 0.0) for vid in ids}
    top = max(scores.values())
    leaders = [vid for vid in ids if scores[vid] == top]
    consistent = sum(p.consistent for p in counted)
    agreement = f"{consistent}/{len(counted)}"
    failed = len(pairs) - len(counted)
    note = f"; {failed} of {len(pairs)} pairs had a failed call and count for nothing" * (
        failed > 0
    )
    swapped = f"{len(counted) - consistent} of {len(counted)} pairs changed verdict when swapped"
    if len(leaders) > 1:
        return Verdict(
            **base,
            status="tie",
            tied=leaders,
            scores=scores,
            agreement=agreement,
            reason=f"no winner: {_and(leaders)} tie on {top:g} pairwise points each "
            f"({swapped}, and count as ties){note}",
        )
    best = leaders[0]
    wins = [p for p in counted if p.outcome == best]
    games = sum(best in (p.a, p.b) for p in counted)
    source = next((r for p in wins for r in (p.ab, p.ba)), None)
    said = (source.named_reason or "") if source is not None else ""
    return Verdict(
        **base,
        status="verdict",
        best_id=best,
        reason=f"{best} wins {len(wins)} of its {games} pairs ({top:g} points): {said}".rstrip()
        + note,
        reason_labels=dict(source.labels) if source is not None else {},
        reason_round=source.index if source is not None else None,
        scores=scores,
        agreement=agreement,
    )


def _jury_verdict(verdicts: list[Verdict], base: dict[str, Any], ids: list[str]) -> Verdict:
    """The jury's verdict from its jurors' (PoLL): the most votes wins, a level vote is
    broken by the voters' mean score (and the reason says so); a juror that failed does
    not vote; every juror failing fails the verdict."""
    jurors = [
        JurorVote(
            model=v.judge_model,
            status=v.status,
            pick=v.best_id,
            reason=v.reason,
            scores=v.scores,
            agreement=v.agreement,
            error=v.error,
            rounds=v.rounds,
            pairs=v.pairs,
        )
        for v in verdicts
    ]
    first = verdicts[0]
    base = {
        **base,
        "candidates": ids,
        "jurors": jurors,
        "judge_base_url": first.judge_base_url,
        "prompt": first.prompt,
    }
    voters = [v for v in verdicts if v.status in ("verdict", "tie")]
    failed = [v for v in verdicts if v.status not in ("verdict", "tie")]
    if not voters:
        errors = "; ".join(f"{v.judge_model}: {v.error or 'no verdict'}" for v in failed)
        return Verdict(**base, status="error", error=f"every juror failed: {errors}")
    mean = _average_score_maps([v.scores for v in voters])
    picks = [v.best_id for v in voters]
    best, broken = jury_majority(picks, mean)
    counts = Counter(p for p in picks if p is not None)
    top = max(counts.values(), default=0)
    dropped = (
        f" ({len(failed)} juror(s) failed and did not vote: "
        + ", ".join(v.judge_model for v in failed)
        + ")"
    ) * bool(failed)
    if best is None:
        level = [vid for vid in ids if counts.get(vid) == top] if top else []
        why = (
            f"the jury's vote is level between {_and(level)} and mean scores do not break it"
            if level
            else "no juror found a winner"
        )
        return Verdict(
            **base,
            status="tie",
            tied=level,
            scores=mean,
            agreement=f"{top}/{len(voters)}",
            reason=f"no winner: {why}{dropped}",
        )
    source = next(v for v in voters if v.best_id == best)
    lead = ""
    if broken:
        level = [vid for vid in ids if counts.get(vid) == top]
        shown = " vs ".join(f"{vid} {mean[vid]:g}" for vid in level)
        lead = (
            f"the jury split {'–'.join(str(top) for _ in level)} between {_and(level)}: "
            f"broken by mean score ({shown}). "
        )
    return Verdict(
        **base,
        status="verdict",
        best_id=best,
        reason=f"{lead}{source.judge_model}: {source.reason}{dropped}",
        reason_labels=source.reason_labels,
        reason_round=source.reason_round,
        scores=mean,
        agreement=f"{top}/{len(voters)}",
    )


def _and(ids: list[str]) -> str:
    """ "v1", "v1 and v2", "v1, v2 and v3"."""
    return ids[0] if len(ids) == 1 else ", ".join(ids[:-1]) + " and " + ids[-1]


def _average_score_maps(maps: list[dict[str, float]]) -> dict[str, float]:
    totals: dict[str, list[float]] = {}
    for scores in maps:
        for vid, score in scores.items():
            totals.setdefault(vid, []).append(score)
    return {vid: round(sum(v) / len(v), 2) for vid, v in totals.items()}


def _average_scores(rounds: list[JudgeRound]) -> dict[str, float]:
    return _average_score_maps([r.scores for r in rounds])


class _Judge:
    """Calls the judge model; remembers whether the server accepts `response_format`."""

    def __init__(
        self,
        client: EndpointClient,
        wire_model: str,
        spec: JudgeSpec,
        run: Run,
        limit: asyncio.Semaphore,
    ) -> None:
        self.client = client
        self.wire_model = wire_model
        self.spec = spec
        self.run = run
        self.limit = limit
        self.json_mode = True
        self.first_prompt: list[dict[str, str]] = []

    async def _ask(self, messages: list[dict[str, str]]) -> ChatResult:
        request = ChatRequest(
            model=self.wire_model,
            messages=messages,
            temperature=self.spec.temperature,
            response_format={"type": "json_object"} if self.json_mode else None,
        )
        try:
            async with self.limit:
                return await self.client.chat(request)
        except EndpointError as exc:
            if request.response_format is not None and exc.category == "bad_request":
                self.json_mode = False  # the server rejects response_format: ask without it
                return await self._ask(messages)
            raise

    async def one_round(self, index: int, order: list[VariantState]) -> JudgeRound:
        """A listwise round: every candidate, in `order`."""
        labels = labels_for(len(order))
        messages = build_judge_messages(
            self.run.spec.prompt,
            self.run.spec.system,
            [(lab, v.text) for lab, v in zip(labels, order, strict=True)],
        )
        return await self._round(
            index, order, labels, messages, lambda text: parse_judge_output(text, labels)
        )

    async def pair_round(self, index: int, first: VariantState, second: VariantState) -> JudgeRound:
        """A pairwise call: `first` shown as A, `second` as B; the judge may call a tie."""
        messages = build_pairwise_messages(
            self.run.spec.prompt, self.run.spec.system, first.text, second.text
        )
        return await self._round(
            index, [first, second], list(PAIRWISE_LABELS), messages, parse_pairwise_output
        )

    async def _round(
        self,
        index: int,
        order: list[VariantState],
        labels: list[str],
        messages: list[dict[str, str]],
        parse: Callable[[str], JudgePick],
    ) -> JudgeRound:
        pairwise = parse is parse_pairwise_output
        mapping = dict(zip(labels, (v.id for v in order), strict=True))
        if index == 0:
            self.first_prompt = messages
        result = JudgeRound(index=index, order=[v.id for v in order], labels=mapping)
        try:
            answer = _keep(result, await self._ask(messages))
        except EndpointError as exc:
            result.error = exc.message
            return result
        try:
            pick = _parse(result, answer, labels, parse)
        except JudgeParseError as exc:
            problem = _explain(exc, mapping)
            # The repair turn echoes the judge's answer only: never its thinking.
            repair = build_repair_messages(messages, answer, labels, problem, pairwise=pairwise)
            try:
                answer = _keep(result, await self._ask(repair))
            except EndpointError as exc2:
                result.error = f"{problem}; the repair request failed: {exc2.message}"
                return result
            result.repaired = True
            try:
                pick = _parse(result, answer, labels, parse)
            except JudgeParseError as exc3:
                result.error = f"{_explain(exc3, mapping)} (after one repair attempt)"
                return result
        result.tie = pick.label == TIE
        result.pick = mapping.get(pick.label)
        result.reason = pick.reason
        result.scores = {mapping[lab]: s for lab, s in pick.scores.items() if lab in mapping}
        return result


def _keep(result: JudgeRound, answer: ChatResult) -> str:
    """Record one judge answer in `result`; return the text to parse (answer only).

    Thinking comes from the server's split (`ChatResult.reasoning`) and from a leading
    inline ``<think>`` block (a server that does not split it); both are kept, neither
    is parsed."""
    inline, text = split_thinking(answer.text)
    result.raw.append(text)
    result.reasoning.append("\n\n".join(t for t in (answer.reasoning.strip(), inline) if t))
    return text


def _parse(
    result: JudgeRound, answer: str, labels: list[str], parse: Callable[[str], JudgePick]
) -> JudgePick:
    """`parse(answer)`, saying so when the judge thought but never answered."""
    if not answer.strip() and result.reasoning[-1]:
        raise JudgeParseError(
            "the judge's answer is only thinking, with no verdict after it",
            kind="no_json",
            labels=labels,
        )
    return parse(answer)


_PREFIX = r"(?:[Cc]andidate|[Vv]ariant|[Aa]nswer|[Rr]esponse|[Oo]ption)"
_LABEL = r"[A-Z]{1,2}"
_SEPARATOR = r"(?:\s*,\s*(?:and\s+|or\s+)?|\s*[&/]\s*|\s+(?:and|or)\s+)"
# "Candidate B", "Variants A and C", "responses A, B or D", "(B)", "[B]", "B's".
_LABEL_MENTION = re.compile(
    rf"(?P<named>\b(?P<prefix>{_PREFIX})s?\s+{_LABEL}(?:{_SEPARATOR}{_LABEL})*\b)"
    rf"|\((?P<paren>{_LABEL})\)"
    rf"|\[(?P<bracket>{_LABEL})\]"
    rf"|\b(?P<possessive>{_LABEL})(?=['’]s\b)"
)
_LABEL_TOKEN = re.compile(rf"\b{_LABEL}\b")


def name_variants(reason: str, mapping: dict[str, str]) -> str:
    """Say 'v3' where the judge said 'Candidate C': users know variants, not labels.

    Only unambiguous mentions are translated: after a word such as "Candidate" or
    "Variant" (lists too: "Variants A and C"), in brackets ("(C)", "[C]") and possessives
    ("C's"). A bare letter stays, since "A" and "I" are English words and "C" may be the
    language: `Verdict.reason_labels` lets a reader decode those. A mention naming a
    label that is not in `mapping` is left whole."""

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if match.group("named") is not None:
            tokens = list(_LABEL_TOKEN.finditer(text, len(match.group("prefix"))))
            first = tokens[0].group(0)
            # "the answer I gave": a lowercase "answer" before "I" is prose.
            if first not in mapping or (text[0].islower() and first == "I"):
                return text
            out, end = [], tokens[0].start()
            for i, token in enumerate(tokens):
                label = token.group(0)
                if label not in mapping or (i and label == "I"):  # "Candidate A and I agree"
                    break
                out += [text[end : token.start()], mapping[label]]
                end = token.end()
            return "".join(out) + text[end:]
        for group, (left, right) in (
            ("paren", ("(", ")")),
            ("bracket", ("[", "]")),
            ("possessive", ("", "")),
        ):
            label = match.group(group)
            if label is not None:
                vid = mapping.get(label)
                return text if vid is None else f"{left}{vid}{right}"
        return text

    return _LABEL_MENTION.sub(replace, reason)


def _explain(exc: JudgeParseError, mapping: dict[str, str]) -> str:
    """Say it in variant ids: 'the judge chose Z, which is not one of A..D (v1..v4)'."""
    message = str(exc)
    ids = list(mapping.values())
    span = f"{ids[0]}..{ids[-1]}" if len(ids) > 1 else ids[0]
    picked = getattr(exc, "picked", None)
    if picked is not None:
        return f"the judge chose {picked!r}, which is not one of the candidates ({span})"
    return message
