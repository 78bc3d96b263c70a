"""What goes into the history and what comes out: plain frozen values, no database handles.

Snapshots are taken on the event loop (cheap copies of a run's state) and written by the
recorder's thread; the stored views are what the History screen, the `history` command
and a leaderboard read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from scillm_tui.core.judge import Verdict

RunStatus = Literal["running", "finished", "interrupted", "cancelled"]


@dataclass(frozen=True)
class VariantSnapshot:
    """One variant at a moment: its texts and `records.variant_record` (minus the texts)."""

    variant_id: str
    position: int
    model: str
    endpoint: str
    status: str
    error: str | None
    answer: str
    thinking: str
    record: dict[str, Any]


@dataclass(frozen=True)
class RunSnapshot:
    """A run as it starts: what was asked, where, with which settings (never a key)."""

    run_id: str
    started_at: datetime
    prompt: str
    system: str | None
    models: list[str]
    n: int
    settings: dict[str, Any]
    bases: dict[str, str | None]
    variants: tuple[VariantSnapshot, ...]
    batch_id: str | None = None
    prompt_id: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSummary:
    """One row of the history list. `judge_model` / `winner_*` are from the latest
    judgment (None when the run was never judged or the judge picked nothing)."""

    run_id: str
    started_at: str
    status: str
    prompt: str
    models: list[str]
    n: int
    judge_model: str | None
    winner_id: str | None
    winner_model: str | None
    batch_id: str | None


@dataclass(frozen=True)
class StoredVariant:
    variant_id: str
    model: str
    endpoint: str
    status: str
    error: str | None
    answer: str
    thinking: str
    record: dict[str, Any]  # stats etc.: `records.variant_record`, its "text" = `answer`


@dataclass(frozen=True)
class StoredJudgment:
    id: int
    created_at: str
    judge_model: str
    status: str
    best_id: str | None
    verdict: dict[str, Any]  # `Verdict.model_dump()`: rounds with order, picks, scores

    def to_verdict(self) -> Verdict:
        """The `judge.Verdict` again (validated; fields added since are defaulted)."""
        from scillm_tui.core.judge import Verdict

        return Verdict.model_validate(self.verdict)


@dataclass(frozen=True)
class StoredHumanVerdict:
    id: int
    variant_id: str | None
    ranking: Any
    created_at: str


@dataclass(frozen=True)
class StoredRun:
    """Everything needed to show a run as it was at its end."""

    run_id: str
    started_at: str
    updated_at: str
    ended_at: str | None
    status: str
    prompt: str
    system: str | None
    models: list[str]
    n: int
    settings: dict[str, Any]
    bases: dict[str, str | None]
    batch_id: str | None
    prompt_id: str | None
    tags: list[str]
    variants: list[StoredVariant] = field(default_factory=list)
    judgments: list[StoredJudgment] = field(default_factory=list)
    human_verdicts: list[StoredHumanVerdict] = field(default_factory=list)


@dataclass(frozen=True)
class JudgedRun:
    """One judgment, ready for a leaderboard: who competed, who won, who judged."""

    run_id: str
    models: dict[str, str]  # variant id -> model
    finished: list[str]  # the variant ids the judge saw
    winner_id: str
    judge_model: str
    judged_at: str
    status: str  # "verdict", or "default" (one finisher: a walkover, not a battle)


@dataclass(frozen=True)
class BatchRun:
    """One run of a batch, for `--resume`: which prompt, with what, and its latest
    judgment (`judge_model` None: never judged; `winner_id` None: no winner)."""

    run_id: str
    prompt_id: str | None
    status: str
    models: list[str]
    n: int
    judge_model: str | None
    winner_id: str | None


@dataclass(frozen=True)
class LineupVariant:
    """One variant of a run as a leaderboard sees it: who, whether it finished, how long."""

    variant_id: str
    model: str
    status: str
    answer_chars: int


@dataclass(frozen=True)
class HumanPick:
    """A person's latest pick for a run (the variant they judged best)."""

    run_id: str
    variant_id: str
    created_at: str


@dataclass(frozen=True)
class BatchCounts:
    """A batch's prompts, over each prompt's latest run (a resumed prompt counts once):
    `done` ended, `judged` with a winner, `failed` interrupted, cancelled, with no
    finished variant or a judge that named no winner."""

    prompts: int
    done: int
    judged: int
    failed: int


@dataclass(frozen=True)
class BatchSummary:
    """A batch as one entry of the history list. `counts` reads every run of the batch
    (tens of ms for thousands): None when the list was read without them, so the list can
    show at once and the counts follow (`HistoryStore.batch_counts`)."""

    batch_id: str
    tags: list[str]  # the tags its first and newest run share: the batch's own
    runs: int
    first_prompt: str  # the oldest run's prompt
    started_at: str  # its newest run's start: where it sits in the list
    first_started_at: str
    models: list[str]  # its first and newest run's
    counts: BatchCounts | None = None


@dataclass(frozen=True)
class BatchPromptRun:
    """One run of a batch, for the batch screen: its prompt and latest judgment.
    `latest`: the newest run of its prompt (an older one was re-run by `--resume`)."""

    run_id: str
    prompt_id: str | None
    prompt: str
    status: str
    started_at: str
    judge_model: str | None
    winner_id: str | None
    winner_model: str | None
    agreement: str | None
    latest: bool


HistoryEntry = RunSummary | BatchSummary
