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

import random
import re
from collections import Counter
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scillm_tui.core.chat import ChatRequest, ChatResult
from scillm_tui.core.endpoints import EndpointName, route_model
from scillm_tui.core.errors import EndpointError, ScillmError
from scillm_tui.core.judge_parse import (
    JudgeParseError,
    JudgePick,
    parse_judge_output,
    split_thinking,
)
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


class Verdict(BaseModel):
    """The judge's outcome. `reason` is in variant ids where the judge's wording was
    unambiguous; `reason_labels` maps the letters it may still contain ("A is more
    concise") to variant ids, for the round the reason was taken from (a round whose
    pick won: letters mean other variants in other rounds)."""

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

    @property
    def raw_responses(self) -> list[str]:
        return [raw for r in self.rounds for raw in r.raw]

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
    """Judge the finished variants of `run` (see module docstring)."""
    endpoint, wire_model = route_model(spec.model, spec.target)
    seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31)
    base: dict[str, Any] = dict(
        judge_model=spec.model, judge_endpoint=endpoint, seed=seed, excluded=excluded(run)
    )
    candidates = judgeable(run)
    ids = [v.id for v in candidates]
    if not candidates:
        return Verdict(
            **base, status="none", reason="no variant finished with an answer — nothing to judge"
        )
    if len(candidates) == 1:
        only = candidates[0].id
        return Verdict(
            **base,
            status="default",
            best_id=only,
            reason=f"{only} wins by default: it is the only variant with an answer",
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

    async def _ask(self, messages: list[dict[str, str]]) -> ChatResult:
        request = ChatRequest(
            model=self.wire_model,
            messages=messages,
            temperature=self.spec.temperature,
            response_format={"type": "json_object"} if self.json_mode else None,
        )
        try:
            return await self.client.chat(request)
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
            answer = _keep(result, await self._ask(messages))
        except EndpointError as exc:
            result.error = exc.message
            return result
        try:
            pick = _parse(result, answer, labels)
        except JudgeParseError as exc:
            problem = _explain(exc, mapping)
            # The repair turn echoes the judge's answer only: never its thinking.
            repair = build_repair_messages(messages, answer, labels, problem)
            try:
                answer = _keep(result, await self._ask(repair))
            except EndpointError as exc2:
                result.error = f"{problem}; the repair request failed: {exc2.message}"
                return result
            result.repaired = True
            try:
                pick = _parse(result, answer, labels)
            except JudgeParseError as exc3:
                result.error = f"{_explain(exc3, mapping)} (after one repair attempt)"
                return result
        result.pick = mapping[pick.label]
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


def _parse(result: JudgeRound, answer: str, labels: list[str]) -> JudgePick:
    """`parse_judge_output`, saying so when the judge thought but never answered."""
    if not answer.strip() and result.reasoning[-1]:
        raise JudgeParseError(
            "the judge's answer is only thinking, with no verdict after it",
            kind="no_json",
            labels=labels,
        )
    return parse_judge_output(answer, labels)


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
