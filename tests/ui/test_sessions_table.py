"""The sessions table on its own: keys, the mouse, and drawing only the rows that changed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.style import Style
from textual.strip import Strip

from tests.ui.test_columns import TableApp, _screen_lines, widest_rows
from tui.ui.widgets import sessions_table
from tui.ui.widgets.row_lines import Column, RowLook
from tui.ui.widgets.sessions_table import SessionsTable


class Recorder(TableApp):
    """The table alone, recording which sessions the cursor came to."""

    def __init__(self) -> None:
        super().__init__(widest_rows())
        self.highlighted: list[str] = []

    def on_sessions_table_highlighted(self, event: SessionsTable.Highlighted) -> None:
        self.highlighted.append(event.key)


async def test_keys_move_the_cursor_and_say_where() -> None:
    app = Recorder()
    async with app.run_test(size=(120, 12)) as pilot:  # 9 rows under the header
        table = app.query_one(SessionsTable)
        table.focus()
        await pilot.pause()
        assert table.selected_key == "s1"
        await pilot.press("down", "down", "up")
        assert table.cursor_row == 1
        await pilot.press("end")
        assert table.selected_key == "s29"
        assert table.scroll_offset.y == table.row_count - 9
        await pilot.press("home")
        assert (table.cursor_row, table.scroll_offset.y) == (0, 0)
        await pilot.press("pagedown")
        assert table.cursor_row == 9
        await pilot.press("pageup")
        assert table.cursor_row == 0
        await pilot.pause()
        assert app.highlighted == ["s1", "s2", "s3", "s2", "s29", "s1", "s10", "s1"]


async def test_a_click_selects_the_row_under_it() -> None:
    app = Recorder()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(SessionsTable)
        await pilot.pause()
        await pilot.click(SessionsTable, offset=(5, 5))  # border, header, then rows 0, 1, 2, 3
        assert table.selected_key == "s4"
        await pilot.click(SessionsTable, offset=(5, 1))  # the header: no row
        assert table.selected_key == "s4"


async def test_columns_wider_than_the_table_scroll_sideways() -> None:
    app = Recorder()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(SessionsTable)
        table.focus()
        await pilot.pause()
        assert table.max_scroll_x > 0
        await pilot.press("right")
        await pilot.pause(0.3)
        assert table.scroll_offset.x > 0


async def test_an_update_draws_only_the_rows_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []
    real = sessions_table.row_strip

    def counting(
        cells: list[tuple[str, Style]], columns: list[Column], look: RowLook, row: int, width: int
    ) -> Strip:
        drawn.append(row)
        return real(cells, columns, look, row, width)

    monkeypatch.setattr(sessions_table, "row_strip", counting)
    rows = widest_rows()
    app = Recorder()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(SessionsTable)
        await pilot.pause()
        drawn.clear()
        sent = rows["s2"]["sent"]
        table.update({"s2": {**rows["s2"], "sent": replace(sent, text="42 MiB")}})
        await pilot.pause()
        assert drawn == [1]
        assert any("42 MiB" in line and "b2.bin" in line for line in _screen_lines(app))
        drawn.clear()
        table.update({"s1": rows["s1"], "s3": rows["s3"]})  # nothing changed
        await pilot.pause()
        assert drawn == []
        table.move_cursor(row=2)
        await pilot.pause()
        assert sorted(drawn) == [0, 2]
