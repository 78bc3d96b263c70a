"""The `scillm-tui` entry point: the parser, and dispatch to one module per command.

Each command's module is imported only when it runs: Textual only for the dashboard, so
`health` and `run` stay fast. Exit codes are in `exit_codes`.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from scillm_tui import __version__
from scillm_tui.cli.arg_types import positive_float, positive_int
from scillm_tui.cli.exit_codes import EXIT_CODES, EXIT_USAGE


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default after its help, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and action.option_strings
            and default not in (None, False, argparse.SUPPRESS)
        ):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2, and never takes
    an abbreviation for an option (`--judge-m` is not `--judge-model`: a typo such as
    `--judge-mode pairwise` must fail, not quietly set another option)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"scillm-tui: error: {message}\n")


def _common(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """Flags accepted before or after the subcommand. In subcommands their defaults are
    suppressed, so `scillm-tui --demo health` keeps the flag given before the subcommand."""
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if sub else {}
    parser.add_argument(
        "--env-file", metavar="PATH", help="read settings from this .env file", **default
    )
    parser.add_argument(
        "--gateway", metavar="URL", help="gateway base URL (CHUTES_API_BASE)", **default
    )
    parser.add_argument(
        "--sidecar", metavar="URL", help="sidecar base URL (CODEX_AGENT_API_BASE)", **default
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the built-in demo backend (no network, no keys) for both endpoints",
        **default,
    )
    parser.add_argument(
        "--artifacts-dir",
        metavar="DIR",
        help="where exports go: `run --export` and the dashboard's ctrl+e "
        "(SCILLM_ARTIFACTS_DIR; default .artifacts)",
        **default,
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="do not record runs in the run history (also SCILLM_HISTORY=0)",
        **default,
    )


def _exit_codes_epilog() -> str:
    lines = [
        textwrap.fill(meaning, 78, initial_indent=f"  {code}  ", subsequent_indent="     ")
        for code, meaning in EXIT_CODES.items()
    ]
    return "exit codes:\n" + "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scillm-tui",
        description="Terminal cockpit for best-of-N + judge runs against OpenAI-compatible "
        "endpoints. Without a command it opens the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"scillm-tui {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    health = sub.add_parser(
        "health",
        help="probe the sidecar and the gateway",
        description="Probe the sidecar and the gateway: a table (or JSON) on stdout.",
        epilog="exit codes:\n  0  every configured endpoint is up\n  1  one is not\n"
        "  2  a usage or configuration error",
    )
    _common(health, sub=True)
    health.add_argument("--json", action="store_true", help="print JSON instead of a table")

    run = sub.add_parser(
        "run",
        help="run best-of-N (+ judge) headless and print JSON",
        description="Run best-of-N (+ judge) without the dashboard: JSON on stdout, "
        "progress on stderr.",
        epilog=_exit_codes_epilog(),
    )
    _common(run, sub=True)
    source = run.add_mutually_exclusive_group()
    source.add_argument("--prompt", metavar="TEXT", help="the prompt (else --prompt-file or stdin)")
    source.add_argument("--prompt-file", metavar="PATH", help="read the prompt from this file")
    run.add_argument("--system", metavar="TEXT", help="system prompt")
    run.add_argument(
        "--target",
        choices=["gateway", "sidecar"],
        help="endpoint for models without a codex-agent/ prefix "
        "(default: gateway if configured, else sidecar)",
    )
    run.add_argument(
        "--model",
        action="append",
        metavar="M",
        help="generator model; repeat to compare models (default: CHUTES_MODEL)",
    )
    run.add_argument(
        "-n", type=positive_int, metavar="N", help="number of variants (default: BEST_OF_N, 3)"
    )
    run.add_argument(
        "--temperature", type=float, metavar="T", default=0.7, help="sampling temperature"
    )
    run.add_argument(
        "--max-tokens", type=positive_int, metavar="K", help="cap on each variant's tokens"
    )
    run.add_argument(
        "--concurrency",
        type=positive_int,
        metavar="C",
        help="cap on open streams (default: all at once)",
    )
    run.add_argument(
        "--judge-model",
        action="append",
        metavar="M",
        help="judge model (default: JUDGE_MODEL, else the model); repeat for a jury: "
        "each juror judges, the majority wins, a level vote goes to the higher mean score",
    )
    run.add_argument(
        "--judge-mode",
        choices=["listwise", "pairwise"],
        default="listwise",
        help="listwise: all answers at once, --judge-rounds times shuffled (default); "
        "pairwise: every pair in both orders, N·(N−1) calls, a pair whose orders disagree "
        "is a tie, most pair wins is best",
    )
    run.add_argument(
        "--judge-target",
        choices=["gateway", "sidecar"],
        help="endpoint for the judge (default: the run's target)",
    )
    run.add_argument(
        "--judge-rounds",
        type=positive_int,
        default=1,
        metavar="K",
        help="listwise: judge K times, candidates shuffled, majority wins",
    )
    run.add_argument("--judge-seed", type=int, metavar="S", help="seed for shuffling rounds")
    run.add_argument("--no-judge", action="store_true", help="skip the judge")
    run.add_argument(
        "--export", action="store_true", help="write the artifacts folder (see --artifacts-dir)"
    )

    from scillm_tui.cli.batch import add_parser as add_batch_parser

    add_batch_parser(sub, _common, positive_int, _exit_codes_epilog())

    from scillm_tui.cli import history, leaderboard

    history.add_parser(sub)
    leaderboard.add_parser(sub)

    from scillm_tui.cli.prefs import add_parser as add_prefs

    add_prefs(sub)

    from scillm_tui.cli import open as open_cli

    _common(open_cli.add_parser(sub), sub=True)

    serve = sub.add_parser("serve-demo", help="run the built-in demo backend in the foreground")
    serve.add_argument("--port", type=int, default=8089, help="port on 127.0.0.1 (0 = any free)")
    serve.add_argument("--speed", type=positive_float, default=1.0, help="pace multiplier")
    return parser


def _skip_httpx_cli() -> None:
    """Keep httpx's optional command-line client out of this process.

    `import httpx` also imports `httpx._main` (click, pygments, rich.progress: ~25 ms of
    start-up) whenever those happen to be installed, and scillm-tui never runs it. A None
    entry in sys.modules makes that import fail, which httpx handles with a stub `main`.
    """
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    _skip_httpx_cli()
    args = build_parser().parse_args(argv)
    if args.command == "serve-demo":
        from scillm_tui.cli.serve_demo import serve_demo_command

        return serve_demo_command(port=args.port, speed=args.speed)
    if args.command == "history":
        from scillm_tui.cli.history import history_command

        return history_command(args)
    if args.command == "leaderboard":
        from scillm_tui.cli.leaderboard import leaderboard_command

        return leaderboard_command(args)

    if args.command == "prefs":
        from scillm_tui.cli.prefs import prefs_command

        return prefs_command(args)

    from scillm_tui.core.errors import ConfigError

    try:
        if args.command is None:  # the dashboard
            return _dashboard(args)
        if args.command == "open":
            from scillm_tui.cli.open import open_command

            return open_command(args)
        return _headless(args)
    except ConfigError as exc:
        print(f"scillm-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _headless(args: argparse.Namespace) -> int:
    from scillm_tui.session import open_session

    with open_session(args) as session:
        if args.command == "health":
            from scillm_tui.cli.health import health_command

            return health_command(session, as_json=args.json)
        if args.command == "batch":
            from scillm_tui.cli.batch import batch_command

            return batch_command(session, args)
        from scillm_tui.cli.run import run_command

        return run_command(session, args)


def _dashboard(args: argparse.Namespace) -> int:
    from scillm_tui.cli.dashboard import dashboard_command

    return dashboard_command(args)


if __name__ == "__main__":
    raise SystemExit(main())
