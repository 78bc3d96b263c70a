"""`scillm-tui` with no command: the dashboard. Textual is imported only from here."""

from __future__ import annotations

import argparse

from scillm_tui.gc_pause import collections_held


def dashboard_command(args: argparse.Namespace) -> int:
    """Open the session and run the dashboard, with collections held until its first
    frame (see `scillm_tui.gc_pause`)."""
    with collections_held():
        from scillm_tui.session import open_session

        with open_session(args, serve_demo_later=True) as session:
            from scillm_tui.tui.app import run_dashboard

            return run_dashboard(session)
