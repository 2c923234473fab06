"""The journal: a SQLite store of sessions, parts and an event log; the source of truth.

Everything a resume needs is written here before the first byte is sent, and a part is
``verified`` here before anyone is told. The database runs in WAL mode so a TUI can read
while a headless upload writes, and it is created 0600 in a 0700 directory because it
holds what a resume needs (upload ids, for some providers part URLs).

Durability: the connection runs ``synchronous=NORMAL``, so the many part and progress
commits cost no fsync; in WAL mode such a commit survives a crash of the process but a
power loss may take it back. A commit made with ``durable=True`` runs with
``synchronous=FULL``: SQLite syncs the WAL before the commit returns, and since the WAL
is one log, every earlier commit is on stable storage with it. The engine makes each
record that guards a request that must not be repeated (complete sent, abort sent, the
remote upload opened) durable before the request leaves.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tui.core.errors import SessionNotFound, UsageError
from tui.core.journal_migrations import SCHEMA_VERSION, JournalError, JournalTooNew
from tui.core.journal_open import connect
from tui.core.journal_rows import (
    PART_COLS,
    SESSION_COLS,
    UPSERT_SESSION,
    Tally,
    part_from,
    part_row,
    session_from,
    session_row,
    tally_parts,
)
from tui.core.model import FINAL_SESSION_STATES, Event, Part, Session
from tui.core.redact import redact, redact_data

__all__ = ["SCHEMA_VERSION", "Journal", "JournalError", "JournalTooNew", "Tally", "tally_parts"]


class Journal:
    """A SQLite journal in ``state_dir``; safe to call from any one thread at a time."""

    FILENAME = "journal.sqlite3"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = connect(path)

    @classmethod
    def open(cls, state_dir: Path) -> Journal:
        """Open (creating if needed) the journal in ``state_dir``."""
        try:
            state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise JournalError(
                f"state directory {state_dir} cannot be created ({exc.strerror}); "
                "pass --state-dir or set PARTDECK_STATE_DIR to a writable directory"
            ) from None
        return cls(state_dir / cls.FILENAME)

    def schema_version(self) -> int:
        """The schema number the journal records (:data:`SCHEMA_VERSION` once open)."""
        rows = self._query("SELECT value FROM meta WHERE key = 'schema'")
        return int(rows[0]["value"]) if rows else 0

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction; with ``durable``, on stable storage when it returns."""
        with self._lock:
            try:
                if durable:  # a pragma that cannot change inside a transaction
                    self._db.execute("PRAGMA synchronous=FULL")
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    try:
                        yield self._db
                    except BaseException:
                        self._db.execute("ROLLBACK")
                        raise
                    self._db.execute("COMMIT")
                finally:
                    if durable:
                        self._db.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise JournalError(
                    f"journal {self.path} write failed ({exc}); free disk space or check "
                    "permissions, then resume"
                ) from None

    def synchronous(self) -> int:
        """The connection's current ``PRAGMA synchronous`` (1 NORMAL, 2 FULL)."""
        return int(self._query("PRAGMA synchronous")[0][0])

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"journal {self.path} read failed ({exc})") from None

    # -- writing ---------------------------------------------------------------------------

    def create(self, session: Session, parts: Iterable[Part], event: Event | None = None) -> None:
        """Store a new session and its parts in one transaction."""
        with self._tx() as db:
            db.execute(
                f"INSERT INTO sessions ({SESSION_COLS}) VALUES ({'?,' * 14}?)",
                session_row(session),
            )
            db.executemany(
                f"INSERT INTO parts ({PART_COLS}) VALUES ({'?,' * 13}?)",
                [part_row(p) for p in parts],
            )
            if event is not None:
                self._insert_event(db, event)

    def commit(
        self,
        *,
        session: Session | None = None,
        parts: Iterable[Part] = (),
        events: Iterable[Event] = (),
        replace_parts_of: str | None = None,
        durable: bool = False,
    ) -> None:
        """Write a session, parts and events atomically.

        With ``replace_parts_of``, that session's parts are first deleted (used when the
        server, not the client, chose the part boundaries). With ``durable``, the commit
        (and every one before it) is on stable storage when this returns.
        """
        with self._tx(durable=durable) as db:
            if replace_parts_of is not None:
                db.execute("DELETE FROM parts WHERE session_id = ?", (replace_parts_of,))
            if session is not None:
                # An upsert, not REPLACE: REPLACE deletes the row and would cascade to parts.
                db.execute(UPSERT_SESSION, session_row(session))
            db.executemany(
                f"INSERT OR REPLACE INTO parts ({PART_COLS}) VALUES ({'?,' * 13}?)",
                [part_row(p) for p in parts],
            )
            for event in events:
                self._insert_event(db, event)

    def record_speed(self, account: str, bytes_per_second: float) -> None:
        """Remember the upload speed measured on ``account`` (for link-expiry planning)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (f"speed:{account}", repr(float(bytes_per_second))),
            )

    def speed(self, account: str) -> float | None:
        """The upload speed last measured on ``account``, bytes per second, or None."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (f"speed:{account}",))
        try:
            return float(rows[0]["value"]) if rows else None
        except ValueError:
            return None

    def account_facts(self, account: str) -> dict[str, str]:
        """What partdeck has learnt of ``account``'s store (``Provider.learned``)."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (f"facts:{account}",))
        try:
            facts = json.loads(rows[0]["value"]) if rows else {}
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in facts.items()} if isinstance(facts, dict) else {}

    def record_account_facts(self, account: str, facts: Mapping[str, str]) -> None:
        """Remember what partdeck has learnt of ``account``'s store, for later processes."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (f"facts:{account}", json.dumps(dict(facts), sort_keys=True)),
            )

    @staticmethod
    def _insert_event(db: sqlite3.Connection, event: Event) -> None:
        db.execute(
            "INSERT INTO events (session_id, time, kind, state, part, message, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event.session_id,
                event.time,
                event.kind,
                event.state,
                event.part,
                redact(event.message) if event.message else None,
                json.dumps(redact_data(event.data), sort_keys=True),
            ),
        )

    def delete(self, session_id: str) -> None:
        """Forget a session, its parts and its events."""
        with self._tx() as db:
            db.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- reading ---------------------------------------------------------------------------

    def session(self, session_id: str) -> Session:
        """The session with exactly this id."""
        rows = self._query(f"SELECT {SESSION_COLS} FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise SessionNotFound(
                f"no session {session_id!r} in the journal; see partdeck sessions"
            )
        return session_from(rows[0])

    def find(self, prefix: str) -> Session:
        """The one session whose id starts with ``prefix``."""
        if not prefix or not all(c in "0123456789abcdef" for c in prefix.lower()):
            raise SessionNotFound(
                f"{prefix!r} is not a session id; ids are hex, see partdeck sessions"
            )
        rows = self._query(
            f"SELECT {SESSION_COLS} FROM sessions WHERE id LIKE ? ORDER BY created_at LIMIT 3",
            (prefix.lower() + "%",),
        )
        if not rows:
            raise SessionNotFound(
                f"no session starts with {prefix!r} in {self.path}; see partdeck sessions"
            )
        if len(rows) > 1:
            ids = ", ".join(r["id"][:12] for r in rows)
            raise UsageError(
                f"{prefix!r} matches more than one session ({ids}…); give more of the id"
            )
        return session_from(rows[0])

    def sessions(self) -> list[Session]:
        """Every session, oldest first."""
        rows = self._query(f"SELECT {SESSION_COLS} FROM sessions ORDER BY created_at, id")
        return [session_from(r) for r in rows]

    def parts(self, session_id: str) -> list[Part]:
        """A session's parts in number order."""
        return [part_from(r) for r in self._parts_query(session_id)]

    def part_rows(self, session_id: str) -> list[tuple[Any, ...]]:
        """A session's parts in number order as plain rows, in ``Part``'s field order with
        the state as its value: what the service sends, without making 10,000 Parts."""
        return [tuple(r) for r in self._parts_query(session_id)]

    def _parts_query(self, session_id: str) -> list[sqlite3.Row]:
        return self._query(
            f"SELECT {PART_COLS} FROM parts WHERE session_id = ? ORDER BY number", (session_id,)
        )

    def part_counts(self) -> dict[str, dict[str, int]]:
        """For every session, how many parts are in each state."""
        counts: dict[str, dict[str, int]] = {}
        for row in self._query(
            "SELECT session_id, state, COUNT(*) AS n FROM parts GROUP BY session_id, state"
        ):
            counts.setdefault(row["session_id"], {})[row["state"]] = row["n"]
        return counts

    def done_bytes(self) -> dict[str, int]:
        """For every session with parts done, the bytes in its verified or unverifiable parts."""
        rows = self._query(
            'SELECT session_id, SUM("end" - start) AS n FROM parts '
            "WHERE state IN ('verified', 'unverifiable') GROUP BY session_id"
        )
        return {row["session_id"]: int(row["n"]) for row in rows}

    # -- cheap reads for a front end that follows the journal (the TUI's resync) ----------

    def data_version(self) -> int:
        """A number that changes when another connection (another partdeck) has written;
        the same number means nothing new from elsewhere since the last call."""
        return int(self._query("PRAGMA data_version")[0][0])

    def session_count(self) -> int:
        """How many sessions the journal holds."""
        return int(self._query("SELECT COUNT(*) FROM sessions")[0][0])

    def unfinished_sessions(self, also: Sequence[str] = ()) -> list[Session]:
        """Sessions not completed or aborted, plus the sessions with these ids."""
        final = ", ".join(f"'{state}'" for state in sorted(FINAL_SESSION_STATES))
        rows = self._query(f"SELECT {SESSION_COLS} FROM sessions WHERE state NOT IN ({final})")
        found = {r["id"]: session_from(r) for r in rows}
        wanted = [sid for sid in dict.fromkeys(also) if sid not in found]
        for chunk in range(0, len(wanted), 500):
            ids = wanted[chunk : chunk + 500]
            sql = f"SELECT {SESSION_COLS} FROM sessions WHERE id IN ({','.join('?' * len(ids))})"
            found.update((r["id"], session_from(r)) for r in self._query(sql, ids))
        return list(found.values())

    def newest_finished(self, limit: int) -> list[Session]:
        """The ``limit`` newest completed or aborted sessions, newest first."""
        final = ", ".join(f"'{state}'" for state in sorted(FINAL_SESSION_STATES))
        rows = self._query(
            f"SELECT {SESSION_COLS} FROM sessions WHERE state IN ({final}) "
            "ORDER BY created_at DESC, id LIMIT ?",
            (limit,),
        )
        return [session_from(r) for r in rows]

    def newest_session(self) -> str | None:
        """Id of the newest session (by creation; the lower id on a tie), or None."""
        rows = self._query("SELECT id FROM sessions ORDER BY created_at DESC, id LIMIT 1")
        return str(rows[0]["id"]) if rows else None

    def part_tallies(self, session_ids: Sequence[str] | None = None) -> dict[str, dict[str, Tally]]:
        """For these sessions (None: every one), per part state: how many parts, how many
        bytes."""
        sql = 'SELECT session_id, state, COUNT(*) AS n, SUM("end" - start) AS b FROM parts'
        batches: list[list[str]] = [[]] if session_ids is None else []
        if session_ids is not None:
            ids = list(session_ids)
            batches = [ids[i : i + 500] for i in range(0, len(ids), 500)]
        tallies: dict[str, dict[str, Tally]] = {}
        for batch in batches:
            where = f" WHERE session_id IN ({','.join('?' * len(batch))})" if batch else ""
            for row in self._query(sql + where + " GROUP BY session_id, state", batch):
                tallies.setdefault(row["session_id"], {})[row["state"]] = Tally(
                    int(row["n"]), int(row["b"] or 0)
                )
        return tallies

    def events(
        self, session_id: str, *, part: int | None = None, kinds: Sequence[str] = ()
    ) -> list[Event]:
        """A session's logged events in order, optionally of one part or some kinds."""
        sql = "SELECT * FROM events WHERE session_id = ?"
        args: list[Any] = [session_id]
        if part is not None:
            sql += " AND part = ?"
            args.append(part)
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        return [
            Event(
                kind=r["kind"],
                session_id=r["session_id"],
                time=r["time"],
                state=r["state"],
                part=r["part"],
                message=r["message"],
                data=json.loads(r["data"]),
            )
            for r in self._query(sql + " ORDER BY id", args)
        ]

    def by_upload_id(self) -> dict[str, Session]:
        """Sessions keyed by their remote upload id, where they have one."""
        return {s.remote["upload_id"]: s for s in self.sessions() if s.remote.get("upload_id")}

    def integrity_check(self) -> str:
        """SQLite's own integrity check: ``ok`` when the file is sound."""
        return str(self._query("PRAGMA integrity_check")[0][0])
