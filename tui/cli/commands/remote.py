"""``remote``: the incomplete uploads a server holds, joined with the journal; ``--abort``
discards them."""

from __future__ import annotations

import asyncio
import os
import sys
import time

from tui.cli.commands.common import age_text
from tui.cli.context import EXIT_FAILED, EXIT_OK, Context
from tui.cli.engines import front_engine
from tui.cli.output import line, print_json, say
from tui.core.errors import PartdeckError
from tui.core.liveness import is_interrupted
from tui.core.units import format_size

__all__ = ["cmd_remote"]


async def cmd_remote(ctx: Context) -> int:
    """List the account's incomplete uploads; with ``--abort``, discard them."""
    args = ctx.args
    ctx.config.account(args.account)
    journal = ctx.journal()
    known = journal.by_upload_id()
    async with front_engine(ctx) as engine:
        uploads = await engine.remote_uploads(args.account, args.prefix)
        now = time.time()
        if args.older_than is not None:
            uploads = [
                u for u in uploads if u.initiated is None or now - u.initiated >= args.older_than
            ]
        rows = []
        for u in uploads:
            session = known.get(u.upload_id)
            matches = None
            if session is not None:
                try:
                    info = os.stat(session.path)
                    matches = info.st_size == session.size and info.st_mtime_ns == session.mtime_ns
                except OSError:
                    matches = False
            rows.append((u, session, matches))
        for u, session, matches in rows:
            if args.json:
                print_json(
                    {
                        "event": "remote",
                        "key": u.key,
                        "upload_id": u.upload_id,
                        "initiated": u.initiated,
                        "parts": u.parts,
                        "bytes": u.bytes,
                        "session": session.id if session else None,
                        "session_state": str(session.state) if session else None,
                        "session_interrupted": (
                            is_interrupted(session, ctx.state_dir) if session else None
                        ),
                        "local_matches": matches,
                    }
                )
            else:
                age = age_text(now - u.initiated) if u.initiated else "?"
                local = (
                    f"session {session.id[:12]} ({engine.shown_state(session)}, file "
                    f"{'matches' if matches else 'changed or gone'})"
                    if session
                    else "not in the journal"
                )
                line(
                    f"{u.key}  {u.upload_id[:24]}  {u.parts} parts  {format_size(u.bytes)}  "
                    f"{age}  {local}"
                )
        total = sum(u.bytes for u, _, _ in rows)
        if not args.json:
            line(f"{len(rows)} incomplete upload(s) holding {format_size(total)}")
        if not args.abort or not rows:
            return EXIT_OK
        if not args.json:
            line(f"aborting discards {len(rows)} upload(s) and frees {format_size(total)}")
        if sys.stdin.isatty() and not args.yes:
            answer = await asyncio.to_thread(input, "abort them? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                line("nothing aborted")
                return EXIT_OK
        failed = 0
        for u, session, _ in rows:
            try:
                if session is not None and not session.final:
                    await engine.abort(session.id)
                else:
                    await engine.remote_abort(args.account, u.key, u.upload_id)
                ok, error = True, None
            except PartdeckError as exc:
                ok, error, failed = False, str(exc), failed + 1
            if args.json:
                print_json(
                    {
                        "event": "aborted" if ok else "error",
                        "key": u.key,
                        "upload_id": u.upload_id,
                        "message": error,
                    }
                )
            elif ok:
                line(f"aborted: {u.key} {u.upload_id[:24]}")
            if not ok:  # the problem and its fix: once, on stderr
                say(f"abort failed: {u.key} {u.upload_id[:24]}: {error}")
    return EXIT_OK if not failed else EXIT_FAILED
