"""`scillm-tui prefs`: preference pairs for fine-tuning, from the run history, as JSONL.

The conversion is `core.preferences`; this module reads the history, filters and writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO, cast

from scillm_tui.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from scillm_tui.core.atomic import atomic_write_text
from scillm_tui.core.preferences import (
    FORMATS,
    SOURCES,
    PrefFormat,
    PrefSource,
    history_pairs,
    parse_min_agreement,
    to_jsonl,
)
from scillm_tui.core.run_history import HistoryStore, HistoryUnavailable


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `prefs` on the subcommands `sub`."""
    prefs = sub.add_parser(
        "prefs",
        help="write preference pairs (chosen/rejected) from the run history as JSONL",
        description="Preference pairs for fine-tuning from the run history: one line per "
        "(winner, loser) of a run, answers only (never thinking). Failed or empty "
        "variants and identical texts give no pair. The count goes to stderr.",
        epilog="exit codes:\n  0  written (even when no run gave a pair)\n"
        "  1  the history or the output file could not be used\n  2  a usage error",
    )
    prefs.add_argument(
        "--format",
        choices=FORMATS,
        default="trl",
        help="trl: {prompt, chosen, rejected} (conversational with a system prompt); "
        "openai: OpenAI preference fine-tuning (input, preferred_output, "
        "non_preferred_output)",
    )
    prefs.add_argument(
        "--source",
        choices=SOURCES,
        default="both",
        help="whose winner: the judge's, yours (b in the dashboard), or both (yours first "
        "where a run has both)",
    )
    prefs.add_argument(
        "--min-agreement",
        metavar="K/N",
        help="only judge verdicts of at least N rounds where at least K of every N agreed "
        "(e.g. 2/3); your picks are not filtered",
    )
    prefs.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    return prefs


def prefs_command(
    args: argparse.Namespace,
    *,
    history: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Write the pairs; `history` is the database (default: the user's run history)."""
    out = out or sys.stdout
    err = err or sys.stderr
    minimum = None
    if args.min_agreement:
        try:
            minimum = parse_min_agreement(args.min_agreement)
        except ValueError as exc:
            print(f"scillm-tui: error: --min-agreement: {exc}", file=err)
            return EXIT_USAGE
    try:
        store = HistoryStore.open(history)
    except HistoryUnavailable as exc:
        print(f"scillm-tui: error: {exc}", file=err)
        return EXIT_FAILED
    try:
        pairs = list(history_pairs(store, cast(PrefSource, args.source), minimum))
    finally:
        store.close()
    text = to_jsonl(pairs, cast(PrefFormat, args.format))
    runs = len({p.run_id for p in pairs})
    if args.output:
        try:
            atomic_write_text(Path(args.output), text)
        except OSError as exc:
            print(f"scillm-tui: error: cannot write {args.output}: {exc}", file=err)
            return EXIT_FAILED
    else:
        out.write(text)
    where = f" to {args.output}" if args.output else ""
    print(f"{len(pairs)} preference pairs from {runs} runs{where}", file=err)
    return EXIT_OK
