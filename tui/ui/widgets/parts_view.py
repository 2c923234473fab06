"""The parts of one session, rendered on demand: only the visible lines are ever built.

A DataTable builds and measures every row up front, which takes seconds for 10,000
parts; this view keeps the parts in a list and renders the lines on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.core.model import Part
from tui.ui.rows import PART_COLUMNS, Tone, part_cells

_GAP = 1


class PartsView(ScrollView, can_focus=True):
    """A session's parts, one line each, with a cursor on one part."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "edge(0)", "First part", show=False),
        Binding("end,G", "edge(1)", "Last part", show=False),
    ]

    COMPONENT_CLASSES = {
        "parts-view--header",
        "parts-view--cursor",
        *(f"tone--{tone}" for tone in Tone),
    }

    DEFAULT_CSS = """
    PartsView { height: 1fr; overflow-x: hidden; }
    PartsView > .parts-view--header { color: $text-muted; text-style: bold; }
    PartsView > .parts-view--cursor { background: $surface-lighten-1; }
    PartsView:focus > .parts-view--cursor { background: $block-cursor-background; }
    PartsView > .tone--normal { color: $foreground; }
    PartsView > .tone--muted { color: $part-pending; }
    PartsView > .tone--active { color: $part-active; }
    PartsView > .tone--done { color: $part-verified; }
    PartsView > .tone--warning { color: $part-expired; }
    PartsView > .tone--error { color: $part-failed; }
    PartsView > .tone--unknown { color: $part-unverifiable; }
    """

    cursor: reactive[int] = reactive(0)
    """Index (not number) of the part under the cursor."""

    class Highlighted(Message):
        """The cursor moved to another part."""

        def __init__(self, number: int | None) -> None:
            super().__init__()
            self.number = number

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts: list[Part] = []
        self._remote: Mapping[int, str] = {}
        self._now = 0.0
        self.empty_text = "no session selected"

    @property
    def parts(self) -> Sequence[Part]:
        """The parts shown."""
        return self._parts

    @property
    def highlighted(self) -> Part | None:
        """The part under the cursor."""
        if not self._parts:
            return None
        return self._parts[min(self.cursor, len(self._parts) - 1)]

    def show(
        self, parts: list[Part], *, now: float, remote: Mapping[int, str] | None = None
    ) -> None:
        """Show these parts; the cursor stays on the same index where it can."""
        self._parts = parts
        self._now = now
        self._remote = remote or {}
        self.virtual_size = Size(0, len(parts) + 1)
        if self.cursor >= len(parts):
            self.cursor = max(0, len(parts) - 1)
        self.refresh()

    def tick(self, now: float) -> None:
        """Advance the clock; repaint when the shown second changes and a part on screen
        counts its URL expiry down (nothing else on a line depends on the clock)."""
        changed = int(now) != int(self._now)
        before, self._now = self._now, now
        if changed and self._counting_down(before):
            self.refresh()

    def _counting_down(self, since: float) -> bool:
        """True when a part on screen showed a URL expiry still to come at ``since``."""
        top = int(self.scroll_offset.y)
        for part in self._parts[top : top + self.scrollable_content_region.height]:
            expires = part.target_expires_at
            if expires is not None and not part.done and expires > since:
                return True
        return False

    def watch_cursor(self, old: int, new: int) -> None:
        self._keep_visible()
        self.refresh()
        part = self.highlighted
        self.post_message(self.Highlighted(part.number if part else None))

    def _keep_visible(self) -> None:
        rows = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` parts."""
        if self._parts:
            self.cursor = max(0, min(len(self._parts) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        """Move the cursor one screen up or down."""
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 2))

    def action_edge(self, end: int) -> None:
        """Move the cursor to the first or last part."""
        if self._parts:
            self.cursor = len(self._parts) - 1 if end else 0

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # inside the border: the header is line 0
        if offset is None or offset.y < 1:
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= row < len(self._parts):
            self.cursor = row

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(0, len(self._parts) + 1)

    def _line(self, cells: Sequence[tuple[str, Style]], base: Style, width: int) -> Strip:
        segments: list[Segment] = []
        used = 0
        for (_key, _label, column_width), (text, style) in zip(PART_COLUMNS, cells, strict=True):
            size = column_width or max(0, width - used)
            segments.append(Segment(set_cell_size(text, size), style))
            used += size
            if column_width and used < width:
                segments.append(Segment(" " * _GAP, base))
                used += _GAP
        return Strip(segments).crop_extend(0, width, base)

    def _tone(self, tone: Tone) -> Style:
        return self.get_component_rich_style(f"tone--{tone}", partial=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = base + self.get_component_rich_style("parts-view--header", partial=True)
            return self._line([(label, header) for _, label, _ in PART_COLUMNS], header, width)
        index = int(self.scroll_offset.y) + y - 1
        if not self._parts:
            return (
                Strip([Segment(set_cell_size(f" {self.empty_text}", width), base)])
                if (y == 1)
                else Strip.blank(width, base)
            )
        if index >= len(self._parts):
            return Strip.blank(width, base)
        part = self._parts[index]
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("parts-view--cursor", partial=True)
        cells = part_cells(part, self._remote.get(part.number), self._now)
        return self._line([(c.text, style + self._tone(c.tone)) for c in cells], style, width)
