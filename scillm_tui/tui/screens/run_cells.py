"""Text helpers the History and batch screens share to show a run in one table row."""

from __future__ import annotations

from datetime import datetime

__all__ = ["first_line", "local_minute"]


def local_minute(iso: str) -> str:
    """An ISO time in local time, to the minute (the text itself if it isn't ISO)."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16]


def first_line(text: str, width: int) -> str:
    """The first non-blank line, cut to `width` with an ellipsis."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"
