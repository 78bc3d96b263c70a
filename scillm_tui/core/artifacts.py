"""Export a run: leaderboard.csv, winners.jsonl, run.json, preferences.jsonl, variants/*.md.

Your pick (issue 20), when there is one, goes in too: run.json's `human`, its own
winners line (`source: "human"`, next to the judge's `source: "judge"`), the CSV's
`human_pick` column, and it wins the run's preference pairs over the judge's winner.

The export is built in a hidden staging folder and renamed into place in one step, so a
crash leaves either no export or a complete one. An export never replaces an earlier one.

Taking an export's contents from a run (`export_files`) and writing them (`write_export`)
are separate steps: the app takes them on its event loop, where the run lives, and
writes them on a worker thread, where a slow disk holds up nothing on screen.

Nothing is made up: a score is the judge's (empty when it gave none, as in a win by
default), a rank needs a verdict (empty when the judge failed), and `winners.jsonl` gets
a line only when there is a winner.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from scillm_tui import __version__
from scillm_tui.core.atomic import append_line_atomic, atomic_write_text
from scillm_tui.core.human_verdict import HumanVerdict
from scillm_tui.core.judge import Verdict
from scillm_tui.core.preferences import live_pairs, to_jsonl
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
    # Added for thinking models (issue 16): new columns only ever go at the end.
    "answer_tokens",
    "reasoning_tokens",
    "think_ms",
    "ttft_answer_ms",
    # Your pick (issue 20): "yes" on the row you marked with b.
    "human_pick",
]


class ExportResult(BaseModel):
    dir: Path
    leaderboard: Path
    winners: Path
    run: Path
    history: Path
    preferences: Path

    def as_dict(self) -> dict[str, str]:
        """Absolute paths, so a script can use them from any directory."""
        return {
            "dir": str(self.dir.resolve()),
            "leaderboard": str(self.leaderboard.resolve()),
            "winners": str(self.winners.resolve()),
            "run": str(self.run.resolve()),
        }


class RankedRow(NamedTuple):
    """One leaderboard row. `score` is the judge's average, or None when it gave none
    (not judged, a win by default, a failed judge): the dashboard shows no number then.
    `note` says why a row stands where it does ("winner", "no answer: ...", an error)."""

    state: VariantState
    score: float | None
    note: str


def _score_of(state: VariantState, verdict: Verdict | None) -> float | None:
    if verdict is None or verdict.best_id is None:
        return None
    return verdict.scores.get(state.id)


def _note_of(state: VariantState, verdict: Verdict | None) -> str:
    parts: list[str] = []
    if verdict is not None and state.id == verdict.best_id:
        parts.append("winner (won by default)" if verdict.status == "default" else "winner")
    elif state.status != "done":
        parts.append(state.status)
    elif state.no_answer_reason is not None:
        parts.append(state.no_answer_reason)
    if verdict is not None and verdict.status == "error":
        parts.append(f"judge failed: {verdict.error or 'no verdict'}")
    return "; ".join(parts)


def ranked(run: Run, verdict: Verdict | None) -> list[RankedRow]:
    """Variants ranked: the winner, then by score, then answers before the rest."""
    rows = [
        RankedRow(v, _score_of(v, verdict), _note_of(v, verdict)) for v in run.variants.values()
    ]
    order = list(run.variants)
    best = verdict.best_id if verdict is not None else None

    def key(row: RankedRow) -> tuple[bool, float, bool, bool, int]:
        state, score, _ = row
        return (
            state.id != best,
            -(score if score is not None else -1.0),
            state.status != "done",
            not state.judgeable,
            order.index(state.id),
        )

    return sorted(rows, key=key)


def has_ranks(verdict: Verdict | None) -> bool:
    """Whether rows get a rank: not after a judge that picked no winner (failed, or had
    nothing to judge), where 1..N would be an order nobody decided. Before judging,
    rows are ranked by outcome (answers first)."""
    return verdict is None or verdict.best_id is not None


def leaderboard_csv(run: Run, verdict: Verdict | None, human: HumanVerdict | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEADERBOARD_COLUMNS)
    numbered = has_ranks(verdict)
    for rank, (state, score, note) in enumerate(ranked(run, verdict), start=1):
        writer.writerow(
            [
                state.id,
                "" if score is None else f"{score:g}",
                note,
                rank if numbered else "",
                state.model,
                state.status,
                state.finish_reason or "",
                state.completion_tokens,
                _whole(state.ttft_ms),
                _whole(state.duration_ms),
                state.chars,
                state.answer_tokens,
                state.reasoning_tokens,
                _whole(state.think_ms),
                _whole(state.ttft_answer_ms),
                "yes" if human is not None and state.id == human.variant_id else "",
            ]
        )
    return out.getvalue()


def _whole(ms: float | None) -> int | str:
    return "" if ms is None else round(ms)


def prompt_sha256(run: Run) -> str:
    return hashlib.sha256(run.spec.prompt.encode("utf-8")).hexdigest()


def winners_line(run: Run, verdict: Verdict | None, created_at: datetime) -> str | None:
    """The history line of a run with a winner; None without one (not judged, judge
    failed, nothing to judge): a line with no winner would read as a result."""
    if verdict is None or verdict.best_id is None:
        return None
    record = {
        "run_id": run.run_id,
        "best_id": verdict.best_id,
        "source": "judge",
        "reason": verdict.reason,
        "reason_labels": verdict.reason_labels,
        "judge_model": verdict.judge_model,
        "judge_models": verdict.judge_models,
        "judge_mode": verdict.mode,
        "gen_models": run.gen_models,
        "agreement": verdict.agreement,
        "created_at": created_at.isoformat(),
        "prompt_sha256": prompt_sha256(run),
    }
    return json.dumps(record, ensure_ascii=False)


def human_line(run: Run, human: HumanVerdict | None) -> str | None:
    """The history line of your pick (`source: "human"`, at the time you picked); None
    without a pick."""
    if human is None or human.variant_id is None:
        return None
    record = {
        "run_id": run.run_id,
        "best_id": human.variant_id,
        "source": "human",
        "ranking": list(human.ranking),
        "gen_models": run.gen_models,
        "created_at": human.created_at.isoformat(),
        "prompt_sha256": prompt_sha256(run),
    }
    return json.dumps(record, ensure_ascii=False)


def run_json(
    run: Run, verdict: Verdict | None, exported_at: datetime, human: HumanVerdict | None = None
) -> str:
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
        "human": None if human is None or human.variant_id is None else human.as_dict(),
    }
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def _comment(text: str) -> str:
    """Text that cannot end an HTML comment early (an error may quote a server)."""
    return text.replace("--", "- -")


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run in `text`: the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def variant_markdown(state: VariantState) -> str:
    """The answer, then the thinking folded away in a `<details>` block.

    Thinking is untrusted model output: it goes in a code fence longer than any backtick
    run in it, so a `</details>` or a fence inside it is shown as text and cannot end the
    block early (Markdown does not read HTML inside a fenced code block)."""
    header = f"<!-- {state.id} · {_comment(state.model)} · {state.status} -->"
    lines = [header, "", state.text]
    if state.no_answer_reason is not None:
        lines += ["", f"<!-- {state.no_answer_reason} -->"]
    if state.error:
        lines += ["", f"<!-- error: {_comment(state.error)} -->"]
    text = "\n".join(lines).rstrip("\n") + "\n"
    thinking = state.reasoning
    if thinking.strip():
        fence = _fence(thinking)
        text += "\n".join(
            [
                "",
                "<details><summary>Thinking</summary>",
                "",
                f"{fence}text",
                thinking.rstrip("\n"),
                fence,
                "",
                "</details>",
                "",
            ]
        )
    return text


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
    winners_line: str | None  # one JSONL line, without its line break; None: no winner
    leaderboard: str  # CSV
    human_line: str | None = None  # your pick's winners line; None: no pick
    preferences: str = ""  # TRL JSONL: the run's preference pairs (see core.preferences)

    @property
    def lines(self) -> list[str]:
        """The winners lines: the judge's, then yours."""
        return [line for line in (self.winners_line, self.human_line) if line is not None]


