"""The stuck-session diagnosis: which parts need attention, and the one fix suggested."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.core.diagnose import LocalState, ServerView, diagnose, local_state
from tui.core.model import Event, Part, PartState, Session, SessionState
from tui.core.ports import RemotePart

P = PartState
S = SessionState
NOW = 1_000_000.0


def _session(state: SessionState = S.PAUSED, **kw: object) -> Session:
    base: dict[str, object] = {
        "id": "s" * 32,
        "account": "acct",
        "provider": "s3",
        "path": "/nonexistent",
        "size": 30,
        "mtime_ns": 1,
        "part_size": 10,
        "state": state,
        "remote": {"upload_id": "u"},
    }
    base.update(kw)
    return Session(**base)  # type: ignore[arg-type]


def _parts(*states: PartState, etag: str = "e") -> list[Part]:
    return [
        Part(
            "s" * 32,
            n,
            (n - 1) * 10,
            n * 10,
            state=state,
            etag=etag if state in (P.VERIFIED, P.UNVERIFIABLE) else None,
        )
        for n, state in enumerate(states, start=1)
    ]


def _run(session: Session, parts: list[Part], **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "local": LocalState.MATCHES,
        "remote": None,
        "server_error": None,
        "can_list": True,
        "renewable": True,
        "running": False,
        "now": NOW,
    }
    args.update(kw)
    events = args.pop("events", [])
    return diagnose(session, parts, events, **args)  # type: ignore[arg-type]


def test_failed_parts_suggest_retry_with_their_error_history() -> None:
    parts = _parts(P.VERIFIED, P.FAILED, P.VERIFIED)
    events = [
        Event("part", "s" * 32, NOW, state="failed", part=2, message="500 once"),
        Event("part", "s" * 32, NOW, state="pending", part=2, message="retry requested"),
        Event("part", "s" * 32, NOW, state="failed", part=2, message="500 once"),
        Event("part", "s" * 32, NOW, state="failed", part=2, message="connection reset"),
    ]
    remote = [RemotePart(1, 10, "e"), RemotePart(3, 10, "e")]
    d = _run(_session(S.FAILED), parts, events=events, remote=remote)
    assert d.fix.action == "retry_failed" and d.fix.parts == (2,)
    assert [f.number for f in d.findings] == [2]
    assert d.findings[0].errors == ("500 once", "connection reset")
    assert d.findings[0].server == ServerView.MISSING
    assert d.server_note == "the server holds 2 of 3 parts (20 bytes)"
    assert (d.done, d.total) == (2, 3)


def test_verified_part_the_server_lost_is_sent_again() -> None:
    parts = _parts(P.VERIFIED, P.VERIFIED, P.VERIFIED)
    d = _run(_session(), parts, remote=[RemotePart(1, 10, "e"), RemotePart(3, 10, "other")])
    assert d.fix.action == "retry_parts" and d.fix.parts == (2, 3)
    assert {f.number: f.server for f in d.findings} == {
        2: ServerView.MISSING,
        3: ServerView.DIFFERS,
    }


@pytest.mark.parametrize(
    ("state", "parts", "kw", "action", "words"),
    [
        (S.COMPLETED, (P.VERIFIED,), {}, None, "complete"),
        (S.ABORTED, (P.PENDING,), {}, None, "aborted"),
        (S.ABORTING, (P.VERIFIED,), {}, "abort", "abort again"),
        (S.COMPLETE_UNKNOWN, (P.VERIFIED,), {}, "abort", "abort settles it"),
        (
            S.COMPLETE_UNKNOWN,
            (P.VERIFIED,),
            {"complete_once": False},
            "complete",
            "first looks for the file",
        ),
        (S.PAUSED, (P.VERIFIED, P.PENDING), {"local": LocalState.CHANGED}, "verify", "changed"),
        (S.PAUSED, (P.PENDING,), {"local": LocalState.MISSING}, None, "missing"),
        (S.FAILED, (P.EXPIRED,), {"renewable": False}, "abort", "cannot renew"),
        (S.FAILED, (P.EXPIRED,), {"renewable": True}, "retry_failed", "failed"),
        (S.STALLED, (P.UPLOADING, P.VERIFIED), {}, "retry_parts", "no bytes are moving"),
        (S.UPLOADING, (P.UPLOADING,), {"running": True}, None, "uploading"),
        (S.UPLOADED, (P.VERIFIED, P.UNVERIFIABLE), {}, "complete", "complete the upload"),
        (S.PAUSED, (P.VERIFIED, P.PENDING), {}, "resume", "resume"),
    ],
)
def test_one_fix_per_situation(
    state: SessionState,
    parts: tuple[PartState, ...],
    kw: dict[str, object],
    action: str | None,
    words: str,
) -> None:
    d = _run(_session(state), _parts(*parts), **kw)
    assert d.fix.action == action
    assert words in d.fix.text


@pytest.mark.parametrize(
    ("session_kw", "kw", "note"),
    [
        ({"state": S.COMPLETED}, {}, "not asked: the session is completed"),
        ({"remote": {}}, {}, "never opened"),
        ({}, {"can_list": False}, "s3 cannot list the parts it holds"),
        ({}, {"server_error": "401 token rejected"}, "could not ask: 401"),
    ],
)
def test_server_note_says_why_it_was_not_asked(
    session_kw: dict[str, object], kw: dict[str, object], note: str
) -> None:
    session = _session(**session_kw)
    d = _run(session, _parts(P.VERIFIED), **kw)
    assert note in d.server_note
    assert d.server_parts is None


def test_local_state_compares_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 30)
    info = os.stat(path)
    session = _session(path=str(path), size=30, mtime_ns=info.st_mtime_ns)
    assert local_state(session) == LocalState.MATCHES
    path.write_bytes(b"y" * 31)
    assert local_state(session) == LocalState.CHANGED
    path.unlink()
    assert local_state(session) == LocalState.MISSING
