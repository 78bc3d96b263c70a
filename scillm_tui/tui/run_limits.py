"""How many requests each endpoint serves at once, for the run: the sidecar's `/healthz`
says (`concurrency`), and variants over it wait *queued*, with the reason on screen,
instead of sitting on "connecting" in the sidecar's own queue as if it were slow."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from scillm_tui.core.health_report import HealthReport
from scillm_tui.core.runs import Run, RunSpec

if TYPE_CHECKING:  # the HTTP stack: imported once clients are made
    from scillm_tui.core.backends import Backends

__all__ = ["endpoint_limits_from", "new_run"]


def endpoint_limits_from(reports: Iterable[HealthReport | None]) -> dict[str, int]:
    """{endpoint: requests at once} from the last health reports that say (e.g.
    `{"sidecar": 4}`); endpoints that do not say are not limited."""
    limits: dict[str, int] = {}
    for report in reports:
        if report is None:
            continue
        value = (report.healthz or {}).get("concurrency")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            limits[report.endpoint] = value
    return limits


def new_run(spec: RunSpec, backends: Backends, limits: Mapping[str, int]) -> Run:
    """`Run(spec, backends, endpoint_limits=limits)` where the core takes the limits
    (the thinking core, branch h1-thinking-core); a core without them runs unlimited."""
    if limits and "endpoint_limits" in inspect.signature(Run).parameters:
        return Run(spec, backends, endpoint_limits=limits)  # type: ignore[call-arg]
    return Run(spec, backends)