def export_files(
    run: Run, verdict: Verdict | None, human: HumanVerdict | None = None
) -> ExportFiles:
    """The contents of an export of `run` as it is now (with your pick, if any)."""
    exported_at = datetime.now(UTC)
    return ExportFiles(
        run_id=run.run_id,
        variants={f"{state.id}.md": variant_markdown(state) for state in run.variants.values()},
        run_json=run_json(run, verdict, exported_at, human),
        winners_line=winners_line(run, verdict, exported_at),
        leaderboard=leaderboard_csv(run, verdict, human),
        human_line=human_line(run, human),
        preferences=to_jsonl(live_pairs(run, verdict, human), "trl"),
    )


def write_export(files: ExportFiles, artifacts_dir: Path) -> ExportResult:
    """Write a new export folder and append to the winners history. Returns the paths.

    The folder's `winners.jsonl` is empty, and the history gets no line, without a winner.
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
        atomic_write_text(staging / "winners.jsonl", "".join(f"{x}\n" for x in files.lines))
        atomic_write_text(staging / "leaderboard.csv", files.leaderboard)
        atomic_write_text(staging / "preferences.jsonl", files.preferences)
        final = _place(staging, runs_dir, files.run_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    history = Path(artifacts_dir) / "winners.jsonl"
    for line in files.lines:
        append_line_atomic(history, line)
    return ExportResult(
        dir=final,
        leaderboard=final / "leaderboard.csv",
        winners=final / "winners.jsonl",
        run=final / "run.json",
        history=history,
        preferences=final / "preferences.jsonl",
    )


def export_run(
    run: Run, verdict: Verdict | None, artifacts_dir: Path, human: HumanVerdict | None = None
) -> ExportResult:
    """Export `run` as it is now (`export_files`, then `write_export`)."""
    return write_export(export_files(run, verdict, human), artifacts_dir)
