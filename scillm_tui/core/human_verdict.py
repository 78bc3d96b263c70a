"""Your own verdict on a run, next to the judge's (issue 20 §1).

A person's pick is data as valuable as the judge's, and their disagreement is the signal
that says how far the judge can be trusted. The rule of what agrees with what lives here;
the dashboard only shows it, the history stores it, exports and `prefs` read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from scillm_tui.core.judge import Verdict
    from scillm_tui.core.run_history.models import StoredHumanVerdict

Agreement = Literal["agree", "disagree"]


@dataclass(frozen=True)
class HumanVerdict:
    """Your pick (`variant_id`, None: cleared) and, best first, your ranking (the pick
    alone, or more when you ranked further)."""

    variant_id: str | None
    ranking: tuple[str, ...] = ()
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def pick(cls, variant_id: str | None) -> HumanVerdict:
        """A pick of `variant_id` now (None: the pick cleared)."""
        return cls(variant_id, (variant_id,) if variant_id is not None else ())

    def as_dict(self) -> dict[str, Any]:
        """The `human` object of run.json."""
        return {
            "variant_id": self.variant_id,
            "ranking": list(self.ranking),
            "created_at": self.created_at.isoformat(),
        }


def agreement(human: HumanVerdict | None, verdict: Verdict | None) -> Agreement | None:
    """Whether your pick is the judge's winner; None when there is nothing to compare:
    no pick, or no judged winner (not judged, failed, or a win by default, where the
    judge compared nothing)."""
    if human is None or human.variant_id is None:
        return None
    if verdict is None or verdict.status != "verdict" or verdict.best_id is None:
        return None
    return "agree" if human.variant_id == verdict.best_id else "disagree"


def latest_pick(stored: Sequence[StoredHumanVerdict]) -> HumanVerdict | None:
    """The latest of a run's stored human verdicts (oldest first, as `load_run` gives
    them): latest wins, so a cleared pick (no variant, empty ranking) means no pick.
    A stored whole-run ranking without a `variant_id` counts as a pick of its first."""
    if not stored:
        return None
    last = stored[-1]
    ranking = tuple(str(v) for v in last.ranking) if isinstance(last.ranking, list) else ()
    variant_id = last.variant_id or (ranking[0] if ranking else None)
    if variant_id is None:
        return None
    try:
        created = datetime.fromisoformat(last.created_at)
    except ValueError:
        created = datetime.now(UTC)
    return HumanVerdict(variant_id, ranking or (variant_id,), created)
