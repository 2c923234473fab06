"""Every ``partdeck`` sub-command, one module per command family.

:data:`COMMANDS` is the table the parser and the dispatcher read, in ``--help`` order. A
new command (or family, e.g. ``service start|stop|status``) is one module here exposing a
:class:`Command`, plus its entry in the table.
"""

from __future__ import annotations

from tui.cli.commands import listing, pause, remote, sandbox, service, session_ops, upload
from tui.cli.commands.common import Command

__all__ = ["BY_NAME", "COMMANDS", "Command"]

COMMANDS: tuple[Command, ...] = (
    upload.UPLOAD,
    listing.SESSIONS,
    listing.SHOW,
    upload.RESUME,
    pause.PAUSE,
    upload.RETRY,
    session_ops.COMPLETE,
    session_ops.ABORT,
    session_ops.VERIFY,
    session_ops.INSPECT,
    remote.REMOTE,
    sandbox.DEMO,
    sandbox.SANDBOX,
    service.SERVICE,
)
"""Every sub-command, in the order ``partdeck --help`` lists them."""

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
