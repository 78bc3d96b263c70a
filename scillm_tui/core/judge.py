"""The judge: pick the best variant, K rounds with shuffled order to blunt position bias.

Never raises for judge trouble: the verdict says what went wrong and keeps the raw output.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scillm_tui.core.chat import ChatRequest
from scillm_tui.core.endpoints import EndpointName, route_model
from scillm_tui.core.errors import EndpointError, ScillmError
from scillm_tui.core.judge_parse import JudgeParseError, parse_judge_output
from scillm_tui.core.judge_prompt import build_judge_messages, build_repair_messages, labels_for
from scillm_tui.core.runs import Run, VariantState

if TYPE_CHECKING:  # the HTTP stack: imported once clients are made
    from scillm_tui.core.backends import Backends
    from scillm_tui.core.client import EndpointClient

VerdictStatus = Literal["verdict", "default", "none", "error"]


class JudgeSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str
    target: EndpointName = "gateway"
    rounds: int = Field(default=1, ge=1, le=9)
    seed: int | None = None
    temperature: float | None = 0.0


class JudgeRound(BaseModel):
    """One judging pass: the order shown, the labels used, and what the judge said."""

    index: int
    order: list[str]  # variant ids in the order shown
    labels: dict[str, str]  # label -> variant id
    pick: str | None = None  # variant id
    reason: str | None = None
    scores: dict[str, float] = Field(default_factory=dict)  # by variant id
    raw: list[str] = Field(default_factory=list)  # every answer, repair included
    error: str | None = None
    repaired: bool = False


class Verdict(BaseModel):
    status: VerdictStatus
    best_id: str | None = None
    reason: str = ""
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

    @property
    def raw_responses(self) -> list[str]:
        return [raw for r in self.rounds for raw in r.raw]

    def summary(self) -> dict[str, Any]:
        """The `judge` object of the CLI's JSON output."""
        return {
            "status": self.status,
            "best_id": self.best_id,
            "reason": self.reason,
            "scores": self.scores,
            "rounds": len(self.rounds),
            "agreement": self.agreement,
            "picks": [r.pick for r in self.rounds],
            "error": self.error,
        }


def judgeable(run: Run) -> list[VariantState]:
    """Variants that finished with non-empty text."""
    return [v for v in run.variants.values() if v.status == "done" and v.text.strip()]


async def judge_run(run: Run, backends: Backends, spec: JudgeSpec) -> Verdict:
    """Judge the finished variants of `run` (see module docstring)."""
    endpoint, wire_model = route_model(spec.model, spec.target)
    seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31)
    base = dict(judge_model=spec.model, judge_endpoint=endpoint, seed=seed)
    candidates = judgeable(run)
    ids = [v.id for v in candidates]
    if not candidates:
        return Verdict(
            **base, status="none", reason="no variant finished with text — nothing to judge"
        )
    if len(candidates) == 1:
        only = candidates[0].id
        return Verdict(
            **base,
            status="default",
            best_id=only,
            reason=f"{only} wins by default: it is the only variant that finished with text",
            candidates=ids,
        )
    try:
        client = backends.client(endpoint)
    except ScillmError as exc:
        return Verdict(**base, status="error", error=str(exc), candidates=ids)
    base["judge_base_url"] = client.config.base_url

    judge = _Judge(client, wire_model, spec, run)
    rounds: list[JudgeRound] = []
    for index in range(spec.rounds):
        order = list(candidates)
        if index > 0 or spec.rounds > 1:
            random.Random(seed + index).shuffle(order)
        rounds.append(await judge.one_round(index, order))
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
            candidates=ids,
        )
    scores = _average_scores(good)
    votes = Counter(r.pick for r in good)
    top = max(votes.values())
    tied = [vid for vid in ids if votes.get(vid) == top]
    best = max(tied, key=lambda vid: (scores.get(vid, 0.0), -ids.index(vid)))
    reason = next(r.reason for r in good if r.pick == best) or ""
    return Verdict(
        **base,
        status="verdict",
        best_id=best,
        reason=reason,
        scores=scores,
        rounds=rounds,
        agreement=f"{top}/{len(rounds)}",
        prompt=first_prompt,
        candidates=ids,
    )


def _average_scores(rounds: list[JudgeRound]) -> dict[str, float]:
    totals: dict[str, list[float]] = {}
    for r in rounds:
        for vid, score in r.scores.items():
            totals.setdefault(vid, []).append(score)
    return {vid: round(sum(v) / len(v), 2) for vid, v in totals.items()}


class _Judge:
    """Calls the judge model; remembers whether the server accepts `response_format`."""

    def __init__(self, client: EndpointClient, wire_model: str, spec: JudgeSpec, run: Run) -> None:
        self.client = client
        self.wire_model = wire_model
        self.spec = spec
        self.run = run
        self.json_mode = True
        self.first_prompt: list[dict[str, str]] = []

    async def _ask(self, messages: list[dict[str, str]]) -> str:
        request = ChatRequest(
            model=self.wire_model,
            messages=messages,
            temperature=self.spec.temperature,
            response_format={"type": "json_object"} if self.json_mode else None,
        )
        try:
            return (await self.client.chat(request)).text
        except EndpointError as exc:
            if self.json_mode and exc.category == "bad_request":
                self.json_mode = False  # the server rejects response_format: ask without it
                return await self._ask(messages)
            raise

    async def one_round(self, index: int, order: list[VariantState]) -> JudgeRound:
        labels = labels_for(len(order))
        mapping = dict(zip(labels, (v.id for v in order), strict=True))
        messages = build_judge_messages(
            self.run.spec.prompt,
            self.run.spec.system,
            [(lab, v.text) for lab, v in zip(labels, order, strict=True)],
        )
        if not self.first_prompt:
            self.first_prompt = messages
        result = JudgeRound(index=index, order=[v.id for v in order], labels=mapping)
        try:
            raw = await self._ask(messages)
        except EndpointError as exc:
            result.error = exc.message
            return result
        result.raw.append(raw)
        try:
            pick = parse_judge_output(raw, labels)
        except JudgeParseError as exc:
            problem = _explain(exc, mapping)
            try:
                raw = await self._ask(build_repair_messages(messages, raw, labels, problem))
            except EndpointError as exc2:
                result.error = f"{problem}; the repair request failed: {exc2.message}"
                return result
            result.raw.append(raw)
            result.repaired = True
            try:
                pick = parse_judge_output(raw, labels)
            except JudgeParseError as exc3:
                result.error = f"{_explain(exc3, mapping)} (after one repair attempt)"
                return result
        result.pick = mapping[pick.label]
        result.reason = name_variants(pick.reason, mapping)
        result.scores = {mapping[lab]: s for lab, s in pick.scores.items() if lab in mapping}
        return result


_LABEL_MENTION = re.compile(r"\b(?:[Cc]andidate|[Vv]ariant|[Aa]nswer|[Rr]esponse)\s+([A-Z]{1,2})\b")


def name_variants(reason: str, mapping: dict[str, str]) -> str:
    """Say 'v3' where the judge said 'Candidate B': users know variants, not labels."""

    def replace(match: re.Match[str]) -> str:
        vid = mapping.get(match.group(1))
        return vid if vid is not None else match.group(0)

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
