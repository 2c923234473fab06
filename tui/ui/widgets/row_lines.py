"""Rows of a fixed-width table drawn straight to Strips, the way DataTable draws them.

Each cell is a space, its text fitted to the column, a space, layered as DataTable
layers them (row style, cursor, the cell's own style, the cursor's colour on top) and
tagged with the same ``row``/``column`` meta, so the lines look, and export, exactly as
those of a ``DataTable(cursor_type="row")``; but no cell goes through ``render_lines``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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


def row_strip(
    cells: Sequence[tuple[str, Style]],
    columns: Sequence[Column],
    look: RowLook,
    row: int,
    width: int,
) -> Strip:
    """One row (``row`` is -1 for the header) as a Strip at least ``width`` cells wide:
    ``cells`` are (text, style) in column order; the row's style fills the rest."""
    segments: list[Segment] = []
    over = look.over if look.over else None
    for column, ((text, style), spec) in enumerate(zip(cells, columns, strict=True)):
        pre = look.base + Style.from_meta({"row": row, "column": column}) + look.cursor
        pad = Segment(" " * PAD, pre + over if over else pre)
        body = pre + style
        segments += (pad, Segment(fit(text, spec.width, spec.right), body + over if over else body))
        segments.append(pad)
    rest = max(0, width - table_width(columns))
    fill = look.base + look.cursor
    fill += Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})
    segments.append(Segment(" " * rest, fill))
    return Strip(segments).simplify()
