"""The terminal UI: what ``partdeck`` with no sub-command runs."""

from __future__ import annotations

import asyncio

from tui.cli.context import EXIT_OK, Context
from tui.cli.engines import front_engine
from tui.cli.logs import logging_to
from tui.cli.output import line
from tui.config import inline_secret_warnings

__all__ = ["cmd_ui"]


def cmd_ui(ctx: Context) -> int:
    """The terminal UI (``partdeck`` with no sub-command); Textual is imported only here."""
    from tui.ui.app import run_app

    config = ctx.config_or_sandbox(quiet=True)
    notices = [ctx.notice] if ctx.notice else []
    notices += inline_secret_warnings(config)

    async def run() -> int:
        async with front_engine(ctx) as engine:
            await run_app(engine, config, notices=notices, state_dir=ctx.state_dir)
            return len(engine.running()) if engine.keeps_running else 0

    with logging_to(ctx.state_dir):  # the app's internal errors go here, redacted
        going = asyncio.run(run())
    if going:
        line(
            f"{going} upload(s) go on in the partdeck service; partdeck sessions shows them, "
            "partdeck pause SESSION or partdeck service stop pauses them"
        )
    return EXIT_OK
