"""Reading the run history from a command: never creating it, errors in one line."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from typing import TypeVar

from scillm_tui.core.run_history import HistoryStore, HistoryUnavailable, default_path

T = TypeVar("T")


def read_history(read: Callable[[HistoryStore], T], empty: T) -> T | None:
    """`read(store)` on the user's history, `empty` when there is none yet (reading never
    creates one); None, with the reason on stderr, when it cannot be read."""
    if not default_path().exists():
        return empty
    try:
        store = HistoryStore.open()
    except HistoryUnavailable as exc:
        print(f"scillm-tui: error: {exc}", file=sys.stderr)
        return None
    try:
        if store.warning:
            print(f"scillm-tui: warning: {store.warning}", file=sys.stderr)
        return read(store)
    except sqlite3.Error as exc:
        print(f"scillm-tui: error: the run history could not be read: {exc}", file=sys.stderr)
        return None
    finally:
        store.close()
