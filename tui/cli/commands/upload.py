"""``upload``, ``resume`` and ``retry``: the commands that send parts."""

from __future__ import annotations

import asyncio

from tui.cli.commands.common import drive, engine_settings, exit_for
from tui.cli.context import EXIT_OK, Context
from tui.cli.engines import front_engine, on_service
from tui.cli.output import line, print_json
from tui.cli.report import session_summary
from tui.core.errors import UsageError
from tui.core.model import Session, SessionState
from tui.service.api import EngineAPI

__all__ = ["cmd_resume", "cmd_retry", "cmd_upload"]


async def cmd_upload(ctx: Context) -> int:
    """Plan every file on one account and upload them at once."""
    args = ctx.args
    if args.account.startswith("sandbox-"):
        await asyncio.to_thread(ctx.config_or_sandbox)
    ctx.config.account(args.account)  # unknown account: one clear line before anything else
    settings = engine_settings(ctx)
    if args.detach and not on_service(ctx):
        raise UsageError(
            "--detach hands the upload to the partdeck service, which this command does "
            'not use here (--no-service, [service] mode = "inline", PARTDECK_SERVICE or '
            "no config file); drop --detach, or use the service"
        )
    complete = False if args.no_complete else None
    async with front_engine(ctx, settings) as engine:
        sessions = [await engine.plan(f, args.account, args.part_size) for f in args.files]
        if args.detach:
            return await _detach(ctx, engine, sessions, complete)
        ctx.started.extend(s.id for s in sessions)
        done = await drive(
            ctx, engine, sessions, lambda s: engine.run(s.id, auto_complete=complete)
        )
    return exit_for(done, no_complete=args.no_complete or not settings.auto_complete)


async def _detach(
    ctx: Context, engine: EngineAPI, sessions: list[Session], complete: bool | None
) -> int:
    """Start every session on the service and say which they are; follow none."""
    for session in sessions:
        await engine.start(session.id, auto_complete=complete)
        if ctx.args.json:
            print_json({"event": "detached", "session": session.id, "path": session.path})
        else:
            line(f"{session.id}  {session.path}")
    return EXIT_OK


async def cmd_resume(ctx: Context) -> int:
    """Carry on with one session; one already completed is a success that says so."""
    session = ctx.journal().find(ctx.args.session)
    if session.state == SessionState.COMPLETED:
        # Resuming what a crash may have finished is a normal step in a script: say so.
        if ctx.args.json:
            print_json(session_summary(session))
        else:
            line(f"{session.id[:12]}: already completed -> {session.location}; nothing to resume")
        return EXIT_OK
    ctx.started.append(session.id)
    async with front_engine(ctx, engine_settings(ctx)) as engine:
        complete = False if ctx.args.no_complete else None
        done = await drive(
            ctx, engine, [session], lambda s: engine.run(s.id, auto_complete=complete)
        )
    return exit_for(done, no_complete=ctx.args.no_complete or not ctx.config.engine.auto_complete)


async def cmd_retry(ctx: Context) -> int:
    """Send the given parts (else every failed one) of a session again."""
    session = ctx.journal().find(ctx.args.session)
    ctx.started.append(session.id)
    async with front_engine(ctx, engine_settings(ctx)) as engine:

        async def retry(s: Session) -> Session:
            queued = await engine.retry(s.id, ctx.args.parts or None)
            if not queued and not ctx.args.json:
                line(f"{s.id[:12]}: no failed parts to retry")
            return await engine.wait(s.id)

        done = await drive(ctx, engine, [session], retry)
    return exit_for(done, no_complete=not ctx.config.engine.auto_complete)
