"""Recently used prompts, kept across sessions in a small JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from scillm_tui.core.atomic import atomic_write_text

MAX_ENTRIES = 50


class PromptHistory:
    """Newest-last list of distinct prompts. A damaged file is treated as empty."""

    def __init__(self, path: Path | None, limit: int = MAX_ENTRIES) -> None:
        self.path = path
        self.limit = limit
        self.entries: list[str] = self._load()

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
        """Remember `prompt` as the newest entry (moving it if already present)."""
        if not prompt.strip():
            return
        self.entries = [p for p in self.entries if p != prompt] + [prompt]
        self.entries = self.entries[-self.limit :]
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps({"prompts": self.entries}, ensure_ascii=False))
        except OSError:
            pass  # history is a convenience; never fail a run over it
