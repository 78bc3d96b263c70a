"""The built-in demo backend: an offline, OpenAI-compatible server with no real model behind it.

Used by `scillm-tui --demo`, `scillm-tui serve-demo` and the integration tests. This package
must never import textual or rich (it also runs headless, inside the test suite).

Names are imported lazily so `python -m scillm_tui.demo.server` runs without a warning and
importing the package does not load uvicorn until a server is wanted.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DEMO_LABEL": "scillm_tui.demo.app",
    "DEMO_MODELS": "scillm_tui.demo.app",
    "DemoConfig": "scillm_tui.demo.app",
    "DemoStats": "scillm_tui.demo.app",
    "create_demo_app": "scillm_tui.demo.app",
    "BackgroundServer": "scillm_tui.demo.server",
    "ServerStartError": "scillm_tui.demo.server",
    "serve_demo_forever": "scillm_tui.demo.server",
    "start_demo_server": "scillm_tui.demo.server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
