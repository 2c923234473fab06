"""The key map, grouped by screen, with remapped keys shown as they are now."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.ui.keys import GROUPS, key_rows
from tui.ui.rows import PART_MARKS, SESSION_MARKS


def _legend() -> Text:
    text = Text("Session states: ", style="bold")
    text.append("  ".join(f"{mark} {state}" for state, (mark, _) in SESSION_MARKS.items()))
    text.append("\nPart states: ", style="bold")
    text.append("  ".join(f"{mark} {state}" for state, (mark, _) in PART_MARKS.items()))
    text.append("\nServer (after f): ", style="bold")
    text.append("● held  ○ missing  ≠ differs")
    return text


class HelpScreen(ModalScreen[None]):
    """Every key, what it does, and what the markers mean."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 100%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = keymap

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=False, padding=(0, 1))
        table.add_column("key", style="bold", no_wrap=True, width=14)
        table.add_column("action", no_wrap=True, width=16)
        table.add_column("help", ratio=1)
        for title, bindings in GROUPS:
            table.add_row(Text(title, style="bold underline"), "", "")
            for keys, description, tooltip in key_rows(bindings, self._keymap):
                table.add_row(keys, description, tooltip)
            table.add_row("", "", "")
        with VerticalScroll():
            yield Static(table)
            yield Static(_legend())
            yield Static(
                Text(
                    'Remap any key in the config: [keys] retry-part = "t"  ·  esc closes',
                    style="italic",
                )
            )

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = "partdeck keys"
