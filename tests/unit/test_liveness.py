"""Tests for tui.core.liveness and the sessions table's ``interrupted`` cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.liveness import (
    DRIVEN_STATES,
    interrupted_note,
    is_interrupted,
    shown_state,
)
from tui.core.locks import SessionLock
from tui.core.model import Session, SessionState
from tui.ui.rows import SessionStats, session_cells

SID = "89abcdef0123456789abcdef01234567"


def _session(state: SessionState) -> Session:
    return Session(
        id=SID, account="a", provider="s3", path="/tmp/f.bin", size=10, mtime_ns=0,
        part_size=10, state=state,
    )  # fmt: skip


@pytest.mark.parametrize("state", list(SessionState))
def test_only_driven_states_without_a_holder_are_interrupted(
    tmp_path: Path, state: SessionState
) -> None:
    session = _session(state)
    expected = state in DRIVEN_STATES
    assert is_interrupted(session, tmp_path) is expected
    assert shown_state(session, tmp_path) == ("interrupted" if expected else str(state))
    lock = SessionLock(tmp_path, SID)
    lock.acquire()
    try:
        assert not is_interrupted(session, tmp_path)
        assert shown_state(session, tmp_path) == str(state)
    finally:
        lock.release()


def test_note_names_the_state_and_the_command() -> None:
    assert interrupted_note(_session(SessionState.STALLED)) == (
        "interrupted (its process stopped while stalled); carry on with partdeck resume 89abcdef"
    )


def test_sessions_table_shows_interrupted_unless_this_process_runs_it() -> None:
    session = _session(SessionState.UPLOADING)
    cell = session_cells(session, SessionStats(interrupted=True), now=0.0)["state"]
    assert cell.text == "↯ interrupted" and cell.tone == "warning"
    running = session_cells(session, SessionStats(interrupted=True, running=True), now=0.0)
    assert running["state"].text == "↑ uploading"
    assert session_cells(session, SessionStats(), now=0.0)["state"].text == "↑ uploading"
