"""Whether a session is really moving: a state that needs a driver, and nobody drives it.

The journal keeps the last state its driver wrote. A driver that was killed (SIGKILL, a
crash, a power loss) leaves ``uploading``, ``stalled`` or ``completing`` behind; the
session lock (held by every driver, dropped by the kernel when it dies) tells a reader
that nothing drives it any more. Readers show such a session as ``interrupted`` with the
command that goes on; nothing is written to the journal here.
"""

from __future__ import annotations

from pathlib import Path

from tui.core.locks import is_held
from tui.core.model import Session, SessionState

S = SessionState

INTERRUPTED = "interrupted"
"""What a reader shows for a session whose driver is gone."""

DRIVEN_STATES = frozenset({S.UPLOADING, S.STALLED, S.COMPLETING})
"""States that only last while a process drives the session."""


def is_interrupted(session: Session, state_dir: Path) -> bool:
    """True when ``session`` is in a driven state and no process holds its lock."""
    return session.state in DRIVEN_STATES and not is_held(state_dir, session.id)


def shown_state(session: Session, state_dir: Path) -> str:
    """The state to show for ``session``: its journal state, or ``interrupted``."""
    return INTERRUPTED if is_interrupted(session, state_dir) else str(session.state)


def resume_hint(session: Session) -> str:
    """The command that carries on with an interrupted session."""
    return f"partdeck resume {session.id[:8]}"


def interrupted_note(session: Session) -> str:
    """``interrupted`` with what it was doing and the command that goes on."""
    return (
        f"{INTERRUPTED} (its process stopped while {session.state}); carry on with "
        f"{resume_hint(session)}"
    )
