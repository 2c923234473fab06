"""The thin bridge from engine events to the UI.

The engine calls subscribers on the app's own loop, many times a second. The bridge
only notes what changed (sessions, parts); the tables pick the changes up on their
tick. Events a person must see now (a session failed, stalled, ...) become a message.
A session's change of state (a pause or a resume from another client, say) also wakes
the tick early through ``wake``, so it shows at once rather than at the next tick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from textual.message import Message

from tui.core.model import Event, SessionState
from tui.service.api import SERVICE_EVENT, EngineAPI

S = SessionState

ALERT_STATES = frozenset(
    {str(S.FAILED), str(S.STALLED), str(S.COMPLETE_UNKNOWN), str(S.LOCAL_CHANGED)}
)
"""Session states that raise a notification when a session enters them."""


class SessionAlert(Message):
    """Something about a session a person should see now."""

    def __init__(self, session_id: str, message: str, *, error: bool) -> None:
        super().__init__()
        self.session_id = session_id
        self.message = message
        self.error = error


class ServiceLink(Message):
    """The link to the service was lost (``message`` says why) or is back."""

    def __init__(self, connected: bool, message: str | None) -> None:
        super().__init__()
        self.connected = connected
        self.message = message


@dataclass
class Changes:
    """What changed since the last tick."""

    sessions: set[str] = field(default_factory=set)
    """Sessions with any event (state, part or progress)."""
    parts: dict[str, set[int]] = field(default_factory=dict)
    """Part numbers with a new state, by session."""


class EngineBridge:
    """Collects engine events between ticks and posts alerts."""

    def __init__(self, engine: EngineAPI, post: Callable[[Message], object]) -> None:
        self._post = post
        self._changes = Changes()
        self._unsubscribe = engine.subscribe(self._on_event)
        self.wake: Callable[[], None] | None = None
        """Called when a session changes state (set by the screen that ticks)."""

    def _on_event(self, event: Event) -> None:
        if event.kind == SERVICE_EVENT:
            self._post(ServiceLink(event.state == "connected", event.message))
            return
        changes = self._changes
        changes.sessions.add(event.session_id)
        if event.part is not None:
            changes.parts.setdefault(event.session_id, set()).add(event.part)
        if event.part is None and event.kind == "session" and self.wake is not None:
            self.wake()
        if event.part is None and event.kind == "session" and event.state in ALERT_STATES:
            text = event.message or f"session is {event.state}"
            self._post(SessionAlert(event.session_id, text, error=event.state == str(S.FAILED)))
        elif event.part is None and event.kind == "error" and event.message:
            self._post(SessionAlert(event.session_id, event.message, error=True))
        elif event.kind == "notice" and event.message:
            self._post(SessionAlert(event.session_id, event.message, error=False))

    def take(self) -> Changes:
        """The changes since the last call."""
        changes, self._changes = self._changes, Changes()
        return changes

    def close(self) -> None:
        """Stop listening."""
        self._unsubscribe()
