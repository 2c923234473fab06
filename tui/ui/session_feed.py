"""Feeds the session list: the engine's live sessions on each tick, the journal's others.

Sessions this process drives come from the engine, through the bridge's changes. The
others (finished, stopped, or driven by another partdeck) come from the journal, read
again only when another process wrote to it (SQLite's data version moved) or when asked
(after a command); and then only the unfinished sessions, plus those that were
unfinished at the last read. A long history of finished sessions is read once, at start.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tui.core.engine import Engine
from tui.core.journal import Tally
from tui.core.model import DONE_PART_STATES, Part, PartState, Session
from tui.ui.bridge import Changes
from tui.ui.session_list import FINISHED_SHOWN, SessionList

P = PartState
APPLY_SLICE = 500
"""Sessions taken from one journal read between two turns of the event loop."""
_FAILED = frozenset({P.FAILED, P.EXPIRED})
_DONE = tuple(str(s) for s in DONE_PART_STATES)


def count_parts(parts: list[Part]) -> tuple[int, int, int]:
    """(done parts, done bytes, failed parts)."""
    done = failed = size = 0
    for part in parts:
        if part.state in DONE_PART_STATES:
            done += 1
            size += part.size
        elif part.state in _FAILED:
            failed += 1
    return done, size, failed


@dataclass(frozen=True)
class JournalRead:
    """What one resync read: sessions, their part tallies, and whether it was all."""

    sessions: list[Session]
    tallies: dict[str, dict[str, Tally]]
    complete: bool
    """Every session in the journal (else only the unfinished and the recently so)."""
    version: int
    """The journal's data version before the read."""


class SessionFeed:
    """Keeps a SessionList up to date from the engine and the journal."""

    def __init__(self, engine: Engine, rows: SessionList) -> None:
        self.engine = engine
        self.rows = rows
        self._version: int | None = None
        self._open: set[str] = set()
        """Sessions unfinished at the last journal read or driven here since: the next
        read takes them even when they have finished."""
        self._lock = asyncio.Lock()
        self.reads = 0
        """Journal reads done (each one a query over sessions), for tests and benchmarks."""

    def _read(
        self, force: bool, full: bool, also: list[str], known: set[str]
    ) -> JournalRead | None:
        """In a thread: what the journal holds now, or None when nothing can have changed.

        ``also``: sessions to read even when finished; ``known``: the ids held now. The
        first read takes the unfinished sessions and the newest finished ones only."""
        journal = self.engine.journal
        version = journal.data_version()
        if not force and not full and version == self._version:
            return None
        if self._version is None and not full:
            sessions = journal.unfinished_sessions() + journal.newest_finished(FINISHED_SHOWN)
            ids = [s.id for s in sessions]
            return JournalRead(sessions, journal.part_tallies(ids), False, version)
        if not full:
            sessions = journal.unfinished_sessions(also=also)
            ids = [s.id for s in sessions]
            if journal.session_count() == len(known | set(ids)):
                return JournalRead(sessions, journal.part_tallies(ids), False, version)
        return JournalRead(journal.sessions(), journal.part_tallies(), True, version)

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
            read = await asyncio.to_thread(self._read, force, full, also, known)
            if read is None:
                return False
            await self._apply(read)
            return True

    async def _apply(self, read: JournalRead) -> None:
        """Take what was read; a long history in slices, so the app stays responsive."""
        self._version = read.version
        self.reads += 1
        rows, engine = self.rows, self.engine
        self._open -= {s.id for s in read.sessions if s.final}
        self._open |= {s.id for s in read.sessions if not s.final}
        for index, session in enumerate(read.sessions):
            if index % APPLY_SLICE == APPLY_SLICE - 1:
                await asyncio.sleep(0)
            if engine.is_running(session.id):
                continue
            rows.put(session)
            tally = read.tallies.get(session.id, {})
            stats = rows.stats_of(session.id)
            stats.total_parts = sum(t.parts for t in tally.values())
            stats.done_parts = sum(tally[s].parts for s in _DONE if s in tally)
            stats.done_bytes = sum(tally[s].size for s in _DONE if s in tally)
            stats.running = False
            stats.current_bytes = None
            rows.failed[session.id] = sum(
                tally[s].parts for s in (str(P.FAILED), str(P.EXPIRED)) if s in tally
            )
        if read.complete:
            rows.drop(set(rows.sessions) - {s.id for s in read.sessions})

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
                parts = engine.parts(session_id)
                stats.total_parts = len(parts)
                stats.done_parts, stats.done_bytes, rows.failed[session_id] = count_parts(parts)
            stats.running = engine.is_running(session_id)
            stats.current_bytes = progress.current if stats.running else None
            if stats.running:
                stats.meter.update(now, progress.current)
        return stale
