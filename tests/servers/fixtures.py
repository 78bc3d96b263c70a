"""pytest fixtures for the test servers; load with `pytest_plugins = ["tests.servers.fixtures"]`.

Each fixture starts its server for one test and stops it afterwards (stopping cuts any
stream still open, so a test that leaves a connection dangling does not hang teardown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scillm_tui.demo.app import DemoConfig, create_demo_app
from scillm_tui.demo.server import BackgroundServer
from tests.servers.blackhole import BlackHole
from tests.servers.fault_app import create_fault_app

DEMO_TEST_SEED = 1234


def _server_factory(build: Callable[..., Any]) -> Iterator[Callable[..., BackgroundServer]]:
    """Start a server per call of the yielded factory; stop them all at teardown."""
    servers: list[BackgroundServer] = []

    def make(*args: Any, **kwargs: Any) -> BackgroundServer:
        server = BackgroundServer(build(*args, **kwargs)).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def make_fault_server() -> Iterator[Callable[..., BackgroundServer]]:
    """Factory: `make_fault_server(**options)` -> a started fault server (see fault_app)."""
    yield from _server_factory(create_fault_app)


@pytest.fixture
def fault_server(make_fault_server: Callable[..., BackgroundServer]) -> BackgroundServer:
    """A started fault server with default options; `fault_server.app.state.faults`."""
    return make_fault_server()


@pytest.fixture
def make_demo_server() -> Iterator[Callable[..., BackgroundServer]]:
    """Factory: `make_demo_server(config)` -> a started demo backend."""
    yield from _server_factory(create_demo_app)


@pytest.fixture
def demo_server(make_demo_server: Callable[..., BackgroundServer]) -> BackgroundServer:
    """A started demo backend, unpaced and seeded so tests run fast and repeatably."""
    return make_demo_server(DemoConfig(tokens_per_s=None, seed=DEMO_TEST_SEED))


@pytest.fixture
def blackhole() -> Iterator[BlackHole]:
    """A TCP port that accepts connections and never answers; `.base_url`."""
    with BlackHole() as hole:
        yield hole
