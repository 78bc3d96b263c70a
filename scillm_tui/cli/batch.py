"""`scillm-tui batch FILE`: every prompt of a file × N variants × judge, recorded in the
history with a batch id; progress on stderr, one JSON object (counts and the batch's
leaderboard) on stdout. ctrl+c stops cleanly and says how to `--resume`."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scillm_tui.cli.exit_codes import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from scillm_tui.cli.batch_progress import BatchProgress
    from scillm_tui.core.batch.runner import BatchConfig, BatchRunner
    from scillm_tui.core.judge import JudgeSpec
    from scillm_tui.core.run_history import BatchRun
    from scillm_tui.session import Session

DEFAULT_CONCURRENCY = 8
TICK_S = 0.2


def add_parser(
    sub: Any,
    common: Callable[..., None],
    positive_int: Callable[[str], int],
    epilog: str,
) -> None:
    """The `batch` subcommand (kept here so main.py only registers it)."""
    batch = sub.add_parser(
        "batch",
        help="run every prompt of a file (best-of-N + judge), recorded, with a leaderboard",
        description="Run every prompt of FILE as an ordinary run (+ judge), recorded in the "
        "history under one batch id. Progress on stderr; at the end one JSON object on "
        "stdout: the batch id, counts and the batch's leaderboard. ctrl+c stops cleanly "
        "(twice: interrupts the prompts in flight); --resume runs what is left.",
        epilog=epilog,
    )
    common(batch, sub=True)
    batch.add_argument(
        "file",
        metavar="FILE",
        help=".txt (a prompt per line; blank lines and # comments skipped), .jsonl "
        '({"prompt", "system"?, "id"?, "tags"?} per line) or .csv (a prompt column; '
        "optional system, id, tags). Ids default to a hash of the prompt",
    )
    batch.add_argument(
        "--model",
        action="append",
        metavar="M",
        help="generator model; repeat to compare models (default: CHUTES_MODEL, or the "
        "resumed batch's)",
    )
    batch.add_argument(
        "-n", type=positive_int, metavar="N", help="variants per prompt (default: BEST_OF_N, 3)"
    )
    batch.add_argument(
        "--target",
        choices=["gateway", "sidecar"],
        help="endpoint for models without a codex-agent/ prefix "
        "(default: gateway if configured, else sidecar)",
    )
    batch.add_argument(
        "--temperature", type=float, metavar="T", default=0.7, help="sampling temperature"
    )
    batch.add_argument(
        "--max-tokens", type=positive_int, metavar="K", help="cap on each variant's tokens"
    )
    batch.add_argument(
        "--judge-model",
        action="append",
        metavar="J",
        help="judge model (default: JUDGE_MODEL, else the model; repeat for a jury where "
        "the judge mode takes several)",
    )
    batch.add_argument(
        "--judge-mode",
        metavar="MODE",
        help="how the judge decides, passed to the judge (default: its usual single pick)",
    )
    batch.add_argument(
        "--judge-target",
        choices=["gateway", "sidecar"],
        help="endpoint for the judge (default: the batch's target)",
    )
    batch.add_argument(
        "--judge-rounds",
        type=positive_int,
        default=1,
        metavar="K",
        help="judge each prompt K times, candidates shuffled, majority wins",
    )
    batch.add_argument("--no-judge", action="store_true", help="skip the judge")
    batch.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="C",
        help="streams in flight across the whole batch",
    )
    batch.add_argument(
        "--resume",
        metavar="BATCH_ID",
        help="continue that batch: prompts already judged with the same models, n and "
        "judge are skipped",
    )
    batch.add_argument(
        "--tag", action="append", metavar="T", help="tag every run of the batch (repeatable)"
    )
    batch.add_argument(
        "--export",
        action="store_true",
        help="also write each run's artifacts folder, as `run --export` (see --artifacts-dir)",
    )


def _history_on(session: Session) -> bool:
    flag = getattr(session, "history_enabled", None)  # `--no-history` (another branch)
    if isinstance(flag, bool):
        return flag
    from scillm_tui.core.run_history import history_enabled

    return history_enabled()


def _judge_spec(
    session: Session, args: argparse.Namespace, target: str, models: list[str]
) -> JudgeSpec | None:
    from scillm_tui.core.errors import ConfigError
    from scillm_tui.core.judge import JudgeSpec

    if args.no_judge:
        return None
    judge_target = args.judge_target or target
    if judge_target == "gateway" and not session.settings.gateway_configured:
        raise ConfigError("--judge-target gateway: the gateway is not configured")
    judges = args.judge_model or [session.settings.effective_judge_model]
    fields: dict[str, Any] = {
        "model": judges[0],
        "target": judge_target,
        "rounds": args.judge_rounds,
    }
    known = JudgeSpec.model_fields
    if args.judge_mode is not None:
        if "mode" not in known:
            raise ConfigError("--judge-mode: this build has only the single-pick judge")
        fields["mode"] = args.judge_mode
    if len(judges) > 1:
        if "models" not in known:
            raise ConfigError("--judge-model: this build takes one judge model")
        fields["models"] = judges
    try:
        return JudgeSpec(**fields)
    except ValueError as exc:
        from scillm_tui.core.errors import first_problem

        raise ConfigError(first_problem(exc)) from None


def _config(session: Session, args: argparse.Namespace, resumed: list[BatchRun]) -> BatchConfig:
    from scillm_tui.core.batch.runner import BatchConfig, new_batch_id
    from scillm_tui.core.errors import ConfigError

    settings = session.settings
    target = args.target or session.default_target
    if target == "gateway" and not settings.gateway_configured:
        raise ConfigError("--target gateway: the gateway is not configured — set CHUTES_API_BASE")
    first = resumed[0] if resumed else None
    models = args.model or (first.models if first else [settings.model])
    n = args.n or (first.n if first else settings.best_of_n)
    judge = _judge_spec(session, args, target, models)
    if judge is not None and args.judge_model is None and resumed:
        earlier = next((r.judge_model for r in resumed if r.judge_model), None)
        if earlier is not None:
            judge = judge.model_copy(update={"model": earlier})
    return BatchConfig(
        batch_id=args.resume or new_batch_id(),
        models=[m.strip() for m in models if m.strip()],
        n=n,
        target="gateway" if target == "gateway" else "sidecar",
        judge=judge,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        concurrency=args.concurrency,
        tags=tuple(args.tag or ()),
        export_dir=settings.artifacts_dir if args.export else None,
    )


def batch_command(session: Session, args: argparse.Namespace) -> int:
    from scillm_tui.cli.batch_progress import batch_progress_for
    from scillm_tui.core.batch.prompts import PromptFileError, read_prompts
    from scillm_tui.core.errors import ConfigError

    try:
        prompts = read_prompts(Path(args.file))
    except PromptFileError as exc:
        raise ConfigError(str(exc)) from None
    if args.resume is not None and not _history_on(session):
        raise ConfigError("--resume needs the run history (it is off: SCILLM_HISTORY=0)")
    progress = batch_progress_for(sys.stderr)
    output, code = asyncio.run(_batch(session, args, prompts, progress))
    sys.stdout.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
    return code


async def _batch(
    session: Session, args: argparse.Namespace, prompts: list[Any], progress: BatchProgress
) -> tuple[dict[str, Any], int]:
    from scillm_tui.core.batch.leaderboard import batch_leaderboard, rows_from_battles
    from scillm_tui.core.batch.runner import BatchRunner, done_prompt_ids
    from scillm_tui.core.errors import ConfigError
    from scillm_tui.core.health_report import endpoint_limits
    from scillm_tui.core.run_history import HistoryRecorder
    from scillm_tui.core.runs import StreamLimits, plan_variants

    recorder = await HistoryRecorder.aopen(enabled=_history_on(session))
    if recorder.warning:
        progress.say(recorder.warning)
    resumed: list[BatchRun] = []
    if args.resume is not None:
        if recorder.store is None:
            raise ConfigError(f"--resume: the run history cannot be read ({recorder.warning})")
        resumed = await asyncio.to_thread(recorder.store.batch_runs, args.resume)
        if not resumed:
            await recorder.aclose()
            raise ConfigError(f"--resume: no batch {args.resume!r} in the run history")
    config = _config(session, args, resumed)
    judge_calls = config.judge.concurrency if config.judge is not None else 0
    backends = session.make_backends(streams=config.concurrency + judge_calls)
    try:
        limits_by_endpoint = {}
        if any(
            v.endpoint == "sidecar"
            for v in plan_variants(config.models, config.n, config.target).values()
        ):
            limits_by_endpoint = endpoint_limits({"sidecar": await backends.probe("sidecar")})
        limits = StreamLimits(config.concurrency, limits_by_endpoint)
        done = done_prompt_ids(resumed, config)
        runner: BatchRunner
        runner = BatchRunner(
            prompts,
            config,
            backends,
            recorder,
            limits=limits,
            done_ids=done,
            on_prompt=lambda outcome: progress.prompt_done(outcome, runner.stats()),
        )
        progress.say(
            f"batch {config.batch_id}: {len(prompts)} prompts"
            + (f", {len(done & {p.id for p in prompts})} done before" if resumed else "")
            + f" × {config.n} variants of {', '.join(config.models)}"
            + (f", judge {config.judge.model}" if config.judge else ", no judge")
        )
        _on_sigint(runner, progress)
        ticker = asyncio.create_task(_tick(runner, progress))
        try:
            stats = await runner.run()
        finally:
            ticker.cancel()
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        progress.close(stats)
        await recorder.flush()
        if recorder.store is not None:
            board = await asyncio.to_thread(batch_leaderboard, recorder.store, config.batch_id)
        else:
            board = rows_from_battles(runner.battles)
    finally:
        await backends.aclose()
        await recorder.aclose()
    stopped = stats.stopping and stats.done + stats.skipped < stats.total
    output: dict[str, Any] = {
        "batch_id": config.batch_id,
        "file": str(args.file),
        "models": config.models,
        "n": config.n,
        "judge_model": config.judge.model if config.judge else None,
        "stopped": stopped,
        "counts": {
            "prompts": stats.total,
            "judged": stats.judged,
            "finished": stats.finished,
            "failed": stats.failed,
            "interrupted": stats.interrupted,
            "skipped": stats.skipped,
            "not_started": stats.total - stats.skipped - stats.done,
        },
        "leaderboard": board,
    }
    if stopped or stats.interrupted or stats.failed:
        hint = f"scillm-tui batch {args.file} --resume {config.batch_id}"
        output["resume"] = hint
        progress.say(f"stopped; to run the rest: {hint}" if stopped else f"to retry: {hint}")
    good = stats.skipped + (stats.judged if config.judge else stats.finished)
    return output, EXIT_OK if good else EXIT_FAILED


def _on_sigint(runner: BatchRunner, progress: BatchProgress) -> None:
    """First ctrl+c: start no new prompt, let those in flight finish. Second: interrupt
    them too (recorded as interrupted; `--resume` runs them again)."""

    def handle() -> None:
        if not runner.stopping:
            runner.stop()
            progress.say(
                "ctrl+c: no new prompts; those in flight finish (ctrl+c again to interrupt them)"
            )
        else:
            runner.cancel()
            progress.say("ctrl+c: interrupting the prompts in flight")

    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, handle)


async def _tick(runner: BatchRunner, progress: BatchProgress) -> None:
    while True:
        progress.tick(runner.stats())
        await asyncio.sleep(TICK_S)
