"""The journal's schema as numbered migrations: each runs once, in its own transaction,
and the journal records the number of the last one it has (``meta.schema``).

Opening a journal runs every migration above its recorded number, in order; a journal
whose number is above :data:`SCHEMA_VERSION` was written by a newer partdeck and is
refused, untouched. Two processes opening the same journal at once are safe: each
migration re-reads the number inside its ``BEGIN IMMEDIATE`` transaction and skips what
the other process has already done.

How a later change to the journal adds a migration:

1. Append a :class:`Migration` to :data:`MIGRATIONS` (never edit or reorder one that has
   shipped: journals in the field have run it). Its statements bring a journal at the
   previous number to the new one; SQLite runs DDL inside the transaction, so a failing
   migration leaves the journal as it was. Write them to work on every journal that
   recorded the previous number.
2. Change the row mapping in :mod:`tui.core.journal_rows` to the new columns.
3. Make a fixture with the new code: ``python tests/fixtures/journals/make_journal.py DIR``
   and commit ``DIR/journal.sqlite3`` as ``tests/fixtures/journals/journal-vN.sqlite3``
   next to the older ones (which stay: each proves that its release's journals still
   open), with its expectations in ``tests/unit/test_journal_upgrade.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.core.errors import PartdeckError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "JournalError",
    "JournalTooNew",
    "Migration",
    "migrate",
    "recorded_version",
    "refuse_newer",
]


class JournalError(PartdeckError):
    """The journal cannot be opened or written (disk full, permissions, corruption)."""


class JournalTooNew(JournalError):
    """The journal records a schema newer than this partdeck knows; it is left untouched."""


@dataclass(frozen=True)
class Migration:
    """One step of the schema: what it does, for people, and how."""

    summary: str
    apply: Callable[[sqlite3.Connection], None]
    """Runs inside the migration's transaction (no COMMIT, no ``executescript``)."""


def _tables(db: sqlite3.Connection) -> None:
    """The tables and index of the first release (its ``sessions`` had no ``digests``)."""
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            provider TEXT NOT NULL,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            part_size INTEGER NOT NULL,
            state TEXT NOT NULL,
            remote TEXT NOT NULL DEFAULT '{}',
            location TEXT,
            error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            complete_sent INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """CREATE TABLE IF NOT EXISTS parts (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            xxh3 TEXT, md5 TEXT, sha1 TEXT, sha256 TEXT,
            etag TEXT,
            error TEXT,
            target_expires_at REAL,
            PRIMARY KEY (session_id, number)
        )"""
    )
    db.execute(
        """CREATE TABLE IF NOT EXISTS events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL,
            time REAL NOT NULL,
            kind TEXT NOT NULL,
            state TEXT,
            part INTEGER,
            message TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS events_by_session ON events (session_id, part, id)")


def _session_digests(db: sqlite3.Connection) -> None:
    """Whole-file digests per session. Releases before versioned migrations added this
    column on open and still recorded schema 1, so a schema-1 journal may have it."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    if "digests" not in columns:
        db.execute("ALTER TABLE sessions ADD COLUMN digests TEXT NOT NULL DEFAULT '{}'")


def _part_checksums(db: sqlite3.Connection) -> None:
    """A part's S3 flexible checksum (CRC64NVME and the like), beside its MD5."""
    if "checksum" not in {row[1] for row in db.execute("PRAGMA table_info(parts)")}:
        db.execute("ALTER TABLE parts ADD COLUMN checksum TEXT")


MIGRATIONS: Sequence[Migration] = (
    Migration("sessions, parts and the event log", _tables),
    Migration("sessions.digests: whole-file digests a provider needs", _session_digests),
    Migration("parts.checksum: a part's S3 flexible checksum", _part_checksums),
)
"""Migration ``n`` (1-based) brings a journal at schema ``n - 1`` to schema ``n``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema this partdeck writes: the number of its last migration."""


def recorded_version(db: sqlite3.Connection, path: Path) -> int:
    """The schema number the journal records; 0 for a new file (or one older than the
    record). Reads only."""
    if not db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone():
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is None:
        return 0
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise JournalTooNew(
            f"journal {path} records an unknown schema ({str(row[0])[:40]!r}); it was not "
            "written by partdeck, or by a newer one: upgrade partdeck or pass another --state-dir"
        ) from None


def refuse_newer(db: sqlite3.Connection, path: Path, known: int | None = None) -> int:
    """The recorded schema number, or :class:`JournalTooNew` when it is above ``known``
    (default: the last of :data:`MIGRATIONS`)."""
    known = len(MIGRATIONS) if known is None else known
    version = recorded_version(db, path)
    if version > known:
        raise JournalTooNew(
            f"journal {path} was written by a newer partdeck (schema {version}); upgrade partdeck"
        )
    return version


def migrate(
    db: sqlite3.Connection, path: Path, migrations: Sequence[Migration] | None = None
) -> None:
    """Run every migration the journal has not run yet, each once in its own transaction.

    ``db`` must be in autocommit mode (``isolation_level=None``); ``migrations`` defaults
    to :data:`MIGRATIONS` (tests pass their own).
    """
    steps = MIGRATIONS if migrations is None else migrations
    if refuse_newer(db, path, len(steps)) == len(steps):
        return
    for number, step in enumerate(steps, start=1):
        db.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the lock: another process may have run it since.
            if refuse_newer(db, path, len(steps)) >= number:
                db.execute("ROLLBACK")
                continue
            step.apply(db)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", (str(number),)
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
