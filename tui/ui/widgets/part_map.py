"""A map of one session's parts: a cell per part (or per group of parts), marked by state.

Like the piece bar of a torrent client: a stuck region or a run of failures shows at a
glance. Each state has its own single-cell marker as well as its colour (a theme
variable), so the map reads without colour (``NO_COLOR``, the mono theme). A session
with more parts than cells shows groups of parts, each cell its group's worst state.

The layout and legend are plain functions of the part states; the widget only keeps
the last ones it was shown and draws lines from them (Line API), rebuilt when they or
its size change, so 10,000 parts cost one pass over their states per change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from tui.core.model import PartState
from tui.ui.widgets.looks import component_style

P = PartState


class Piece(IntEnum):
    """What one cell shows, best to worst: a group of parts shows its worst (``max``)."""

    VERIFIED = 0
    UNVERIFIABLE = 1
    PENDING = 2
    UPLOADING = 3
    EXPIRED = 4
    FAILED = 5


PIECE_OF: dict[PartState, Piece] = {
    P.PENDING: Piece.PENDING,
    P.HASHING: Piece.UPLOADING,
    P.UPLOADING: Piece.UPLOADING,
    P.UPLOADED: Piece.UPLOADING,
    P.VERIFIED: Piece.VERIFIED,
    P.UNVERIFIABLE: Piece.UNVERIFIABLE,
    P.FAILED: Piece.FAILED,
    P.EXPIRED: Piece.EXPIRED,
}
"""The map's piece of each part state (hashing, uploading and uploaded are all in flight)."""

MARKS: dict[Piece, tuple[str, str]] = {
    Piece.VERIFIED: ("█", "verified"),
    Piece.UNVERIFIABLE: ("~", "unverifiable"),
    Piece.PENDING: ("·", "pending"),
    Piece.UPLOADING: ("▒", "uploading"),
    Piece.EXPIRED: ("⊘", "expired"),
    Piece.FAILED: ("✗", "failed"),
}
"""Marker (one cell wide, one per piece) and legend name; ``~ ⊘ ✗ ·`` as in the parts table."""


def pieces(states: Iterable[PartState]) -> list[Piece]:
    """The piece of each part state, in part order."""
    return [PIECE_OF[state] for state in states]


@dataclass(frozen=True)
class MapLayout:
    """Where the pieces go: ``cells`` in order, ``per_row`` to a row, ``span`` columns each."""

    cells: tuple[Piece, ...]
    group: int = 1
    """Parts per cell (the last cell may hold fewer)."""
    span: int = 1
    """Columns per cell: more than one when every part fits on one row with room to spare."""
    per_row: int = 1

    def rows(self) -> list[tuple[Piece, ...]]:
        """The cells, row by row."""
        step = max(1, self.per_row)
        return [self.cells[i : i + step] for i in range(0, len(self.cells), step)]


