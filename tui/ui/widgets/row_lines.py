"""Rows of a fixed-width table drawn straight to Strips, the way DataTable draws them.

Each cell is a space, its text fitted to the column, a space, layered as DataTable
layers them (row style, cursor, the cell's own style, the cursor's colour on top) and
tagged with the same ``row``/``column`` meta, so the lines look, and export, exactly as
those of a ``DataTable(cursor_type="row")``; but no cell goes through ``render_lines``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip


@dataclass(frozen=True)
class Column:
    """A column: its width in cells (padding not counted) and its justification."""

    width: int
    right: bool = False


@dataclass(frozen=True)
class RowLook:
    """The styles of one kind of row: header, plain or under the cursor."""

    base: Style
    """The row's own style (the widget's, or the header's)."""
    cursor: Style = field(default_factory=Style)
    """The cursor's style, on the cursor row only."""
    over: Style = field(default_factory=Style)
    """Laid over each cell's own style: the cursor's colour wins over a tone."""


PAD = 1
"""Blank cells either side of each cell's text, as DataTable's ``cell_padding``."""


def table_width(columns: Sequence[Column]) -> int:
    """Cells the columns take, padding included."""
    return sum(column.width + 2 * PAD for column in columns)


def fit(text: str, width: int, right: bool) -> str:
    """``text`` cropped or padded to exactly ``width`` cells, against the right or left."""
    if right:
        text = text.rstrip()
        short = width - cell_len(text)
        if short > 0:
            return " " * short + text
    return set_cell_size(text, width)


@lru_cache(maxsize=4096)
def _under(look: RowLook, row: int, column: int) -> tuple[Style, Style]:
    """The style under a cell (row, meta, cursor) and that of its padding."""
    pre = look.base + Style.from_meta({"row": row, "column": column}) + look.cursor
    return pre, pre + look.over if look.over else pre


@lru_cache(maxsize=8192)
def _cell(
    text: str, style: Style, spec: Column, look: RowLook, row: int, column: int
) -> tuple[Segment, ...]:
    """One cell's segments, padding included: each cell is drawn once per text, tone and
    place, so a row whose sent, rate and ETA moved draws those three cells only."""
    pre, padding = _under(look, row, column)
    body = pre + style
    pad = Segment(" " * PAD, padding)
    text = fit(text, spec.width, spec.right)
    return tuple(
        Segment.simplify([pad, Segment(text, body + look.over if look.over else body), pad])
    )


@lru_cache(maxsize=1024)
def _fill(look: RowLook, row: int) -> Style:
    """The style of the blank right of the last column."""
    return (
        look.base + look.cursor + Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})
    )


def row_strip(
    cells: Sequence[tuple[str, Style]],
    columns: Sequence[Column],
    look: RowLook,
    row: int,
    width: int,
) -> Strip:
    """One row (``row`` is -1 for the header) as a Strip at least ``width`` cells wide:
    ``cells`` are (text, style) in column order; the row's style fills the rest.

    Adjacent cells never share a style (the meta names the column), so joining each
    cell's simplified segments is the simplified row."""
    segments: list[Segment] = []
    for column, ((text, style), spec) in enumerate(zip(cells, columns, strict=True)):
        segments += _cell(text, style, spec, look, row, column)
    used = table_width(columns)
    rest = max(0, width - used)
    segments.append(Segment(" " * rest, _fill(look, row)))
    return Strip(segments, used + rest)
