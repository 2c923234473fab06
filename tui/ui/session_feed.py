"""Feeds the session list: the engine's live sessions on each tick, the store's others.

Sessions the engine drives come from it, through the bridge's changes. The others
(finished, stopped, or driven by another partdeck) come from the engine's store (the
journal for an in-process engine, the service's mirror for the service's), read again
only when it changed (its data version moved) or when asked (after a command); and then
only the unfinished sessions, plus those that were unfinished at the last read. A long
history of finished sessions is read once, at start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from tui.core.journal import Tally
from tui.core.liveness import DRIVEN_STATES, INTERRUPTED
from tui.core.model import DONE_PART_STATES, PartState, Session
from tui.service.api import EngineAPI
from tui.ui.bridge import Changes
from tui.ui.session_list import FINISHED_SHOWN, SessionList

P = PartState
APPLY_SLICE = 500
"""Sessions taken from one journal read between two turns of the event loop."""
_FAILED = (str(P.FAILED), str(P.EXPIRED))
_DONE = tuple(str(s) for s in DONE_PART_STATES)


@dataclass(frozen=True)
class JournalRead:
    """What one resync read: sessions, their part tallies, and whether it was all."""

    sessions: list[Session]
    tallies: dict[str, dict[str, Tally]]
    complete: bool
    """Every session in the journal (else only the unfinished and the recently so)."""
    version: int
    """The journal's data version before the read."""
    interrupted: frozenset[str] = frozenset()
    """Sessions read (or held) in a driven state whose lock no process holds."""


class SessionFeed:
    """Keeps a SessionList up to date from the engine and the journal."""

    def __init__(self, engine: EngineAPI, rows: SessionList) -> None:
        self.engine = engine
        self.rows = rows
        self._version: int | None = None
        self._open: set[str] = set()
        """Sessions unfinished at the last journal read or driven here since: the next
        read takes them even when they have finished."""
        self._interrupted: frozenset[str] = frozenset()
        """Sessions shown as interrupted after the last read."""
        self._lock = asyncio.Lock()
        self.reads = 0
        """Journal reads done (each one a query over sessions), for tests and benchmarks."""

    def _read(
        self, force: bool, full: bool, also: list[str], known: set[str], driven: list[Session]
    ) -> JournalRead | None:
        """In a thread: what the journal holds now, or None when nothing can have changed.

        ``also``: sessions to read even when finished; ``known``: the ids held now;
        ``driven``: the sessions held in a driven state that no driver here runs, whose
        locks are asked even when nothing was written. The first read takes the
        unfinished sessions and the newest finished ones only."""
        journal = self.engine.store
        version = journal.data_version()
        if not force and not full and version == self._version:
            # A driver killed mid-upload writes nothing more: only its lock tells.
            stopped = self._stopped(driven)
            return (
                None
                if stopped == self._interrupted
                else JournalRead([], {}, False, version, stopped)
            )
        if self._version is None and not full:
            sessions = journal.unfinished_sessions() + journal.newest_finished(FINISHED_SHOWN)
            ids = [s.id for s in sessions]
            tallies = journal.part_tallies(ids)
            return JournalRead(sessions, tallies, False, version, self._stopped(sessions))
        if not full:
            sessions = journal.unfinished_sessions(also=also)
            ids = [s.id for s in sessions]
            if journal.session_count() == len(known | set(ids)):
                tallies = journal.part_tallies(ids)
                return JournalRead(sessions, tallies, False, version, self._stopped(sessions))
        sessions = journal.sessions()
        return JournalRead(sessions, journal.part_tallies(), True, version, self._stopped(sessions))

    def _stopped(self, sessions: Iterable[Session]) -> frozenset[str]:
        """Of these sessions, those in a driven state that no process drives (asks each
        one's lock; only sessions in a driven state, so a long history costs nothing)."""
        shown = self.engine.shown_state
        return frozenset(
            s.id for s in sessions if s.state in DRIVEN_STATES and shown(s) == INTERRUPTED
        )

    async def resync(self, *, force: bool = False, full: bool = False) -> bool:
        """Read the sessions not driven here from the journal; True when anything was read.

        Without ``force`` nothing is read unless another process wrote to the journal,
        and nothing while another read is under way. Reads never overlap. ``full`` reads
        every session (the history, once, after the first frame).
        """
        if not force and self._lock.locked():
            return False
        async with self._lock:
            also, known = sorted(self._open), set(self.rows.sessions)
            driven = [
                s
                for s in self.rows.sessions.values()
                if s.state in DRIVEN_STATES and not self.engine.is_running(s.id)
            ]
            read = await asyncio.to_thread(self._read, force, full, also, known, driven)
            if read is None:
                return False
            await self._apply(read)
            return True

    async def _apply(self, read: JournalRead) -> None:
        """Take what was read; a long history in slices, so the app stays responsive."""
        self._version = read.version
        rows, engine = self.rows, self.engine
        for session_id in read.interrupted ^ self._interrupted:
            if session_id in rows.sessions and not engine.is_running(session_id):
                rows.stats_of(session_id).interrupted = session_id in read.interrupted
                rows.touch(session_id)
        self._interrupted = read.interrupted
        if not read.sessions:
            return
        self.reads += 1
        self._open -= {s.id for s in read.sessions if s.final}
        self._open |= {s.id for s in read.sessions if not s.final}
        for index, session in enumerate(read.sessions):
            if index % APPLY_SLICE == APPLY_SLICE - 1:
                await asyncio.sleep(0)
            if engine.is_running(session.id):
                continue
            rows.put(session)
            self._count(session.id, read.tallies.get(session.id, {}))
            stats = rows.stats_of(session.id)
            stats.running = False
            stats.interrupted = session.id in read.interrupted
            stats.current_bytes = None
        if read.complete:
            rows.drop(set(rows.sessions) - {s.id for s in read.sessions})

    def _count(self, session_id: str, tally: dict[str, Tally]) -> None:
        """A session's part counts, from its tally by state."""
        stats = self.rows.stats_of(session_id)
        stats.total_parts = sum(t.parts for t in tally.values())
        stats.done_parts = sum(tally[s].parts for s in _DONE if s in tally)
        stats.done_bytes = sum(tally[s].size for s in _DONE if s in tally)
        self.rows.failed[session_id] = sum(tally[s].parts for s in _FAILED if s in tally)

    def ingest(self, changes: Changes, now: float) -> bool:
        """Take the engine's changes since the last tick; True when a session the engine
        no longer holds needs the journal's last word."""
        engine, rows = self.engine, self.rows
        stale = False
        for session_id in changes.sessions | set(engine.running()):
            progress = engine.progress(session_id)
            if progress is None:
                stale = True
                continue
            self._open.add(session_id)
            rows.put(engine.session(session_id))
            stats = rows.stats_of(session_id)
            if session_id in changes.parts or stats.total_parts == 0:
                self._count(session_id, engine.part_tally(session_id) or {})
            stats.running = engine.is_running(session_id)
            stats.current_bytes = progress.current if stats.running else None
            if stats.running:
                stats.rates.add(now, stats.meter.update(now, progress.current))
        return stale
