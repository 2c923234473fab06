"""Journals written by earlier releases open under this one (versioned migrations).

Each ``tests/fixtures/journals/journal-vN.sqlite3`` was written by the release of schema
N (by ``make_journal.py`` next to it) and is never rewritten; the test opens a copy with
the current code and finds every session with its id, state, parts and events. How a
later change adds a migration and a fixture: see :mod:`tui.core.journal_migrations`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.fixtures.journals.make_journal import part_checksum
from tui.core import journal_migrations
from tui.core.journal import SCHEMA_VERSION, Journal, JournalError, JournalTooNew
from tui.core.journal_migrations import Migration
from tui.core.model import PartState, SessionState

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "journals"

P = PartState
S = SessionState
V1_SESSIONS: dict[str, tuple[str, SessionState, tuple[PartState, ...]]] = {
    "0c0ffee0000000000000000000000001": ("s3", S.COMPLETED, (P.VERIFIED,) * 3),
    "0c0ffee0000000000000000000000002": (
        "gumroad",
        S.PAUSED,
        (P.VERIFIED, P.VERIFIED, P.PENDING, P.PENDING),
    ),
    "0c0ffee0000000000000000000000003": ("box", S.FAILED, (P.VERIFIED, P.FAILED)),
    "0c0ffee0000000000000000000000004": (
        "polar",
        S.UPLOADING,
        (P.VERIFIED, P.UPLOADING, P.PENDING),
    ),
    "0c0ffee0000000000000000000000005": ("s3", S.ABORTED, (P.VERIFIED, P.PENDING)),
    "0c0ffee0000000000000000000000006": (
        "fileflare",
        S.COMPLETE_UNKNOWN,
        (P.UNVERIFIABLE, P.VERIFIED),
    ),
}
"""What journal-v1.sqlite3 (written by the release that recorded schema 1) holds."""

EXPECTED = {
    "journal-v1.sqlite3": V1_SESSIONS,
    "journal-v2.sqlite3": V1_SESSIONS,
    "journal-v3.sqlite3": V1_SESSIONS,
}
"""Every fixture with what it holds: a new fixture without an entry here fails."""


def _copy(fixture: str, tmp_path: Path) -> Path:
    """A copy of the fixture as a state dir's journal: opening it migrates it."""
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    shutil.copyfile(FIXTURES / fixture, state_dir / Journal.FILENAME)
    return state_dir


def _recorded(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])
    finally:
        db.close()


def test_every_fixture_has_its_expectations() -> None:
    assert sorted(p.name for p in FIXTURES.glob("journal-v*.sqlite3")) == sorted(EXPECTED)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_journal_of_an_earlier_release_opens_with_every_session(
    fixture: str, tmp_path: Path
) -> None:
    expected = EXPECTED[fixture]
    journal = Journal.open(_copy(fixture, tmp_path))
    try:
        assert journal.schema_version() == SCHEMA_VERSION
        assert journal.integrity_check() == "ok"
        sessions = {s.id: s for s in journal.sessions()}
        assert sorted(sessions) == sorted(expected)
        for sid, (provider, state, part_states) in expected.items():
            session = journal.find(sid)
            assert (session.id, session.provider, session.state) == (sid, provider, state)
            assert session.remote["upload_id"]
            parts = journal.parts(sid)
            assert [p.number for p in parts] == list(range(1, len(part_states) + 1))
            assert tuple(p.state for p in parts) == part_states
            assert parts[-1].end == session.size
            events = journal.events(sid)
            assert [e.state for e in events[:2]] == [S.PLANNED, S.UPLOADING]
            logged = [e.part for e in events if e.kind == "part"]
            assert logged == [
                p.number for p in parts if p.state in (P.VERIFIED, P.UNVERIFIABLE, P.FAILED)
            ]
            if state != S.UPLOADING:
                assert events[-1].state == state
        assert sessions["0c0ffee0000000000000000000000001"].location
        assert sessions["0c0ffee0000000000000000000000001"].complete_sent == 1
        assert sessions["0c0ffee0000000000000000000000003"].digests == {"sha1": "ab" * 20}
        assert "retry it or abort" in (sessions["0c0ffee0000000000000000000000003"].error or "")
        assert journal.parts("0c0ffee0000000000000000000000003")[1].attempts == 5
        assert journal.speed("s3-main") == 12_500_000.0
        first_s3 = journal.parts("0c0ffee0000000000000000000000001")
        if fixture >= "journal-v3":  # S3 sessions opened with CRC64NVME
            assert sessions["0c0ffee0000000000000000000000001"].remote["checksum"] == "crc64nvme"
            assert [p.checksum for p in first_s3] == [part_checksum(n) for n in (1, 2, 3)]
        else:  # older sessions sent Content-MD5: no checksum, and none made up
            assert "checksum" not in sessions["0c0ffee0000000000000000000000001"].remote
            assert [p.checksum for p in first_s3] == [None, None, None]
    finally:
        journal.close()


