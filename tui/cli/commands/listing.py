"""``sessions`` and ``show``: what the journal holds, read without an engine."""

from __future__ import annotations

from tui.cli.context import EXIT_OK, Context
from tui.cli.listing import print_session, print_sessions

__all__ = ["cmd_sessions", "cmd_show"]


def cmd_sessions(ctx: Context) -> int:
    """Every session in the journal, one line each."""
    print_sessions(ctx.journal(), ctx.state_dir, as_json=ctx.args.json)
    return EXIT_OK


def cmd_show(ctx: Context) -> int:
    """One session and every part of it."""
    journal = ctx.journal()
    session = journal.find(ctx.args.session)
    print_session(session, journal.parts(session.id), ctx.state_dir, as_json=ctx.args.json)
    return EXIT_OK
