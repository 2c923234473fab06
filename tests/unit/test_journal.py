"""Tests for tui.core.journal: the SQLite source of truth."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.core.errors import SessionNotFound, UsageError
from tui.core.journal import Journal, JournalError
from tui.core.model import Event, Part, PartState, Session, SessionState

SECRET_SIG = "d34dbeefc0ffee5ecret"
SECRET_BEARER = "abcTOKENxyz123"
SIGNED_URL = (
    "https://bucket.s3.amazonaws.com/key?partNumber=1&uploadId=u1"
    f"&X-Amz-Signature={SECRET_SIG}&X-Amz-Expires=900"
)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def journal(state_dir: Path) -> Iterator[Journal]:
    j = Journal.open(state_dir)
    yield j
    j.close()


def make_session(
    sid: str = "aaaa1111bbbb2222cccc3333dddd4444", *, created: float = 100.0, **kw: object
) -> Session:
    fields: dict[str, object] = {
        "id": sid,
        "account": "acct",
        "provider": "s3",
        "path": "/data/file.bin",
        "size": 20,
        "mtime_ns": 123456789,
        "part_size": 8,
        "created_at": created,
        "updated_at": created,
    }
    fields.update(kw)
    return Session(**fields)  # type: ignore[arg-type]


def make_parts(sid: str, size: int = 20, part: int = 8) -> list[Part]:
    return [
        Part(session_id=sid, number=n, start=a, end=min(a + part, size))
        for n, a in enumerate(range(0, size, part), start=1)
    ]


def raw_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


# -- files and modes -------------------------------------------------------------------------


def test_new_journal_file_and_dir_are_private(state_dir: Path, journal: Journal) -> None:
    assert journal.path == state_dir / "journal.sqlite3"
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    journal.create(make_session(), make_parts(make_session().id))
    wal = journal.path.with_name(journal.path.name + "-wal")
    assert wal.exists()
    assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0


def test_wal_mode_is_on(journal: Journal) -> None:
    assert raw_rows(journal.path, "PRAGMA journal_mode") == [("wal",)]


def test_reopen_keeps_data(state_dir: Path) -> None:
    j = Journal.open(state_dir)
    session = make_session()
    j.create(session, make_parts(session.id))
    j.close()
    again = Journal.open(state_dir)
    try:
        assert again.session(session.id) == session
        assert len(again.parts(session.id)) == 3
    finally:
        again.close()


def test_state_dir_under_a_regular_file_is_journal_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JournalError) as info:
        Journal.open(blocker / "state")
    message = str(info.value)
    assert "\n" not in message
    assert str(blocker / "state") in message
    assert "--state-dir" in message


def test_unopenable_journal_file_is_journal_error(tmp_path: Path) -> None:
    (tmp_path / "state" / Journal.FILENAME).mkdir(parents=True)  # a directory in its place
    with pytest.raises(JournalError) as info:
        Journal.open(tmp_path / "state")
    assert "\n" not in str(info.value)
    assert "--state-dir" in str(info.value)


def test_integrity_check_ok(journal: Journal) -> None:
    journal.create(make_session(), make_parts(make_session().id))
    assert journal.integrity_check() == "ok"


# -- round trips -----------------------------------------------------------------------------


def test_create_roundtrip(journal: Journal) -> None:
    session = make_session(
        remote={"upload_id": "u-1", "key": "up/file.bin", "nested": {"a": [1, 2]}},
        location="s3://bucket/up/file.bin",
    )
    parts = make_parts(session.id)
    parts[0].xxh3 = "00" * 16
    parts[0].md5 = "11" * 16
    parts[0].sha1 = "22" * 20
    parts[0].sha256 = "33" * 32
    parts[0].etag = "etag-1"
    parts[0].attempts = 2
    parts[0].error = "boom"
    parts[0].target_expires_at = 1234.5
    parts[0].state = PartState.VERIFIED
    event = Event("session", session.id, 100.0, state="planned", data={"parts": 3})
    journal.create(session, parts, event)

    assert journal.session(session.id) == session
    assert journal.parts(session.id) == parts
    assert journal.sessions() == [session]
    assert journal.events(session.id) == [event]
    assert journal.part_counts() == {session.id: {"verified": 1, "pending": 2}}


def test_create_is_atomic(journal: Journal) -> None:
    session = make_session()
    parts = make_parts(session.id)
    parts.append(Part(session.id, 1, 0, 1))  # duplicate primary key
    with pytest.raises(JournalError) as info:
        journal.create(session, parts)
    assert "\n" not in str(info.value)
    assert journal.sessions() == []
    assert journal.parts(session.id) == []


def test_commit_updates_session_parts_and_events(journal: Journal) -> None:
    session = make_session()
    parts = make_parts(session.id)
    journal.create(session, parts)
    session.move(SessionState.UPLOADING)
    session.remote = {"upload_id": "up-9"}
    session.complete_sent = 1
    parts[1].move(PartState.UPLOADING)
    parts[1].attempts = 1
    events = [
        Event("session", session.id, 101.0, state="uploading"),
        Event("part", session.id, 102.0, state="uploading", part=2, data={"attempt": 1}),
    ]
    journal.commit(session=session, parts=[parts[1]], events=events)

    assert journal.session(session.id) == session
    assert journal.parts(session.id) == parts
    assert journal.events(session.id) == events
    assert journal.events(session.id, part=2) == [events[1]]
    assert journal.events(session.id, kinds=["session"]) == [events[0]]
    assert journal.events(session.id, kinds=["part", "session"]) == events
    assert journal.events(session.id, kinds=["error"]) == []


def test_part_counts_across_sessions(journal: Journal) -> None:
    a = make_session("aa" * 16)
    b = make_session("bb" * 16, created=200.0)
    pa = make_parts(a.id)
    pa[0].state = PartState.FAILED
    journal.create(a, pa)
    journal.create(b, make_parts(b.id, size=8))
    assert journal.part_counts() == {a.id: {"failed": 1, "pending": 2}, b.id: {"pending": 1}}


def test_replace_parts_of(journal: Journal) -> None:
    session = make_session()
    journal.create(session, make_parts(session.id))
    new = [Part(session.id, 1, 0, 15), Part(session.id, 2, 15, 20)]
    session.part_size = 15
    journal.commit(session=session, parts=new, replace_parts_of=session.id)
    assert journal.parts(session.id) == new
    assert journal.session(session.id).part_size == 15


def test_replace_parts_of_leaves_other_sessions(journal: Journal) -> None:
    a = make_session("aa" * 16)
    b = make_session("bb" * 16)
    journal.create(a, make_parts(a.id))
    journal.create(b, make_parts(b.id))
    journal.commit(parts=[Part(a.id, 1, 0, 20)], replace_parts_of=a.id)
    assert len(journal.parts(a.id)) == 1
    assert len(journal.parts(b.id)) == 3


def test_commit_rolls_back_on_error(journal: Journal) -> None:
    session = make_session()
    journal.create(session, make_parts(session.id))
    orphan = Part("ff" * 16, 1, 0, 1)  # no such session: foreign key fails
    with pytest.raises(JournalError):
        journal.commit(
            parts=[orphan],
            events=[Event("notice", session.id, 1.0, message="should not stay")],
            replace_parts_of=session.id,
        )
    assert len(journal.parts(session.id)) == 3
    assert journal.events(session.id) == []


def test_durable_commit_runs_full_and_leaves_normal(journal: Journal) -> None:
    """A durable commit runs with synchronous=FULL for its transaction only, even when
    it fails; every other commit keeps NORMAL (the strace proof shows the sync itself)."""
    seen: list[int] = []
    journal._db.set_trace_callback(  # what SQLite was told, in order
        lambda sql: (
            seen.append(2 if "synchronous=FULL" in sql else 1)
            if "PRAGMA synchronous=" in sql
            else None
        )
    )
    session = make_session()
    journal.create(session, make_parts(session.id))
    assert journal.synchronous() == 1
    session.state = SessionState.COMPLETING
    journal.commit(session=session, durable=True)
    assert journal.session(session.id).state == SessionState.COMPLETING
    assert journal.synchronous() == 1
    assert seen[:2] == [2, 1]
    orphan = Part("ff" * 16, 1, 0, 1)
    with pytest.raises(JournalError):
        journal.commit(parts=[orphan], durable=True)
    assert journal.synchronous() == 1
    journal.commit(session=session)
    assert seen.count(2) == 2  # the plain commit did not ask for FULL


def test_by_upload_id(journal: Journal) -> None:
    a = make_session("aa" * 16, remote={"upload_id": "UP-A"})
    b = make_session("bb" * 16, remote={})
    c = make_session("cc" * 16, remote={"upload_id": "UP-C", "key": "k"})
    for s in (a, b, c):
        journal.create(s, [])
    assert journal.by_upload_id() == {"UP-A": a, "UP-C": c}


def test_delete_forgets_session_parts_and_events(journal: Journal) -> None:
    session = make_session()
    journal.create(session, make_parts(session.id), Event("session", session.id, 1.0))
    journal.delete(session.id)
    assert journal.sessions() == []
    assert journal.parts(session.id) == []
    assert journal.events(session.id) == []


def test_session_not_found(journal: Journal) -> None:
    with pytest.raises(SessionNotFound) as info:
        journal.session("00" * 16)
    assert "\n" not in str(info.value)


# -- find ------------------------------------------------------------------------------------


@pytest.fixture
def three(journal: Journal) -> list[Session]:
    sessions = [
        make_session("abc123" + "0" * 26, created=1.0),
        make_session("abd456" + "0" * 26, created=2.0),
        make_session("ff0000" + "1" * 26, created=3.0),
    ]
    for s in sessions:
        journal.create(s, [])
    return sessions


def test_find_unique_prefix(journal: Journal, three: list[Session]) -> None:
    assert journal.find("abc") == three[0]
    assert journal.find("abd4") == three[1]
    assert journal.find("f") == three[2]
    assert journal.find("ABC1") == three[0]  # case-insensitive
    assert journal.find(three[1].id) == three[1]


def test_find_ambiguous_prefix_is_usage_error(journal: Journal, three: list[Session]) -> None:
    with pytest.raises(UsageError) as info:
        journal.find("ab")
    assert not isinstance(info.value, SessionNotFound)
    message = str(info.value)
    assert "\n" not in message
    assert "more than one" in message
    assert three[0].id[:12] in message
    assert three[1].id[:12] in message


def test_find_no_match(journal: Journal, three: list[Session]) -> None:
    with pytest.raises(SessionNotFound) as info:
        journal.find("0123")
    assert "\n" not in str(info.value)
    assert "'0123'" in str(info.value)


@pytest.mark.parametrize("prefix", ["", "xyz", "ab%", "a_c", "ab'", "abc 1", "g"])
def test_find_non_hex_is_session_not_found(
    journal: Journal, three: list[Session], prefix: str
) -> None:
    with pytest.raises(SessionNotFound) as info:
        journal.find(prefix)
    assert "\n" not in str(info.value)


# -- redaction -------------------------------------------------------------------------------


def test_event_message_and_data_are_redacted(journal: Journal) -> None:
    session = make_session()
    journal.create(session, [])
    journal.commit(
        events=[
            Event(
                "error",
                session.id,
                5.0,
                part=1,
                message=f"PUT {SIGNED_URL} failed; Authorization: Bearer {SECRET_BEARER}",
                data={
                    "url": SIGNED_URL,
                    "header": f"Authorization: Bearer {SECRET_BEARER}",
                    "n": 3,
                },
            )
        ]
    )
    [event] = journal.events(session.id)
    assert event.message is not None
    assert SECRET_SIG not in event.message
    assert SECRET_BEARER not in event.message
    assert "https://bucket.s3.amazonaws.com/key" in event.message  # the useful part stays
    assert SECRET_SIG not in str(event.data)
    assert SECRET_BEARER not in str(event.data)
    assert event.data["n"] == 3
    assert event.data["url"].startswith("https://bucket.s3.amazonaws.com/key")

    # and never on disk, in the database or its WAL
    for suffix in ("", "-wal"):
        f = journal.path.with_name(journal.path.name + suffix)
        if f.exists():
            raw = f.read_bytes()
            assert SECRET_SIG.encode() not in raw
            assert SECRET_BEARER.encode() not in raw


@pytest.mark.parametrize("data", [{"note": 'header token="abc"'}, {"token": 5}])
def test_redacted_event_data_stays_readable(journal: Journal, data: dict[str, object]) -> None:
    session = make_session()
    journal.create(session, [])
    journal.commit(events=[Event("notice", session.id, 1.0, data=data)])
    [event] = journal.events(session.id)
    assert "abc" not in str(event.data)


def test_whole_file_digests_round_trip(journal: Journal) -> None:
    session = make_session(digests={"sha1": "ab" * 20})
    journal.create(session, make_parts(session.id))
    assert journal.session(session.id).digests == {"sha1": "ab" * 20}


def test_journal_of_an_older_partdeck_gains_the_digests_column(state_dir: Path) -> None:
    journal = Journal.open(state_dir)
    session = make_session()
    journal.create(session, make_parts(session.id))
    journal.close()
    db = sqlite3.connect(state_dir / Journal.FILENAME)
    db.execute("ALTER TABLE sessions DROP COLUMN digests")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")  # as that release recorded
    db.commit()
    db.close()
    reopened = Journal.open(state_dir)
    try:
        assert reopened.session(session.id).digests == {}
        assert reopened.integrity_check() == "ok"
    finally:
        reopened.close()


def test_measured_speed_per_account(journal: Journal) -> None:
    assert journal.speed("acct") is None
    journal.record_speed("acct", 12.5e6)
    journal.record_speed("other", 1.0)
    assert journal.speed("acct") == 12.5e6


def test_an_open_sqlite_refuses_at_once_as_locked_is_tried_again(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui.core.journal_open as opening

    real = opening.connect_once
    calls: list[bool] = []

    def flaky(path: Path, *, last: bool = False) -> sqlite3.Connection:
        calls.append(last)
        if len(calls) <= 2:  # as SQLite does while another process sets up the file
            raise opening.OpenBusy
        return real(path, last=last)

    monkeypatch.setattr(opening, "connect_once", flaky)
    monkeypatch.setattr(opening, "OPEN_RETRY_PAUSES", (0.0, 0.0, 0.0))
    journal = Journal.open(state_dir)
    try:
        assert journal.integrity_check() == "ok"
    finally:
        journal.close()
    assert calls == [False, False, False]


def test_a_journal_locked_for_good_says_so_in_one_line(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui.core.journal_open as opening

    def locked(path: Path, *, last: bool = False) -> sqlite3.Connection:
        if not last:
            raise opening.OpenBusy
        raise JournalError(f"journal {path} cannot be opened (database is locked); check it")

    monkeypatch.setattr(opening, "connect_once", locked)
    monkeypatch.setattr(opening, "OPEN_RETRY_PAUSES", (0.0,))
    with pytest.raises(JournalError, match="database is locked"):
        Journal.open(state_dir)
