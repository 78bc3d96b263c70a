"""The fault matrix's dashboard rows, against the real loopback fault server.

Each test checks what a user sees: the error in words in the right column, the other
columns unaffected, the text received before the fault kept and exportable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from rich.cells import cell_len

from scillm_tui.core.retry import RetryPolicy
from scillm_tui.core.settings import load_settings
from scillm_tui.demo.server import BackgroundServer
from scillm_tui.session import Session
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.widgets.health_strip import HealthStrip
from scillm_tui.tui.widgets.prompt_editor import PromptEditor
from scillm_tui.tui.widgets.variant_grid import VariantGrid
from tests.servers.blackhole import BlackHole, unused_port_url
from tests.servers.fault_app import EXPECTED_TEXT
from tests.tui_support import (
    MessageWaiter,
    export,
    run_to_end,
    screen_text,
    set_form,
    type_prompt,
    wait_for_run,
)

FAST_RETRY = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=2.0)


def app_for(gateway: str, tmp_path: Path, *, sidecar: str | None = None, **env: str) -> ScillmApp:
    values = {
        "CHUTES_API_BASE": gateway,
        "CODEX_AGENT_API_BASE": sidecar or gateway,
        "JUDGE_MODEL": "judge-ok",
        "SCILLM_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "SCILLM_IDLE_TIMEOUT_S": "1",
        **env,
    }
    session = Session(settings=load_settings(None, **values), retry=FAST_RETRY)
    return ScillmApp(session, history_path=tmp_path / "history.json", poll_health=False)


def exported_variants(tmp_path: Path) -> list[dict]:
    (export,) = (tmp_path / "artifacts" / "runs").iterdir()
    return json.loads((export / "run.json").read_text())["variants"]


async def test_error_inside_a_200_stream_keeps_partial_text(
    make_fault_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    server = make_fault_server()
    app = app_for(server.base_url, tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="ok, error-in-stream, drop", n="3")
        grid = app.query_one(VariantGrid)
        crashed, dropped = grid.column("v2"), grid.column("v3")
        assert crashed.view.text == EXPECTED_TEXT["error-in-stream"]
        assert crashed.state.status == "error"
        assert "upstream model crashed" in (crashed.state.error or "")
        assert dropped.view.text == EXPECTED_TEXT["drop"]
        assert "closed the connection mid-stream" in (dropped.state.error or "")
        assert grid.column("v1").view.text == EXPECTED_TEXT["ok"]
        text = screen_text(app)
        assert "upstream model crashed" in text and "mid-stream" in text
        await export(pilot)
        variants = exported_variants(tmp_path)
        assert [v["text"] for v in variants] == [
            EXPECTED_TEXT["ok"],
            EXPECTED_TEXT["error-in-stream"],
            EXPECTED_TEXT["drop"],
        ]
        assert [v["status"] for v in variants] == ["done", "error", "error"]


async def test_429_with_retry_after_is_retried_visibly(
    make_fault_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    server = make_fault_server()
    faults = server.app.state.faults
    app = app_for(server.base_url, tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "hi")
        await set_form(pilot, models="429-then-ok", n="1")
        await pilot.press("ctrl+r")
        assert await asyncio.to_thread(faults.wait_for_requests, 1, 5)
        grid = app.query_one(VariantGrid)
        while grid.column("v1").state.status != "retrying":
            await pilot.pause()
        grid.flush(force=True)
        await pilot.pause()
        assert "retrying in 1 s" in screen_text(app)
        await wait_for_run(pilot)
        column = grid.column("v1")
        assert column.state.status == "done" and column.state.retries == 1
        assert column.view.text == EXPECTED_TEXT["ok"]
        assert "1 retry" in screen_text(app)


async def test_connection_refused_fails_with_the_reason(tmp_path: Path) -> None:
    app = app_for(unused_port_url(), tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="ok", n="2")
        for column in app.query_one(VariantGrid).columns:
            assert column.state.status == "error"
            assert "connection refused" in (column.state.error or "")
        assert "connection refused" in screen_text(app)


async def test_silent_stream_times_out_and_keeps_its_text(
    make_fault_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    server = make_fault_server()
    app = app_for(server.base_url, tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_to_end(pilot, models="silent, ok", n="2")
        silent = app.query_one(VariantGrid).column("v1")
        assert silent.state.status == "error"
        assert silent.view.text == EXPECTED_TEXT["silent"]
        assert "went silent" in (silent.state.error or "")


async def test_unicode_is_intact_and_rows_stay_inside_their_column(
    make_fault_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    server = make_fault_server()
    app = app_for(server.base_url, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_to_end(pilot, models="unicode, ok", n="2")
        column = app.query_one(VariantGrid).column("v1")
        assert column.view.text == EXPECTED_TEXT["unicode"]
        view = column.view
        width = view.scrollable_content_region.width
        for y in range(view.size.height):
            strip = view.render_line(y)
            assert strip.cell_length == view.size.width
            assert cell_len(strip.text.rstrip()) <= width
        text = screen_text(app)
        assert "\x1b" not in text  # escapes never reach the terminal


async def test_one_mebibyte_answer_keeps_the_ui_responsive_and_exports_intact(
    make_fault_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    server = make_fault_server()
    app = app_for(server.base_url, tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "big")
        await set_form(pilot, models="big, ok", n="2")
        await pilot.press("ctrl+r")
        await pilot.press("f9")  # the theme picker opens while the answer streams
        await pilot.press("escape")
        await wait_for_run(pilot)
        big = app.query_one(VariantGrid).column("v1")
        assert big.view.text == EXPECTED_TEXT["big"]
        assert big.view.following
        await export(pilot)
        assert exported_variants(tmp_path)[0]["text"] == EXPECTED_TEXT["big"]


async def test_quitting_mid_run_closes_the_connections(
    make_fault_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    server = make_fault_server()
    faults = server.app.state.faults
    app = app_for(server.base_url, tmp_path, SCILLM_IDLE_TIMEOUT_S="60")
    async with app.run_test(size=(160, 45)) as pilot:
        await type_prompt(pilot, "hi")
        await set_form(pilot, models="silent", n="2")
        await pilot.press("ctrl+r")
        assert await asyncio.to_thread(faults.wait_for_streams, 2, 5)
        await pilot.press("ctrl+q")
    assert await asyncio.to_thread(faults.wait_for_disconnects, 2, 5)


async def test_a_black_holed_gateway_freezes_nothing(blackhole: BlackHole, tmp_path: Path) -> None:
    app = app_for(blackhole.base_url, tmp_path, sidecar=unused_port_url())
    app.poll_health = True
    messages = MessageWaiter()
    async with app.run_test(size=(160, 45), message_hook=messages) as pilot:
        strip = app.query_one(HealthStrip)
        await pilot.press(*"typing while the probe hangs")
        assert app.query_one(PromptEditor).prompt == "typing while the probe hangs"
        assert strip.pane("gateway").report is None  # still waiting on the black hole
        report = await messages.health("gateway", "down")
        await pilot.pause()
        assert "in time" in report.message
        assert strip.pane("sidecar").report.status == "down"  # type: ignore[union-attr]
        assert "connection refused" in screen_text(app)
