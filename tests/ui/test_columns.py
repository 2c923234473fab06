"""Every fixed-width column shows its largest legal value whole: 10000/10000 parts and the rest.

The sessions table is drawn by the real widget, in a frame like the main screen's (round
border, a one-cell scrollbar showing), at 160 columns (every column) and 80 (file to ETA).
The 10,000-part session is a real one, planned by the real engine over a sparse file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pytest
from textual.app import App, ComposeResult

from tests.ui.conftest import Deck, row_text, until
from tui.core.meter import RateMeter
from tui.core.model import Part, PartState, Session, SessionState
from tui.core.units import GiB, KiB, MiB, TiB
from tui.ui.rows import (
    PART_COLUMNS,
    SESSION_COLUMNS,
    Cell,
    SessionStats,
    part_cells,
    session_cells,
    short_duration,
)
from tui.ui.themes import state_variable_defaults
from tui.ui.widgets.sessions_table import SessionsTable

NOW = 1_800_000_000.0
DAY = 86_400.0
ETA_AND_FILE = ("file", "state", "parts", "sent", "rate", "eta")
"""What the main screen promises to show whole at 80 columns."""


def _session(n: int, state: SessionState, size: int, age: float) -> Session:
    return Session(
        id=f"s{n}",
        account="sandbox-wunderlist",  # 18 cells: longer names are cut on purpose
        provider="fileflare",
        path=f"/data/b{n}.bin",
        size=size,
        mtime_ns=0,
        part_size=size // 10_000,
        state=state,
        created_at=NOW - age,
    )


def _meter(rate: float) -> RateMeter:
    meter = RateMeter()
    meter.update(0.0, 0)
    meter.update(1.0, int(rate))
    return meter


def widest_rows() -> dict[str, dict[str, Cell]]:
    """Rows whose every cell is the widest its column can legally hold."""
    big = 50 * TiB  # S3's largest object; format_size gives 1024 GiB (8 cells) at most
    rows = {
        # every part verified, the widest size, a rate that rounds to 1024 KiB/s, 100+ days old
        "s1": session_cells(
            _session(1, SessionState.COMPLETE_UNKNOWN, int(1023.9 * GiB), 123 * DAY + 11 * 3600),
            SessionStats(
                10_000, 10_000, int(1023.9 * GiB), meter=_meter(1023.9 * KiB), running=True
            ),
            NOW,
        ),
        # 1 B/s with 50 TiB to go: an ETA of a million years; created 300 years ago
        "s2": session_cells(
            _session(2, SessionState.UPLOADING, big, 300 * 365 * DAY),
            SessionStats(10_000, 9_999, 0, meter=_meter(1.0), running=True),
            NOW,
        ),
    }
    # enough rows that the vertical scrollbar shows, as with a busy session list
    for n in range(3, 30):
        rows[f"s{n}"] = session_cells(
            _session(n, SessionState.PAUSED, MiB, 60), SessionStats(1, 0), NOW
        )
    return rows


def test_widest_cells_are_what_the_columns_must_hold() -> None:
    rows = widest_rows()
    assert rows["s1"]["parts"].text == "10000/10000"
    assert rows["s1"]["state"].text == "? complete-unknown"
    assert rows["s1"]["sent"].text == "1024 GiB"
    assert rows["s1"]["rate"].text == "1024 KiB/s"
    assert rows["s1"]["age"].text == "123d"
    assert rows["s2"]["eta"].text == ">270y"
    assert rows["s2"]["age"].text == ">270y"
    assert [short_duration(s) for s in (59, 3599, 86_399, 99 * DAY + 86_399)] == [
        "59s",
        "59m59s",
        "23h59m",
        "99d23h",
    ]


class TableApp(App[None]):
    """The sessions table alone, framed as on the main screen."""

    CSS: ClassVar[str] = """
    SessionsTable { height: 1fr; border: round $panel; scrollbar-size-vertical: 1; }
    """

    def __init__(self, rows: Mapping[str, Mapping[str, Cell]]) -> None:
        super().__init__()
        self.rows = rows

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return state_variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield SessionsTable()

    def on_mount(self) -> None:
        self.query_one(SessionsTable).sync(self.rows)


def _screen_lines(app: App[None]) -> list[str]:
    return [
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_full_update().strips  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize(("width", "columns"), [(160, None), (120, None), (80, ETA_AND_FILE)])
async def test_sessions_table_shows_every_widest_cell_whole(
    width: int, columns: tuple[str, ...] | None
) -> None:
    rows = widest_rows()
    keys = columns or tuple(key for key, _ in SESSION_COLUMNS)
    app = TableApp(rows)
    async with app.run_test(size=(width, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(SessionsTable)
        assert table.show_vertical_scrollbar
        lines = _screen_lines(app)
        for sid in ("s1", "s2"):
            line = next(line for line in lines if f"b{sid[1:]}.bin" in line)
            for key in keys:
                text = rows[sid][key].text
                assert text in line, f"{key} {text!r} cut at {width} columns: {line!r}"


def test_parts_view_cells_fit_their_columns() -> None:
    part = Part(
        session_id="s1",
        number=10_000,
        start=int(1023.5 * GiB),
        end=int(1023.9 * GiB),
        state=PartState.UNVERIFIABLE,
        attempts=12_345,
        etag='"0123456789abcdef"',
        target_expires_at=NOW + 400 * DAY,
    )
    widths = [width for _, _, width in PART_COLUMNS]
    for cell, width in zip(part_cells(part, "differs", NOW), widths, strict=True):
        assert width == 0 or len(cell.text) <= width, (cell.text, width)


async def test_a_10000_part_session_shows_its_whole_count(deck: Deck) -> None:
    sparse = deck.tmp_path / "files" / "huge.bin"
    sparse.parent.mkdir(exist_ok=True)
    with sparse.open("wb") as f:
        f.truncate(10_000 * 5 * MiB)  # S3's smallest part size, 10,000 times
    async with deck.app(size=(80, 24), part_size="5MiB") as (app, pilot):
        session = await app.engine.plan(sparse, "sandbox-s3")
        assert len(app.engine.parts(session.id)) == 10_000
        await until(pilot, lambda: session.id in app.main.query_one(SessionsTable).row_keys, "row")
        assert row_text(app, session.id)["parts"] == "0/10000"
        lines = _screen_lines(app)
        assert any("0/10000" in line and "huge.bin" in line for line in lines), lines
