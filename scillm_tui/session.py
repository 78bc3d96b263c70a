"""What one invocation works with: settings, flags applied, and the demo backend if asked.

Shared by the headless commands and the dashboard so both see the same configuration.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scillm_tui.core.endpoints import EndpointName
from scillm_tui.core.errors import ConfigError
from scillm_tui.core.logs import configure_logging
from scillm_tui.core.paths import data_dir
from scillm_tui.core.settings import Settings, load_settings, normalise_base_url

if TYPE_CHECKING:  # the HTTP stack is imported once clients are made (after the first frame)
    import httpx

    from scillm_tui.core.backends import Backends
    from scillm_tui.core.retry import RetryPolicy
    from scillm_tui.demo.deferred import DeferredDemoServer

DEMO_MODEL = "demo-fast"
DEMO_JUDGE_MODEL = "demo-judge"


@dataclass
class Session:
    settings: Settings
    demo: bool = False
    transport: httpx.AsyncBaseTransport | None = None
    retry: RetryPolicy | None = None
    no_history: bool = False  # `--no-history`
    _demo: DeferredDemoServer | None = None

    def start_demo(self) -> None:
        """Serve the demo backend if it waits to be served (see `open_session`)."""
        if self._demo is not None:
            self._demo.start()

    @property
    def history_enabled(self) -> bool:
        """Record runs in the run history: not with `--no-history` or SCILLM_HISTORY=0.
        (Read when asked, so the dashboard's start-up does not import the store.)"""
        if self.no_history:
            return False
        from scillm_tui.core.run_history.store import history_enabled

        return history_enabled()

    @property
    def default_target(self) -> EndpointName:
        return "gateway" if self.settings.gateway_configured else "sidecar"

    def make_backends(self, streams: int = 0) -> Backends:
        """Build clients inside the event loop that will use them; `streams`: how many
        may be in flight at once, if more than a run's (a batch), so the connection pool
        keeps that many for reuse."""
        from scillm_tui.core.backends import Backends
        from scillm_tui.core.client import POOL_SIZE

        return Backends(
            self.settings,
            transport=self.transport,
            retry=self.retry,
            demo=self.demo,
            pool_size=max(POOL_SIZE, streams),
        )


def _flag_url(value: str | None, flag: str) -> str | None:
    if value is None:
        return None
    try:
        return normalise_base_url(value, flag)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}") from None


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from env/.env, then command-line flags on top."""
    env_file: str | Path | None = args.env_file or ".env"
    overrides: dict[str, Any] = {}
    gateway = _flag_url(getattr(args, "gateway", None), "--gateway")
    sidecar = _flag_url(getattr(args, "sidecar", None), "--sidecar")
    if gateway:
        overrides["CHUTES_API_BASE"] = gateway
    if sidecar:
        overrides["CODEX_AGENT_API_BASE"] = sidecar
    artifacts = getattr(args, "artifacts_dir", None)
    if artifacts:
        overrides["SCILLM_ARTIFACTS_DIR"] = artifacts
    return load_settings(env_file, **overrides)


def demo_settings(settings: Settings, base_url: str) -> Settings:
    """Point both endpoints at the demo backend. Keys are dropped: they must never be sent
    to a host they were not configured for."""
    return settings.model_copy(
        update={
            "sidecar_base": base_url,
            "gateway_base": base_url,
            "sidecar_key": None,
            "gateway_key": None,
            "model": DEMO_MODEL,
            "judge_model": DEMO_JUDGE_MODEL,
        }
    )


@contextmanager
def open_session(args: argparse.Namespace, *, serve_demo_later: bool = False) -> Iterator[Session]:
    """The session for `args`; with ``--demo``, the demo backend runs until it closes.

    `serve_demo_later`: only bind the demo backend's socket now; `Session.start_demo`
    serves it (the dashboard calls it after its first frame)."""
    settings = settings_from_args(args)
    no_history = bool(getattr(args, "no_history", False))
    if not getattr(args, "demo", False):
        _configure_logs(settings, args)
        yield Session(settings=settings, no_history=no_history)
        return
    from scillm_tui.demo.deferred import DeferredDemoServer

    server = DeferredDemoServer()
    try:
        if not serve_demo_later:
            server.start()
        settings = demo_settings(settings, server.base_url)
        _configure_logs(settings, args)
        yield Session(settings=settings, demo=True, no_history=no_history, _demo=server)
    finally:
        server.stop()


def _configure_logs(settings: Settings, args: argparse.Namespace) -> None:
    headless = getattr(args, "command", None) in ("health", "run")
    log_file = None if headless else data_dir() / "scillm-tui.log"
    configure_logging(settings.debug, log_file)
