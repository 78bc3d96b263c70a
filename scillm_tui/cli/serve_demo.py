"""`scillm-tui serve-demo`: the built-in demo backend alone, in the foreground."""

from __future__ import annotations

from scillm_tui.cli.exit_codes import EXIT_OK


def serve_demo_command(*, port: int, speed: float) -> int:
    from scillm_tui.demo.app import DemoConfig
    from scillm_tui.demo.server import serve_demo_forever

    serve_demo_forever(port, DemoConfig(speed=speed))
    return EXIT_OK
