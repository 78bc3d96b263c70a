"""Snapshot of StreamViews showing markup-looking text, escapes and wide characters.

Regenerate with ``pytest tests/test_stream_view_snapshots.py --snapshot-update`` and look
at the SVG before committing it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.pilot import Pilot

from scillm_tui.tui.streamview.view import StreamView

MARKUP = (
    "[bold red]not bold[/] [link=https://example.com]no link[/] "
    "[@click=app.quit]no action[/]\n**Markdown** stays `literal`.\n"
)
ESCAPES = (
    "\x1b[31mnot red\x1b[0m\n\x1b]8;;http://x\x07osc8\x1b]8;;\x07\nbell\x07 del\x7f c1\x9b1m\n"
    "tab\tstop\tstop\nCRLF\r\nend"
)
UNICODE = (
    "你好，世界！こんにちは 😀👍 wide chars wrap whole.\n"
    "e\u0301 cafe\u0301 n\u0303 (combining)\nflag 🇺🇸 family 👨\u200d👩\u200d👧 heart ❤\ufe0f\n"
)


class SnapshotApp(App[None]):
    """Three views; the first gets enough lines to scroll and follow its tail."""

    CSS = """
    StreamView { width: 1fr; height: 1fr; border: round $primary; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield StreamView(id="markup")
            yield StreamView(id="escapes")
            yield StreamView(id="unicode")

    def on_mount(self) -> None:
        lines = "".join(f"filler {n}\n" for n in range(30))
        self.query_one("#markup", StreamView).append(lines + MARKUP)
        self.query_one("#escapes", StreamView).append(ESCAPES)
        self.query_one("#unicode", StreamView).append(UNICODE)


async def _flush_all(pilot: Pilot) -> None:
    """What the app's repaint timer does."""
    for view in pilot.app.query(StreamView):
        view.flush()
    await pilot.pause()


def test_stream_views_render_literally(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(SnapshotApp(), terminal_size=(80, 24), run_before=_flush_all)
