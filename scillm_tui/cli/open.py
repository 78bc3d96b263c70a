"""`scillm-tui open PATH|RUN_ID`: the dashboard with a saved run shown, read-only.

PATH is an exported run (its folder or its run.json); RUN_ID a run in the history. Both
are checked before the dashboard opens: an unknown id or an unreadable export is one
line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scillm_tui.cli.exit_codes import EXIT_USAGE


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        "open",
        help="open the dashboard showing a saved run (an export, or a run id from history)",
        description="Open the dashboard with a saved run shown read-only: from an exported "
        "run folder (or its run.json), or by its id in the run history. ctrl+j re-judges it, "
        "ctrl+r runs its prompt anew, ctrl+e exports it.",
        epilog="exit codes:\n  2  no such run, or the export cannot be read",
    )
    parser.add_argument("target", metavar="PATH|RUN_ID", help="an export folder or a run id")
    return parser


def resolve(target: str) -> Path | str:
    """The export's path, or the run id once it is known to be in the history. Raises
    `ValueError` saying why not, in one line."""
    from scillm_tui.core.run_history import HistoryStore, HistoryUnavailable, history_enabled
    from scillm_tui.core.run_history.restore import ExportUnreadable, read_export

    path = Path(target).expanduser()
    if path.exists() or "/" in target or target.endswith(".json"):
        try:
            read_export(path)
        except ExportUnreadable as exc:
            raise ValueError(str(exc)) from exc
        return path
    if not history_enabled():
        raise ValueError(f"{target} is not a folder, and the run history is off (SCILLM_HISTORY)")
    try:
        store = HistoryStore.open()
    except HistoryUnavailable as exc:
        raise ValueError(str(exc)) from exc
    try:
        known = store.load_run(target) is not None
    finally:
        store.close()
    if not known:
        raise ValueError(f"no run {target} in the history, and no such export folder")
    return target


def open_command(args: argparse.Namespace) -> int:
    """Check the target, then run the dashboard showing it."""
    try:
        target = resolve(args.target)
    except ValueError as exc:
        print(f"scillm-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from scillm_tui.cli.dashboard import dashboard_command

    return dashboard_command(args, open_target=target)
