"""`scillm-tui run` and `scillm-tui health` as a user runs them: a subprocess, a clean
environment, a fresh working directory, and loopback servers."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scillm_tui.demo.server import BackgroundServer
from tests.servers.blackhole import unused_port_url
from tests.servers.fault_app import EXPECTED_TEXT

TIMEOUT_S = 60
CLI = [sys.executable, "-m", "scillm_tui"]
VARIANT_KEYS = {"id", "model", "text", "status", "finish_reason", "error", "usage"}
VARIANT_KEYS |= {"ttft_ms", "duration_ms"}
VARIANT_KEYS |= {"reasoning", "reasoning_tokens", "ttft_answer_ms", "think_ms", "answer_tokens"}
VARIANT_KEYS |= {"no_answer_reason"}
JUDGE_KEYS = {"best_id", "reason", "scores", "rounds", "agreement"}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra)
    return env


def run_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> Result:
    proc = subprocess.run(
        [*CLI, *args],
        cwd=tmp_path,
        env=clean_env(tmp_path, **(env or {})),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_S,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return Result(proc.returncode, proc.stdout, proc.stderr)


def requests_for(server: BackgroundServer, model: str) -> list[Any]:
    return [r for r in server.app.state.faults.chat_requests() if r.model == model]


# ---- run: output and exit codes ------------------------------------------------------------------


def test_run_prints_the_json_shape_and_exits_0_with_a_verdict(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    result = run_cli(
        tmp_path,
        "run",
        "--gateway",
        fault_server.base_url + "/v1",
        "--prompt",
        "Explain CRDTs",
        "--model",
        "ok",
        "--model",
        "burst",
        "-n",
        "2",
        "--judge-model",
        "judge-ok",
    )
    assert result.code == 0, result.stderr
    out = result.json
    assert {"run_id", "base", "gen_model", "judge_model", "variants", "judge", "artifacts"} <= set(
        out
    )
    assert out["base"] == fault_server.base_url
    assert out["gen_model"] == "ok"  # a string always, as SciLLM's script prints it
    assert out["gen_models"] == ["ok", "burst"]
    assert out["judge_model"] == "judge-ok"
    assert out["artifacts"] is None
    assert [v["id"] for v in out["variants"]] == ["v1", "v2"]
    for variant in out["variants"]:
        assert set(variant) >= VARIANT_KEYS
        assert variant["status"] == "done" and variant["error"] is None
        assert variant["finish_reason"] == "stop"
        assert variant["usage"]["completion_tokens"] > 0
        assert variant["ttft_ms"] is not None and variant["duration_ms"] is not None
        assert variant["reasoning"] == "" and variant["no_answer_reason"] is None
    assert out["variants"][0]["text"] == EXPECTED_TEXT["ok"]
    assert out["variants"][1]["text"] == EXPECTED_TEXT["burst"]
    judge = out["judge"]
    assert set(judge) >= JUDGE_KEYS
    assert judge["best_id"] == "v1" and judge["rounds"] == 1 and judge["agreement"] == "1/1"
    assert judge["scores"] == {"v1": 9.0, "v2": 5.0}
    assert judge["excluded"] == {} and judge["reason_labels"] == {"A": "v1", "B": "v2"}
    assert not (tmp_path / ".artifacts").exists()  # no --export, nothing written
    assert [r.model for r in fault_server.app.state.faults.chat_requests()][-1] == "judge-ok"


def test_no_judge_with_one_finished_variant_exits_0(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    result = run_cli(
        tmp_path,
        *("run", "--gateway", fault_server.base_url, "--prompt", "hi"),
        *("--model", "ok", "--model", "401", "-n", "2", "--no-judge"),
    )
    assert result.code == 0, result.stderr
    out = result.json
    assert out["judge"] is None and out["judge_model"] is None
    assert [v["status"] for v in out["variants"]] == ["done", "error"]
    assert "key rejected" in out["variants"][1]["error"]


@pytest.mark.parametrize("judge", [True, False])
def test_all_variants_failing_exits_1(
    tmp_path: Path, fault_server: BackgroundServer, judge: bool
) -> None:
    extra = ["--judge-model", "judge-ok"] if judge else ["--no-judge"]
    result = run_cli(
        tmp_path,
        *("run", "--gateway", fault_server.base_url, "--prompt", "hi"),
        *("--model", "401", "--model", "404", "-n", "2", *extra),
    )
    assert result.code == 1
    out = result.json  # still a full report on stdout
    assert [v["status"] for v in out["variants"]] == ["error", "error"]
    assert "not found" in out["variants"][1]["error"]
    if judge:
        assert out["judge"]["best_id"] is None
    assert requests_for(fault_server, "judge-ok") == []


def test_judge_failure_exits_1(tmp_path: Path, fault_server: BackgroundServer) -> None:
    result = run_cli(
        tmp_path,
        *("run", "--gateway", fault_server.base_url, "--prompt", "hi", "--export"),
        *("--model", "ok", "-n", "2", "--judge-model", "judge-garbage"),
    )
    assert result.code == 1
    out = result.json
    assert [v["status"] for v in out["variants"]] == ["done", "done"]
    assert out["judge"]["best_id"] is None
    assert "after one repair attempt" in out["judge"]["error"]
    # The export has no winner: no history line, no ranks, the judge's error in the notes.
    assert not (tmp_path / ".artifacts" / "winners.jsonl").exists()
    board = Path(out["artifacts"]["leaderboard"]).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(board)))
    assert len(rows) == 2
    for row in rows:
        assert (row["score"], row["rank"]) == ("", "")
        assert row["note"].startswith("judge failed: ")


def test_an_export_that_cannot_be_written_still_reports_the_run(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    (tmp_path / "taken").write_text("a file where the artifacts folder should be\n")
    result = run_cli(
        tmp_path,
        *("run", "--gateway", fault_server.base_url, "--prompt", "hi", "--model", "ok"),
        *("-n", "2", "--judge-model", "judge-ok", "--export", "--artifacts-dir", "taken"),
    )
    assert result.code == 1  # the export asked for did not happen
    out = result.json  # but the run's results are not lost
    assert [v["text"] for v in out["variants"]] == [EXPECTED_TEXT["ok"]] * 2
    assert out["judge"]["best_id"] == "v1"
    assert out["artifacts"] is None
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert errors[0].startswith("scillm-tui: error: ") and "taken" in errors[0]


# ---- run: usage errors ---------------------------------------------------------------------------

USAGE_ERRORS = {
    "unknown target": (["--target", "bogus", "--prompt", "x"], {}, "invalid choice"),
    "gateway unconfigured": (["--target", "gateway", "--prompt", "x"], {}, "CHUTES_API_BASE"),
    "judge target unconfigured": (
        ["--judge-target", "gateway", "--prompt", "x"],
        {},
        "--judge-target gateway",
    ),
    "n not a number": (["-n", "abc", "--prompt", "x"], {}, "not a whole number: 'abc'"),
    "n too big": (["-n", "65", "--prompt", "x"], {}, "64"),
    "BEST_OF_N in env": (["--prompt", "x"], {"BEST_OF_N": "abc"}, "BEST_OF_N"),
    "missing env file": (["--env-file", "nope.env", "--prompt", "x"], {}, "nope.env"),
    "empty prompt": (["--prompt", "   \n "], {}, "the prompt is empty"),
    "empty stdin": ([], {}, "the prompt is empty"),
    "missing prompt file": (["--prompt-file", "missing.txt"], {}, "missing.txt"),
    "bad gateway url": (["--gateway", "ftp://x", "--prompt", "x"], {}, "--gateway"),
    "bad gateway url in env, with a key": (
        ["--prompt", "x"],
        {"CHUTES_API_BASE": "not-a-url", "CHUTES_API_KEY": "sk-config-error-secret"},
        "CHUTES_API_BASE",
    ),
}


@pytest.fixture(scope="module")
def usage_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Result]]:
    """Every usage-error case, run once and concurrently (each in its own directory).

    The sidecar is a port nothing listens on: a case that wrongly started a run would
    fail to connect and exit 1, not 2.
    """
    sidecar = unused_port_url()
    started: dict[str, tuple[Path, subprocess.Popen[str]]] = {}
    for index, (case, (args, env, _words)) in enumerate(USAGE_ERRORS.items()):
        cwd = tmp_path_factory.mktemp(f"usage{index}")
        (cwd / "home").mkdir()
        started[case] = (
            cwd,
            subprocess.Popen(
                [*CLI, "run", "--sidecar", sidecar, "--export", "--artifacts-dir", "art", *args],
                cwd=cwd,
                env=clean_env(cwd, **env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            ),
        )
    results = {}
    for case, (cwd, proc) in started.items():
        stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
        results[case] = (cwd, Result(proc.returncode, stdout, stderr))
    return results


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_usage_errors_exit_2_with_one_clear_line(
    usage_results: dict[str, tuple[Path, Result]], case: str
) -> None:
    cwd, result = usage_results[case]
    words = USAGE_ERRORS[case][2]
    assert "Traceback" not in result.stderr, result.stderr
    assert result.code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scillm-tui: error: ")
    assert words in lines[0]
    assert "sk-config-error-secret" not in result.stderr
    assert result.stdout == ""
    assert not (cwd / "art").exists()
    assert not (cwd / ".artifacts").exists()


# ---- run: where the prompt comes from ------------------------------------------------------------


def test_prompt_from_file(tmp_path: Path, fault_server: BackgroundServer) -> None:
    prompt = "Compare Raft and Paxos — ünïcödé, 日本語\nsecond line\n"
    (tmp_path / "prompt.txt").write_text(prompt, encoding="utf-8")
    result = run_cli(
        tmp_path,
        *("run", "--gateway", fault_server.base_url, "--prompt-file", "prompt.txt"),
        *("--model", "ok", "-n", "1", "--no-judge", "--system", "be brief"),
    )
    assert result.code == 0, result.stderr
    (request,) = requests_for(fault_server, "ok")
    assert request.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": prompt},
    ]


def test_prompt_from_stdin(tmp_path: Path, fault_server: BackgroundServer) -> None:
    prompt = "piped prompt ✓\n"
    result = run_cli(
        tmp_path,
        *("run", "--gateway", fault_server.base_url, "--model", "ok", "-n", "1", "--no-judge"),
        stdin=prompt,
    )
    assert result.code == 0, result.stderr
    (request,) = requests_for(fault_server, "ok")
    assert request.body["messages"] == [{"role": "user", "content": prompt}]


def test_settings_from_env_file_and_env_wins(
    tmp_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    from_file = make_fault_server()
    from_env = make_fault_server()
    (tmp_path / "custom.env").write_text(
        f"CHUTES_API_BASE={from_file.base_url}\nCHUTES_MODEL=burst\nBEST_OF_N=2\n",
        encoding="utf-8",
    )
    result = run_cli(
        tmp_path,
        *("run", "--env-file", "custom.env", "--prompt", "x", "--no-judge"),
        env={"BEST_OF_N": "3"},
    )
    assert result.code == 0, result.stderr
    assert [v["model"] for v in result.json["variants"]] == ["burst"] * 3
    assert len(requests_for(from_file, "burst")) == 3
    assert from_env.app.state.faults.requests == []


# ---- health --------------------------------------------------------------------------------------


def test_health_json_with_both_endpoints_up(
    tmp_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    sidecar = make_fault_server(healthz={"ok": True, "concurrency": 3})
    gateway = make_fault_server()
    result = run_cli(
        tmp_path,
        *("health", "--json", "--sidecar", sidecar.base_url, "--gateway", gateway.base_url),
    )
    assert result.code == 0, result.stderr
    data = result.json
    assert set(data) == {"sidecar", "gateway"}
    assert data["sidecar"]["status"] == "up" and data["gateway"]["status"] == "up"
    assert data["sidecar"]["healthz"] == {"ok": True, "concurrency": 3}
    assert data["sidecar"]["base_url"] == sidecar.base_url
    assert data["gateway"]["latency_ms"] is not None
    assert "ok" in data["gateway"]["models"]


def test_health_table_exit_0_with_only_the_sidecar_configured(
    tmp_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    sidecar = make_fault_server(healthz={"ok": True, "concurrency": 3})
    result = run_cli(tmp_path, "health", "--sidecar", sidecar.base_url)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["endpoint", "status", "latency", "models"]
    sidecar_line = next(line for line in lines if line.startswith("sidecar"))
    assert " up " in sidecar_line and sidecar.base_url in sidecar_line
    assert "concurrency=3" in sidecar_line
    gateway_line = next(line for line in lines if line.startswith("gateway"))
    assert "unconfigured" in gateway_line and "CHUTES_API_BASE" in gateway_line


def test_health_exit_1_when_a_configured_endpoint_is_not_up(
    tmp_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    sidecar = make_fault_server()
    gateway = make_fault_server(models_status=401)
    result = run_cli(
        tmp_path,
        *("health", "--json", "--sidecar", sidecar.base_url, "--gateway", gateway.base_url),
    )
    assert result.code == 1
    assert result.json["sidecar"]["status"] == "up"
    assert result.json["gateway"]["status"] == "auth"


def test_health_exit_1_when_the_sidecar_is_down(tmp_path: Path) -> None:
    url = unused_port_url()
    result = run_cli(tmp_path, "health", "--sidecar", url)
    assert result.code == 1
    assert f"is the sidecar running on {url.removeprefix('http://')}?" in result.stdout


# ---- the demo backend ----------------------------------------------------------------------------


def test_run_demo_export_works_offline(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        *("run", "--demo", "--export", "--prompt", "Explain CRDTs", "-n", "2"),
        *("--max-tokens", "20"),  # the demo paces its answers: keep them short
        env={"CHUTES_API_BASE": unused_port_url(), "CHUTES_API_KEY": "sk-not-for-the-demo"},
    )
    assert result.code == 0, result.stderr
    out = result.json
    assert out["base"].startswith("http://127.0.0.1:")
    assert out["gen_model"] == "demo-fast" and out["judge_model"] == "demo-judge"
    assert [v["status"] for v in out["variants"]] == ["done", "done"]
    assert [v["finish_reason"] for v in out["variants"]] == ["length", "length"]
    assert out["judge"]["best_id"] in ("v1", "v2")
    folder = Path(out["artifacts"]["dir"])
    assert folder.is_absolute()
    assert folder.parent == tmp_path / ".artifacts" / "runs"
    for name in ("leaderboard", "winners", "run"):
        assert (tmp_path / out["artifacts"][name]).is_file()
    assert (folder / "variants" / "v2.md").is_file()
    assert json.loads((folder / "run.json").read_text(encoding="utf-8"))["demo_backend"] is True
    assert (tmp_path / ".artifacts" / "winners.jsonl").is_file()
    assert not list((tmp_path / ".artifacts").rglob("*.lock"))  # the lock leaves nothing
    assert f"exported to {out['artifacts']['dir']}" in result.stderr


def test_health_demo(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "health", "--demo", "--json")
    assert result.code == 0, result.stderr
    assert all(r["status"] == "up" and r["demo"] for r in result.json.values())


# ---- progress stays off stdout -------------------------------------------------------------------


def test_progress_goes_to_a_terminal_stderr_never_to_stdout(
    tmp_path: Path, make_fault_server: Callable[..., BackgroundServer]
) -> None:
    server = make_fault_server(slow_tokens_per_s=40)
    progress_args = ["--model", "slow", "-n", "2", "--judge-model", "judge-ok"]
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            [*CLI, "run", "--gateway", server.base_url, "--prompt", "hi", *progress_args],
            cwd=tmp_path,
            env=clean_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=TIMEOUT_S,
        )
    finally:
        os.close(slave)
    reader.join(TIMEOUT_S)
    os.close(master)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, terminal
    out = json.loads(proc.stdout)  # stdout is exactly one JSON document
    assert out["variants"][0]["text"] == EXPECTED_TEXT["slow"]
    assert b"\x1b" not in proc.stdout
    # The live progress went to the terminal on stderr.
    assert "v1" in terminal and "slow" in terminal and "done" in terminal
    assert "judging with judge-ok" in terminal


def test_progress_on_a_non_terminal_stderr_is_plain_lines(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    result = run_cli(
        tmp_path,
        *("run", "--gateway", fault_server.base_url, "--prompt", "hi"),
        *("--model", "ok", "--model", "401", "-n", "2", "--judge-model", "judge-ok"),
    )
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "\x1b" not in result.stderr  # no redraws in a log
    assert "scillm-tui: v1 (ok) started" in lines
    assert any(line.startswith("scillm-tui: v1 (ok) finished: ") for line in lines)
    failed = [line for line in lines if line.startswith("scillm-tui: v2 (401) failed: ")]
    assert len(failed) == 1 and "key rejected" in failed[0]
    assert lines[-1].startswith("scillm-tui: verdict: v1 wins")
    assert len(lines) == len(set(lines))  # each event once


# ---- the parser ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--judge-m", "x", "--prompt", "hi"],
        ["run", "--judge-mod", "pairwise", "--prompt", "hi"],
        ["run", "--judge-round", "2", "--prompt", "hi"],
        ["run", "--prompt", "hi", "--no-j"],
        ["--dem", "health"],
        ["health", "--js"],
    ],
)
def test_abbreviated_options_are_rejected(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(tmp_path, *args)
    assert result.code == 2, result.stderr
    assert "unrecognized arguments" in result.stderr
    assert result.stdout == ""


def test_a_pairwise_jury_runs_from_the_command_line(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    """judge-ok always says "A" and judge-alias always "B": shown both orders, each finds
    every pair a tie, so the jury finds no winner, and says so (a tie: exit 0)."""
    result = run_cli(
        tmp_path,
        "run",
        *("--gateway", fault_server.base_url, "--prompt", "Explain CRDTs"),
        *("--model", "ok", "--model", "burst", "-n", "2", "--judge-mode", "pairwise"),
        *("--judge-model", "judge-ok", "--judge-model", "judge-alias"),
    )
    assert result.code == 0, result.stderr
    out = result.json
    assert out["judge_model"] == "judge-ok"  # a string always: the first juror
    assert out["judge_models"] == ["judge-ok", "judge-alias"]
    judge = out["judge"]
    assert judge["mode"] == "pairwise" and judge["status"] == "tie" and judge["best_id"] is None
    assert [(j["model"], j["status"], j["pick"]) for j in judge["jurors"]] == [
        ("judge-ok", "tie", None),
        ("judge-alias", "tie", None),
    ]
    lines = result.stderr.splitlines()
    assert "scillm-tui: judging with a jury of judge-ok, judge-alias (pairwise)…" in lines
    assert [ln for ln in lines if " pairs" in ln and "judging " in ln] == [
        f"scillm-tui: judging {i}/4 pairs" for i in range(1, 5)
    ]
    assert lines[-1].startswith("scillm-tui: verdict: tie — no winner")


def test_one_judge_model_is_one_judge_in_the_json(
    tmp_path: Path, fault_server: BackgroundServer
) -> None:
    result = run_cli(
        tmp_path,
        "run",
        *("--gateway", fault_server.base_url, "--prompt", "Explain CRDTs"),
        *("--model", "ok", "-n", "2", "--judge-model", "judge-ok"),
    )
    assert result.code == 0, result.stderr
    out = result.json
    assert out["judge_models"] == ["judge-ok"]
    assert out["judge"]["mode"] == "listwise" and out["judge"]["jurors"] == []
    assert "scillm-tui: judging 1/1 rounds" in result.stderr.splitlines()


@pytest.mark.parametrize("before", [True, False])
def test_artifacts_dir_is_a_general_flag(tmp_path: Path, before: bool) -> None:
    flag = ["--artifacts-dir", "art"]
    run = ["run", "--demo", "--export", "--no-judge", "--prompt", "hi", "-n", "1"]
    result = run_cli(tmp_path, *(flag + run if before else run + flag))
    assert result.code == 0, result.stderr
    assert Path(result.json["artifacts"]["dir"]).parent == tmp_path / "art" / "runs"
    assert not (tmp_path / ".artifacts").exists()


def test_artifacts_dir_reaches_the_dashboards_settings(tmp_path: Path) -> None:
    from scillm_tui.cli.main import build_parser
    from scillm_tui.session import settings_from_args

    args = build_parser().parse_args(["--artifacts-dir", "dash-art"])
    assert args.command is None  # the dashboard
    assert settings_from_args(args).artifacts_dir == Path("dash-art")


def test_run_help_documents_every_option_its_defaults_and_exit_codes(tmp_path: Path) -> None:
    from scillm_tui.cli.main import build_parser

    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    for name, parser in subparsers.choices.items():
        for action in parser._actions:
            assert action.help, f"{name} {action.option_strings} has no help"
    result = run_cli(tmp_path, "run", "--help")
    assert result.code == 0
    text = " ".join(result.stdout.split())
    assert "--temperature T sampling temperature (default: 0.7)" in text
    assert "(default: 1)" in text  # --judge-rounds
    assert "exit codes: 0 a verdict" in text
    assert "1 nothing usable" in text and "2 a usage or configuration error" in text
