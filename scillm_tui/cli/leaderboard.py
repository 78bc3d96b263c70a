"""`scillm-tui leaderboard`: the models ranked over the run history, and the judges' trust.

The battles and the trust inputs come from `core.run_history.ranking_inputs` (shared with
the dashboard's Leaderboard screen); this module only parses options and prints.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import textwrap
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from scillm_tui.cli.arg_types import non_negative_int
from scillm_tui.cli.exit_codes import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from scillm_tui.core.judge_trust import JudgeTrust
    from scillm_tui.core.ranking import ModelRating

COLUMNS = ("model", "rating", "ci_low", "ci_high", "rank", "wins", "battles", "win_rate")
COLUMNS_EXTRA = ("runs", "too_few")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register `leaderboard` on the subcommands (`sub`, an argparse subparsers action)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "leaderboard",
        help="rank the models over the recorded runs",
        description=textwrap.fill(
            "Rank the models over the judged runs in the run history: "
            "Bradley-Terry ratings on the Elo scale with 95 % intervals (models whose intervals "
            "overlap share a rank). Each run counts once: its latest verdict. With --judges, "
            "how far to trust each judge model instead.",
            78,
        ),
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    form.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    parser.add_argument(
        "--judge",
        metavar="MODEL",
        help="count only the verdicts of this judge model (your own picks are never filtered)",
    )
    parser.add_argument(
        "--since",
        type=parse_since,
        metavar="DATE",
        help="count only verdicts from this date on (YYYY-MM-DD or an ISO time; local time "
        "unless it names a zone)",
    )
    parser.add_argument(
        "--min-battles",
        type=non_negative_int,
        default=10,
        metavar="K",
        help="models with fewer battles are listed but marked as too few",
    )
    parser.add_argument(
        "--source",
        choices=("judge", "human", "both"),
        default="judge",
        help="whose picks count: the judge's verdicts, your own picks, or both (your pick "
        "replaces the judge's for a run that has both)",
    )
    parser.add_argument(
        "--judges",
        action="store_true",
        help="show the judges' trust figures instead: agreement with your picks (and "
        "Cohen's kappa), position consistency, length bias, self-preference",
    )
    return parser


def parse_since(text: str) -> datetime:
    """A date or ISO time; without a zone it is local time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or ISO time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def leaderboard_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from scillm_tui.cli.history_reading import read_history
    from scillm_tui.core.run_history import HistoryStore
    from scillm_tui.core.run_history.ranking_inputs import model_leaderboard, trust_rows

    out = out or sys.stdout

    def read(store: HistoryStore) -> tuple[list[ModelRating], list[JudgeTrust]]:
        if args.judges:
            return [], trust_rows(store, judge_model=args.judge, since=args.since)
        ratings = model_leaderboard(
            store,
            source=args.source,
            judge_model=args.judge,
            since=args.since,
            min_battles=args.min_battles,
        )
        return ratings, []

    none: tuple[list[ModelRating], list[JudgeTrust]] = ([], [])
    found = read_history(read, none)
    if found is None:
        return EXIT_FAILED
    ratings, judges = found
    if args.judges:
        _print_judges(judges, args, out)
    else:
        _print_ratings(ratings, args, out)
    return EXIT_OK


def rating_row(row: ModelRating) -> dict[str, Any]:
    """One leaderboard row for JSON/CSV: ratings rounded to 0.1, the win rate to 0.001."""
    data = asdict(row)
    for key in ("rating", "ci_low", "ci_high"):
        data[key] = round(data[key], 1)
    data["win_rate"] = round(data["win_rate"], 3)
    return {key: data[key] for key in (*COLUMNS, *COLUMNS_EXTRA)}


def _print_ratings(ratings: list[ModelRating], args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        out.write(json.dumps([rating_row(r) for r in ratings], ensure_ascii=False, indent=2))
        out.write("\n")
        return
    if args.csv:
        writer = csv.DictWriter(out, fieldnames=[*COLUMNS, *COLUMNS_EXTRA], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rating_row(r) for r in ratings)
        return
    if not ratings:
        who = {"judge": "judged", "human": "picked by you", "both": "judged or picked"}
        out.write(
            f"No runs {who[args.source]} yet with two models or more to compare: the leaderboard "
            "ranks models by the runs in the history.\n"
        )
        return
    from scillm_tui.cli.tables import printable, render_table

    table = [("rank", "model", "rating", "95% interval", "wins/battles", "win rate", "")]
    for r in ratings:
        table.append(
            (
                str(r.rank),
                printable(r.model, 48),
                f"{r.rating:.0f}",
                f"{r.ci_low:.0f}–{r.ci_high:.0f}",
                f"{r.wins:g}/{r.battles}",
                f"{r.win_rate:.0%}",
                "too few" if r.too_few else "",
            )
        )
    out.write(render_table(table, right=frozenset({0, 2, 3, 4, 5})))
    if any(r.too_few for r in ratings):
        out.write(f"too few: under {args.min_battles} battles; the rating is a rough guess.\n")


def _print_judges(judges: list[JudgeTrust], args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        out.write(json.dumps([asdict(j) for j in judges], ensure_ascii=False, indent=2) + "\n")
        return
    if args.csv:
        fields = ["judge_model", "runs", "kappa"]
        rates = ("agreement", "position_consistency", "length_bias", "self_preference")
        for name in rates:
            fields += [f"{name}_hits", f"{name}_n", f"{name}_chance"]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for j in judges:
            row: list[Any] = [j.judge_model, j.runs, j.kappa]
            for name in rates:
                rate = getattr(j, name)
                row += [rate.hits, rate.n, rate.chance]
            writer.writerow(row)
        return
    if not judges:
        out.write("No judged runs in the history yet.\n")
        return
    from scillm_tui.cli.tables import printable, render_table

    out.write(render_table(judge_table(judges, printable)))


def judge_table(judges: list[JudgeTrust], printable: Any) -> list[tuple[str, ...]]:
    """The judges' trust rows as text cells (heading first)."""
    from scillm_tui.core.run_history.ranking_inputs import TRUST_HEADER, trust_cells

    rows = [trust_cells(j) for j in judges]
    return [TRUST_HEADER, *((printable(row[0], 40), *row[1:]) for row in rows)]
