"""The health strip: one pane per endpoint, each polled by its own background worker.

Each endpoint has its own worker so a black-holed host delays only its own pane; probes
are bounded by the client's health timeout and never block the interface.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message

from scillm_tui.core.endpoints import EndpointName
from scillm_tui.core.health_report import HealthReport, endpoint_limits
from scillm_tui.tui.streamview.line_cache import LineCache
from scillm_tui.tui.widgets.health_pane import HealthPane

if TYPE_CHECKING:  # the HTTP stack: imported once clients are made
    from scillm_tui.core.backends import Backends

POLL_INTERVAL_S = 10.0
DOWN_BACKOFF_S = (2.0, 4.0, 8.0)  # poll sooner while an endpoint is down, then settle


class HealthStrip(LineCache, Horizontal):
    """Sidecar and gateway panes, refreshed in the background."""

    class Changed(Message):
        """An endpoint's report arrived (posted for every probe)."""

        def __init__(self, report: HealthReport, previous: HealthReport | None) -> None:
            super().__init__()
            self.report = report
            self.previous = previous

    def __init__(self, *, interval_s: float = POLL_INTERVAL_S, id: str | None = None) -> None:
        super().__init__(id=id)
        self.interval_s = interval_s
        self.backends: Backends | None = None

    def compose(self) -> ComposeResult:
        yield HealthPane("sidecar", id="health-sidecar")
        yield HealthPane("gateway", id="health-gateway")

    def pane(self, endpoint: EndpointName) -> HealthPane:
        return self.query_one(f"#health-{endpoint}", HealthPane)

    def endpoint_limits(self) -> dict[EndpointName, int]:
        """Requests each endpoint serves at once, as its last health report says (the
        sidecar's `/healthz` `concurrency`): a run holds the others *queued*, with the
        reason on screen, instead of leaving them in the sidecar's queue looking slow."""
        names: tuple[EndpointName, ...] = ("sidecar", "gateway")
        reports = {name: report for name in names if (report := self.pane(name).report) is not None}
        return endpoint_limits(reports)

    def start(self, backends: Backends) -> None:
        """Begin polling (again): restarts both workers, so it also means 'refresh now'."""
        self.backends = backends
        for endpoint in ("sidecar", "gateway"):
            self.run_worker(
                self._poll(endpoint),
                group=f"health-{endpoint}",
                exclusive=True,
                exit_on_error=False,
                name=f"health {endpoint}",
            )

    def refresh_now(self) -> None:
        if self.backends is not None:
            self.start(self.backends)

    async def _poll(self, endpoint: EndpointName) -> None:
        assert self.backends is not None
        failures = 0
        while True:
            report = await self.backends.probe(endpoint)
            pane = self.pane(endpoint)
            previous = pane.report
            pane.show(report)
            self.post_message(self.Changed(report, previous))
            if report.status == "unconfigured":  # nothing to poll
                return
            if report.status in ("up", "degraded"):
                failures = 0
                delay = self.interval_s
            else:
                delay = DOWN_BACKOFF_S[min(failures, len(DOWN_BACKOFF_S) - 1)]
                delay = min(delay, self.interval_s)
                failures += 1
            await asyncio.sleep(delay)
