"""Run an ASGI app with uvicorn on loopback: in a background thread, or in the foreground.

`BackgroundServer` is what the TUI's `--demo` mode and the test suite use: it picks a free
port, returns only once the socket accepts connections, and stops promptly even while
clients hold streams open (their connections are cut instead of waited for). uvicorn is
kept quiet (warnings only, no access log) so it never scribbles over a TUI.

`serve_demo_forever` backs `scillm-tui serve-demo --port N`; `python -m
scillm_tui.demo.server --port N` does the same without the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from scillm_tui.core.errors import ScillmError
from scillm_tui.demo.app import DEMO_LABEL, DemoConfig, create_demo_app

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
GRACE_S = 1.0  # how long stop() lets request tasks finish after their connections are cut


class ServerStartError(ScillmError):
    """The server could not listen (usually: the port is taken)."""


class _QuietServer(uvicorn.Server):
    """uvicorn.Server that reports when it listens, wakes up at once on stop, and shuts
    down by cutting in-flight connections rather than waiting for streams to end."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[int], None] | None = None
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self.port: int | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets=sockets)
        if self.started:
            self.port = int(self.servers[0].sockets[0].getsockname()[1])
            if self._on_started is not None:
                self._on_started(self.port)

    async def main_loop(self) -> None:
        # uvicorn's own loop polls every 0.1 s; waiting on an event makes stop() immediate
        # while on_tick still runs (it keeps the Date header fresh and honours should_exit).
        assert self._wake is not None
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_stop(self) -> None:
        """Ask the server to exit; safe to call from any thread."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                loop.call_soon_threadsafe(wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            cycle = getattr(connection, "cycle", None)
            transport = getattr(connection, "transport", None)
            in_flight = cycle is not None and not getattr(cycle, "response_complete", True)
            if in_flight and transport is not None:
                # The app sees http.disconnect and its streams end like any client drop.
                transport.abort()
            else:
                connection.shutdown()
        await asyncio.sleep(0)  # let connection_lost callbacks run
        tasks = set(self.server_state.tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=GRACE_S)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=GRACE_S)
        for server in self.servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), GRACE_S)
        if not self.force_exit:
            await self.lifespan.shutdown()


def _uvicorn_config(app: Any, host: str, port: int) -> uvicorn.Config:
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"refusing to bind {host!r}: the demo and test servers are loopback-only")
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        ws="none",
    )


class BackgroundServer:
    """An ASGI app served by uvicorn on loopback from a daemon thread; a context manager."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        sock: socket.socket | None = None,
    ) -> None:
        """Serve `app` on `host:port`, or on `sock`, a loopback socket already listening
        (connections made before `start` wait in its backlog)."""
        self.app = app
        self.host = host
        self._sockets = None if sock is None else [sock]
        if sock is not None:
            host, port = sock.getsockname()[:2]
        self._ready = threading.Event()
        self._server = _QuietServer(
            _uvicorn_config(app, host, port), on_started=lambda _port: self._ready.set()
        )
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful when 0 was asked for)."""
        if self._server.port is None:
            raise RuntimeError("the server is not started")
        return self._server.port

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, without `/v1`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server.started

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving; returns once the socket accepts connections."""
        if self._thread is not None:
            raise RuntimeError("a BackgroundServer can only be started once")
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{id(self):x}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise ServerStartError(f"the server did not start within {timeout:g} s")
        if not self._server.started:
            self._thread.join(timeout)
            detail = f" ({self._error!r})" if self._error is not None else ""
            raise ServerStartError(
                f"could not listen on {self.host}:{self._server.config.port}{detail}"
            )
        return self

    def _run(self) -> None:
        try:
            self._server.run(sockets=self._sockets)
        except BaseException as exc:  # uvicorn exits via SystemExit when it cannot bind
            self._error = exc
        finally:
            self._ready.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop promptly: open streams are cut, not waited for. Safe to call twice."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._server.request_stop()
        thread.join(timeout)
        if thread.is_alive():
            self._server.force_exit = True
            self._server.request_stop()
            thread.join(timeout)

    def __enter__(self) -> BackgroundServer:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server.port is not None else "not started"
        return f"<BackgroundServer {where}>"


def start_demo_server(port: int = 0, config: DemoConfig | None = None) -> BackgroundServer:
    """Start the demo backend on 127.0.0.1 in a background thread (port 0 = any free port)."""
    return BackgroundServer(create_demo_app(config), port=port).start()


def serve_demo_forever(port: int, config: DemoConfig | None = None) -> None:
    """Serve the demo backend in the foreground until Ctrl-C (or SIGTERM)."""

    def announce(bound: int) -> None:
        print(f"{DEMO_LABEL} listening on http://127.0.0.1:{bound}", file=sys.stderr, flush=True)

    server = _QuietServer(
        _uvicorn_config(create_demo_app(config), "127.0.0.1", port), on_started=announce
    )
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled, once it has stopped
        pass
    except SystemExit as exc:
        if not server.started:
            raise ServerStartError(
                f"could not listen on 127.0.0.1:{port} (is the port already in use?)"
            ) from exc
        raise


def main(argv: list[str] | None = None) -> int:
    """`python -m scillm_tui.demo.server --port N`: the demo backend without the TUI."""
    parser = argparse.ArgumentParser(description=f"Run the {DEMO_LABEL}.")
    parser.add_argument("--port", type=int, default=8099, help="port on 127.0.0.1 (0 = any)")
    parser.add_argument("--unpaced", action="store_true", help="send tokens as fast as possible")
    parser.add_argument("--speed", type=float, default=1.0, help="multiply every model's rate")
    parser.add_argument("--seed", type=int, default=None, help="make answers reproducible")
    args = parser.parse_args(argv)
    config = DemoConfig(
        tokens_per_s=None if args.unpaced else "model", speed=args.speed, seed=args.seed
    )
    try:
        serve_demo_forever(args.port, config)
    except ServerStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
