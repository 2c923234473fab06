"""Why a session is stuck, and what would move it: the journal, the file and the server joined.

Pure functions over what the engine gathered; the UI's inspect view and
``partdeck inspect`` render the same Diagnosis.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tui.core.model import DONE_PART_STATES, Event, Part, PartState, Session, SessionState
from tui.core.ports import RemotePart

P = PartState
S = SessionState


class LocalState(StrEnum):
    """Whether the local file is still the one the parts were cut from."""

    MATCHES = "matches"
    CHANGED = "changed"
    MISSING = "missing"
    UNREADABLE = "unreadable"


class ServerView(StrEnum):
    """What the server said about a part."""

    HELD = "held"
    MISSING = "missing"
    DIFFERS = "differs"
    """Listed, but its size or digest is not the part's."""
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PartFinding:
    """One part that needs attention, with its history."""

    number: int
    state: PartState
    attempts: int
    server: ServerView
    url_expires_at: float | None
    errors: tuple[str, ...]
    """Distinct error messages from the journal's event log, oldest first."""


@dataclass(frozen=True)
class Fix:
    """The action that would move a session on: a sentence, and the UI action's id."""

    text: str
    action: str | None
    """``resume``, ``retry_failed``, ``retry_parts``, ``complete``, ``complete_force``,
    ``abort``, ``verify``, or None when nothing is needed."""
    parts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    """A session's journal, local file and server view, joined."""

    session: Session
    total: int
    done: int
    local: LocalState
    server_note: str
    """One line on what the server said (or why it was not asked)."""
    server_parts: int | None
    """How many parts the server listed; None when it was not or could not be asked."""
    findings: tuple[PartFinding, ...]
    fix: Fix


def local_state(session: Session) -> LocalState:
    """Compare the file on disk with the size and mtime recorded when it was planned."""
    try:
        info = os.stat(session.path)
    except FileNotFoundError:
        return LocalState.MISSING
    except OSError:
        return LocalState.UNREADABLE
    if info.st_size != session.size or info.st_mtime_ns != session.mtime_ns:
        return LocalState.CHANGED
    if not os.access(session.path, os.R_OK):
        return LocalState.UNREADABLE
    return LocalState.MATCHES


def server_view(part: Part, remote: Mapping[int, RemotePart] | None) -> ServerView:
    """What the server's listing (by part number) says of one part; UNKNOWN without one."""
    if remote is None:
        return ServerView.UNKNOWN
    found = remote.get(part.number)
    if found is None:
        return ServerView.MISSING
    if found.size != part.size:
        return ServerView.DIFFERS
    etag = (found.etag or "").strip('"').lower()
    if part.etag and etag and etag != part.etag.strip('"').lower():
        return ServerView.DIFFERS
    return ServerView.HELD


def _error_history(events: Sequence[Event]) -> dict[int, tuple[str, ...]]:
    history: dict[int, list[str]] = {}
    for event in events:
        if event.part is None or not event.message:
            continue
        if event.kind != "error" and event.state not in (str(P.FAILED), str(P.EXPIRED)):
            continue
        seen = history.setdefault(event.part, [])
        if event.message not in seen:
            seen.append(event.message)
    return {n: tuple(messages) for n, messages in history.items()}


