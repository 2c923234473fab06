"""The sessions table's model: what is folded, what a search finds, which rows a tick redraws."""

from __future__ import annotations

from pathlib import Path

from tests.support.uidata import NOW
from tui.core.model import Session, SessionState
from tui.core.units import format_duration
from tui.ui.session_list import FINISHED_SHOWN, SessionList, age_changes_at, matches

S = SessionState


def session(index: int, state: SessionState, *, age: float) -> Session:
    return Session(
        id=f"{index:032x}",
        account="archive-s3",
        provider="s3",
        path=str(Path("/data") / f"file-{index}.bin"),
        size=1,
        mtime_ns=0,
        part_size=1,
        state=state,
        created_at=NOW - age,
        updated_at=NOW - age,
    )


def test_age_changes_exactly_when_its_text_does() -> None:
    for created in (NOW - 5.5, NOW - 3599.2, NOW - 4000.0, NOW - 90_000.7, NOW):
        due = age_changes_at(created, NOW)
        assert due > NOW
        assert format_duration(due - 0.001 - created) == format_duration(NOW - created)
        assert format_duration(due - created) != format_duration(NOW - created)


def test_matches_every_word_in_name_account_state_or_id() -> None:
    s = session(42, S.COMPLETED, age=10)
    assert matches(s, "file-42 COMPLETED")
    assert matches(s, "archive")
    assert matches(s, s.id[:10])
    assert not matches(s, "file-42 aborted")
    assert matches(s, "")


def test_finished_beyond_the_newest_are_folded_and_found_by_search() -> None:
    rows = SessionList()
    finished = [session(i, S.COMPLETED, age=7200 + i) for i in range(50)]
    live = session(99, S.UPLOADING, age=99_999)  # older than every finished one
    for s in [*finished, live]:
        rows.put(s)
    rebuilt, cells = rows.changes(NOW)
    assert rebuilt
    assert list(cells) == [s.id for s in finished[:FINISHED_SHOWN]] + [live.id]
    assert rows.shown.folded == 50 - FINISHED_SHOWN

    rows.set_view(needle="file-49")
    rebuilt, cells = rows.changes(NOW)
    assert rebuilt and list(cells) == [finished[49].id]

    rows.set_view(needle="", show_finished=True)
    rebuilt, cells = rows.changes(NOW)
    assert rebuilt and len(cells) == 51 and rows.shown.folded == 0


def test_a_tick_computes_only_rows_that_changed_or_whose_age_is_due() -> None:
    rows = SessionList()
    old = [session(i, S.COMPLETED, age=7200 + i) for i in range(10)]
    for s in old:
        rows.put(s)
    rows.changes(NOW)
    computed = rows.rows_computed
    assert rows.changes(NOW + 0.2) == (False, {})
    assert rows.rows_computed == computed

    rows.touch(old[3].id)
    rebuilt, cells = rows.changes(NOW + 0.4)
    assert not rebuilt and list(cells) == [old[3].id]

    rebuilt, cells = rows.changes(NOW + 61)  # over an hour old: every age moves each minute
    assert not rebuilt and set(cells) == {s.id for s in old}
    assert rows.changes(NOW + 62) == (False, {})


def test_a_session_finishing_refolds_the_table() -> None:
    rows = SessionList()
    finished = [session(i, S.COMPLETED, age=7200 + i) for i in range(FINISHED_SHOWN)]
    live = session(99, S.UPLOADING, age=60)
    for s in [*finished, live]:
        rows.put(s)
    rows.changes(NOW)
    live.state = S.COMPLETED  # the engine mutates its own object
    rows.put(live)
    rebuilt, cells = rows.changes(NOW + 0.2)
    assert rebuilt and live.id in cells and finished[-1].id not in cells
    assert rows.shown.folded == 1
