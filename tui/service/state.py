"""What the service tells its clients: a snapshot of every session, then numbered records.

``Published`` subscribes to the engine, turns each event into a record that carries
what a client needs to keep its mirror exact (the session as it now stands, the part that
changed, the session's part tally, live byte counts), and feeds the records to the
``EventFeed``. It also notices when a session's runner ends, releases it (so its lock and
memory go) and says so, since that is the moment a session stops being driven.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from tui.core.engine import Engine
from tui.core.journal import Tally, tally_parts
from tui.core.model import Event, Session
from tui.service.feed import EventFeed, Record
from tui.service.protocol import (
    event_to_wire,
    part_to_wire,
    progress_to_wire,
    session_to_wire,
)

log = logging.getLogger("partdeck.service")

Tallies = dict[str, Tally]


def tally_to_wire(tally: Tallies) -> dict[str, list[int]]:
    """Part state -> [parts, bytes]."""
    return {state: [t.parts, t.size] for state, t in tally.items()}


class Published:
    """The service's view of every session, kept in step with the engine's events."""

    def __init__(self, engine: Engine, feed: EventFeed) -> None:
        self.engine = engine
        self.feed = feed
        self.sessions: dict[str, Session] = {}
        self._part_states: dict[str, dict[int, tuple[str, int]]] = {}
        self._tallies: dict[str, Tallies] = {}
        self._watched: set[str] = set()
        self._settling: set[asyncio.Task[None]] = set()
        """Releases under way (held so they are not collected before they run)."""
        self._unsubscribe = engine.subscribe(self._on_event)

    async def load(self) -> None:
        """Read every session and its part tally from the journal (once, at start)."""
        journal = self.engine.journal
        sessions = await asyncio.to_thread(journal.sessions)
        tallies = await asyncio.to_thread(journal.part_tallies)
        self.sessions = {s.id: s for s in sessions}
        self._tallies = tallies

    def close(self) -> None:
        """Stop listening to the engine."""
        self._unsubscribe()

    # -- what a client reads ---------------------------------------------------------------

    def session_view(self, session: Session) -> dict[str, Any]:
        """A session with what a client shows of it: its shown state, whether it is
        driven here, its live bytes and its part tally."""
        running = self.engine.is_running(session.id)
        progress = self.engine.progress(session.id)
        return {
            "session": session_to_wire(session),
            "shown": self.engine.shown_state(session),
            "running": running,
            "progress": progress_to_wire(progress) if progress is not None else None,
            "tally": tally_to_wire(self._tallies.get(session.id, {})),
        }

    def snapshot(self) -> dict[str, Any]:
        """Every session as it stands, and the sequence number it stands at."""
        return {
            "seq": self.feed.seq,
            "sessions": [self.session_view(s) for s in self.sessions.values()],
        }

    def started(self, session_id: str) -> None:
        """Say that a session is now driven here (its runner's first event may come later)."""
        if not self.engine.is_running(session_id):
            return
        record: Record = {"event": {"kind": "runner", "session_id": session_id}}
        record.update(self.session_view(self._current(session_id)))
        self.feed.publish(record)
        self._watch_runner(session_id)

    # -- from the engine -------------------------------------------------------------------

    def _current(self, session_id: str) -> Session:
        if self.engine.is_live(session_id):
            session = self.engine.session(session_id)  # the live object, no I/O
        else:
            session = self.engine.journal.session(session_id)
        self.sessions[session_id] = session
        return session

    def _on_event(self, event: Event) -> None:
        try:
            record = self._record(event)
        except Exception:  # a record lost must never break the engine that told it
            log.exception("could not publish a %s event", event.kind)
            return
        self.feed.publish(record)
        self._watch_runner(event.session_id)

    def _record(self, event: Event) -> Record:
        record: Record = {"event": event_to_wire(event)}
        sid = event.session_id
        if event.kind == "progress":
            progress = self.engine.progress(sid)
            if progress is not None:
                record["progress"] = progress_to_wire(progress)
            return record
        if event.kind == "part" and event.part is not None:
            part = self._part(sid, event.part)
            if part is not None:
                record["part"] = part
            record["tally"] = tally_to_wire(self._tallies.get(sid, {}))
            return record
        if event.kind == "session":
            self._recount(sid)
        record.update(self.session_view(self._current(sid)))
        return record

    def _part(self, session_id: str, number: int) -> list[Any] | None:
        """The part an event is about, with the session's tally brought up to date."""
        part = self.engine.live_part(session_id, number)
        if part is None:
            return None
        states = self._part_states.get(session_id)
        if states is None:
            self._recount(session_id)
        else:
            old = states.get(number)
            new = (str(part.state), part.size)
            if old != new:
                tally = self._tallies.setdefault(session_id, {})
                if old is not None:
                    was = tally.get(old[0], Tally(0, 0))
                    tally[old[0]] = Tally(was.parts - 1, was.size - old[1])
                    if tally[old[0]].parts <= 0:
                        del tally[old[0]]
                now = tally.get(new[0], Tally(0, 0))
                tally[new[0]] = Tally(now.parts + 1, now.size + new[1])
                states[number] = new
        return part_to_wire(part)

    def _recount(self, session_id: str) -> None:
        """Count a driven session's parts again from the engine's own view."""
        parts = self.engine.live_parts(session_id)
        if parts is None:
            return
        states = {p.number: (str(p.state), p.size) for p in parts}
        tally = tally_parts(parts)
        self._part_states[session_id] = states
        self._tallies[session_id] = tally

    def _watch_runner(self, session_id: str) -> None:
        """Once per run: when the session's runner ends, release it and say so."""
        if session_id in self._watched:
            return
        runner = self.engine.runner(session_id)
        if runner is None or runner.done():
            return
        self._watched.add(session_id)
        runner.add_done_callback(lambda _: self._ended(session_id))

    def _ended(self, session_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._settle(session_id))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, session_id: str) -> None:
        self._watched.discard(session_id)
        if self.engine.is_running(session_id):  # started again before this ran
            self._watch_runner(session_id)
            return
        with contextlib.suppress(Exception):
            await self.engine.wait(session_id)  # releases its lock and its memory
        session = self.sessions.get(session_id)
        if session is None or self.engine.is_running(session_id):
            return
        self._part_states.pop(session_id, None)
        record: Record = {"event": {"kind": "runner", "session_id": session_id}}
        record.update(self.session_view(session))
        self.feed.publish(record)
