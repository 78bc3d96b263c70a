"""Preference pairs for fine-tuning, from judged and hand-picked runs (issue 20 §5).

One pair per (winner, loser) of a run: the winner's answer chosen, each other usable
answer rejected. Answers only, never thinking (a model trained on the pairs should learn
the answer, not another model's scratchpad). A failed, cancelled or empty variant gives
no pair, nor does a loser whose text is the winner's.

Two formats, each as documented by its trainer:

- `trl`: TRL's preference form, `{"prompt", "chosen", "rejected"}` as strings; its
  conversational form (a list of `{"role", "content"}` messages as the prompt, and the
  assistant message in a list as `chosen` / `rejected`) when the run had a system prompt.
- `openai`: OpenAI's preference fine-tuning (DPO) form, `{"input": {"messages": [...]},
  "preferred_output": [assistant message], "non_preferred_output": [assistant message]}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from scillm_tui.core.human_verdict import HumanVerdict, latest_pick

if TYPE_CHECKING:
    from scillm_tui.core.judge import Verdict
    from scillm_tui.core.run_history.models import StoredRun
    from scillm_tui.core.run_history.store import HistoryStore
    from scillm_tui.core.runs import Run

PrefFormat = Literal["trl", "openai"]
PrefSource = Literal["human", "judge", "both"]
FORMATS: tuple[PrefFormat, ...] = ("trl", "openai")
SOURCES: tuple[PrefSource, ...] = ("human", "judge", "both")
_PAGE = 200


@dataclass(frozen=True)
class PreferencePair:
    """One preference: the same prompt (and system prompt), a chosen and a rejected answer."""

    prompt: str
    system: str | None
    chosen: str
    rejected: str
    run_id: str
    chosen_id: str
    rejected_id: str


def parse_min_agreement(text: str) -> tuple[int, int]:
    """`"2/3"` -> (2, 3). Raises ValueError unless 0 < K <= N."""
    k, sep, n = text.partition("/")
    try:
        pair = (int(k), int(n)) if sep else None
    except ValueError:
        pair = None
    if pair is None or not 0 < pair[0] <= pair[1]:
        raise ValueError(f"expected K/N with 0 < K <= N, e.g. 2/3, not {text!r}")
    return pair


def agreement_at_least(agreement: str | None, minimum: tuple[int, int] | None) -> bool:
    """Whether a verdict's `agreement` ("2/3": rounds that picked the winner / rounds)
    meets `minimum` (K, N): at least N rounds, and at least K of every N agreeing. A
    verdict without an agreement never does (when a minimum is asked)."""
    if minimum is None:
        return True
    if not agreement:
        return False
    try:
        top, rounds = parse_min_agreement(agreement)
    except ValueError:
        return False
    k, n = minimum
    return rounds >= n and top * n >= k * rounds


def pairs_for(
    prompt: str,
    system: str | None,
    answers: Mapping[str, str | None],
    winner_id: str,
    run_id: str = "",
) -> list[PreferencePair]:
    """The pairs of one run: `answers` maps each variant id to its answer, or None when
    the variant is unusable (failed, cancelled, no answer). None when the winner is."""
    chosen = answers.get(winner_id)
    if chosen is None or not chosen.strip():
        return []
    pairs = []
    for vid, rejected in answers.items():
        if vid == winner_id or rejected is None or not rejected.strip():
            continue
        if rejected.strip() == chosen.strip():
            continue  # no preference between identical texts
        pairs.append(PreferencePair(prompt, system, chosen, rejected, run_id, winner_id, vid))
    return pairs


def _messages(pair: PreferencePair) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": pair.system}] if pair.system else []
    return [*messages, {"role": "user", "content": pair.prompt}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def to_record(pair: PreferencePair, fmt: PrefFormat) -> dict[str, Any]:
    """One JSONL record of `pair` in `fmt` (see the module docstring)."""
    if fmt == "openai":
        return {
            "input": {"messages": _messages(pair)},
            "preferred_output": _assistant(pair.chosen),
            "non_preferred_output": _assistant(pair.rejected),
        }
    if pair.system:  # TRL's conversational form: the system prompt is a message
        return {
            "prompt": _messages(pair),
            "chosen": _assistant(pair.chosen),
            "rejected": _assistant(pair.rejected),
        }
    return {"prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected}


def to_jsonl(pairs: Iterable[PreferencePair], fmt: PrefFormat) -> str:
    """`pairs` as JSONL (one record a line, each line ending in a newline)."""
    return "".join(json.dumps(to_record(p, fmt), ensure_ascii=False) + "\n" for p in pairs)


def _winner(
    judge: Verdict | None,
    human: HumanVerdict | None,
    source: PrefSource,
    min_agreement: tuple[int, int] | None,
) -> str | None:
    """The winner `source` asks for: your pick takes precedence over the judge's."""
    if source in ("human", "both") and human is not None and human.variant_id is not None:
        return human.variant_id
    if source == "human" or judge is None or judge.status != "verdict":
        return None  # a win by default compared nothing: no preference
    return judge.best_id if agreement_at_least(judge.agreement, min_agreement) else None


def stored_pairs(
    run: StoredRun, source: PrefSource = "both", min_agreement: tuple[int, int] | None = None
) -> list[PreferencePair]:
    """The pairs of a run from the history: its latest judgment that gave a verdict (a
    re-judge that failed does not undo an earlier verdict) and its latest pick."""
    judged = [j for j in run.judgments if j.status == "verdict"]
    judge = judged[-1].to_verdict() if judged else None
    winner = _winner(judge, latest_pick(run.human_verdicts), source, min_agreement)
    if winner is None:
        return []
    answers = {
        v.variant_id: v.answer
        if v.status == "done" and v.record.get("judgeable", True) is not False
        else None
        for v in run.variants
    }
    return pairs_for(run.prompt, run.system, answers, winner, run.run_id)


def live_pairs(
    run: Run,
    verdict: Verdict | None,
    human: HumanVerdict | None,
    source: PrefSource = "both",
) -> list[PreferencePair]:
    """The pairs of the run on screen (for its export)."""
    winner = _winner(verdict, human, source, None)
    if winner is None:
        return []
    answers = {
        vid: state.text if state.status == "done" and state.judgeable else None
        for vid, state in run.variants.items()
    }
    return pairs_for(run.spec.prompt, run.spec.system, answers, winner, run.run_id)


def history_pairs(
    store: HistoryStore,
    source: PrefSource = "both",
    min_agreement: tuple[int, int] | None = None,
) -> Iterator[PreferencePair]:
    """Every run's pairs, newest run first (runs are read a page at a time)."""
    offset = 0
    while True:
        page = store.list_runs(limit=_PAGE, offset=offset)
        for summary in page:
            run = store.load_run(summary.run_id)
            if run is not None:
                yield from stored_pairs(run, source, min_agreement)
        if len(page) < _PAGE:
            return
        offset += _PAGE
