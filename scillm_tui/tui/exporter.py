"""ctrl+e: export the run on screen, its files written on a worker thread.

An export is a dozen files, each written with fsyncs, plus the winners history rewritten
under a lock: instant on a local disk, but on a slow or network one the dashboard would
freeze mid-stream. The contents are taken on the event loop, where the run lives
(`export_files`), and written on a thread (`write_export`).

Not a Textual worker: Textual cancels its workers as the app quits, and a cancelled
thread worker can no longer be waited for. The user's files must be complete when
the app has quit, so `Exports.finish` waits for them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.app import App

from scillm_tui.core.artifacts import ExportFiles, export_files, write_export
from scillm_tui.core.human_verdict import HumanVerdict
from scillm_tui.core.judge import Verdict
from scillm_tui.core.runs import Run

__all__ = ["Exports"]


class Exports:
    """The app's exports: started on the event loop, written on threads."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._writing: set[asyncio.Future[None]] = set()

    def start(
        self,
        run: Run,
        verdict: Verdict | None,
        artifacts_dir: Path,
        note: str,
        human: HumanVerdict | None = None,
    ) -> None:
        """Export `run` as it is now (with your pick, `human`); a toast says where (with
        `note`), or why it failed."""
        files = export_files(run, verdict, human)
        loop = asyncio.get_running_loop()
        writing = loop.run_in_executor(None, self._write, files, artifacts_dir, note)
        self._writing.add(writing)
        writing.add_done_callback(self._writing.discard)

    def _write(self, files: ExportFiles, artifacts_dir: Path, note: str) -> None:
        """On a worker thread (`App.notify` is thread-safe). Never raises: a failure is
        the user's to read, not a crash."""
        try:
            result = write_export(files, artifacts_dir)
        except Exception as exc:  # reported, whatever it is
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self._app.notify(f"Export failed: {reason}", severity="error")
            return
        self._app.notify(f"Exported{note} to {result.dir}", title="Export", timeout=10)

    async def finish(self) -> None:
        """Wait for the exports still being written."""
        if self._writing:
            await asyncio.wait(set(self._writing))
