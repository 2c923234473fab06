"""``complete``, ``abort``, ``verify`` and ``inspect``: one session, by id or prefix."""

from __future__ import annotations

from tui.cli.commands.common import drive, exit_for
from tui.cli.context import EXIT_FAILED, EXIT_OK, Context
from tui.cli.engines import front_engine
from tui.cli.listing import print_diagnosis
from tui.cli.output import line, print_json

__all__ = [
    "cmd_abort",
    "cmd_complete",
    "cmd_inspect",
    "cmd_verify",
]


async def cmd_complete(ctx: Context) -> int:
    """Finish a session whose parts are all sent."""
    session = ctx.journal().find(ctx.args.session)
    async with front_engine(ctx) as engine:
        done = await drive(
            ctx, engine, [session], lambda s: engine.complete(s.id, force=ctx.args.force)
        )
    return exit_for(done)


async def cmd_abort(ctx: Context) -> int:
    """Discard a session's remote upload."""
    session = ctx.journal().find(ctx.args.session)
    async with front_engine(ctx) as engine:
        done = await drive(ctx, engine, [session], lambda s: engine.abort(s.id))
    return exit_for(done)


async def cmd_verify(ctx: Context) -> int:
    """Re-hash the local file against the recorded fingerprints; fails on a mismatch."""
    session = ctx.journal().find(ctx.args.session)
    async with front_engine(ctx) as engine:
        results = await engine.verify(session.id)
    bad = [n for n, ok in results if ok is False]
    unknown = [n for n, ok in results if ok is None]
    if ctx.args.json:
        for number, ok in results:
            print_json({"event": "verify", "session": session.id, "part": number, "match": ok})
        print_json(
            {
                "event": "summary",
                "session": session.id,
                "mismatched": bad,
                "unhashed": unknown,
                "ok": not bad,
            }
        )
    else:
        checked = len(results) - len(unknown)
        line(
            f"{session.id[:12]}  {session.path}: {checked - len(bad)}/{checked} fingerprinted "
            f"parts match" + (f"; {len(unknown)} never hashed" if unknown else "")
        )
        if bad:
            line(f"mismatched parts: {', '.join(map(str, bad))}; the file changed since upload")
    return EXIT_OK if not bad else EXIT_FAILED


async def cmd_inspect(ctx: Context) -> int:
    """Why a session is stuck: journal, local file and server, and the fix."""
    session = ctx.journal().find(ctx.args.session)
    async with front_engine(ctx) as engine:
        d = await engine.inspect(session.id)
    print_diagnosis(d, ctx.state_dir, as_json=ctx.args.json)
    return EXIT_OK