def diagnose(
    session: Session,
    parts: Sequence[Part],
    events: Sequence[Event],
    *,
    local: LocalState,
    remote: Sequence[RemotePart] | None,
    server_error: str | None,
    can_list: bool,
    renewable: bool,
    running: bool,
    now: float,
    complete_once: bool = True,
) -> Diagnosis:
    """Find the parts that need attention and the one action that would help most."""
    held = {r.number: r for r in remote} if remote is not None else None
    history = _error_history(events)
    findings: list[PartFinding] = []
    for part in parts:
        view = server_view(part, held)
        needs_look = (
            part.state not in DONE_PART_STATES
            or part.state == P.UNVERIFIABLE
            or view in (ServerView.MISSING, ServerView.DIFFERS)
        )
        if needs_look and not (session.final and part.done):
            findings.append(
                PartFinding(
                    number=part.number,
                    state=part.state,
                    attempts=part.attempts,
                    server=view,
                    url_expires_at=part.target_expires_at,
                    errors=history.get(part.number) or ((part.error,) if part.error else ()),
                )
            )
    if server_error is not None:
        server_note = f"could not ask: {server_error}"
    elif remote is not None:
        size = sum(r.size for r in remote)
        server_note = f"the server holds {len(remote)} of {len(parts)} parts ({size:,} bytes)"
    elif session.final:
        server_note = f"not asked: the session is {session.state}"
    elif not session.opened:
        server_note = "not asked: the upload was never opened on the server"
    elif not can_list:
        server_note = f"{session.provider} cannot list the parts it holds"
    else:
        server_note = "not asked"
    done = sum(1 for p in parts if p.done)
    fix = _fix(
        session,
        parts,
        findings,
        local,
        running=running,
        renewable=renewable,
        now=now,
        complete_once=complete_once,
    )
    return Diagnosis(
        session=session,
        total=len(parts),
        done=done,
        local=local,
        server_note=server_note,
        server_parts=len(remote) if remote is not None else None,
        findings=tuple(findings),
        fix=fix,
    )


def _fix(
    session: Session,
    parts: Sequence[Part],
    findings: Sequence[PartFinding],
    local: LocalState,
    *,
    running: bool,
    renewable: bool,
    now: float,
    complete_once: bool,
) -> Fix:
    state = session.state
    if state == S.COMPLETED:
        return Fix("nothing to do: the upload is complete", None)
    if state == S.ABORTED:
        return Fix("nothing to do: the upload was aborted", None)
    if state == S.ABORTING:
        return Fix("abort again: the server has not confirmed the abort yet", "abort")
    if state in (S.COMPLETE_UNKNOWN, S.COMPLETING) and not running:
        where = f" at {session.location}" if session.location else ""
        if complete_once:
            return Fix(
                "complete was sent but its outcome is unknown: abort settles it (a file "
                f"already there{where} is kept and recorded completed), or check it and "
                "complete again (forced) only if it is missing",
                "abort",
            )
        return Fix(
            "complete was sent but its outcome is unknown: complete again (partdeck first "
            f"looks for the file{where} and records it completed if it is there)",
            "complete",
        )
    if local in (LocalState.CHANGED, LocalState.MISSING, LocalState.UNREADABLE):
        return Fix(
            f"the local file is {local}: restore the original and verify it, or abort and "
            "upload the new file",
            "verify" if local == LocalState.CHANGED else None,
        )
    if state == S.LOCAL_CHANGED:
        return Fix("the file matches again: verify it to resume the session", "verify")
    expired = [p.number for p in parts if p.state == P.EXPIRED]
    if expired and not renewable:
        return Fix(
            f"{len(expired)} part link(s) expired and {session.provider} cannot renew them: "
            "abort and upload the file again",
            "abort",
        )
    lost = tuple(
        f.number
        for f in findings
        if f.server in (ServerView.MISSING, ServerView.DIFFERS) and f.state in DONE_PART_STATES
    )
    if lost:
        return Fix(
            f"{len(lost)} verified part(s) are not on the server as sent: send them again",
            "retry_parts",
            lost,
        )
    failed = [p.number for p in parts if p.state in (P.FAILED, P.EXPIRED)]
    if failed:
        return Fix(f"{len(failed)} part(s) failed: retry them", "retry_failed", tuple(failed))
    if state == S.STALLED:
        stuck = [
            p.number
            for p in parts
            if p.state == P.UPLOADING and (p.target_expires_at is None or p.target_expires_at > now)
        ]
        return Fix(
            "no bytes are moving: pause and resume, or retry the parts in flight",
            "retry_parts",
            tuple(stuck),
        )
    if running:
        return Fix("uploading: nothing to do yet", None)
    if all(p.done for p in parts):
        return Fix("every part is on the server: complete the upload", "complete")
    return Fix("the session is not running: resume it", "resume")
