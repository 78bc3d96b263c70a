"""The command line: `main` parses and dispatches; one module per command."""

from scillm_tui.cli.main import main

__all__ = ["main"]
