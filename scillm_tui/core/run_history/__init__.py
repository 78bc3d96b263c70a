"""The run history: every run, its variants and judgments, in SQLite (issue 19 §1).

Not to be confused with `core.history`, the prompt-recall list. Writers use
`HistoryRecorder` (off the event loop); readers (a History screen, `scillm-tui history`,
a leaderboard) use `HistoryStore` directly, on a thread of their own.
"""

from scillm_tui.core.run_history.models import (
    BatchCounts,
    BatchPromptRun,
    BatchRun,
    BatchSummary,
    HistoryEntry,
    HumanPick,
    JudgedRun,
    LineupVariant,
    RunSnapshot,
    RunStatus,
    RunSummary,
    StoredHumanVerdict,
    StoredJudgment,
    StoredRun,
    StoredVariant,
    VariantSnapshot,
)
from scillm_tui.core.run_history.recorder import (
    CHECKPOINT_INTERVAL_S,
    HistoryRecorder,
    run_outcome,
    snapshot_run,
    snapshot_variant,
)
from scillm_tui.core.run_history.schema import SCHEMA_VERSION
from scillm_tui.core.run_history.store import (
    HISTORY_ENV,
    HistoryStore,
    HistoryUnavailable,
    default_path,
    history_enabled,
)

__all__ = [
    "CHECKPOINT_INTERVAL_S",
    "HISTORY_ENV",
    "SCHEMA_VERSION",
    "BatchCounts",
    "BatchPromptRun",
    "BatchRun",
    "BatchSummary",
    "HistoryEntry",
    "HistoryRecorder",
    "HistoryStore",
    "HistoryUnavailable",
    "HumanPick",
    "JudgedRun",
    "LineupVariant",
    "RunSnapshot",
    "RunStatus",
    "RunSummary",
    "StoredHumanVerdict",
    "StoredJudgment",
    "StoredRun",
    "StoredVariant",
    "VariantSnapshot",
    "default_path",
    "history_enabled",
    "run_outcome",
    "snapshot_run",
    "snapshot_variant",
]
