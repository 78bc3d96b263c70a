"""Recently used prompts, kept across sessions in a small JSON file."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from scillm_tui.core.atomic import atomic_write_text

MAX_ENTRIES = 50


class PromptHistory:
    """Newest-last list of distinct prompts. A damaged file is treated as empty.

    `add` changes the list in memory and `save` writes it. `save` may run on another
    thread (the app saves on a worker thread: a write is two fsyncs, and a slow disk
    must not hold up a run's start): saves are serialised, and an older list is never
    written over a newer one.
    """

    def __init__(self, path: Path | None, limit: int = MAX_ENTRIES) -> None:
        self.path = path
        self.limit = limit
        self.entries: list[str] = self._load()
        self._newest: tuple[int, str] = (0, "")  # (version, file text) of the newest list
        self._saved = 0  # the version on disk
        self._lock = threading.Lock()  # one save at a time

    def _load(self) -> list[str]:
        if self.path is None or not self.path.is_file():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        items = data.get("prompts", []) if isinstance(data, dict) else []
        return [p for p in items if isinstance(p, str) and p.strip()][-self.limit :]

    def add(self, prompt: str) -> None:
        """Remember `prompt` as the newest entry (moving it if already present); written
        by the next `save`."""
        if not prompt.strip():
            return
        self.entries = [p for p in self.entries if p != prompt] + [prompt]
        self.entries = self.entries[-self.limit :]
        text = json.dumps({"prompts": self.entries}, ensure_ascii=False)
        self._newest = (self._newest[0] + 1, text)  # one assignment: read whole by `save`

    def save(self) -> None:
        """Write the newest list, unless it is on disk already. Thread-safe; a failure
        is ignored (the history is a convenience: never fail a run over it)."""
        if self.path is None:
            return
        with self._lock:
            version, text = self._newest
            if version <= self._saved:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(self.path, text)
            except OSError:
                return
            self._saved = version
