"""What the sessions table shows, and which of its rows changed: no widgets here.

Every session the app knows is held here with its stats; the table shows the unfinished
ones and the newest finished ones (the rest are folded away, but a filter searches them
all). A tick asks only for the rows that changed: rows marked by the bridge or the
journal, running rows, and rows whose age text is due to change (once a second while a
session is younger than an hour, then once a minute, then once an hour). So a long
history costs nothing while nothing happens.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable
from dataclasses import dataclass

from tui.core.model import Session
from tui.ui.rows import Cell, SessionStats, session_cells

FINISHED_SHOWN = 20
"""Finished (completed or aborted) sessions shown, newest first, while folded."""


def age_changes_at(created_at: float, now: float) -> float:
    """When the age text of a session created at ``created_at`` next changes after ``now``
    (``format_duration`` shows seconds under an hour, minutes under a day, then hours)."""
    age = max(0.0, now - created_at)
    step = 1.0 if age < 3600 else 60.0 if age < 86400 else 3600.0
    return created_at + (int(age // step) + 1) * step


def matches(session: Session, needle: str) -> bool:
    """True when the filter text is in the file name, account, provider, state or id."""
    if not needle:
        return True
    haystack = (
        f"{os.path.basename(session.path)} {session.account} {session.provider} "
        f"{session.state} {session.id}"
    ).lower()
    return all(word in haystack for word in needle.lower().split())


@dataclass(frozen=True)
class Shown:
    """The rows the table should show, in order, and what is left out."""

    keys: list[str]
    folded: int
    """Finished sessions left out (only while not searching or showing all)."""
    matching: int
    """Sessions that match the filter (every session when there is none)."""


class SessionList:
    """Sessions by id with their stats; the visible rows and the rows to redraw."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.stats: dict[str, SessionStats] = {}
        self.failed: dict[str, int] = {}
        self.needle = ""
        """The filter text (empty: no filter)."""
        self.show_finished = False
        """Show every finished session, not only the newest FINISHED_SHOWN."""
        self._dirty: set[str] = set()
        self._placed: dict[str, tuple[float, bool]] = {}
        """(created at, final) of each session when its place was last worked out."""
        self._ages: list[tuple[float, str]] = []
        """(when its age text changes, id) of every visible row, as a heap."""
        self._order_dirty = True
        self._shown: Shown = Shown([], 0, 0)
        self.rows_computed = 0
        """Rows whose cells were worked out since the list was made (what a tick cost)."""

    def put(self, session: Session) -> None:
        """Hold this version of a session; its row is redrawn at the next tick."""
        # the engine hands the same (mutated) object again: compare with what was noted
        placed = (session.created_at, session.final)
        if self._placed.get(session.id) != placed:
            self._placed[session.id] = placed
            self._order_dirty = True
        self.sessions[session.id] = session
        self._dirty.add(session.id)

    def stats_of(self, session_id: str) -> SessionStats:
        """The stats of a session (created empty); the caller marks the row with ``touch``."""
        return self.stats.setdefault(session_id, SessionStats())

    def touch(self, session_id: str) -> None:
        """Redraw this session's row at the next tick."""
        self._dirty.add(session_id)

    def drop(self, session_ids: Iterable[str]) -> None:
        """Forget sessions the journal no longer holds."""
        for sid in session_ids:
            self.sessions.pop(sid, None)
            self.stats.pop(sid, None)
            self.failed.pop(sid, None)
            self._placed.pop(sid, None)
            self._order_dirty = True

    def set_view(self, *, needle: str | None = None, show_finished: bool | None = None) -> None:
        """Change the filter text or whether every finished session is shown."""
        if needle is not None and needle != self.needle:
            self.needle = needle
            self._order_dirty = True
        if show_finished is not None and show_finished != self.show_finished:
            self.show_finished = show_finished
            self._order_dirty = True

    @property
    def shown(self) -> Shown:
        """The rows shown after the last ``changes``."""
        return self._shown

    def title(self) -> str:
        """The sessions table's title: what is folded or searched, and the keys for it."""
        shown = self._shown
        if self.needle:
            return f"Sessions matching {self.needle!r}: {shown.matching:,}"
        if shown.folded:
            return f"Sessions · {shown.folded:,} finished folded (F shows, / searches)"
        return "Sessions · finished shown (F folds)" if self.show_finished else "Sessions"

    def _visible(self) -> Shown:
        newest_first = sorted(self.sessions.values(), key=lambda s: (-s.created_at, s.id))
        wanted = [s for s in newest_first if matches(s, self.needle)]
        if self.needle or self.show_finished:
            return Shown([s.id for s in wanted], 0, len(wanted))
        keys: list[str] = []
        finished = 0
        for session in wanted:
            if session.final:
                finished += 1
                if finished > FINISHED_SHOWN:
                    continue
            keys.append(session.id)
        return Shown(keys, max(0, finished - FINISHED_SHOWN), len(wanted))

    def changes(self, now: float) -> tuple[bool, dict[str, dict[str, Cell]]]:
        """(whether the shown rows may have changed, cells of the rows to redraw).

        When they may have, every shown row's cells come back, in order (the table
        compares them with what it shows); otherwise only those of rows that changed or
        whose age text is due.
        """
        if self._order_dirty:
            self._order_dirty = False
            self._dirty.clear()
            self._shown = self._visible()
            keys = self._shown.keys
            self._ages = [(age_changes_at(self.sessions[k].created_at, now), k) for k in keys]
            heapq.heapify(self._ages)
            return True, {k: self._cells(k, now) for k in keys}
        due = self._dirty
        self._dirty = set()
        while self._ages and self._ages[0][0] <= now:
            _, key = heapq.heappop(self._ages)
            session = self.sessions.get(key)
            if session is not None:
                due.add(key)
                heapq.heappush(self._ages, (age_changes_at(session.created_at, now), key))
        visible = set(self._shown.keys)
        return False, {k: self._cells(k, now) for k in due if k in visible}

    def _cells(self, session_id: str, now: float) -> dict[str, Cell]:
        self.rows_computed += 1
        return session_cells(self.sessions[session_id], self.stats_of(session_id), now)
