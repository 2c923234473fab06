"""Which session actions apply to the selection: one rule for the footer and the palette."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.model import Part, PartState, Session, SessionState

P = PartState
S = SessionState

_BUSY_SESSION = frozenset({S.COMPLETING, S.COMPLETE_UNKNOWN, S.ABORTING})
_IN_FLIGHT = frozenset({P.HASHING, P.UPLOADING, P.UPLOADED})

ALWAYS = frozenset({"new_batch", "accounts", "search", "toggle_finished", "clear_search"})
"""Actions that need no selection."""


@dataclass(frozen=True)
class Selection:
    """The selected session (if any) as the action rules see it."""

    session: Session | None = None
    running: bool = False
    part: Part | None = None
    failed_parts: int = 0
    done_parts: int = 0
    total_parts: int = 0


def applies(action: str, sel: Selection) -> bool:
    """True when ``action`` makes sense for the selection right now."""
    if action in ALWAYS:
        return True
    session = sel.session
    if session is None:
        return False
    state = session.state
    if action == "inspect":
        return True
    if action == "copy_url":
        return bool(session.location)
    if action == "verify":
        return not session.final
    if action == "abort":
        return not session.final
    if session.final:
        return False
    if action == "pause_resume":
        return state not in _BUSY_SESSION or (state == S.COMPLETING and sel.running)
    if action == "retry_part":
        return (
            sel.part is not None
            and state not in _BUSY_SESSION
            and sel.part.state not in _IN_FLIGHT
            and state != S.LOCAL_CHANGED
        )
    if action == "retry_failed":
        return sel.failed_parts > 0 and state not in _BUSY_SESSION and state != S.LOCAL_CHANGED
    if action == "complete":
        if state == S.COMPLETE_UNKNOWN:
            return True
        return (
            not sel.running
            and session.opened
            and sel.total_parts > 0
            and sel.done_parts == sel.total_parts
            and state not in _BUSY_SESSION
        )
    if action == "refresh_remote":
        return session.opened
    return False


def pause_label(sel: Selection) -> str:
    """What pause/resume would do now."""
    return "Pause" if sel.running else "Resume"
