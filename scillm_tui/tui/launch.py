"""`run_dashboard`: the dashboard in this terminal, with the user's prompt history and
choices kept where they live (the tests make a `ScillmApp` with their own paths)."""

from __future__ import annotations

from pathlib import Path

from scillm_tui.core.paths import data_dir
from scillm_tui.core.user_config import config_path
from scillm_tui.session import Session
from scillm_tui.tui.app import ScillmApp

__all__ = ["run_dashboard"]


def run_dashboard(session: Session, *, open_target: Path | str | None = None) -> int:
    """Run the app in this terminal; returns the exit code. `open_target`: a saved run
    to show at start (an export's path, or a run id in the history)."""
    app = ScillmApp(session, history_path=data_dir() / "history.json", config_path=config_path())
    app.past.pending = open_target
    app.run()
    return app.return_code or 0
