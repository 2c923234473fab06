"""The selected session's part map and rate graph, on a real engine and the sandbox.

Both are fed where the parts view is (``SelectedParts.show`` and ``MainScreen._show_rate``):
these tests check what they draw for the selected session, that the map shows the very
parts the parts view shows, and that they stay cheap and readable for 10,000 parts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from textual.color import Color
from textual.pilot import Pilot
from textual.widget import Widget

from tests.support.uidata import big_journal
from tests.ui.conftest import Deck, until
from tui.core.model import Part, PartState, SessionState
from tui.ui.app import PartdeckApp
from tui.ui.widgets.part_map import MARKS, PartMap, Piece, legend, pieces
from tui.ui.widgets.parts_view import PartsView
from tui.ui.widgets.rate_graph import RateGraph

P = PartState
S = SessionState
MiB = 1024 * 1024


def lines(widget: Widget) -> list[str]:
    """What a Line API widget draws, as plain text."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def marks(line: str) -> list[str]:
    """The marker of each wide cell on a map row (cells are split by a blank column)."""
    return [cell[0] for cell in line.split()]


async def upload(app: PartdeckApp, pilot: Pilot[None], path: Path) -> str:
    """Start one upload the way the file browser does; its session is then selected."""
    app.main.start_batch([path], "sandbox-s3")
    await until(pilot, lambda: len(app.engine.journal.sessions()) == 1, "the session")
    sid = app.engine.journal.sessions()[0].id
    await until(pilot, lambda: app.main.selected == sid, "the session selected")
    return sid


async def test_part_map_marks_each_part_in_place(deck: Deck) -> None:
    """Parts 2 and 4 of six fail: the map shows six cells, ✗ second and fourth, and the
    legend names and counts both states; the parts view shows the same parts."""
    path = deck.file("map.bin", 30 * MiB)
    deck.set_faults(part_500=1.0, parts=(2, 4))
    async with deck.app(part_size="5MiB") as (app, pilot):
        sid = await upload(app, pilot, path)
        await until(pilot, lambda: app.engine.session(sid).state == S.FAILED, "the failure")
        part_map = app.main.query_one(PartMap)
        view = app.main.query_one(PartsView)
        await until(pilot, lambda: marks(lines(part_map)[0]) == list("█✗█✗██"), "the map")
        assert part_map.shown == pieces(part.state for part in view.parts)
        drawn = lines(part_map)  # one row of cells, the legend right below, blank rows
        assert drawn[1].rstrip() == "✗ 2 failed  █ 4 verified"
        assert all(not line.strip() for line in drawn[2:])
        assert part_map.cells.group == 1 and part_map.cells.span > 1


async def test_part_map_shows_what_the_parts_view_was_given_at_every_tick(deck: Deck) -> None:
    """While an upload runs, the map shows the states of the parts the parts view was last
    given (both are fed from one list in one call, at the same tick)."""
    path = deck.file("same.bin", 40 * MiB)
    async with deck.app(part_size="5MiB", bandwidth_limit="8MiB") as (app, pilot):
        view = app.main.query_one(PartsView)
        given: list[list[PartState]] = []
        show = view.show

        def spy(parts: list[Part], **kwargs: Any) -> None:
            show(parts, **kwargs)
            given.append([part.state for part in parts])  # the engine's parts change later

        view.show = spy  # type: ignore[method-assign]
        sid = await upload(app, pilot, path)
        part_map = app.main.query_one(PartMap)
        seen: set[Piece] = set()
        while app.engine.session(sid).state != S.COMPLETED:
            await pilot.pause(0.1)
            assert part_map.shown == pieces(given[-1])
            seen |= set(part_map.shown)
        await until(pilot, lambda: set(part_map.shown) == {Piece.VERIFIED}, "all verified")
        assert Piece.UPLOADING in seen and len(given) > 2


