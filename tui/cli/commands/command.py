"""What a command is: :class:`Command`, one row of the table in :mod:`tui.cli.commands`.

This module and :mod:`tui.cli.commands.arguments` are all that building the parser
imports, so ``partdeck --version`` and ``--help`` load no command's implementation.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.cli.context import Context

__all__ = ["Command", "Handler"]

Handler = Callable[["Context"], int] | Callable[["Context"], Awaitable[int]]
"""Runs a command and returns its exit code: a plain function, or a coroutine function
(run in an asyncio loop where SIGINT/SIGTERM pause the engine)."""


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command that takes nothing but the common options."""


@dataclass(frozen=True)
class Command:
    """One sub-command: its name and help line, its arguments and what runs it.

    ``arguments`` adds the command's own arguments to its sub-parser (a family such as
    ``service start|stop|status`` adds sub-parsers there). ``--config``, ``--state-dir``
    and, with ``json_flag``, ``--json`` come with every command. A ``reading`` command's
    whole work is its output: losing it (other than to a reader that left) fails it.
    ``run`` imports the command's implementation when it is called, not before.
    """

    name: str
    help: str
    run: Handler
    arguments: Callable[[argparse.ArgumentParser], object] = _no_arguments
    json_flag: bool = True
    reading: bool = False
