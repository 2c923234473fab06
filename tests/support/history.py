"""A long history for UI tests and benchmarks: thousands of finished sessions.

Fixed ids, names and times, like ``tests.support.uidata``; the files are not written
(finished sessions never read their file), so a 10,000-session journal takes seconds.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.uidata import ACCOUNTS, NOW, MiB, make_parts
from tui.core.journal import Journal
from tui.core.model import PartState, Session, SessionState

S = SessionState
P = PartState

PART_SIZE = 8 * MiB
PARTS = 3
"""Parts of every finished session (their count only weighs on the journal's size)."""


def history_id(index: int) -> str:
    """The id of the ``index``-th finished session (oldest first)."""
    return f"f{index:031x}"


def history_name(index: int) -> str:
    """The file name of the ``index``-th finished session."""
    return f"archive-{index:05d}.tar"


def history_journal(state_dir: Path, files_dir: Path, count: int) -> list[str]:
    """Add ``count`` finished sessions (every 10th aborted, the rest completed), the newest
    an hour before ``NOW`` and one a minute older each; returns their ids, oldest first."""
    accounts = list(ACCOUNTS)
    journal = Journal.open(state_dir)
    ids = []
    try:
        for index in range(count):
            sid = history_id(index)
            name = history_name(index)
            account = accounts[index % len(accounts)]
            aborted = index % 10 == 9
            created = NOW - 3600 - 60 * (count - index)
            session = Session(
                id=sid,
                account=account,
                provider=ACCOUNTS[account],
                path=str(files_dir / name),
                size=PARTS * PART_SIZE,
                mtime_ns=int(created * 1e9),
                part_size=PART_SIZE,
                state=S.ABORTED if aborted else S.COMPLETED,
                remote={"upload_id": f"up-h{index}", "key": name},
                location=None if aborted else f"s3://archive/{name}",
                created_at=created,
                updated_at=created + 30,
            )
            states = {n: P.PENDING for n in range(1, PARTS + 1)} if aborted else None
            journal.create(session, make_parts(sid, session.size, PART_SIZE, states))
            ids.append(sid)
    finally:
        journal.close()
    return ids
