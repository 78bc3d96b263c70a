"""Case 7: start-up of ``scillm-tui --demo`` up to its first frame, headless.

``python -m bench.startup`` runs the real entry point (``scillm_tui.cli.main.main(["--demo"])``:
settings, the demo backend on a loopback thread, the dashboard) with two patches made
here, not in the app: ``App.run`` runs headless at 200x50, and the first ``App._display``
with an update (the first frame a terminal would get) prints the monotonic clock and
exits the app. The orchestrator compares that with ``python -c "import textual.app"``,
and, for scale, with the first frame of the smallest Textual app (``python -m
bench.startup minimal``: one ``Static``, same patches): the floor any Textual app pays.
Both children print ``time.monotonic()`` (CLOCK_MONOTONIC, system-wide) so the parent
can subtract the instant just before it spawned them.
"""

from __future__ import annotations

import sys
import time

from textual.app import App, ComposeResult

_run = App.run
_display = App._display


def _headless_run(self: App, *args: object, **kwargs: object) -> object:
    kwargs["headless"] = True
    kwargs.setdefault("size", (200, 50))
    return _run(self, *args, **kwargs)  # type: ignore[arg-type]


def _first_frame(self: App, screen: object, renderable: object) -> None:
    _display(self, screen, renderable)  # type: ignore[arg-type]
    if renderable is not None and not getattr(self, "_bench_first_frame", False):
        self._bench_first_frame = True  # type: ignore[attr-defined]
        print(f"FIRST-FRAME {time.monotonic():.6f}", flush=True)
        self.exit()


def _minimal_app() -> int:
    from textual.widgets import Static

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("hello")

    Minimal().run()
    return 0


def main(argv: list[str] | None = None) -> int:
    App.run = _headless_run  # type: ignore[method-assign,assignment]  # measured start-up
    App._display = _first_frame  # type: ignore[method-assign]
    if (argv if argv is not None else sys.argv[1:]) == ["minimal"]:
        return _minimal_app()
    from scillm_tui.cli.main import main as cli_main

    return cli_main(["--demo"])


if __name__ == "__main__":
    raise SystemExit(main())
