"""A pane showing one endpoint's health: badge, URL, latency, /healthz fields, reason."""

from __future__ import annotations

import json

from textual.content import Content
from textual.widgets import Static

from scillm_tui.core.health_report import HealthReport
from scillm_tui.tui.widgets.border_titles import set_border_title

BADGE_STYLE = {
    "up": "bold $success",
    "degraded": "bold $warning",
    "auth": "bold $error",
    "down": "bold $error",
    "unconfigured": "bold $text-muted",
    "checking": "bold $text-muted",
}
BADGE_TEXT = {"unconfigured": "not configured"}
TITLES = {"sidecar": "codex-agent sidecar", "gateway": "gateway"}


class HealthPane(Static):
    """One endpoint's latest `HealthReport`, in words and colour."""

    def __init__(self, endpoint: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="health-pane -checking", markup=False)
        self.endpoint = endpoint
        self.report: HealthReport | None = None
        self.border_title = TITLES.get(endpoint, endpoint)

    def on_mount(self) -> None:
        self.update(Content.assemble(("checking…", BADGE_STYLE["checking"])))

    def show(self, report: HealthReport) -> None:
        self.report = report
        status = report.status
        classes = f"health-pane -{status}"
        if set(classes.split()) != set(self.classes):  # a restyle, only when it changes
            self.set_classes(classes)
        demo = " · demo backend" if report.demo else ""
        set_border_title(self, TITLES.get(report.endpoint, report.endpoint) + demo)
        parts: list[tuple[str, str] | str] = [
            (f"● {BADGE_TEXT.get(status, status)}", BADGE_STYLE.get(status, "bold")),
        ]
        if report.base_url:
            parts += [" · ", (report.base_url, "$text-muted")]
        if report.latency_ms is not None:
            parts.append(f" · {report.latency_ms:.0f} ms")
        line2: list[str] = []
        if status in ("up", "degraded"):
            line2.append(report.model_count_text)
        if report.healthz:
            line2 += [" ".join(f"{k}={_short(v)}" for k, v in report.healthz.items())]
        line2.append(f"checked {report.checked_at.astimezone():%H:%M:%S}")
        line2 = [" · ".join(line2)]
        lines = [Content.assemble(*parts)]
        if status != "up":  # the reason comes first: on a short screen the details are cut
            lines.append(Content.assemble((report.message, _message_style(status))))
        lines.append(Content.assemble(*line2))
        # The stylesheet fixes the pane's size, so new text needs no layout: a layout
        # is of the whole screen, ~40 ms with 16 columns streaming, every poll.
        self.update(Content("\n").join(lines), layout=False)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 24 else text[:23] + "…"


def _message_style(status: str) -> str:
    return "$warning" if status == "degraded" else "$error" if status in ("auth", "down") else ""
