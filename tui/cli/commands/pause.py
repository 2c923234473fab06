"""``pause``: stop sending the parts of sessions the service (or this process) drives;
they stay resumable with ``partdeck resume``."""

from __future__ import annotations

from tui.cli.context import EXIT_OK, EXIT_USAGE, Context
from tui.cli.engines import front_engine
from tui.cli.output import line, print_json, say
from tui.core.errors import PartdeckError

__all__ = ["cmd_pause"]


async def cmd_pause(ctx: Context) -> int:
    """Pause each session named; a refusal is one line on stderr and exit 2."""
    journal = ctx.journal()
    try:
        sessions = [journal.find(prefix) for prefix in ctx.args.sessions]
    finally:
        journal.close()
    refused = 0
    async with front_engine(ctx) as engine:
        for session in sessions:
            try:
                paused = await engine.pause(session.id)
            except PartdeckError as exc:
                say(str(exc))
                refused += 1
                continue
            if ctx.args.json:
                print_json({"event": "paused", "session": paused.id, "state": str(paused.state)})
            else:
                line(f"{paused.id[:12]}: {paused.state}; partdeck resume {paused.id[:8]} goes on")
    return EXIT_USAGE if refused else EXIT_OK