def test_an_upgraded_journal_takes_new_sessions(tmp_path: Path) -> None:
    state_dir = _copy("journal-v1.sqlite3", tmp_path)
    journal = Journal.open(state_dir)
    try:
        paused = journal.session("0c0ffee0000000000000000000000002")
        parts = journal.parts(paused.id)
        parts[2].state = P.VERIFIED
        journal.commit(session=paused, parts=[parts[2]], durable=True)
        assert journal.parts(paused.id)[2].state == P.VERIFIED
    finally:
        journal.close()


def _counting(runs: list[str]) -> Migration:
    def apply(db: sqlite3.Connection) -> None:
        runs.append("ran")
        db.execute("ALTER TABLE sessions ADD COLUMN note TEXT")

    return Migration("sessions.note", apply)


def test_a_migration_runs_once_and_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = _copy("journal-v1.sqlite3", tmp_path)
    runs: list[str] = []
    monkeypatch.setattr(
        journal_migrations, "MIGRATIONS", (*journal_migrations.MIGRATIONS, _counting(runs))
    )
    for _ in range(3):
        Journal.open(state_dir).close()
    assert runs == ["ran"]
    assert _recorded(state_dir / Journal.FILENAME) == str(SCHEMA_VERSION + 1)
    db = sqlite3.connect(state_dir / Journal.FILENAME)
    columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    db.close()
    assert "note" in columns


def test_two_processes_opening_at_once_run_a_migration_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = _copy("journal-v1.sqlite3", tmp_path)
    runs: list[str] = []
    monkeypatch.setattr(
        journal_migrations, "MIGRATIONS", (*journal_migrations.MIGRATIONS, _counting(runs))
    )
    start = threading.Barrier(4)
    opened: list[Journal] = []
    errors: list[BaseException] = []

    def open_journal() -> None:
        start.wait()
        try:
            opened.append(Journal.open(state_dir))  # each its own SQLite connection
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_journal) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for journal in opened:
        journal.close()
    assert errors == []
    assert len(opened) == 4
    assert runs == ["ran"]
    assert _recorded(state_dir / Journal.FILENAME) == str(SCHEMA_VERSION + 1)


def test_a_failing_migration_leaves_the_journal_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = _copy("journal-v1.sqlite3", tmp_path)
    Journal.open(state_dir).close()  # at the current schema

    def half_done(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x INTEGER)")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(
        journal_migrations,
        "MIGRATIONS",
        (*journal_migrations.MIGRATIONS, Migration("breaks", half_done)),
    )
    with pytest.raises(JournalError) as caught:
        Journal.open(state_dir)
    assert "\n" not in str(caught.value)
    assert "cannot be opened" in str(caught.value)
    path = state_dir / Journal.FILENAME
    assert _recorded(path) == str(SCHEMA_VERSION)
    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert "half_done" not in tables


def _newer_journal(tmp_path: Path) -> Path:
    state_dir = _copy("journal-v1.sqlite3", tmp_path)
    Journal.open(state_dir).close()
    path = state_dir / Journal.FILENAME
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    return path


def test_a_journal_of_a_newer_partdeck_is_refused_untouched(tmp_path: Path) -> None:
    path = _newer_journal(tmp_path)
    before = path.read_bytes()
    with pytest.raises(JournalTooNew) as caught:
        Journal.open(path.parent)
    assert str(caught.value) == (
        f"journal {path} was written by a newer partdeck (schema {SCHEMA_VERSION + 1}); "
        "upgrade partdeck"
    )
    assert path.read_bytes() == before
    assert _recorded(path) == str(SCHEMA_VERSION + 1)


def test_the_cli_says_so_in_one_line(tmp_path: Path) -> None:
    path = _newer_journal(tmp_path)
    before = path.read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTDECK_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    partdeck = Path(sys.executable).parent / "partdeck"
    result = subprocess.run(
        [str(partdeck), "--state-dir", str(path.parent), "sessions"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"was written by a newer partdeck (schema {SCHEMA_VERSION + 1})" in result.stderr
    assert path.read_bytes() == before


def test_a_journal_with_an_unreadable_schema_record_is_refused(tmp_path: Path) -> None:
    path = _newer_journal(tmp_path)
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = 'banana' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="records an unknown schema \\('banana'\\)"):
        Journal.open(path.parent)
