"""Opening the journal's SQLite file: created 0600, WAL mode, its schema brought up to
date (see :mod:`tui.core.journal_migrations`), and a few more tries when SQLite answers
"database is locked" at once."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from tui.core.journal_migrations import JournalError, JournalTooNew, migrate, refuse_newer

OPEN_RETRY_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)
"""Seconds between tries of an open SQLite answers "database is locked" to at once."""


class OpenBusy(Exception):
    """One try at opening the journal met a lock SQLite would not wait for."""


def connect(path: Path) -> sqlite3.Connection:
    """Open the journal at ``path`` and bring its schema up to date; a journal of a newer
    partdeck is refused before anything is written to it.

    SQLite answers "database is locked" at once, without waiting out its busy timeout,
    in a few moments of another process opening the same file (setting WAL mode on a new
    journal, say); such an open is tried again a few times."""
    for pause in OPEN_RETRY_PAUSES:
        try:
            return connect_once(path)
        except OpenBusy:
            time.sleep(pause)
    return connect_once(path, last=True)


def connect_once(path: Path, *, last: bool = False) -> sqlite3.Connection:
    """One try at :func:`connect`; :class:`OpenBusy` when locked unless it is the ``last``."""
    db: sqlite3.Connection | None = None
    try:
        # Create the file 0600 before SQLite does; its -wal and -shm files copy the mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        db.row_factory = sqlite3.Row
        refuse_newer(db, path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        migrate(db, path)
    except JournalTooNew:
        if db is not None:
            db.close()
        raise
    except (OSError, sqlite3.Error) as exc:
        if db is not None:
            db.close()
        if not last and isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise OpenBusy from None
        reason = getattr(exc, "strerror", None) or str(exc)
        raise JournalError(
            f"journal {path} cannot be opened ({reason}); check the disk and permissions "
            "or pass another --state-dir"
        ) from None
    return db
