"""Export a run: leaderboard.csv, winners.jsonl, run.json and variants/*.md.

The export is built in a hidden staging folder and renamed into place in one step, so a
crash leaves either no export or a complete one. An export never replaces an earlier one.

Taking an export's contents from a run (`export_files`) and writing them (`write_export`)
are separate steps: the app takes them on its event loop, where the run lives, and
writes them on a worker thread, where a slow disk holds up nothing on screen.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from scillm_tui import __version__
from scillm_tui.core.atomic import append_line_atomic, atomic_write_text
from scillm_tui.core.judge import Verdict
from scillm_tui.core.records import endpoint_bases, variant_record
from scillm_tui.core.runs import Run, VariantState

LEADERBOARD_COLUMNS = [
    "variant_id",
    "score",
    "note",
    "rank",
    "model",
    "status",
    "finish_reason",
    "completion_tokens",
    "ttft_ms",
    "duration_ms",
    "chars",
]


class ExportResult(BaseModel):
    dir: Path
    leaderboard: Path
    winners: Path
    run: Path
    history: Path

    def as_dict(self) -> dict[str, str]:
        """Absolute paths, so a script can use them from any directory."""
        return {
            "dir": str(self.dir.resolve()),
            "leaderboard": str(self.leaderboard.resolve()),
            "winners": str(self.winners.resolve()),
            "run": str(self.run.resolve()),
        }


def _score_of(state: VariantState, verdict: Verdict | None) -> float | None:
    if verdict is None or verdict.best_id is None:
        return None
    if verdict.scores:
        return verdict.scores.get(state.id)
    return 1.0 if state.id == verdict.best_id else 0.0


def _note_of(state: VariantState, verdict: Verdict | None) -> str:
    if verdict is not None and state.id == verdict.best_id:
        return "winner (by default)" if verdict.status == "default" else "winner"
    if state.status != "done":
        return state.status
    return ""


def ranked(run: Run, verdict: Verdict | None) -> list[tuple[VariantState, float | None, str]]:
    """Variants ranked: the winner, then by score, then finished before failed."""
    rows = [(v, _score_of(v, verdict), _note_of(v, verdict)) for v in run.variants.values()]
    order = list(run.variants)
    best = verdict.best_id if verdict is not None else None

    def key(row: tuple[VariantState, float | None, str]) -> tuple:
        state, score, _ = row
        return (
            state.id != best,
            -(score if score is not None else -1.0),
            state.status != "done",
            order.index(state.id),
        )

    return sorted(rows, key=key)


def leaderboard_csv(run: Run, verdict: Verdict | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEADERBOARD_COLUMNS)
    for rank, (state, score, note) in enumerate(ranked(run, verdict), start=1):
        ttft, duration = state.ttft_ms, state.duration_ms
        writer.writerow(
            [
                state.id,
                "" if score is None else f"{score:g}",
                note,
                rank,
                state.model,
                state.status,
                state.finish_reason or "",
                state.completion_tokens,
                "" if ttft is None else round(ttft),
                "" if duration is None else round(duration),
                state.chars,
            ]
        )
    return out.getvalue()


def prompt_sha256(run: Run) -> str:
    return hashlib.sha256(run.spec.prompt.encode("utf-8")).hexdigest()


def winners_line(run: Run, verdict: Verdict | None, created_at: datetime) -> str:
    record = {
        "run_id": run.run_id,
        "best_id": verdict.best_id if verdict else None,
        "reason": verdict.reason if verdict else None,
        "judge_model": verdict.judge_model if verdict else None,
        "gen_models": run.gen_models,
        "agreement": verdict.agreement if verdict else None,
        "created_at": created_at.isoformat(),
        "prompt_sha256": prompt_sha256(run),
    }
    return json.dumps(record, ensure_ascii=False)


def run_json(run: Run, verdict: Verdict | None, exported_at: datetime) -> str:
    spec = run.spec
    record = {
        "app": {"name": "scillm-tui", "version": __version__},
        "run_id": run.run_id,
        "created_at": run.created_at.isoformat(),
        "exported_at": exported_at.isoformat(),
        "prompt": spec.prompt,
        "system": spec.system,
        "prompt_sha256": prompt_sha256(run),
        "parameters": {
            "target": spec.target,
            "models": spec.models,
            "n": spec.n,
            "temperature": spec.temperature,
            "max_tokens": spec.max_tokens,
            "concurrency": spec.concurrency,
        },
        "endpoints": endpoint_bases(run),
        "demo_backend": run.backends.sidecar.config.demo,
        "variants": [variant_record(v) for v in run.variants.values()],
        "judge": None if verdict is None else verdict.model_dump(mode="json"),
    }
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def variant_markdown(state: VariantState) -> str:
    lines = [f"<!-- {state.id} · {state.model} · {state.status} -->", "", state.text]
    if state.error:
        lines += ["", f"<!-- error: {state.error} -->"]
    return "\n".join(lines).rstrip("\n") + "\n"


def _place(staging: Path, runs_dir: Path, run_id: str) -> Path:
    """Rename the staging folder to `run_id`, or `run_id-2`, ... — never onto an export."""
    for attempt in range(1, 1000):
        target = runs_dir / (run_id if attempt == 1 else f"{run_id}-{attempt}")
        if target.exists():
            continue
        try:
            os.rename(staging, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
        return target
    raise OSError(f"could not find a free export folder name for {run_id}")


class ExportFiles(BaseModel):
    """What an export writes, taken from a run at one moment (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    variants: dict[str, str]  # file name in variants/ -> its Markdown
    run_json: str
    winners_line: str  # one JSONL line, without its line break
    leaderboard: str  # CSV


def export_files(run: Run, verdict: Verdict | None) -> ExportFiles:
    """The contents of an export of `run` as it is now."""
    exported_at = datetime.now(UTC)
    return ExportFiles(
        run_id=run.run_id,
        variants={f"{state.id}.md": variant_markdown(state) for state in run.variants.values()},
        run_json=run_json(run, verdict, exported_at),
        winners_line=winners_line(run, verdict, exported_at),
        leaderboard=leaderboard_csv(run, verdict),
    )


def write_export(files: ExportFiles, artifacts_dir: Path) -> ExportResult:
    """Write a new export folder and append to the winners history. Returns the paths.

    Safe to call from any thread, and from several at once."""
    runs_dir = Path(artifacts_dir) / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    staging = runs_dir / f".staging-{files.run_id}-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        variants_dir = staging / "variants"
        variants_dir.mkdir()
        for name, markdown in files.variants.items():
            atomic_write_text(variants_dir / name, markdown)
        atomic_write_text(staging / "run.json", files.run_json)
        atomic_write_text(staging / "winners.jsonl", files.winners_line + "\n")
        atomic_write_text(staging / "leaderboard.csv", files.leaderboard)
        final = _place(staging, runs_dir, files.run_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    history = Path(artifacts_dir) / "winners.jsonl"
    append_line_atomic(history, files.winners_line)
    return ExportResult(
        dir=final,
        leaderboard=final / "leaderboard.csv",
        winners=final / "winners.jsonl",
        run=final / "run.json",
        history=history,
    )


def export_run(run: Run, verdict: Verdict | None, artifacts_dir: Path) -> ExportResult:
    """Export `run` as it is now (`export_files`, then `write_export`)."""
    return write_export(export_files(run, verdict), artifacts_dir)
