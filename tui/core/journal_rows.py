"""How sessions and parts map to and from the journal's rows (the tables themselves are
built by :mod:`tui.core.journal_migrations`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any, NamedTuple

from tui.core.model import Part, PartState, Session, SessionState
from tui.core.redact import redact

SESSION_COLS = (
    "id, account, provider, path, size, mtime_ns, part_size, state, remote, location, error, "
    "created_at, updated_at, complete_sent, digests"
)
PART_COLS = (
    'session_id, number, start, "end", state, attempts, xxh3, md5, sha1, sha256, etag, error, '
    "target_expires_at, checksum"
)


UPSERT_SESSION = (
    f"INSERT INTO sessions ({SESSION_COLS}) VALUES ({'?,' * 14}?) ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in SESSION_COLS.split(", ")[1:])
)


def _redacted(text: str | None) -> str | None:
    return redact(text) if text else text


def session_row(s: Session) -> tuple[Any, ...]:
    return (
        s.id,
        s.account,
        s.provider,
        s.path,
        s.size,
        s.mtime_ns,
        s.part_size,
        str(s.state),
        json.dumps(s.remote, sort_keys=True),
        s.location,
        _redacted(s.error),  # errors are shown on screen: a safety net, like the events'
        s.created_at,
        s.updated_at,
        s.complete_sent,
        json.dumps(s.digests, sort_keys=True),
    )


def part_row(p: Part) -> tuple[Any, ...]:
    return (
        p.session_id,
        p.number,
        p.start,
        p.end,
        str(p.state),
        p.attempts,
        p.xxh3,
        p.md5,
        p.sha1,
        p.sha256,
        p.etag,
        _redacted(p.error),
        p.target_expires_at,
        p.checksum,
    )


def session_from(row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"],
        account=row["account"],
        provider=row["provider"],
        path=row["path"],
        size=row["size"],
        mtime_ns=row["mtime_ns"],
        part_size=row["part_size"],
        state=SessionState(row["state"]),
        remote=json.loads(row["remote"]),
        location=row["location"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        complete_sent=row["complete_sent"],
        digests=json.loads(row["digests"]),
    )


_PART_STATES = {state.value: state for state in PartState}
_PART_STATE_AT = 4
"""Where ``state`` stands in PART_COLS, which lists Part's fields in their own order."""


def part_from(row: sqlite3.Row) -> Part:
    # Positional, as PART_COLS is in field order: 10,000 parts load several times faster
    # than by column name.
    values = tuple(row)
    part = Part(*values)
    part.state = _PART_STATES[values[_PART_STATE_AT]]
    return part


class Tally(NamedTuple):
    """Parts of one session in one state: how many, and their bytes."""

    parts: int
    size: int


def tally_parts(parts: Iterable[Part]) -> dict[str, Tally]:
    """Per part state: how many of ``parts`` are in it, and their bytes."""
    counts: dict[str, list[int]] = {}
    for part in parts:
        count = counts.setdefault(str(part.state), [0, 0])
        count[0] += 1
        count[1] += part.size
    return {state: Tally(n, size) for state, (n, size) in counts.items()}
