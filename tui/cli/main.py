"""The ``partdeck`` command line: sub-commands that drive the engine headless.

Exit codes: 0 when everything asked for succeeded, 1 when an upload (or a remote call)
failed, 2 for usage and configuration errors. Errors are one line on stderr; an
unexpected one is logged with its traceback in the state dir, never printed.

The sub-commands themselves are in :mod:`tui.cli.commands` (the table is
``tui.cli.commands.COMMANDS``); this module parses, dispatches and turns what goes wrong
into one line and an exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Sequence

from tui import __version__
from tui.cli.commands import BY_NAME, COMMANDS, Command
from tui.cli.context import (
    EXIT_FAILED,
    EXIT_HANGUP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Context,
)
from tui.cli.options import Parser
from tui.cli.output import say
from tui.core.errors import (
    ConfigError,
    LocalFileError,
    PartdeckError,
    SessionBusy,
    UsageError,
)
from tui.core.paths import resolve_state_dir
from tui.streams import guarded_streams

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Context",
    "build_parser",
    "main",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""

    def common(default: object) -> Parser:
        """--config and --state-dir, taken before the command or after it. After it, they
        default to nothing at all (SUPPRESS): a default there would overwrite a value
        given before the command."""
        p = Parser(add_help=False)
        p.add_argument(
            "--config", metavar="PATH", default=default, help="config file (else $PARTDECK_CONFIG)"
        )
        p.add_argument(
            "--state-dir",
            metavar="DIR",
            default=default,
            help="journal and locks (else $PARTDECK_STATE_DIR)",
        )
        p.add_argument(
            "--no-service",
            action="store_true",
            default=argparse.SUPPRESS if default is argparse.SUPPRESS else False,
            help="run the engine in this process instead of the per-user service",
        )
        return p

    after_command = common(argparse.SUPPRESS)
    parser = Parser(
        prog="partdeck",
        description="Multipart uploads to storage providers, from a terminal UI or headless.",
        parents=[common(None)],
    )
    parser.add_argument("--version", action="version", version=f"partdeck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def command(c: Command) -> None:
        p = sub.add_parser(c.name, help=c.help, description=c.help, parents=[after_command])
        if c.json_flag:
            p.add_argument("--json", action="store_true", help="one JSON object per line")
        c.arguments(p)

    for c in COMMANDS:
        command(c)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; a file whose name starts with "-" gets its own advice."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        return build_parser().parse_args(words)
    except UsageError:
        before = words[: words.index("--")] if "--" in words else words
        for word in before:
            if word.startswith("-") and os.path.lexists(word):
                raise UsageError(
                    f"{word} looks like an option but is a file here; put file names that "
                    f"start with - after -- (partdeck upload --account NAME -- {word}) or "
                    f"write ./{word}"
                ) from None
        raise


async def _run_interruptible(ctx: Context, coro: Awaitable[int]) -> int:
    """Run a command; SIGINT/SIGTERM pause the sessions it drives (they stay resumable);
    SIGHUP (the terminal went away) only stops it following them: the service goes on."""
    import asyncio
    import signal

    task = asyncio.ensure_future(coro)
    loop = asyncio.get_running_loop()

    def stop(hangup: bool) -> None:
        ctx.hangup = hangup
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, False)
    loop.add_signal_handler(signal.SIGHUP, stop, True)
    try:
        return await task
    except asyncio.CancelledError:
        if ctx.hangup:
            return EXIT_HANGUP
        say("interrupted; sessions are paused, resume with partdeck resume SESSION")
        return EXIT_INTERRUPTED


_READING_COMMANDS = frozenset(c.name for c in COMMANDS if c.reading)
"""Commands whose whole work is their output: losing it (other than to a reader that left)
is their failure."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``partdeck`` console script.

    stdout and stderr are guarded: a reader that closes the pipe (``| head -1``) ends the
    output quietly and never the work; an upload goes on to its end.
    """
    with guarded_streams() as guards:
        ctx: Context | None = None
        try:
            ctx, code = _main(argv)
        finally:
            problem = guards.write_error()
        if problem is None:
            return code
        say(problem)
        command = ctx.args.command if ctx is not None else None
        return EXIT_FAILED if code == EXIT_OK and command in _READING_COMMANDS else code


def _run(ctx: Context) -> int:
    """Run the command ``ctx.args`` names (the UI when none): in an interruptible asyncio
    loop when it is a coroutine function."""
    if ctx.args.command is None:
        from tui.cli.commands.ui import cmd_ui  # Textual: only for the UI

        return cmd_ui(ctx)
    outcome = BY_NAME[ctx.args.command].run(ctx)
    if isinstance(outcome, int):
        return outcome
    # asyncio only here: the commands that return an exit code at once (--version, --help,
    # sessions) never load it.
    import asyncio

    return asyncio.run(_run_interruptible(ctx, outcome))


def _main(argv: Sequence[str] | None) -> tuple[Context | None, int]:
    """Run one command; the context (when it got that far) and the exit code."""
    ctx: Context | None = None
    try:
        args = _parse(argv)
        ctx = Context(args)
        return ctx, _run(ctx)
    except (ConfigError, UsageError, LocalFileError, SessionBusy) as exc:
        say(str(exc))
        return ctx, EXIT_USAGE
    except PartdeckError as exc:
        say(str(exc))
        return ctx, EXIT_FAILED
    except KeyboardInterrupt:
        say("interrupted")
        return ctx, EXIT_INTERRUPTED
    except Exception as exc:
        from tui.cli.logs import log_unexpected  # logging: only for what went wrong

        where = log_unexpected(ctx.state_dir if ctx is not None else resolve_state_dir(None))
        say(
            f"internal error ({type(exc).__name__}); nothing uploaded is lost, "
            f"details in {where}; please report it"
        )
        return ctx, EXIT_FAILED
    finally:
        if ctx is not None and ctx.sandbox is not None:
            ctx.sandbox.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
