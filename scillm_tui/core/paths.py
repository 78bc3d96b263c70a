"""Where scillm-tui keeps its files: the XDG data dir (history, prompt recall, logs)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir"]


def data_dir() -> Path:
    """`$XDG_DATA_HOME/scillm-tui` (default `~/.local/share/scillm-tui`)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scillm-tui"
