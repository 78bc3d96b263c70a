"""A TCP server that accepts connections and then says nothing, for "black-holed host" tests.

A client connecting here gets a TCP connection but never a byte back, so only its own
timeouts can end the request. `unused_port_url()` is the opposite case: nothing listens,
so connecting is refused at once.
"""

from __future__ import annotations

import selectors
import socket
import threading
from types import TracebackType


class BlackHole:
    """Accepts connections on 127.0.0.1 and never reads from or writes to them."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._accepted: list[socket.socket] = []
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="blackhole", daemon=True)
        self._thread.start()

    @property
    def connections_accepted(self) -> int:
        with self._lock:
            return len(self._accepted)

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    try:
                        conn, _addr = self._listener.accept()
                    except (BlockingIOError, OSError):
                        continue
                    with self._lock:
                        self._accepted.append(conn)  # kept open, never read

    def close(self) -> None:
        """Stop accepting and close every held connection. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._wake_w.send(b"x")
        self._thread.join(5)
        with self._lock:
            for conn in self._accepted:
                conn.close()
            self._accepted.clear()
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()

    def __enter__(self) -> BlackHole:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def unused_port_url() -> str:
    """`http://127.0.0.1:<port>` of a port nothing listens on (connecting is refused).

    The port is taken from the OS and released at once; another process could grab it in
    between, which is unlikely enough for tests.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
