"""What a command answers on a session that cannot take it: one line, the state and the way on.

Each command asks here before it changes anything. A refusal names the session, the
state it is in and the command that moves it on; ``None`` means the command goes ahead.
The state machine in model.py is the table: a command whose first move the machine
does not allow from the session's state is refused here, so it never reaches
``InvalidTransition``.
"""

from __future__ import annotations

from tui.core.model import SESSION_TRANSITIONS, Session, SessionState
from tui.core.ports import Provider

S = SessionState


def way_on(session: Session, provider: Provider) -> str:
    """The command (or the fact) that moves ``session`` on from where it stands."""
    short = session.id[:8]
    state = session.state
    if state == S.COMPLETED:
        where = f" at {session.location}" if session.location else ""
        return f"the file is{where} on {provider.title}"
    if state == S.ABORTED:
        return "upload the file again to start over"
    if state == S.ABORTING:
        return f"run partdeck abort {short} again to finish the abort"
    if state in (S.COMPLETING, S.COMPLETE_UNKNOWN):
        if provider.complete_repeatable:
            return f"run partdeck complete {short} (it is safe to send again) or abort"
        return (
            f"run partdeck abort {short} to settle it (a file already there is kept and "
            f"recorded completed), or check {provider.title} and only if the file is missing "
            f"run partdeck complete {short} --force"
        )
    if state == S.LOCAL_CHANGED:
        return f"restore the file and run partdeck verify {short}, or abort"
    if state == S.UPLOADED:
        return f"run partdeck complete {short}"
    if state == S.FAILED:
        return f"run partdeck retry {short} or abort"
    return f"run partdeck resume {short}"


def _refuse(session: Session, provider: Provider, why: str, shown: str | None = None) -> str:
    state = shown or session.state
    return f"session {session.id[:12]} is {state}: {why}; {way_on(session, provider)}"


def start_refusal(session: Session, provider: Provider) -> str | None:
    """Why ``resume``/``retry`` cannot (re)start ``session``, or None when they can.

    A session that died while completing restarts where complete may be repeated; one
    whose complete outcome is unknown waits for the operator.
    """
    state = session.state
    if session.final:
        return _refuse(session, provider, "nothing to resume")
    if state in (S.COMPLETING, S.COMPLETE_UNKNOWN) and not provider.complete_repeatable:
        return complete_once_message(session, provider.title)
    if state == S.COMPLETE_UNKNOWN:
        return _refuse(session, provider, "complete was sent and its outcome is unknown")
    if state == S.ABORTING:
        return _refuse(session, provider, "the provider has not confirmed the abort yet")
    return None


def retry_refusal(session: Session, provider: Provider) -> str | None:
    """Why ``retry`` cannot send parts of ``session`` again, or None when it can: as
    ``start_refusal``, and never while complete was in flight (the parts are on the
    server; only complete's outcome is open)."""
    if session.state == S.COMPLETING and provider.complete_repeatable:
        return _refuse(session, provider, "complete was in flight when its process stopped")
    return start_refusal(session, provider)


def complete_refusal(session: Session, provider: Provider, *, running: bool) -> str | None:
    """Why ``complete`` cannot run on ``session`` now, or None when it goes ahead
    (a completed session needs nothing and is not refused)."""
    state = session.state
    if running:
        return (
            f"session {session.id[:12]} is {state} in this process; wait for it, or pause it "
            "and complete it then"
        )
    if state in (S.COMPLETED, S.COMPLETING) or S.COMPLETING in SESSION_TRANSITIONS[state]:
        return None
    if state == S.LOCAL_CHANGED:
        return _refuse(session, provider, "the local file changed since it was planned")
    if state == S.PLANNED:
        return _refuse(session, provider, "nothing is uploaded yet")
    return _refuse(session, provider, "it cannot be completed")


def abort_refusal(session: Session, provider: Provider) -> str | None:
    """Why ``abort`` cannot run on ``session``, or None when it goes ahead (an aborted
    session needs nothing and is not refused)."""
    state = session.state
    if state == S.COMPLETED:
        return (
            f"session {session.id[:12]} is completed: there is no upload left to abort; "
            f"delete the file on {provider.title} instead"
        )
    if state in (S.ABORTED, S.ABORTING, S.COMPLETING) or S.ABORTING in SESSION_TRANSITIONS[state]:
        return None  # completing: the engine records the outcome unknown first
    return _refuse(session, provider, "it cannot be aborted")


def pause_refusal(session: Session, provider: Provider, shown: str) -> str:
    """What ``pause`` answers on a session this process is not sending; ``shown`` is the
    state a reader shows (``interrupted`` included)."""
    return _refuse(session, provider, "not uploading in this process, nothing to pause", shown)


def complete_once_message(session: Session, provider: str) -> str:
    """Complete went out once, where it may go only once, and its outcome is unknown."""
    return (
        f"session {session.id[:12]}: complete was already sent once and its outcome is "
        f"unknown; {provider} may already have the file: run partdeck abort {session.id[:8]} "
        "to settle it (a file already there is kept and recorded completed), or check there "
        f"and only if it is missing run partdeck complete {session.id[:8]} --force"
    )
