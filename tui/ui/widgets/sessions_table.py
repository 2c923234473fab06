"""The live sessions table: rows keyed by session id, each row's line drawn once.

A DataTable throws its render caches away whenever any cell changes, so each tick that
moved a few progress cells drew every visible cell again (through ``render_lines``, about
half a millisecond each). This view keeps a Strip per row and draws a row again only
when its cells, the cursor on it or the looks (theme, focus, width) change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.ui.rows import SESSION_COLUMNS, Cell, Tone
from tui.ui.widgets.row_lines import Column, RowLook, row_strip, table_width

_WIDTHS = {
    "file": 12,
    "state": 18,
    "parts": 11,  # 10000/10000: S3, Box, Polar and Fileflare allow 10,000 parts
    "sent": 8,  # 1024 GiB: format_size never needs more
    "rate": 10,
    "eta": 6,
    "size": 9,
    "account": 18,  # sandbox-wunderlist; the whole row still fits 120 columns
    "age": 6,
}
"""Fixed widths, so no cell update ever re-measures a column; each holds its largest legal
value (tests/ui/test_columns.py), and file to ETA fit in 80 columns with a scrollbar."""
_RIGHT = frozenset({"parts", "sent", "rate", "eta", "size", "age"})
_COLUMNS = tuple(Column(_WIDTHS[key], key in _RIGHT) for key, _ in SESSION_COLUMNS)
_KEYS = tuple(key for key, _ in SESSION_COLUMNS)
_HEADER = 1


class SessionsTable(ScrollView, can_focus=True):
    """Sessions, one row each, updated in place by ``sync``, with a row cursor."""

    ALLOW_SELECT = False

    BINDINGS = [
        Binding("up", "cursor(-1)", "Cursor up", show=False),
        Binding("down", "cursor(1)", "Cursor down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "edge(0)", "First session", show=False),
        Binding("end,ctrl+end", "edge(1)", "Last session", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]

    COMPONENT_CLASSES = {
        "datatable--header",
        "datatable--cursor",
        *(f"tone--{tone}" for tone in Tone),
    }

    # The header and cursor rules are DataTable's own, so the table looks as it did.
    DEFAULT_CSS = """
    SessionsTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .datatable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .datatable--header { background-tint: $foreground 5%; }
        }
        & > .datatable--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .datatable--header { background: ansi_bright_blue; color: ansi_default; }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    SessionsTable > .tone--normal { color: $foreground; }
    SessionsTable > .tone--muted { color: $part-pending; }
    SessionsTable > .tone--active { color: $part-active; }
    SessionsTable > .tone--done { color: $session-done; }
    SessionsTable > .tone--warning { color: $session-stalled; text-style: bold; }
    SessionsTable > .tone--error { color: $part-failed; text-style: bold; }
    SessionsTable > .tone--unknown { color: $session-unknown; text-style: bold; }
    """

    class Highlighted(Message):
        """The cursor came to another session."""

        def __init__(self, table: SessionsTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key
            """The session id under the cursor."""

        @property
        def control(self) -> SessionsTable:
            """The table (so ``@on(..., "#sessions")`` can match it)."""
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, dict[str, Cell]] = {}
        self._cursor = 0
        self._announced: str | None = None
        self._strips: dict[tuple[str, bool], Strip] = {}
        """Each row's whole line (not scrolled), by session id and whether it is the
        cursor row; dropped when its cells change, all dropped when the looks change."""
        self._header: Strip | None = None
        self._looks: object = None
        self._base = Style()
        self._styles: dict[str, Style] = {}
        self._tones: dict[str, Style] = {}
        self._looks_of: dict[bool, RowLook] = {}
        self.cells_written = 0
        """Cells written since the table was made (added rows count every cell): a
        measure of how much a refresh touched."""

    # -- what tests and screens read ----------------------------------------------------------

    @property
    def row_keys(self) -> Sequence[str]:
        """The session ids shown, top to bottom."""
        return self._keys

    @property
    def row_count(self) -> int:
        """How many sessions are shown."""
        return len(self._keys)

    @property
    def cursor_row(self) -> int:
        """The index of the row under the cursor."""
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        """The session id under the cursor, or None when the table is empty."""
        return self._keys[self._cursor] if self._keys else None

    def get_row_index(self, key: str) -> int:
        """The index of a session's row (KeyError when it is not shown)."""
        return self._index[key]

    def cell(self, key: str, column: str) -> Cell:
        """The cell shown for a session in a column (KeyError when there is none)."""
        return self._cells[key][column]

    # -- writing ------------------------------------------------------------------------------

    def sync(self, rows: Mapping[str, Mapping[str, Cell]]) -> None:
        """Make the table show exactly ``rows`` (session id -> cells) in their order,
        touching only the cells that changed; the cursor stays on its session."""
        if list(rows) != self._keys:
            selected = self.selected_key
            for gone in [key for key in self._cells if key not in rows]:
                del self._cells[gone]
            for key, cells in rows.items():
                if key not in self._cells:
                    self._cells[key] = dict(cells)
                    self.cells_written += len(cells)
            self._keys = list(rows)
            self._index = {key: i for i, key in enumerate(self._keys)}
            self._strips.clear()  # the row meta holds each row's index
            self.virtual_size = Size(table_width(_COLUMNS), len(self._keys) + _HEADER)
            at = self._index.get(selected, self._cursor) if selected is not None else 0
            self._cursor = max(0, min(at, len(self._keys) - 1))
            self.refresh()
            self.call_after_refresh(self._keep_visible)
            self._cursor_moved()
        self.update(rows)

    def update(self, rows: Mapping[str, Mapping[str, Cell]]) -> None:
        """Bring these shown rows up to date, writing only the cells that changed
        (rows the table does not show are ignored); the rows changed repaint together."""
        changed_rows: list[str] = []
        for key, cells in rows.items():
            known = self._cells.get(key)
            if known is None:
                continue
            changed = 0
            for column, cell in cells.items():
                if known.get(column) != cell:
                    known[column] = cell
                    changed += 1
            if changed:
                self.cells_written += changed
                changed_rows.append(key)
        if changed_rows:
            self._redraw(*changed_rows)

    def restyle(self) -> None:
        """Draw every row again (the theme changed)."""
        self._forget_looks()
        self.refresh()

    # -- the cursor ---------------------------------------------------------------------------

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on row ``row`` (clamped to the rows shown)."""
        if not self._keys:
            return
        row = max(0, min(row, len(self._keys) - 1))
        if row != self._cursor:
            before, self._cursor = self._keys[self._cursor], row
            self._redraw(before, self._keys[row])
        if scroll:
            self._keep_visible(animate)
        self._cursor_moved()

    def _cursor_moved(self) -> None:
        """Say so when the session under the cursor is another one."""
        key = self.selected_key
        if key is not None and key != self._announced:
            self._announced = key
            self.post_message(self.Highlighted(self, key))

    def _keep_visible(self, animate: bool = False) -> None:
        rows = max(1, self.scrollable_content_region.height - _HEADER)
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=animate, force=True)
        elif self._cursor >= top + rows:
            self.scroll_to(y=self._cursor - rows + 1, animate=animate, force=True)

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        self.move_cursor(row=self._cursor + delta)

    def action_page(self, direction: int) -> None:
        """Move the cursor one screen up or down."""
        rows = max(1, self.scrollable_content_region.height - _HEADER)
        self.scroll_to(y=self.scroll_offset.y + direction * rows, animate=False, force=True)
        self.move_cursor(row=self._cursor + direction * rows)

    def action_edge(self, end: int) -> None:
        """Move the cursor to the first or the last row."""
        self.move_cursor(row=len(self._keys) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < _HEADER:
            return
        row = int(self.scroll_offset.y) + offset.y - _HEADER
        if row < len(self._keys):
            self.move_cursor(row=row)
            event.stop()

    # -- drawing ------------------------------------------------------------------------------

    def _redraw(self, *keys: str) -> None:
        """Forget these rows' lines and repaint those on screen, in one refresh."""
        top, height = int(self.scroll_offset.y), self.size.height
        width = max(self.virtual_size.width, self.size.width)
        regions = []
        for key in keys:
            self._strips.pop((key, False), None)
            self._strips.pop((key, True), None)
            index = self._index.get(key)
            if index is not None and _HEADER <= (y := index + _HEADER - top) < height:
                regions.append(Region(0, y, width, 1))
        if regions:
            self.refresh(*regions)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_looks()

    def _forget_looks(self) -> None:
        self._strips.clear()
        self._header = None
        self._styles.clear()
        self._tones.clear()
        self._looks_of.clear()
        self._looks = None

    def _style(self, name: str, partial: bool = False) -> Style:
        key = f"{name}/{partial}"
        if key not in self._styles:
            self._styles[key] = self.get_component_rich_style(name, partial=partial)
        return self._styles[key]

    def render_lines(self, crop: Region) -> list[Strip]:
        base = self.rich_style  # not cheap: once a paint, not once a line
        looks = (self.get_pseudo_class_state(), base, self.size.width)
        if looks != self._looks:  # focus or theme: the cursor and tint change
            self._forget_looks()
            self._looks = looks
        self._base = base
        return super().render_lines(crop)

    def _row_strip(self, index: int) -> Strip:
        key = self._keys[index]
        cursor = index == self._cursor
        strip = self._strips.get((key, cursor))
        if strip is None:
            look = self._row_look(cursor)
            cells = self._cells[key]
            tone = self._tone
            texts = [(cell.text, tone(cell.tone)) for cell in map(cells.__getitem__, _KEYS)]
            strip = row_strip(texts, _COLUMNS, look, index, self.size.width)
            self._strips[(key, cursor)] = strip
        return strip

    def _row_look(self, cursor: bool) -> RowLook:
        """The look of a plain row or of the cursor row (made once per looks)."""
        look = self._looks_of.get(cursor)
        if look is None:
            if cursor:
                on = self._style("datatable--cursor")
                look = RowLook(self._base, on, Style.from_color(color=on.color))
            else:
                look = RowLook(self._base)
            self._looks_of[cursor] = look
        return look

    def _tone(self, tone: str) -> Style:
        style = self._tones.get(tone)
        if style is None:
            style = self._tones[tone] = self._style(f"tone--{tone}", partial=True)
        return style

    def _header_strip(self) -> Strip:
        if self._header is None:
            look = RowLook(self.get_component_styles("datatable--header").rich_style)
            labels = [(label, Style()) for _, label in SESSION_COLUMNS]
            self._header = row_strip(labels, _COLUMNS, look, -1, self.size.width)
        return self._header

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y < _HEADER:
            strip = self._header_strip()
        elif (index := y - _HEADER + scroll_y) < len(self._keys):
            strip = self._row_strip(index)
        else:
            return Strip.blank(width, self._base)
        return strip.crop(scroll_x, scroll_x + width).adjust_cell_length(width, self._base)
