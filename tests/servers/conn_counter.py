"""Count the TCP connections an ASGI test server accepted: wrap its app in `ConnCounter`.

Every request's scope carries its connection's peer address (host, ephemeral port), so
the distinct addresses are the connections that carried requests. Kept apart from the
servers it wraps so any of them can be counted without editing it.
"""

from __future__ import annotations

import threading
from typing import Any


class ConnCounter:
    """An ASGI app that passes everything to `app` and notes each request's connection.
    `app.state` is passed through, so fixtures that read it keep working."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._peers: set[tuple[str, int]] = set()
        self._lock = threading.Lock()  # the server runs on its own thread

    @property
    def state(self) -> Any:
        return self.app.state

    @property
    def connections(self) -> int:
        """Connections that carried at least one request so far."""
        with self._lock:
            return len(self._peers)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client is not None:
            with self._lock:
                self._peers.add((client[0], client[1]))
        await self.app(scope, receive, send)
