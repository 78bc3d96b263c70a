"""`scillm-tui health`: probe both endpoints, a table or JSON on stdout."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from typing import TextIO

from scillm_tui.cli.exit_codes import EXIT_FAILED, EXIT_OK
from scillm_tui.core.endpoints import EndpointName
from scillm_tui.core.health import HealthReport
from scillm_tui.session import Session


def health_command(session: Session, *, as_json: bool, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    reports = asyncio.run(_health(session))
    if as_json:
        data = {name: r.model_dump(mode="json") for name, r in reports.items()}
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        out.write(health_table(reports))
    configured = [r for r in reports.values() if r.status != "unconfigured"]
    return EXIT_OK if configured and all(r.status == "up" for r in configured) else EXIT_FAILED


async def _health(session: Session) -> dict[EndpointName, HealthReport]:
    backends = session.make_backends()
    try:
        return await backends.health()
    finally:
        await backends.aclose()


def health_table(reports: Mapping[EndpointName, HealthReport]) -> str:
    rows = [("endpoint", "status", "latency", "models", "url", "details")]
    for name, r in reports.items():
        latency = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else "-"
        models = r.model_count_text if r.status in ("up", "degraded") else "-"
        details = r.message
        if r.healthz:
            details += "  " + " ".join(f"{k}={json.dumps(v)}" for k, v in r.healthz.items())
        label = name + (" (demo)" if r.demo else "")
        rows.append((label, r.status, latency, models, r.base_url or "-", details))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths, strict=True)) + "  " + row[5]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"
