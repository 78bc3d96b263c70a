"""`scillm-tui history`: the recorded runs, newest first, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from datetime import datetime
from typing import Any, TextIO

from scillm_tui.cli.arg_types import positive_int
from scillm_tui.cli.exit_codes import EXIT_FAILED, EXIT_OK

PROMPT_WIDTH = 40
MODELS_WIDTH = 32


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register `history` on the subcommands (`sub`, an argparse subparsers action)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "history",
        help="list the recorded runs, newest first",
        description=textwrap.fill(
            "List the runs recorded in the run history, newest first: a table "
            "(time, prompt, N, models, winner's model, judge, status) or JSON.",
            78,
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    parser.add_argument(
        "--limit", type=positive_int, default=50, metavar="N", help="show at most N runs"
    )
    parser.add_argument(
        "--search", metavar="TEXT", help="only runs whose prompt or an answer has these words"
    )
    return parser


def printable_repr(text: str) -> str:
    from scillm_tui.cli.tables import printable

    return repr(printable(text))


def local_time(iso: str) -> str:
    """An ISO UTC time as local "YYYY-MM-DD HH:MM" (the text as stored if unreadable)."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def history_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from scillm_tui.cli.history_reading import read_history
    from scillm_tui.core.run_history import RunSummary

    out = out or sys.stdout
    none: list[RunSummary] = []
    rows = read_history(lambda store: store.list_runs(limit=args.limit, search=args.search), none)
    if rows is None:
        return EXIT_FAILED
    if args.json:
        data = [
            {
                "run_id": r.run_id,
                "started_at": r.started_at,
                "prompt": r.prompt,
                "models": r.models,
                "n": r.n,
                "status": r.status,
                "winner_id": r.winner_id,
                "winner_model": r.winner_model,
                "judge_model": r.judge_model,
                "batch_id": r.batch_id,
            }
            for r in rows
        ]
        out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    if not rows:
        if args.search:
            out.write(f"No recorded run matches {printable_repr(args.search)}.\n")
        else:
            out.write(
                "No runs recorded yet: the dashboard's and `scillm-tui run`'s runs go here.\n"
            )
        return EXIT_OK
    from scillm_tui.cli.tables import printable, render_table

    table = [("time", "prompt", "N", "models", "winner", "judge", "status")]
    for r in rows:
        first_line = r.prompt.strip().splitlines()[0] if r.prompt.strip() else ""
        table.append(
            (
                local_time(r.started_at),
                printable(first_line, PROMPT_WIDTH),
                str(r.n),
                printable(", ".join(dict.fromkeys(r.models)), MODELS_WIDTH),
                printable(r.winner_model or "–"),
                printable(r.judge_model or "–"),
                r.status,
            )
        )
    out.write(render_table(table, right=frozenset({2})))
    return EXIT_OK