def layout(parts: Sequence[Piece], width: int, rows: int) -> MapLayout:
    """Fit the parts in ``width`` × ``rows`` cells: a part per cell where they fit (a wider
    cell each when they all fit on one row), else groups of equal size, each its worst."""
    count, width, rows = len(parts), max(1, width), max(1, rows)
    if count == 0:
        return MapLayout((), per_row=width)
    if count <= width:
        return MapLayout(tuple(parts), span=width // count, per_row=count)
    group = -(-count // (width * rows))
    if group == 1:
        return MapLayout(tuple(parts), per_row=width)
    cells = tuple(max(parts[i : i + group]) for i in range(0, count, group))
    return MapLayout(cells, group=group, per_row=width)


def legend(counts: Mapping[Piece, int], group: int, width: int) -> str:
    """One line naming each marker on the map with its count of parts, worst first, and
    how many parts a cell holds; shorter forms where ``width`` is too narrow (the counts
    go before the names do: the parts table has them too)."""
    present = [(piece, counts[piece]) for piece in reversed(Piece) if counts.get(piece)]
    if not present:
        return "no parts"
    forms = (
        ("  ", "{mark} {count} {name}", "   1 cell = {group} parts"),
        (" ", "{mark} {count} {name}", "  {group} parts/cell"),
        (" ", "{mark} {name}", "  1 cell = {group} parts"),
        (" ", "{mark} {name}", " {group} parts/cell"),
        (" ", "{mark} {name}", " {group}/cell"),
        (" ", "{mark}{count}", " {group}/cell"),
    )
    line = ""
    for sep, entry, grouped in forms:
        line = sep.join(
            entry.format(mark=MARKS[piece][0], count=f"{count:,}", name=MARKS[piece][1])
            for piece, count in present
        ) + (grouped.format(group=f"{group:,}") if group > 1 else "")
        if len(line) <= width:
            return line
    return line[: max(0, width - 1)] + "…" if width > 0 else ""


class PartMap(Widget):
    """The selected session's parts as a map of marked, coloured cells and a legend."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "part-map--legend",
        *(f"part-map--{piece.name.lower()}" for piece in Piece),
    }
    """Looks of each piece and of the legend (set in app.tcss from the part-state
    theme variables)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pieces: list[Piece] = []
        self._counts: Counter[Piece] = Counter()
        self._lines: list[Strip] | None = None
        self._built_for: tuple[int, int] = (0, 0)

    @property
    def shown(self) -> Sequence[Piece]:
        """The piece of each part shown, in part order."""
        return self._pieces

    @property
    def cells(self) -> MapLayout:
        """The layout at the widget's current size (a row is kept for the legend)."""
        return layout(self._pieces, self.size.width, self.size.height - 1)

    def show(self, states: Iterable[PartState]) -> None:
        """Show these part states (in part order); repaint only when they changed."""
        shown = pieces(states)
        if shown == self._pieces:
            return
        self._pieces = shown
        self._counts = Counter(shown)
        self._lines = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines = None  # a new theme: the styles are built into the lines

    def _style(self, name: str) -> Style:
        return component_style(self, f"part-map--{name}")

    def _build(self, width: int, height: int) -> list[Strip]:
        """Every line of the map at this size: the rows it uses, the legend, blank rows."""
        base = self.rich_style
        plan = layout(self._pieces, width, height - 1)
        styles = {piece: self._style(piece.name.lower()) for piece in Piece}
        gap = plan.span >= 3  # wide cells: a blank column between parts shows each one
        lines: list[Strip] = []
        for row in plan.rows():
            segments: list[Segment] = []
            for piece in row:
                mark = MARKS[piece][0]
                if gap:
                    segments += [Segment(mark * (plan.span - 1), styles[piece]), Segment(" ", base)]
                elif segments and segments[-1].style is styles[piece]:
                    segments[-1] = Segment(segments[-1].text + mark * plan.span, styles[piece])
                else:
                    segments.append(Segment(mark * plan.span, styles[piece]))
            lines.append(Strip(segments).crop_extend(0, width, base))
        lines = lines[: max(0, height - 1)]
        text = legend(self._counts, plan.group, width) if self._pieces else ""
        lines.append(self._legend(text, styles, width))
        return lines + [Strip.blank(width, base)] * max(0, height - len(lines))

    def _legend(self, text: str, styles: Mapping[Piece, Style], width: int) -> Strip:
        """The legend line, each marker in its piece's look."""
        muted = self._style("legend")
        by_mark = {MARKS[piece][0]: styles[piece] for piece in Piece}
        segments = [Segment(char, by_mark.get(char, muted)) for char in text]
        return Strip(Segment.simplify(segments)).crop_extend(0, width, muted)

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if self._lines is None or self._built_for != (width, height):
            self._lines = self._build(width, height)
            self._built_for = (width, height)
        return self._lines[y] if y < len(self._lines) else Strip.blank(width, self.rich_style)
