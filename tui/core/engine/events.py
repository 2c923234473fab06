"""What the engine tells: events made, committed to the journal first, then told.

Every state change goes through ``Events.commit``: the journal takes it (in a thread)
before any subscriber hears of it, so nothing anyone sees is ahead of what a resume
would find. Progress events alone are told without being journaled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tui.core.journal import Journal
from tui.core.model import Event, Part, PartState, Session, SessionState
from tui.core.redact import redact

Subscriber = Callable[[Event], None]
"""Called with every event the engine tells."""


class Events:
    """Makes the engine's events and commits each change journal-first, then tells it."""

    def __init__(self, journal: Journal, clock: Callable[[], float]) -> None:
        self.journal = journal
        self._clock = clock
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with every event; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def event(self, kind: str, session: Session, **fields: Any) -> Event:
        """An event about ``session`` now, its message redacted."""
        if fields.get("message"):
            fields["message"] = redact(fields["message"])
        return Event(kind=kind, session_id=session.id, time=self._clock(), **fields)

    def tell(self, events: Iterable[Event]) -> None:
        """Hand ``events`` to every subscriber, in order."""
        for event in events:
            for callback in list(self._subscribers):
                callback(event)

    async def commit(
        self,
        *,
        session: Session | None = None,
        parts: Sequence[Part] = (),
        events: Sequence[Event] = (),
        replace_parts_of: str | None = None,
        durable: bool = False,
    ) -> None:
        """Journal first, in a thread; then tell subscribers. ``durable`` when the record
        guards a request that must not be repeated: it is on stable storage first."""
        if session is not None:
            session.updated_at = self._clock()
        await asyncio.to_thread(
            self.journal.commit,
            session=session,
            parts=parts,
            events=events,
            replace_parts_of=replace_parts_of,
            durable=durable,
        )
        self.tell(events)

    async def create(self, session: Session, parts: Sequence[Part], event: Event) -> None:
        """Record a new session with its parts, then tell its first event."""
        await asyncio.to_thread(self.journal.create, session, parts, event)
        self.tell([event])

    async def set_session(
        self,
        session: Session,
        state: SessionState,
        *,
        error: str | None = None,
        kind: str = "session",
        durable: bool = False,
    ) -> None:
        """Move ``session`` to ``state`` with ``error`` (None clears it), and commit it."""
        session.move(state)
        session.error = error
        await self.commit(
            session=session,
            events=[self.event(kind, session, state=str(state), message=error)],
            durable=durable,
        )

    def part_event(
        self,
        session: Session,
        part: Part,
        *,
        message: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        """The event for ``part`` in its current state."""
        return self.event(
            "part",
            session,
            state=str(part.state),
            part=part.number,
            message=message,
            data=data or {},
        )

    async def set_part(
        self,
        session: Session,
        part: Part,
        state: PartState,
        *,
        message: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Move ``part`` to ``state`` and commit it with its event."""
        part.move(state)
        event = self.part_event(session, part, message=message, data=data)
        await self.commit(parts=[part], events=[event])
