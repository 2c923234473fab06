"""The journal's cheap reads for a front end that follows it (the TUI's resync)."""

from __future__ import annotations

from pathlib import Path

from tests.support.uidata import NOW, make_parts
from tui.core.journal import Journal, Tally
from tui.core.model import PartState, Session, SessionState

S = SessionState
P = PartState


def _session(index: int, state: SessionState) -> Session:
    return Session(
        id=f"{index:032x}", account="a", provider="s3", path=f"/f{index}", size=30,
        mtime_ns=0, part_size=10, state=state, created_at=NOW + index, updated_at=NOW + index,
    )  # fmt: skip


def test_data_version_moves_only_for_another_connections_writes(tmp_path: Path) -> None:
    mine, other = Journal.open(tmp_path), Journal.open(tmp_path)
    try:
        start = mine.data_version()
        mine.create(_session(1, S.PLANNED), make_parts(_session(1, S.PLANNED).id, 30, 10))
        assert mine.data_version() == start
        other.create(_session(2, S.PLANNED), make_parts(_session(2, S.PLANNED).id, 30, 10))
        assert mine.data_version() != start
        assert mine.session_count() == 2
    finally:
        mine.close()
        other.close()


def test_unfinished_newest_finished_and_tallies(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    try:
        states = [S.COMPLETED, S.ABORTED, S.UPLOADING, S.COMPLETED, S.FAILED]
        for index, state in enumerate(states):
            s = _session(index, state)
            part_states = {2: P.FAILED} if state == S.FAILED else None
            journal.create(s, make_parts(s.id, 30, 10, part_states))
        ids = [_session(i, st).id for i, st in enumerate(states)]
        assert {s.id for s in journal.unfinished_sessions()} == {ids[2], ids[4]}
        assert {s.id for s in journal.unfinished_sessions(also=[ids[0]])} == {
            ids[0], ids[2], ids[4]
        }  # fmt: skip
        assert [s.id for s in journal.newest_finished(2)] == [ids[3], ids[1]]
        tallies = journal.part_tallies([ids[4]])
        assert tallies == {ids[4]: {"verified": Tally(2, 20), "failed": Tally(1, 10)}}
        assert set(journal.part_tallies()) == set(ids)
        assert journal.part_tallies([]) == {}
    finally:
        journal.close()
