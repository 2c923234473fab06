"""The service's wire forms: what goes over the socket comes back the same, minus secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.diagnose import Diagnosis, Fix, LocalState, PartFinding, ServerView
from tui.core.errors import (
    AlreadyCompleted,
    ConfigError,
    SessionNotFound,
    TransientError,
    UsageError,
)
from tui.core.journal import Journal
from tui.core.model import Event, Part, PartState, PlanPreview, Session, SessionState
from tui.service.client import check_version
from tui.service.protocol import (
    PROTOCOL,
    ServiceVersionMismatch,
    diagnosis_from_wire,
    diagnosis_to_wire,
    error_from_wire,
    error_to_wire,
    event_from_wire,
    event_to_wire,
    part_from_wire,
    part_to_wire,
    preview_from_wire,
    preview_to_wire,
    session_from_wire,
    session_to_wire,
)

SIGNED = "https://bucket.example/up/a?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA"


def wire(value: object) -> object:
    """Through JSON and back, as the socket carries it."""
    return json.loads(json.dumps(value))


def session(**changes: object) -> Session:
    fields: dict[str, object] = {
        "id": "a" * 32,
        "account": "moto",
        "provider": "s3",
        "path": "/data/a.bin",
        "size": 10,
        "mtime_ns": 5,
        "part_size": 5,
        "state": SessionState.UPLOADING,
        "remote": {"upload_id": "u-1", "key": "up/a.bin", "urls": [SIGNED], "token": "t0k"},
        "digests": {"sha1": "ff"},
    }
    fields.update(changes)
    return Session(**fields)  # type: ignore[arg-type]


def test_a_session_travels_without_its_urls_or_tokens() -> None:
    sent = wire(session_to_wire(session()))
    assert "deadbeef" not in json.dumps(sent) and "t0k" not in json.dumps(sent)
    back = session_from_wire(sent)  # type: ignore[arg-type]
    assert back.remote == {"upload_id": "u-1", "key": "up/a.bin"}
    assert back.state is SessionState.UPLOADING and back.opened and back.digests == {"sha1": "ff"}


def test_an_opened_session_with_no_listed_ids_stays_opened() -> None:
    back = session_from_wire(wire(session_to_wire(session(remote={"files": [1]}))))  # type: ignore[arg-type]
    assert back.opened
    assert not session_from_wire(wire(session_to_wire(session(remote={})))).opened  # type: ignore[arg-type]


def test_parts_events_and_previews_round_trip() -> None:
    part = Part("s", 3, 10, 20, PartState.VERIFIED, attempts=2, xxh3="ab", etag='"e"')
    assert part_from_wire(wire(part_to_wire(part))) == part  # type: ignore[arg-type]
    event = Event("part", "s", 1.5, state="verified", part=3, message="ok", data={"x": 1})
    assert event_from_wire(wire(event_to_wire(event))) == event  # type: ignore[arg-type]
    preview = PlanPreview("/a", 10, 1, 5, [(0, 5), (5, 10)], from_server=False)
    assert preview_from_wire(wire(preview_to_wire(preview))) == preview  # type: ignore[arg-type]


def test_stored_part_rows_are_the_wire_rows_of_their_parts(tmp_path: Path) -> None:
    """The service sends a paused session's rows as stored, without making Parts: they
    must be exactly what part_to_wire makes of those parts."""
    journal = Journal.open(tmp_path)
    try:
        sid = "b" * 32
        parts = [
            Part(sid, 1, 0, 5, PartState.VERIFIED, attempts=2, xxh3="ab", md5="cd", etag='"e"'),
            Part(sid, 2, 5, 9, PartState.FAILED, error="HTTP 500", target_expires_at=9.5),
            Part(sid, 3, 9, 10),
        ]
        journal.create(session(id=sid, size=10, remote={}), parts)
        rows = wire(journal.part_rows(sid))
        assert rows == wire([part_to_wire(p) for p in journal.parts(sid)])
        assert [part_from_wire(r) for r in rows] == parts  # type: ignore[union-attr, arg-type]
    finally:
        journal.close()


def test_a_diagnosis_round_trips() -> None:
    finding = PartFinding(2, PartState.FAILED, 3, ServerView.MISSING, None, ("500", "reset"))
    diagnosis = Diagnosis(
        session=session(remote={"upload_id": "u-1"}),
        total=2,
        done=1,
        local=LocalState.MATCHES,
        server_note="the server holds 1 part",
        server_parts=1,
        findings=(finding,),
        fix=Fix("retry part 2", "retry_parts", (2,)),
    )
    assert diagnosis_from_wire(wire(diagnosis_to_wire(diagnosis))) == diagnosis  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        UsageError("session abc is completed; nothing to pause"),
        ConfigError("[accounts.x]: environment variable T is not set; export it"),
        SessionNotFound("no session matches 'zz'"),
        TransientError("part 2: 503; will retry", status=503, code="SlowDown"),
        AlreadyCompleted("the upload was completed"),
    ],
)
def test_errors_come_back_as_their_own_class_with_their_line(error: Exception) -> None:
    back = error_from_wire(wire(error_to_wire(error)))  # type: ignore[arg-type]
    assert type(back) is type(error) and str(back) == str(error)
    if isinstance(error, TransientError):
        assert isinstance(back, TransientError) and back.status == 503 and back.code == "SlowDown"


def test_a_service_of_another_release_is_named_with_the_command_that_fixes_it() -> None:
    check_version({"version": __import__("tui").__version__, "protocol": PROTOCOL})
    mismatch = r"version 0\.0\.1 .* partdeck service restart"
    with pytest.raises(ServiceVersionMismatch, match=mismatch):
        check_version({"version": "0.0.1", "protocol": PROTOCOL})
