"""A long history of finished sessions: folded away, searchable, and free while idle.

The real app on a real engine over a real journal (the showcase sessions plus hundreds of
finished ones from ``tests.support.history``), driven by Pilot. The clock is a counter the
test moves, so whether an age text is due to change is decided here, not by timing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.support.history import history_id, history_journal, history_name
from tests.support.uidata import NOW, make_parts, offline_config, showcase_journal
from tests.ui.conftest import row_text, until
from tui.core.journal import Journal
from tui.core.model import Session, SessionState
from tui.runtime import open_engine
from tui.ui.app import PartdeckApp
from tui.ui.session_list import FINISHED_SHOWN
from tui.ui.themes import shipped_themes_dir
from tui.ui.widgets.parts_view import PartsView
from tui.ui.widgets.sessions_table import SessionsTable

S = SessionState
HISTORY = 200


@dataclass
class Clock:
    """A wall clock the test sets."""

    now: float = NOW

    def __call__(self) -> float:
        return self.now


def shown(app: PartdeckApp) -> list[str]:
    """The session ids in the sessions table, top to bottom."""
    table = app.main.query_one(SessionsTable)
    return list(table.row_keys)


@asynccontextmanager
async def history_app(
    tmp_path: Path, *, showcase: bool = True, clock: Clock | None = None
) -> AsyncIterator[tuple[PartdeckApp, Pilot[None], list[Session]]]:
    """The app on a journal of HISTORY finished sessions (and the showcase), history read."""
    state_dir, files_dir = tmp_path / "state", tmp_path / "files"
    sessions = showcase_journal(state_dir, files_dir) if showcase else []
    history_journal(state_dir, files_dir, HISTORY)
    config = offline_config()
    async with open_engine(config, state_dir) as engine:
        app = PartdeckApp(engine, config, clock=clock or Clock(), theme_dirs=[shipped_themes_dir()])
        async with app.run_test(size=(120, 40)) as pilot:
            total = len(sessions) + HISTORY
            await until(pilot, lambda: len(app.main.sessions) == total, "the whole history")
            await pilot.pause()
            yield app, pilot, sessions


async def test_finished_sessions_beyond_the_newest_are_folded(tmp_path: Path) -> None:
    async with history_app(tmp_path) as (app, pilot, showcase):
        unfinished = [s.id for s in showcase if not s.final]  # newest first, as created
        finished = [s.id for s in showcase if s.final]
        newest_history = [history_id(i) for i in range(HISTORY - 1, -1, -1)]
        wanted_finished = (finished + newest_history)[:FINISHED_SHOWN]
        by_age = sorted(
            unfinished + wanted_finished,
            key=lambda sid: -app.main.sessions[sid].created_at,
        )
        assert shown(app) == by_age
        assert set(unfinished) <= set(shown(app))
        folded = len(finished) + HISTORY - FINISHED_SHOWN
        table = app.main.query_one(SessionsTable)
        assert f"{folded:,} finished folded" in str(table.border_title)
        failed = next(s.id for s in showcase if s.state == S.FAILED)
        assert row_text(app, failed)["state"] == "✗ failed"
        assert row_text(app, history_id(HISTORY - 2))["state"] == "✓ completed"
        assert row_text(app, history_id(HISTORY - 1))["state"] == "⊘ aborted"

        await pilot.press("F")
        assert len(shown(app)) == len(showcase) + HISTORY
        assert row_text(app, history_id(0))["file"] == "archive-000…"
        await pilot.press("F")
        assert shown(app) == by_age


async def test_search_finds_a_folded_session(tmp_path: Path) -> None:
    async with history_app(tmp_path) as (app, pilot, _showcase):
        folded = history_id(7)
        assert folded not in shown(app)
        await pilot.press("slash", *history_name(7).removesuffix(".tar"))
        await until(pilot, lambda: shown(app) == [folded], "the search to find it")
        cells = row_text(app, folded)
        assert (cells["state"], cells["parts"]) == ("✓ completed", "3/3")
        await until(pilot, lambda: app.main.selected == folded, "the found session selected")
        assert os.path.basename(app.main.sessions[folded].path) == history_name(7)

        await pilot.press("enter", "escape")
        assert folded not in shown(app)
        assert len(shown(app)) == 7 + FINISHED_SHOWN

        await pilot.press("slash", *"aborted")
        aborted = {sid for sid, s in app.main.sessions.items() if s.state == S.ABORTED}
        assert len(aborted) == HISTORY // 10 + 1  # and the showcase's old-build.iso
        await until(pilot, lambda: set(shown(app)) == aborted, "every aborted session")


async def test_an_idle_tick_touches_no_row(tmp_path: Path) -> None:
    clock = Clock()
    async with history_app(tmp_path, showcase=False, clock=clock) as (app, pilot, _):
        table = app.main.query_one(SessionsTable)
        reads = app.main.feed.reads
        written, computed = table.cells_written, app.main.rows.rows_computed
        before = {sid: row_text(app, sid) for sid in shown(app)}
        for step in range(1, 6):  # ticks within one minute: every age text stays the same
            clock.now = NOW + step * 0.2
            app.main.tick()
        await pilot.pause(1.5)  # the 4 Hz ticks and one journal check (no other writer)
        assert table.cells_written == written
        assert app.main.rows.rows_computed == computed
        assert app.main.feed.reads == reads

        clock.now = NOW + 60.5  # every shown age (over an hour) moves on by a minute
        app.main.tick()
        assert table.cells_written == written + len(before)  # one cell (age) per row
        assert app.main.rows.rows_computed == computed + len(before)
        for sid, old in before.items():
            new = row_text(app, sid)
            assert new["age"] != old["age"]
            assert {**new, "age": ""} == {**old, "age": ""}


async def test_a_session_written_by_another_process_shows_up(tmp_path: Path) -> None:
    async with history_app(tmp_path, showcase=False) as (app, pilot, _):
        reads = app.main.feed.reads
        other = Journal.open(tmp_path / "state")  # another partdeck's connection
        try:
            sid = "0" * 31 + "9"
            session = Session(
                id=sid,
                account="archive-s3",
                provider="s3",
                path=str(tmp_path / "files" / "elsewhere.bin"),
                size=16 * 1024 * 1024,
                mtime_ns=0,
                part_size=8 * 1024 * 1024,
                state=S.UPLOADING,
                created_at=NOW - 5,
                updated_at=NOW - 5,
            )
            other.create(session, make_parts(sid, session.size, session.part_size))
            await until(pilot, lambda: sid in shown(app), "the other process's session")
            assert shown(app)[0] == sid
            assert row_text(app, sid)["parts"] == "2/2"
            assert app.main.feed.reads == reads + 1

            session.state = S.COMPLETED
            other.commit(session=session)
            await until(
                pilot, lambda: row_text(app, sid)["state"] == "✓ completed", "its new state"
            )
        finally:
            other.close()


async def test_the_parts_view_repaints_each_second_only_while_an_expiry_counts_down(
    tmp_path: Path,
) -> None:
    clock = Clock()
    async with history_app(tmp_path, clock=clock) as (app, pilot, showcase):
        view = app.main.query_one(PartsView)
        repaints: list[object] = []
        refresh = view.refresh

        def counted(*args: Any, **kwargs: Any) -> Any:
            repaints.append(args)
            return refresh(*args, **kwargs)

        view.refresh = counted  # type: ignore[method-assign]
        table = app.main.query_one(SessionsTable)
        for name, counts_down in (("backup-2026-08.tar.zst", False), ("render-final.mov", True)):
            sid = next(s.id for s in showcase if os.path.basename(s.path) == name)
            table.move_cursor(row=table.get_row_index(sid), animate=False)
            title = f"Parts of {name}"
            await until(pilot, lambda t=title: view.border_title == t, "its parts")
            await pilot.pause()
            repaints.clear()
            for _ in range(3):  # three seconds go by
                clock.now += 1.0
                app.main.tick()
            assert bool(repaints) == counts_down, name


async def test_a_click_on_a_part_puts_the_cursor_on_that_part(tmp_path: Path) -> None:
    """The parts view has a border and a header line: the first part is the third line
    of the widget, and a click on it (or on any part's line) selects exactly that part."""
    async with history_app(tmp_path) as (app, pilot, showcase):
        view = app.main.query_one(PartsView)
        table = app.main.query_one(SessionsTable)
        big = max(showcase, key=lambda s: s.size // s.part_size)
        table.move_cursor(row=table.get_row_index(big.id), animate=False)
        await until(
            pilot, lambda: len(view.parts) > 3 and view.parts[0].session_id == big.id, "parts"
        )
        await pilot.pause()
        for line, index in ((2, 0), (4, 2), (3, 1)):  # border, header, then the parts
            await pilot.click(PartsView, offset=(10, line))
            await pilot.pause()
            assert view.cursor == index, (line, view.cursor)
        await pilot.click(PartsView, offset=(10, 1))  # the header: the cursor stays
        await pilot.pause()
        assert view.cursor == 1
