"""Synthetic journals for UI tests and benchmarks: sessions in every state, and big ones.

Everything is fixed (ids, times, digests) so screens built from it are the same on every
run; the files the sessions name are written under ``files_dir`` with fixed mtimes.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.config import Account, Config
from tui.core.journal import Journal
from tui.core.model import Part, PartState, Session, SessionState
from tui.core.settings import EngineSettings

P = PartState
S = SessionState

NOW = 1_790_000_000.0
"""The frozen wall clock of UI tests (2026-09-21)."""
MiB = 1024 * 1024

ACCOUNTS = {
    "archive-s3": "s3",
    "shop-gumroad": "gumroad",
    "team-box": "box",
    "polar-files": "polar",
}


def offline_config() -> Config:
    """A config naming the synthetic sessions' accounts (none of them reachable)."""
    accounts = {
        name: Account(
            name=name,
            provider=provider,
            base_url=None if provider == "s3" else "http://127.0.0.1:9/api",
            token_env=None if provider == "s3" else "PARTDECK_TEST_NO_TOKEN",
            bucket="archive" if provider == "s3" else None,
            endpoint_url="http://127.0.0.1:9" if provider == "s3" else None,
            client_id=None,
        )
        for name, provider in ACCOUNTS.items()
    }
    return Config(path=None, accounts=accounts, engine=EngineSettings())


def make_parts(
    session_id: str, size: int, part_size: int, states: dict[int, PartState] | None = None
) -> list[Part]:
    """Parts of ``size`` bytes; every part verified unless ``states`` says otherwise."""
    parts = []
    for number, start in enumerate(range(0, size, part_size), start=1):
        state = (states or {}).get(number, P.VERIFIED)
        done = state in (P.VERIFIED, P.UNVERIFIABLE)
        parts.append(
            Part(
                session_id=session_id,
                number=number,
                start=start,
                end=min(size, start + part_size),
                state=state,
                attempts=3 if state == P.FAILED else (1 if state != P.PENDING else 0),
                xxh3=f"{number:032x}" if state != P.PENDING else None,
                md5=f"{number * 7919:032x}" if state != P.PENDING else None,
                etag=f"{number * 7919:032x}" if done else None,
                error=(
                    "server said 500 Internal Server Error (gave up after 3 attempts)"
                    if state == P.FAILED
                    else "link expired before the part could start"
                    if state == P.EXPIRED
                    else None
                ),
                target_expires_at=NOW + 600 if state != P.PENDING else None,
            )
        )
    return parts


# (name, account, size MiB, part MiB, session state, part states, error, location)
_Showcase = tuple[str, str, int, int, SessionState, dict[int, PartState], str | None, str | None]
_SHOWCASE: list[_Showcase] = [
    ("db-dump-2026-09.sql.gz", "archive-s3", 96, 8, S.UPLOADING,
     {9: P.UPLOADING, 10: P.UPLOADING, 11: P.PENDING, 12: P.PENDING}, None, None),
    ("photos.tar", "archive-s3", 64, 8, S.STALLED, {7: P.UPLOADING, 8: P.UPLOADING},
     "no bytes sent for 60s; retry the parts in flight or check the network", None),
    ("course-video.mp4", "shop-gumroad", 200, 100, S.COMPLETE_UNKNOWN, {},
     "complete: server said 502 Bad Gateway; the outcome of complete is unknown", None),
    ("render-final.mov", "archive-s3", 48, 8, S.FAILED, {3: P.FAILED, 5: P.FAILED},
     "2 part(s) not uploaded (3, 5); part 3: server said 500 Internal Server Error (gave up "
     "after 3 attempts); retry them with partdeck retry 4444 or abort", None),
    ("notes.pdf", "polar-files", 30, 10, S.LOCAL_CHANGED, {3: P.PENDING},
     "notes.pdf changed since it was planned (size or mtime); restore it or abort", None),
    ("backup-2026-08.tar.zst", "archive-s3", 40, 8, S.COMPLETED, {}, None,
     "s3://archive/backup-2026-08.tar.zst"),
    ("old-build.iso", "team-box", 32, 8, S.ABORTED, {1: P.PENDING, 2: P.PENDING}, None, None),
    ("ebook.epub", "shop-gumroad", 24, 8, S.PAUSED, {2: P.PENDING, 3: P.PENDING}, None, None),
    ("dataset.parquet", "polar-files", 20, 10, S.PLANNED, {1: P.PENDING, 2: P.PENDING}, None, None),
]  # fmt: skip


def showcase_journal(state_dir: Path, files_dir: Path) -> list[Session]:
    """A journal with one session in each notable state, and the files they name."""
    files_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal.open(state_dir)
    sessions = []
    try:
        for index, (name, account, mib, part_mib, state, states, error, location) in enumerate(
            _SHOWCASE
        ):
            path = files_dir / name
            size = mib * MiB
            with open(path, "wb") as f:
                f.truncate(size)
            os.utime(path, ns=(int(NOW * 1e9), int(NOW * 1e9)))
            mtime = os.stat(path).st_mtime_ns
            sid = f"{index + 1:x}" * 4 + f"{index:028x}"
            session = Session(
                id=sid,
                account=account,
                provider=ACCOUNTS[account],
                path=str(path),
                size=size,
                mtime_ns=mtime + (1 if state == S.LOCAL_CHANGED else 0),
                part_size=part_mib * MiB,
                state=state,
                remote={} if state == S.PLANNED else {"upload_id": f"up-{index}", "key": name},
                location=location,
                error=error,
                created_at=NOW - 600 * (index + 1),
                updated_at=NOW - 30 * (index + 1),
                complete_sent=1 if state == S.COMPLETE_UNKNOWN else 0,
            )
            journal.create(session, make_parts(sid, size, part_mib * MiB, states))
            sessions.append(session)
    finally:
        journal.close()
    return sessions


def big_journal(state_dir: Path, files_dir: Path, parts: int = 10_000) -> Session:
    """A journal holding one session of ``parts`` parts (5 MiB each, a sparse file)."""
    files_dir.mkdir(parents=True, exist_ok=True)
    path = files_dir / "huge.img"
    part_size = 5 * MiB
    size = parts * part_size
    with open(path, "wb") as f:
        f.truncate(size)
    journal = Journal.open(state_dir)
    try:
        sid = "b" * 32
        session = Session(
            id=sid,
            account="archive-s3",
            provider="s3",
            path=str(path),
            size=size,
            mtime_ns=os.stat(path).st_mtime_ns,
            part_size=part_size,
            state=S.PAUSED,
            remote={"upload_id": "up-big", "key": "huge.img"},
            created_at=NOW - 3600,
            updated_at=NOW - 60,
        )
        states = {n: P.PENDING for n in range(parts // 2, parts + 1)}
        states.update({n: P.FAILED for n in range(100, parts, 997)})
        journal.create(session, make_parts(sid, size, part_size, states))
    finally:
        journal.close()
    return session
