"""Every ``partdeck`` sub-command, one module per command family.

:data:`COMMANDS` is the table the parser and the dispatcher read, in ``--help`` order. It
is light: each row's arguments come from :mod:`tui.cli.commands.arguments`, and each
row's handler imports its family's module only when it runs, so ``--version``, ``--help``
and ``sessions`` pay for no other command (the engine, the providers, httpx, asyncio).
A new command (or family, e.g. ``service start|stop|status``) is a module here with its
``cmd_*`` function, its arguments in :mod:`~tui.cli.commands.arguments`, and a row below.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from tui.cli.commands import arguments as a
from tui.cli.commands.command import Command
from tui.cli.options import add_session_arg

if TYPE_CHECKING:
    from tui.cli.context import Context

__all__ = ["BY_NAME", "COMMANDS", "Command"]


# The handlers: each imports its command's implementation when the command runs.


def _upload(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.upload import cmd_upload

    return cmd_upload(ctx)


def _sessions(ctx: Context) -> int:
    from tui.cli.commands.listing import cmd_sessions

    return cmd_sessions(ctx)


def _show(ctx: Context) -> int:
    from tui.cli.commands.listing import cmd_show

    return cmd_show(ctx)


def _resume(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.upload import cmd_resume

    return cmd_resume(ctx)


def _pause(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.pause import cmd_pause

    return cmd_pause(ctx)


def _retry(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.upload import cmd_retry

    return cmd_retry(ctx)


def _complete(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.session_ops import cmd_complete

    return cmd_complete(ctx)


def _abort(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.session_ops import cmd_abort

    return cmd_abort(ctx)


def _verify(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.session_ops import cmd_verify

    return cmd_verify(ctx)


def _inspect(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.session_ops import cmd_inspect

    return cmd_inspect(ctx)


def _remote(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.remote import cmd_remote

    return cmd_remote(ctx)


def _auth(ctx: Context) -> Awaitable[int]:
    from tui.cli.commands.auth import cmd_auth

    return cmd_auth(ctx)


def _demo(ctx: Context) -> int:
    from tui.cli.commands.sandbox import cmd_demo

    return cmd_demo(ctx)


def _sandbox(ctx: Context) -> int:
    from tui.cli.commands.sandbox import cmd_sandbox

    return cmd_sandbox(ctx)


def _service(ctx: Context) -> int:
    from tui.cli.commands.service import cmd_service

    return cmd_service(ctx)


COMMANDS: tuple[Command, ...] = (
    Command("upload", "upload files in parts to one account", _upload,
            arguments=a.upload_arguments),
    Command("sessions", "list every session in the journal", _sessions, reading=True),
    Command("show", "show one session and every part", _show, arguments=add_session_arg,
            reading=True),
    Command("resume", "carry on with a session", _resume, arguments=a.resume_arguments),
    Command("pause", "stop sending a session's parts; it stays resumable", _pause,
            arguments=a.pause_arguments),
    Command("retry", "send parts of a session again", _retry, arguments=a.retry_arguments),
    Command("complete", "finish a session whose parts are all sent", _complete,
            arguments=a.complete_arguments),
    Command("abort", "discard a session's remote upload", _abort, arguments=add_session_arg),
    Command("verify", "re-hash the local file against the recorded fingerprints", _verify,
            arguments=add_session_arg, reading=True),
    Command("inspect", "why a session is stuck: journal, local file and server", _inspect,
            arguments=add_session_arg, reading=True),
    Command("remote", "incomplete uploads the server holds, joined with the journal", _remote,
            arguments=a.remote_arguments, reading=True),
    Command("auth", "sign a Box account in (auth = \"oauth\", pasting the code over SSH) "
            "or check one (\"ccg\")", _auth, arguments=a.auth_arguments, json_flag=False),
    Command("demo", "upload a sample file to every provider of an in-process sandbox, offline",
            _demo, json_flag=False),
    Command("sandbox", "serve every provider's emulator on loopback and write a config for "
            "them", _sandbox, arguments=a.sandbox_arguments, json_flag=False),
    Command("service", "the per-user service that owns the uploads: start, stop, restart, "
            "status, install, run", _service, arguments=a.service_arguments),
)  # fmt: skip
"""Every sub-command, in the order ``partdeck --help`` lists them."""

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
