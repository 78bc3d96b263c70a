"""`scillm-tui run`: one best-of-N run (+ judge) driven from a script, JSON on stdout."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from scillm_tui.cli.exit_codes import EXIT_FAILED, EXIT_OK
from scillm_tui.cli.progress import Progress, progress_for
from scillm_tui.core.artifacts import export_run
from scillm_tui.core.endpoints import EndpointName
from scillm_tui.core.errors import ConfigError, first_problem
from scillm_tui.core.health_report import endpoint_limits
from scillm_tui.core.judge import JudgeProgress, JudgeSpec, Verdict, judge_events
from scillm_tui.core.records import run_output
from scillm_tui.core.run_history import HistoryRecorder
from scillm_tui.core.runs import Run, RunSpec
from scillm_tui.session import Session


def read_prompt(args: argparse.Namespace, stdin: TextIO | None = None) -> str:
    stdin = stdin or sys.stdin
    if args.prompt is not None:
        prompt = args.prompt
    elif args.prompt_file is not None:
        try:
            prompt = Path(args.prompt_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"--prompt-file: cannot read {args.prompt_file}: {exc.strerror}"
            ) from None
    elif stdin is not None and not stdin.isatty():
        prompt = stdin.read()
    else:
        raise ConfigError("no prompt: use --prompt TEXT, --prompt-file PATH or pipe it on stdin")
    if not prompt.strip():
        raise ConfigError("the prompt is empty")
    return prompt


def build_spec(session: Session, args: argparse.Namespace, prompt: str) -> RunSpec:
    settings = session.settings
    target: EndpointName = args.target or session.default_target
    if target == "gateway" and not settings.gateway_configured:
        raise ConfigError("--target gateway: the gateway is not configured — set CHUTES_API_BASE")
    try:
        return RunSpec(
            prompt=prompt,
            system=args.system,
            target=target,
            models=args.model or [settings.model],
            n=args.n or settings.best_of_n,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
            concurrency=args.concurrency,
        )
    except ValueError as exc:
        raise ConfigError(first_problem(exc)) from None


def run_command(session: Session, args: argparse.Namespace) -> int:
    prompt = read_prompt(args)
    spec = build_spec(session, args, prompt)
    judge_target = args.judge_target or spec.target
    judge_models = list(dict.fromkeys(args.judge_model or [])) or [
        session.settings.effective_judge_model
    ]
    if judge_target == "gateway" and not session.settings.gateway_configured and not args.no_judge:
        raise ConfigError("--judge-target gateway: the gateway is not configured")
    judge = (
        None
        if args.no_judge
        else JudgeSpec(
            model=judge_models[0],
            models=tuple(judge_models) if len(judge_models) > 1 else (),
            mode=args.judge_mode,
            target=judge_target,
            rounds=args.judge_rounds,
            seed=args.judge_seed,
        )
    )
    progress = progress_for(sys.stderr)
    output, code = asyncio.run(_run(session, spec, judge, export=args.export, progress=progress))
    sys.stdout.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
    return code


async def _run(
    session: Session,
    spec: RunSpec,
    judge: JudgeSpec | None,
    *,
    export: bool,
    progress: Progress | None,
) -> tuple[dict, int]:
    backends = session.make_backends()
    recorder = await HistoryRecorder.aopen(enabled=session.history_enabled)
    if recorder.warning:
        print(f"scillm-tui: warning: {recorder.warning}", file=sys.stderr)
    try:
        limits: dict[EndpointName, int] = {}
        if sum(v.endpoint == "sidecar" for v in spec.plan().values()) > 1:
            # Over the sidecar's /healthz `concurrency`, requests wait in its queue and
            # look slow: the run holds them instead, so their TTFT is the model's.
            limits = endpoint_limits({"sidecar": await backends.probe("sidecar")})
        run = Run(spec, backends, endpoint_limits=limits)
        recorder.run_started(run)
        interrupted = False
        try:
            async for _event in run.events():
                if progress is not None:
                    progress.update(run)
        except asyncio.CancelledError:  # Ctrl-C: keep what arrived, still report it
            interrupted = True
        finally:
            recorder.run_finished(run, "interrupted" if interrupted else None)
        if progress is not None:
            progress.finish(run)
        verdict: Verdict | None = None
        if judge is not None and not interrupted:
            if progress is not None:
                progress.say(f"judging with {_judges(judge)}…")
            async for event in judge_events(run, backends, judge):
                if isinstance(event, JudgeProgress):
                    if progress is not None:
                        progress.judging(event)
                else:
                    verdict = event
            if verdict is not None:
                recorder.add_judgment(run.run_id, verdict)
            if progress is not None and verdict is not None:
                progress.verdict(verdict)
        artifacts = None
        code = _exit_code(run, verdict, judged=judge is not None)
        if export:
            try:
                result = export_run(run, verdict, session.settings.artifacts_dir)
            except OSError as exc:  # the run's results still go to stdout
                where = session.settings.artifacts_dir
                print(
                    f"scillm-tui: error: could not export to {where}: {exc.strerror or exc}",
                    file=sys.stderr,
                )
                code = EXIT_FAILED
            else:
                artifacts = result.as_dict()
                print(f"scillm-tui: exported to {artifacts['dir']}", file=sys.stderr)
        output = run_output(
            run,
            verdict,
            artifacts,
            judge.model if judge else None,
            judge_models=judge.jurors if judge else None,
        )
        return output, code
    finally:
        await recorder.aclose()
        if recorder.write_error:
            print(f"scillm-tui: warning: {recorder.write_error}", file=sys.stderr)
        await backends.aclose()


def _exit_code(run: Run, verdict: Verdict | None, *, judged: bool) -> int:
    any_done = any(v.status == "done" for v in run.variants.values())
    if not judged:
        return EXIT_OK if any_done else EXIT_FAILED
    if verdict is not None and verdict.status in ("verdict", "default", "tie"):
        return EXIT_OK
    return EXIT_FAILED


def _judges(judge: JudgeSpec) -> str:
    """ "judge-a (1 round(s))", "a jury of a, b and c (pairwise)" for the progress line."""
    how = "pairwise" if judge.mode == "pairwise" else f"{judge.rounds} round(s)"
    if len(judge.jurors) == 1:
        return f"{judge.model} ({how})"
    return f"a jury of {', '.join(judge.jurors)} ({how})"
