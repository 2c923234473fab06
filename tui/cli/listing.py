"""What the reading commands print: ``sessions``, ``show`` and ``inspect``, for people or
as JSON lines.

Lines for people go through :func:`tui.cli.output.line` (every outside text escaped);
JSON lines keep every value exact.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.cli.output import line, print_json
from tui.cli.report import session_summary
from tui.core.display import visible
from tui.core.liveness import INTERRUPTED, interrupted_note, is_interrupted
from tui.core.model import Part, Session
from tui.core.units import format_duration, format_size

if TYPE_CHECKING:  # only typed here; ``sessions`` needs neither the diagnosis nor its ports
    from tui.core.diagnose import Diagnosis
    from tui.core.journal import Journal

__all__ = ["print_diagnosis", "print_session", "print_sessions"]


def _age_text(seconds: float) -> str:
    return format_duration(seconds) + " ago"


def print_sessions(journal: Journal, state_dir: Path, *, as_json: bool) -> None:
    """Every session in the journal, one line (or one JSON object) each.

    A session whose driver is gone reads ``interrupted``, and a closing line each names
    the command that carries it on.
    """
    counts = journal.part_counts()
    now = time.time()
    sessions = journal.sessions()
    if as_json:
        for s in sessions:
            c = counts.get(s.id, {})
            print_json(
                {
                    **session_summary(s),
                    "event": "session",
                    "interrupted": is_interrupted(s, state_dir),
                    "parts": sum(c.values()),
                    "parts_done": c.get("verified", 0) + c.get("unverifiable", 0),
                    "created_at": s.created_at,
                }
            )
        return
    if not sessions:
        line(f"no sessions in {journal.path}")
        return
    stopped = [s for s in sessions if is_interrupted(s, state_dir)]
    stopped_ids = {s.id for s in stopped}
    # The account column is as wide as the longest name as shown (escaped); the line is
    # escaped as a whole, so the raw name is padded by what its shown form lacks.
    width = max(14, *(len(visible(s.account)) for s in sessions))
    for s in sessions:
        c = counts.get(s.id, {})
        done = c.get("verified", 0) + c.get("unverifiable", 0)
        state = INTERRUPTED if s.id in stopped_ids else str(s.state)
        account = s.account + " " * (width - len(visible(s.account)))
        line(
            f"{s.id[:12]}  {state:<16} {done:>5}/{sum(c.values()):<5} "
            f"{format_size(s.size):>10}  {account} {_age_text(now - s.created_at):>10}  "
            f"{s.path}"
        )
    for s in stopped:
        line(f"{s.id[:12]}: {interrupted_note(s)}")


def part_dict(p: Part) -> dict[str, Any]:
    """One part as JSON."""
    return {
        "part": p.number,
        "start": p.start,
        "end": p.end,
        "size": p.size,
        "state": str(p.state),
        "attempts": p.attempts,
        "etag": p.etag,
        "error": p.error,
        "xxh3": p.xxh3,
        "checksum": p.checksum,
    }


def print_session(s: Session, parts: list[Part], state_dir: Path, *, as_json: bool) -> None:
    """One session and every part of it."""
    interrupted = is_interrupted(s, state_dir)
    if as_json:
        print_json(
            {
                **session_summary(s),
                "event": "session",
                "interrupted": interrupted,
                "part_size": s.part_size,
                "remote": {
                    k: v
                    for k, v in s.remote.items()
                    if k in ("upload_id", "key", "bucket", "checksum")
                },
            }
        )
        for p in parts:
            print_json({"event": "part", "session": s.id, **part_dict(p)})
        return
    line(f"session   {s.id}")
    line(f"file      {s.path}")
    line(f"account   {s.account} ({s.provider})")
    line(
        f"size      {format_size(s.size)} ({s.size:,} bytes) in {len(parts)} parts of "
        f"{format_size(s.part_size)}"
    )
    line(f"state     {interrupted_note(s) if interrupted else s.state}")
    if s.location:
        line(f"location  {s.location}")
    if "checksum" in s.remote:
        line(f"checksum  {s.remote['checksum']} (checked by the store on every part)")
    if s.error:
        line(f"error     {s.error}")
    line("")
    line(f"{'part':>6}  {'bytes':<27} {'state':<13} {'tries':>5}  {'etag':<34} last error")
    for p in parts:
        span = f"{p.start:,}-{p.end:,}"
        line(
            f"{p.number:>6}  {span:<27} {p.state!s:<13} {p.attempts:>5}  {p.etag or '-':<34} "
            f"{p.error or ''}"
        )


def print_diagnosis(d: Diagnosis, state_dir: Path, *, as_json: bool) -> None:
    """Why a session is stuck: journal, local file and server, and the fix."""
    s = d.session
    interrupted = is_interrupted(s, state_dir)
    if as_json:
        print_json(
            {
                "event": "inspect",
                "session": s.id,
                "state": str(s.state),
                "interrupted": interrupted,
                "parts": d.total,
                "parts_done": d.done,
                "local": str(d.local),
                "server": d.server_note,
                "server_parts": d.server_parts,
                "fix": d.fix.text,
                "fix_action": d.fix.action,
                "fix_parts": list(d.fix.parts),
            }
        )
        for f in d.findings:
            print_json(
                {
                    "event": "finding",
                    "session": s.id,
                    "part": f.number,
                    "state": str(f.state),
                    "attempts": f.attempts,
                    "server": str(f.server),
                    "url_expires_at": f.url_expires_at,
                    "errors": list(f.errors),
                }
            )
        return
    state = interrupted_note(s) if interrupted else str(s.state)
    line(f"session   {s.id}  {state}  {d.done}/{d.total} parts done")
    line(f"file      {s.path} ({d.local})")
    line(f"server    {d.server_note}")
    if s.error:
        line(f"error     {s.error}")
    for f in d.findings:
        history = " | ".join(f.errors) or "-"
        line(
            f"part {f.number:>5}  {f.state!s:<12} tries {f.attempts}  server {f.server}  {history}"
        )
    line(f"fix       {d.fix.text}")
