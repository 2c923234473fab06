"""The terminal UI: what ``partdeck`` with no sub-command runs."""

from __future__ import annotations

import asyncio

from tui.cli.context import EXIT_OK, Context
from tui.cli.logs import logging_to
from tui.config import inline_secret_warnings

__all__ = ["cmd_ui"]


def cmd_ui(ctx: Context) -> int:
    """The terminal UI (``partdeck`` with no sub-command); Textual is imported only here."""
    from tui.ui.app import run_app

    config = ctx.config_or_sandbox(quiet=True)
    notices = [ctx.notice] if ctx.notice else []
    notices += inline_secret_warnings(config)
    with logging_to(ctx.state_dir):  # the app's internal errors go here, redacted
        asyncio.run(run_app(config, ctx.state_dir, notices=notices))
    return EXIT_OK
