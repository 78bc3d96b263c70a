"""`scillm-tui` with no command: the dashboard. Textual is imported only from here."""

from __future__ import annotations

import argparse
from pathlib import Path

from scillm_tui.gc_pause import collections_held


def dashboard_command(args: argparse.Namespace, open_target: Path | str | None = None) -> int:
    """Open the session and run the dashboard, with collections held until its first
    frame (see `scillm_tui.gc_pause`); `open_target`: a saved run to show (`open`)."""
    with collections_held():
        from scillm_tui.session import open_session

        with open_session(args, serve_demo_later=True) as session:
            from scillm_tui.tui.launch import run_dashboard

            if open_target is None:
                return run_dashboard(session)
            return run_dashboard(session, open_target=open_target)
