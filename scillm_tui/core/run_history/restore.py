"""A saved run made showable again: from the history (`StoredRun`) or an export's run.json.

The dashboard shows runs as `Run`s (columns, leaderboard, judge, export all read one), so
a saved run becomes a `PastRun`: a `Run` that is never driven, whose variants are
rebuilt from their records (texts, statuses, usage, timings as the stats showed them).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scillm_tui.core.events import TERMINAL_STATUSES, Usage
from scillm_tui.core.judge import Verdict
from scillm_tui.core.runs import Run, RunSpec, VariantState

if TYPE_CHECKING:
    from scillm_tui.core.backends import Backends
    from scillm_tui.core.run_history.models import StoredRun, StoredVariant

__all__ = [
    "ExportUnreadable",
    "PastRun",
    "load_export",
    "read_export",
    "restore_run",
    "restore_state",
]

INTERRUPTED = "interrupted: the run ended before this variant did"
_SPEC_KEYS = ("target", "models", "n", "temperature", "max_tokens", "concurrency")


class ExportUnreadable(Exception):
    """An export folder (or run.json) that cannot be read as a run; says why."""


class PastRun(Run):
    """A run from the history or an export: shown, judged and exported like a live one,
    never driven (`events()` raises). `source` says where it came from."""

    def __init__(
        self,
        spec: RunSpec,
        backends: Backends,
        variants: dict[str, VariantState],
        *,
        run_id: str,
        created_at: datetime,
        status: str,
        source: str,
    ) -> None:
        # No `Run.__init__`: it would plan fresh variants and check their endpoints.
        self.spec = spec
        self.backends = backends
        self.endpoint_limits = {}
        self.run_id = run_id
        self.created_at = created_at
        self.variants = variants
        self.status = status
        self.source = source
        self._tasks = {}
        self._started = True  # `events()` refuses: a past run is never sent again


def _seconds(ms: Any) -> float | None:
    return None if ms is None else float(ms) / 1000


def restore_state(record: dict[str, Any]) -> VariantState:
    """A `VariantState` whose stats read as `record`'s (`records.variant_record`).

    Timings are rebuilt on a clock starting at 0 (the request's start): TTFT, duration,
    thinking time and tokens/s come out as recorded. A variant that never ended (the app
    quit mid-run) is shown cancelled, with its text so far."""
    status = str(record.get("status") or "cancelled")
    error = record.get("error")
    if status not in TERMINAL_STATUSES:
        status, error = "cancelled", error or INTERRUPTED
    usage = record.get("usage")
    state = VariantState(
        id=str(record["id"]),
        model=str(record.get("model") or ""),
        endpoint=record.get("endpoint") or "gateway",
        wire_model=str(record.get("model") or ""),
        status=status,  # type: ignore[arg-type]
        error=error,
        error_category=record.get("error_category"),
        finish_reason=record.get("finish_reason"),
        usage=Usage.model_validate(usage) if usage else None,
        retries=int(record.get("retries") or 0),
        notices=list(record.get("notices") or []),
    )
    text = str(record.get("text") or "")
    reasoning = str(record.get("reasoning") or record.get("thinking") or "")
    duration = _seconds(record.get("duration_ms"))
    ttft = _seconds(record.get("ttft_ms"))
    ttft_answer = _seconds(record.get("ttft_answer_ms"))
    think = _seconds(record.get("think_ms"))
    if duration is not None or ttft is not None:
        state.started_at = 0.0
    if reasoning:
        start = ttft if ttft is not None else 0.0
        if ttft_answer is not None and think is not None:
            start = ttft_answer - think
        state.add_reasoning(reasoning, start)
        state.first_token_at = ttft
    if text:
        first = ttft_answer if ttft_answer is not None else (ttft or 0.0)
        state.add_text(text, first)
        tps = record.get("tokens_per_s")
        if tps:
            state.answer_reads = max(2, int(record.get("chunks") or 2))
            state.last_answer_at = first + state.answer_tokens / float(tps)
        if state.first_token_at is None:
            state.first_token_at = ttft if ttft is not None else first
    state.chunks = int(record.get("chunks") or state.chunks)
    state.chars = len(text)
    state.reasoning_chars = len(reasoning)
    state.ended_at = duration
    return state


def _spec(prompt: str, system: str | None, settings: dict[str, Any], n: int) -> RunSpec:
    values = {k: settings[k] for k in _SPEC_KEYS if settings.get(k) is not None}
    values.setdefault("n", n)
    return RunSpec.model_validate({**values, "prompt": prompt or " ", "system": system})


def _when(text: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat(text) if text else datetime.now(UTC)
    except ValueError:
        moment = datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stored_record(variant: StoredVariant) -> dict[str, Any]:
    """The variant's record with its own columns (texts, status) over the record's."""
    return {
        **variant.record,
        "id": variant.variant_id,
        "model": variant.model,
        "endpoint": variant.endpoint,
        "status": variant.status,
        "error": variant.error,
        "text": variant.answer,
        "reasoning": variant.thinking,
    }


def restore_run(stored: StoredRun, backends: Backends) -> tuple[PastRun, Verdict | None]:
    """The stored run as a `PastRun`, and its latest judgment (None if never judged)."""
    states = [restore_state(_stored_record(v)) for v in stored.variants]
    spec = _spec(stored.prompt, stored.system, stored.settings, len(states) or stored.n)
    run = PastRun(
        spec,
        backends,
        {s.id: s for s in states},
        run_id=stored.run_id,
        created_at=_when(stored.started_at),
        status=stored.status,
        source="history",
    )
    verdict = stored.judgments[-1].to_verdict() if stored.judgments else None
    return run, verdict


def read_export(path: Path) -> dict[str, Any]:
    """The run.json of the export at `path` (its folder, or the file itself), checked to
    be an exported run. Raises `ExportUnreadable` saying why, in one line."""
    path = Path(path)
    file = path / "run.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExportUnreadable(f"cannot read {file}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ExportUnreadable(f"{file} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
        raise ExportUnreadable(f"{file} is not an exported run (no variants)")
    if not data.get("run_id") or not isinstance(data.get("prompt"), str):
        raise ExportUnreadable(f"{file} is not an exported run (no run_id or prompt)")
    return data


def load_export(path: Path, backends: Backends) -> tuple[PastRun, Verdict | None]:
    """The run exported at `path` (its folder, or its run.json), as a `PastRun` with the
    exported verdict. Raises `ExportUnreadable` saying why."""
    data = read_export(path)
    try:
        states = [restore_state(record) for record in data["variants"]]
        spec = _spec(data["prompt"], data.get("system"), data.get("parameters") or {}, len(states))
        verdict = Verdict.model_validate(data["judge"]) if data.get("judge") else None
    except (ValueError, KeyError, TypeError) as exc:  # pydantic and shape errors
        raise ExportUnreadable(f"{path} is not an exported run: {exc}") from exc
    status = "finished" if all(s.status == "done" for s in states) else "cancelled"
    run = PastRun(
        spec,
        backends,
        {s.id: s for s in states},
        run_id=str(data["run_id"]),
        created_at=_when(data.get("created_at")),
        status=status,
        source=str(path),
    )
    return run, verdict
