"""A client's copy of the service's state: every session, fed by a snapshot and then by
the service's numbered records, so readers (the CLI's progress line, the TUI's tables)
never touch the journal. Satisfies ``tui.service.api.SessionReads``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from tui.core.engine import Progress
from tui.core.journal import Tally
from tui.core.model import Part, Session
from tui.service.protocol import (
    Json,
    part_from_wire,
    progress_from_wire,
    session_from_wire,
)

PARTS_KEPT = 200_000
"""Parts a mirror holds at most, over every session whose parts were loaded: past it,
the sessions loaded longest ago are let go (a later ``load_parts`` fetches them again),
so a TUI that browses many big sessions for days stays bounded."""


def _tally(data: dict[str, Any]) -> dict[str, Tally]:
    return {state: Tally(int(n), int(size)) for state, (n, size) in data.items()}


class Mirror:
    """Sessions, their shown states, live bytes, part tallies and (for the sessions a
    client asked for) parts; updated on the event loop, readable from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self.seq = 0
        """The sequence number of the last record applied."""
        self.sessions: dict[str, Session] = {}
        self.shown: dict[str, str] = {}
        self.running: set[str] = set()
        self.progress: dict[str, Progress] = {}
        self.tallies: dict[str, dict[str, Tally]] = {}
        self.parts: dict[str, dict[int, Part]] = {}
        """Parts of the sessions whose parts were loaded; kept current by part records."""
        self._parts_seq: dict[str, int] = {}
        """The record each loaded session's parts stood at: older part records are stale."""

    # -- writes (the event loop) -----------------------------------------------------------

    def load(self, snapshot: Json) -> None:
        """Replace everything with a snapshot; loaded parts are dropped (load them again)."""
        with self._lock:
            self.sessions.clear()
            self.shown.clear()
            self.running.clear()
            self.progress.clear()
            self.tallies.clear()
            self.parts.clear()
            self._parts_seq.clear()
            for view in snapshot["sessions"]:
                self._view(view)
            self.seq = int(snapshot["seq"])
            self._version += 1

    def _view(self, view: Json) -> str:
        session = session_from_wire(view["session"])
        sid = session.id
        self.sessions[sid] = session
        self.shown[sid] = str(view.get("shown") or session.state)
        if view.get("running"):
            self.running.add(sid)
        else:
            self.running.discard(sid)
        if view.get("progress") is not None:
            self.progress[sid] = progress_from_wire(view["progress"])
        elif not view.get("running"):
            self.progress.pop(sid, None)
        if "tally" in view:
            self.tallies[sid] = _tally(view["tally"])
        return sid

    def set_parts(self, session_id: str, parts: Sequence[Part], seq: int) -> None:
        """Keep a session's parts, as loaded at record ``seq``, current from now on."""
        with self._lock:
            self.parts.pop(session_id, None)  # to the end: the newest load
            self.parts[session_id] = {p.number: p for p in parts}
            self._parts_seq[session_id] = seq
            held = sum(len(found) for found in self.parts.values())
            for oldest in list(self.parts)[:-1]:
                if held <= PARTS_KEPT:
                    break
                held -= len(self.parts.pop(oldest))
                self._parts_seq.pop(oldest, None)
            self._version += 1

    def apply(self, record: Json) -> None:
        """Apply one numbered record from the service."""
        with self._lock:
            event = record.get("event") or {}
            sid = str(event.get("session_id", ""))
            if "session" in record:
                self._view(record)
            if "progress" in record and record["progress"] is not None and sid:
                self.progress[sid] = progress_from_wire(record["progress"])
            if "tally" in record and sid:
                self.tallies[sid] = _tally(record["tally"])
            seq = int(record.get("seq", self.seq))
            if "part" in record and sid in self.parts and seq > self._parts_seq.get(sid, 0):
                part = part_from_wire(record["part"])
                self.parts[sid][part.number] = part
            self.seq = seq
            self._version += 1

    # -- reads (any thread) ----------------------------------------------------------------

    def data_version(self) -> int:
        """Changes whenever anything here changed."""
        return self._version

    def session(self, session_id: str) -> Session | None:
        """One session, or None."""
        with self._lock:
            return self.sessions.get(session_id)

    def sessions_list(self) -> list[Session]:
        """Every session, oldest first."""
        with self._lock:
            return sorted(self.sessions.values(), key=lambda s: (s.created_at, s.id))

    def loaded_parts(self, session_id: str) -> list[Part] | None:
        """The session's parts in order, if they were loaded."""
        with self._lock:
            found = self.parts.get(session_id)
            return [found[n] for n in sorted(found)] if found is not None else None


class MirrorReads:
    """``SessionReads`` over a Mirror."""

    def __init__(self, mirror: Mirror) -> None:
        self._mirror = mirror

    def data_version(self) -> int:
        return self._mirror.data_version()

    def sessions(self) -> list[Session]:
        return self._mirror.sessions_list()

    def session_count(self) -> int:
        return len(self._mirror.sessions)

    def unfinished_sessions(self, also: Sequence[str] = ()) -> list[Session]:
        wanted = set(also)
        return [s for s in self.sessions() if not s.final or s.id in wanted]

    def newest_finished(self, limit: int) -> list[Session]:
        finished = [s for s in self.sessions() if s.final]
        return sorted(finished, key=_newest_first)[:limit]

    def newest_session(self) -> str | None:
        sessions = self.sessions()
        return min(sessions, key=_newest_first).id if sessions else None

    def part_tallies(self, session_ids: Sequence[str] | None = None) -> dict[str, dict[str, Tally]]:
        tallies = self._mirror.tallies
        ids = list(tallies) if session_ids is None else [i for i in session_ids if i in tallies]
        return {i: dict(tallies[i]) for i in ids}


def _newest_first(session: Session) -> tuple[float, str]:
    """Sort key of the journal's ``ORDER BY created_at DESC, id``."""
    return (-session.created_at, session.id)
