"""The part map's pure pieces: states to pieces, the worst-state rule, layouts, the legend."""

from __future__ import annotations

from collections import Counter

import pytest
from rich.cells import cell_len

from tui.core.model import PartState
from tui.ui.widgets.part_map import MARKS, PIECE_OF, Piece, layout, legend, pieces

P = PartState
V, U, W, UP, E, F = (
    Piece.VERIFIED,
    Piece.UNVERIFIABLE,
    Piece.PENDING,
    Piece.UPLOADING,
    Piece.EXPIRED,
    Piece.FAILED,
)


def test_every_part_state_has_a_piece_and_every_piece_a_distinct_one_cell_marker() -> None:
    assert set(PIECE_OF) == set(PartState)
    markers = [MARKS[piece][0] for piece in Piece]
    assert len(set(markers)) == len(Piece)  # reads without colour: no two states alike
    assert all(cell_len(marker) == 1 for marker in markers)
    assert len({MARKS[piece][1] for piece in Piece}) == len(Piece)


def test_parts_in_flight_are_one_piece() -> None:
    assert pieces([P.HASHING, P.UPLOADING, P.UPLOADED]) == [UP, UP, UP]
    assert pieces([P.VERIFIED, P.UNVERIFIABLE, P.PENDING, P.EXPIRED, P.FAILED]) == [V, U, W, E, F]


def test_worst_first_order() -> None:
    """failed > expired > uploading > pending > unverifiable > verified."""
    assert sorted(Piece, reverse=True) == [F, E, UP, W, U, V]


@pytest.mark.parametrize(
    ("group", "worst"),
    [
        ([V, V, V], V),
        ([V, U, V], U),
        ([V, W, U], W),
        ([W, UP, V], UP),
        ([UP, E, W], E),
        ([E, F, UP], F),
        ([V, V, F], F),
    ],
)
def test_a_group_shows_its_worst_part(group: list[Piece], worst: Piece) -> None:
    plan = layout(group + [V] * 87, width=15, rows=2)  # 90 parts in 30 cells: 3 each
    assert plan.group == 3 and plan.cells[0] == worst and set(plan.cells[1:]) == {V}
    assert layout(group, width=1, rows=1).cells == (worst,)


def test_few_parts_get_wide_cells_on_one_row() -> None:
    plan = layout([V, UP, W], width=40, rows=3)
    assert plan.group == 1 and plan.span == 13 and plan.per_row == 3
    assert plan.rows() == [(V, UP, W)]


def test_parts_that_fit_get_one_cell_each_wrapped_over_rows() -> None:
    parts = [V] * 70 + [F] + [W] * 29
    plan = layout(parts, width=40, rows=3)
    assert plan.group == 1 and plan.span == 1
    rows = plan.rows()
    assert [len(row) for row in rows] == [40, 40, 20]
    assert rows[1][30] == F  # part 71: row 2, column 31


def test_more_parts_than_cells_are_grouped_to_fit() -> None:
    plan = layout([V] * 1000, width=40, rows=3)
    assert plan.group == 9  # ceil(1000 / 120)
    assert len(plan.cells) == 112 and len(plan.rows()) == 3
    assert all(len(row) <= 40 for row in plan.rows())


@pytest.mark.parametrize("width", [1, 7, 42, 78, 158])
@pytest.mark.parametrize("rows", [1, 2, 4])
def test_ten_thousand_parts_always_fit(width: int, rows: int) -> None:
    states = [P.VERIFIED] * 5000 + [P.PENDING] * 5000
    for n in range(100, 10_000, 997):
        states[n] = P.FAILED
    plan = layout(pieces(states), width, rows)
    assert len(plan.rows()) <= rows and all(len(row) <= width for row in plan.rows())
    assert plan.group * len(plan.cells) >= 10_000 > plan.group * (len(plan.cells) - 1)
    if plan.group < 997:  # every failure in a group of its own: none hidden by a neighbour
        assert plan.cells.count(F) == 10


def test_a_run_of_failures_is_a_run_of_failed_cells() -> None:
    parts = [V] * 4000 + [F] * 500 + [V] * 5500
    plan = layout(parts, width=50, rows=2)
    failed = [i for i, cell in enumerate(plan.cells) if cell == F]
    assert failed == list(range(failed[0], failed[-1] + 1))  # contiguous
    assert len(failed) >= 500 // plan.group


def test_no_parts_no_cells() -> None:
    assert layout([], width=40, rows=2).cells == ()
    assert layout([V], width=0, rows=0).cells == (V,)


def test_legend_names_what_is_on_the_map_worst_first_with_counts() -> None:
    counts = Counter({V: 4, F: 2})
    assert legend(counts, group=1, width=80) == "✗ 2 failed  █ 4 verified"


def test_legend_says_how_many_parts_a_cell_holds() -> None:
    counts = Counter({V: 4989, W: 5001, F: 10})
    line = legend(counts, group=239, width=120)
    assert line == "✗ 10 failed  · 5,001 pending  █ 4,989 verified   1 cell = 239 parts"


def test_legend_drops_counts_before_names_when_narrow() -> None:
    counts = Counter({V: 4989, W: 5001, F: 10})
    assert legend(counts, group=239, width=42) == "✗ failed · pending █ verified 239/cell"
    assert legend(counts, group=1, width=30) == "✗ failed · pending █ verified"
    tiny = legend(counts, group=239, width=10)
    assert len(tiny) == 10 and tiny.endswith("…")


@pytest.mark.parametrize("width", range(0, 90, 3))
def test_legend_never_overflows(width: int) -> None:
    counts = Counter({piece: 1234 for piece in Piece})
    assert len(legend(counts, group=4321, width=width)) <= width


def test_legend_of_nothing() -> None:
    assert legend(Counter(), group=1, width=40) == "no parts"
