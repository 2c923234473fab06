"""The steps the engine commands share: drive sessions with a reporter attached, and turn
how they ended into an exit code. (What a command is, :class:`Command`, is in
:mod:`tui.cli.commands.command`.)"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence

from tui.cli.context import EXIT_FAILED, EXIT_OK, Context
from tui.cli.output import say
from tui.cli.report import make_reporter
from tui.core.model import Event, Session, SessionState
from tui.core.settings import EngineSettings
from tui.core.units import format_duration
from tui.runtime import with_overrides
from tui.service.api import SERVICE_EVENT, EngineAPI

__all__ = ["age_text", "drive", "engine_settings", "exit_for"]

_GOOD_END = frozenset({SessionState.COMPLETED, SessionState.ABORTED})


async def drive(
    ctx: Context,
    engine: EngineAPI,
    sessions: list[Session],
    run: Callable[[Session], Awaitable[Session]],
) -> list[Session]:
    """Run ``run`` for every session with a reporter attached; return the final sessions.

    Only these sessions' events are reported (the service tells every client about every
    session); a lost or regained link to the service is one line on stderr."""
    as_json = getattr(ctx.args, "json", False)
    reporter = make_reporter(engine, as_json=as_json)
    reporter.track(sessions)
    ids = {s.id for s in sessions}

    def tell(event: Event) -> None:
        if event.kind == SERVICE_EVENT:
            say(_link_line(event))
        elif event.session_id in ids:
            reporter(event)

    unsubscribe = engine.subscribe(tell)
    if engine.keeps_running and not as_json:  # the progress line counts their parts
        for s in sessions:
            await engine.load_parts(s.id)
    try:
        finished = await asyncio.gather(*(run(s) for s in sessions))
    finally:
        unsubscribe()
    reporter.finish(finished)
    return list(finished)


def _link_line(event: Event) -> str:
    if event.state == "connected":
        return "the partdeck service is back; following again"
    return f"{event.message}; starting it again (uploads resume where they were)"


def exit_for(sessions: Sequence[Session], *, no_complete: bool = False) -> int:
    """The exit code for how ``sessions`` ended.

    Each session that did not end well also gets its one line on stderr, naming the
    file, where it stands and the fix: stdout may be ``--json`` or a pipe, and the error
    must reach whoever runs the command.
    """
    good = set(_GOOD_END)
    if no_complete:
        good.add(SessionState.UPLOADED)
    bad = [s for s in sessions if s.state not in good]
    for s in bad:
        reason = s.error or f"see why with partdeck inspect {s.id[:8]}"
        say(f"{os.path.basename(s.path)} ({s.id[:8]}) {s.state}: {reason}")
    return EXIT_FAILED if bad else EXIT_OK


def engine_settings(ctx: Context) -> EngineSettings:
    """The config's engine settings with this command's flags over them."""
    return with_overrides(
        ctx.config.engine,
        parts_in_flight=getattr(ctx.args, "parts_in_flight", None),
        bandwidth_limit=getattr(ctx.args, "bandwidth_limit", None),
    )


def age_text(seconds: float) -> str:
    """``3h ago``."""
    return format_duration(seconds) + " ago"