async def test_rate_graph_follows_the_selected_upload(deck: Deck) -> None:
    """A capped upload: the graph gets samples above 0 and says now and peak in words;
    once the upload is over, "now" has no rate while the peak is still shown."""
    path = deck.file("graph.bin", 12 * MiB)
    async with deck.app(part_size="5MiB", bandwidth_limit="2MiB") as (app, pilot):
        sid = await upload(app, pilot, path)
        graph = app.main.query_one(RateGraph)

        def sending() -> bool:  # the graph has no rows until the layout after the selection
            drawn = lines(graph)
            return bool(drawn) and drawn[0].split("now ")[-1][:1].isdigit()

        await until(pilot, sending, "a current rate in the graph")
        text = lines(graph)
        assert "/s" in text[0] and text[1].rstrip().endswith("/s") and "peak " in text[1]
        assert any(bar in "".join(text) for bar in "▁▂▃▄▅▆▇█")
        assert graph.samples and max(graph.samples) > 0
        await until(pilot, lambda: app.engine.session(sid).state == S.COMPLETED, "completion")
        await until(pilot, lambda: "now –" in lines(graph)[0], "no current rate", limit=10)
        assert "peak –" not in lines(graph)[1]


async def test_no_session_no_pictures(deck: Deck) -> None:
    """An empty journal: nothing selected, the pictures take no room."""
    async with deck.app() as (app, pilot):
        await pilot.pause()
        assert app.main.selected is None
        assert not app.main.query_one("#pictures").display


async def test_a_session_sent_elsewhere_has_no_rate(deck: Deck) -> None:
    """A session read from the journal (not sent by this process) shows no rate."""
    big_journal(deck.state_dir, deck.tmp_path / "big", parts=40)
    async with deck.app() as (app, pilot):
        graph = app.main.query_one(RateGraph)
        await until(pilot, lambda: app.main.selected is not None, "the session")
        assert graph.samples == []
        assert [line.split()[:2] for line in lines(graph)[:2]] == [["now", "–"], ["peak", "–"]]


@pytest.mark.parametrize(("size", "rows"), [((80, 24), 1), ((120, 40), 2), ((160, 48), 4)])
async def test_ten_thousand_parts_in_groups(deck: Deck, size: tuple[int, int], rows: int) -> None:
    """A 10,000-part session fills the map's rows in groups; each of its ten failed parts
    (997 apart) shows as a ✗ of its own, and the legend says how many parts a cell holds."""
    big_journal(deck.state_dir, deck.tmp_path / "big")
    async with deck.app(size=size) as (app, pilot):
        view = app.main.query_one(PartsView)
        await until(pilot, lambda: len(view.parts) == 10_000, "the parts")
        part_map = app.main.query_one(PartMap)
        await until(pilot, lambda: len(part_map.shown) == 10_000, "the map")
        plan = part_map.cells
        drawn = lines(part_map)
        assert len(drawn) == rows + 1 and len(plan.rows()) == rows
        assert plan.group == -(-10_000 // (part_map.size.width * rows))
        assert "".join(drawn[:rows]).count(MARKS[Piece.FAILED][0]) == 10
        counts = Counter(pieces(part.state for part in view.parts))
        assert drawn[rows].rstrip() == legend(counts, plan.group, part_map.size.width)
        assert f"{plan.group}" in drawn[rows] and "cell" in drawn[rows]


async def test_map_colours_follow_the_theme(deck: Deck) -> None:
    """Each piece has its theme variable's colour, after a theme change too."""
    big_journal(deck.state_dir, deck.tmp_path / "big", parts=200)  # part 100 failed
    async with deck.app() as (app, pilot):
        part_map = app.main.query_one(PartMap)
        await until(pilot, lambda: len(part_map.shown) == 200, "the map")
        for theme in ("partdeck-dark", "partdeck-light"):
            app.theme = theme
            await pilot.pause()
            wanted = {
                MARKS[piece][0]: Color.parse(app.get_css_variables()[variable]).hex
                for piece, variable in (
                    (Piece.VERIFIED, "part-verified"),
                    (Piece.PENDING, "part-pending"),
                    (Piece.FAILED, "part-failed"),
                )
            }
            shown = {
                segment.text[0]: Color.from_rich_color(segment.style.color).hex
                for y in range(part_map.size.height - 1)
                for segment in part_map.render_line(y)
                if segment.text.strip() and segment.style and segment.style.color
            }
            assert shown == wanted, theme
