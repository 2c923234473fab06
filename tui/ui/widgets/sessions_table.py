"""The live sessions table: rows keyed by session id, only changed cells touched."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable

from tui.ui.rows import SESSION_COLUMNS, Cell, Tone

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


class SessionsTable(DataTable[Text]):
    """Sessions, one row each, updated in place by ``sync``."""

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {f"tone--{tone}" for tone in Tone}

    DEFAULT_CSS = """
    SessionsTable > .tone--normal { color: $foreground; }
    SessionsTable > .tone--muted { color: $part-pending; }
    SessionsTable > .tone--active { color: $part-active; }
    SessionsTable > .tone--done { color: $session-done; }
    SessionsTable > .tone--warning { color: $session-stalled; text-style: bold; }
    SessionsTable > .tone--error { color: $part-failed; text-style: bold; }
    SessionsTable > .tone--unknown { color: $session-unknown; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._cells: dict[str, dict[str, Cell]] = {}
        self.cells_written = 0
        """Cells written since the table was made (added rows count every cell): a
        measure of how much a refresh touched."""

    def on_mount(self) -> None:
        for key, label in SESSION_COLUMNS:
            heading = Text(label, justify="right" if key in _RIGHT else "left")
            self.add_column(heading, key=key, width=_WIDTHS[key])

    def _text(self, key: str, cell: Cell) -> Text:
        style = self.get_component_rich_style(f"tone--{cell.tone}", partial=True)
        return Text(cell.text, style=style, justify="right" if key in _RIGHT else "left")

    def sync(self, rows: Mapping[str, Mapping[str, Cell]]) -> None:
        """Make the table show exactly ``rows`` (session id -> cells) in their order,
        touching only the cells that changed; new rows (rare) rebuild the table to keep
        the order."""
        for gone in [key for key in self._cells if key not in rows]:
            self.remove_row(gone)
            del self._cells[gone]
        if any(key not in self._cells for key in rows):
            selected = self.selected_key
            self.clear()
            self._cells.clear()
            for key, cells in rows.items():
                self.add_row(*(self._text(c, cells[c]) for c, _ in SESSION_COLUMNS), key=key)
                self._cells[key] = dict(cells)
                self.cells_written += len(cells)
            if selected is not None and selected in rows:
                self.move_cursor(row=self.get_row_index(selected), animate=False)
            return
        self.update(rows)

    def update(self, rows: Mapping[str, Mapping[str, Cell]]) -> None:
        """Bring these shown rows up to date, writing only the cells that changed
        (rows the table does not show are ignored)."""
        for key, cells in rows.items():
            known = self._cells.get(key)
            if known is None:
                continue
            for column, cell in cells.items():
                if known.get(column) != cell:
                    self.update_cell(key, column, self._text(column, cell))
                    known[column] = cell
                    self.cells_written += 1

    def restyle(self) -> None:
        """Render every cell again (the theme changed)."""
        for key, cells in self._cells.items():
            for column, cell in cells.items():
                self.update_cell(key, column, self._text(column, cell))

    @property
    def selected_key(self) -> str | None:
        """The session id under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # the cursor is past the last row while rows are removed
            return None
