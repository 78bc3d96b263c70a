"""The demo backend's socket now, its server later: the dashboard's first frame first.

Importing uvicorn and starlette and starting the server thread cost ~85 ms, about a
tenth of ``scillm-tui --demo``'s start-up, and nothing needs the server before the
dashboard's first frame. The socket is bound and listening at once, so the URL is known
and any connection made early waits in its backlog until `start` serves it.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # both import starlette, or uvicorn: that is what waits
    from scillm_tui.demo.app import DemoConfig
    from scillm_tui.demo.server import BackgroundServer

__all__ = ["DeferredDemoServer"]


class DeferredDemoServer:
    """A loopback socket for the demo backend, served from `start` on."""

    def __init__(self, config: DemoConfig | None = None) -> None:
        self._config = config
        self._socket: socket.socket | None = socket.create_server(("127.0.0.1", 0))
        port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._server: BackgroundServer | None = None

    @property
    def started(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Serve the demo backend on the socket (once; later calls do nothing).

        Raises `ServerStartError` if the server cannot start."""
        if self._server is not None or self._socket is None:
            return
        from scillm_tui.demo.app import create_demo_app
        from scillm_tui.demo.server import BackgroundServer

        server = BackgroundServer(create_demo_app(self._config), sock=self._socket)
        self._server = server.start()

    def stop(self) -> None:
        """Stop serving, or close the socket if it was never served."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        elif self._socket is not None:
            self._socket.close()
        self._socket = None
