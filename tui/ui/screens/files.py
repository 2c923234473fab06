"""The file browser: walk directories, mark files, see how the account would split
each one (or why it refuses it), then start the batch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from tui.core.display import visible
from tui.core.errors import PartdeckError
from tui.core.model import PlanPreview
from tui.core.redact import redact
from tui.core.units import format_size
from tui.ui.keys import BROWSER_BINDINGS
from tui.ui.listing import Entry, list_directory
from tui.ui.widgets.filter_box import FilterBox
from tui.ui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from tui.ui.app import PartdeckApp

PREVIEW_LIMIT = 500
"""Files per directory whose plan is worked out ahead; others on marking."""


@dataclass(frozen=True)
class Batch:
    """What the browser hands back: files to upload and the account to upload them to."""

    paths: list[Path]
    account: str


def tilde(path: Path) -> str:
    """``path`` with the home directory written ``~``."""
    home = Path.home()
    try:
        return "~/" + str(path.relative_to(home)) if path != home else "~"
    except ValueError:
        return str(path)


def plan_text(preview: PlanPreview) -> str:
    """``12 × 8 MiB``: how the provider will split a file."""
    if preview.parts == 1:
        return f"1 part of {format_size(preview.size)}"
    return f"{preview.parts} × {format_size(preview.part_size)}"


class FileBrowserScreen(Screen[Batch | None]):
    """Mark files with space, pick an account with a, start with s."""

    BINDINGS: ClassVar[list[BindingType]] = [*BROWSER_BINDINGS]

    DEFAULT_CSS = """
    FileBrowserScreen #where { padding: 0 1; height: auto; }
    FileBrowserScreen #filter { display: none; }
    FileBrowserScreen #filter.-shown { display: block; }
    FileBrowserScreen #files { height: 1fr; }
    FileBrowserScreen #summary { padding: 0 1; height: auto; color: $text-muted; }
    FileBrowserScreen #summary.-refused { color: $part-failed; }
    """

    def __init__(self, directory: Path, account: str | None = None) -> None:
        super().__init__()
        self.directory = directory.resolve()
        self.account = account
        self.marked: set[Path] = set()
        self.entries: list[Entry] = []
        self.previews: dict[tuple[Path, str], PlanPreview | str] = {}
        """(file, account) -> its plan, or the refusal."""

    @property
    def papp(self) -> PartdeckApp:
        """The app, typed."""
        from tui.ui.app import PartdeckApp

        assert isinstance(self.app, PartdeckApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Header(icon="⇡")
        yield Static("", id="where", markup=False)
        yield FilterBox(placeholder="filter names (esc to clear)", id="filter")
        yield DataTable(cursor_type="row", id="files")
        yield Static("", id="summary", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.account is None and len(self.papp.config.accounts) == 1:
            self.account = next(iter(self.papp.config.accounts))
        table = self.query_one(DataTable)
        table.add_column(" ", key="mark", width=1)
        table.add_column("Name", key="name", width=40)
        table.add_column(Text("Size", justify="right"), key="size", width=10)
        table.add_column("Plan on the account", key="plan")
        table.focus()
        self.load()

    # -- listing ----------------------------------------------------------------------------

    @work(group="listing", exclusive=True)
    async def load(self) -> None:
        """Read the directory and show it."""
        try:
            self.entries = await asyncio.to_thread(list_directory, self.directory)
        except OSError as exc:
            self.notify(
                f"{tilde(self.directory)}: cannot list ({exc.strerror}); pick another directory",
                severity="error",
            )
            self.entries = []
        self.show()
        self.preview_all()

    def shown_entries(self) -> list[Entry]:
        """The entries the filter lets through."""
        needle = self.query_one("#filter", Input).value.strip().lower()
        if not needle:
            return self.entries
        return [e for e in self.entries if needle in e.name.lower()]

    def show(self) -> None:
        """Fill the table from the entries."""
        table = self.query_one(DataTable)
        table.clear()
        if self.directory.parent != self.directory:
            table.add_row("", Text("../", style="bold"), "", "", key="..")
        shown = self.shown_entries()
        for entry in shown:
            table.add_row(*self._cells(entry), key=str(entry.path))
        if shown and shown is not self.entries and table.row_count > len(shown):
            table.move_cursor(row=1)  # filtered: on the first match, not on ../
        self._where()
        self._summary()

    def _cells(self, entry: Entry) -> tuple[Text | str, ...]:
        mark = "●" if entry.path in self.marked else ""
        if entry.is_dir:
            return (mark, Text(visible(entry.name) + "/", style="bold"), "", "")
        size = Text(format_size(entry.size), justify="right") if entry.size is not None else ""
        return (mark, Text(visible(entry.name)), size, self._plan_cell(entry))

    def _plan_cell(self, entry: Entry) -> Text:
        if entry.note:
            return Text(f"✗ {entry.note}", style="red")
        if self.account is None:
            return Text("choose an account (a)", style="dim")
        found = self.previews.get((entry.path, self.account))
        if found is None:
            return Text("…", style="dim")
        if isinstance(found, str):
            return Text(f"✗ {visible(found)}", style="red")
        return Text(plan_text(found))

    def _refresh_row(self, entry: Entry) -> None:
        table = self.query_one(DataTable)
        key = str(entry.path)
        if key in table.rows:
            for column, cell in zip(
                ("mark", "name", "size", "plan"), self._cells(entry), strict=True
            ):
                table.update_cell(key, column, cell, update_width=column == "plan")

    def _where(self) -> None:
        account = self.account
        provider = self.papp.config.accounts[account].provider if account else None
        text = f"{tilde(self.directory)}\naccount: " + (
            f"{account} ({provider})" if account else "none chosen (a)"
        )
        self.query_one("#where", Static).update(text)

    def _summary(self) -> None:
        marked = sorted(self.marked)
        summary = self.query_one("#summary", Static)
        entry = self.highlighted
        refused = [p for p in marked if isinstance(self.previews.get((p, self.account or "")), str)]
        if not marked:
            text = "space marks files · s starts · a picks the account · / filters"
        else:
            total = sum(p.stat().st_size for p in marked if p.exists())
            parts = sum(
                found.parts
                for p in marked
                if isinstance(found := self.previews.get((p, self.account or "")), PlanPreview)
            )
            text = f"{len(marked)} marked · {format_size(total)} · {parts} parts"
            if refused:
                text += f" · {len(refused)} refused"
        if entry is not None and self.account:
            found = self.previews.get((entry.path, self.account))
            if isinstance(found, str):
                text += f"\n{visible(entry.name)}: {visible(found)}"
        summary.update(redact(text))
        summary.set_class(bool(refused), "-refused")

    @property
    def highlighted(self) -> Entry | None:
        """The entry under the cursor (None on ``..``)."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((e for e in self.entries if str(e.path) == key), None)

    @on(DataTable.RowHighlighted)
    def _moved(self) -> None:
        self._summary()

    # -- plans ------------------------------------------------------------------------------

    @work(group="previews", exclusive=True)
    async def preview_all(self) -> None:
        """Work out the plan of every file shown (and every marked file) on the account."""
        account = self.account
        if account is None:
            return
        files = [e for e in self.entries if e.size is not None and not e.note][:PREVIEW_LIMIT]
        wanted = {e.path for e in files} | self.marked
        for path in sorted(wanted):
            if (path, account) in self.previews:
                continue
            await self.preview(path, account)
            entry = next((e for e in self.entries if e.path == path), None)
            if entry is not None:
                self._refresh_row(entry)
        self._summary()

    async def preview(self, path: Path, account: str) -> PlanPreview | str:
        """The plan for one file on one account, or why it is refused (cached)."""
        key = (path, account)
        if key not in self.previews:
            try:
                self.previews[key] = await self.papp.engine.preview(path, account)
            except PartdeckError as exc:
                self.previews[key] = redact(str(exc))
        return self.previews[key]

    # -- actions ----------------------------------------------------------------------------

    def action_mark(self) -> None:
        """Mark or unmark the file under the cursor, then move down."""
        entry = self.highlighted
        table = self.query_one(DataTable)
        if entry is None or entry.is_dir:
            return
        if entry.note:
            self.notify(
                f"{entry.name}: {entry.note}; only regular files upload", severity="warning"
            )
            return
        self.marked.symmetric_difference_update({entry.path})
        self._refresh_row(entry)
        table.action_cursor_down()
        self._summary()

    def action_open(self) -> None:
        """Enter the directory under the cursor (or go up on ``..``); on a file, mark it."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key == "..":
            self.action_parent()
            return
        entry = self.highlighted
        if entry is not None and entry.is_dir:
            self.go(entry.path)
        elif entry is not None:
            self.action_mark()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_parent(self) -> None:
        """Go to the parent directory."""
        if self.directory.parent != self.directory:
            self.go(self.directory.parent)

    def go(self, directory: Path) -> None:
        """Show another directory; the filter is cleared and put away, marks are kept."""
        self.directory = directory
        self._close_filter()
        self.load()

    def _close_filter(self) -> None:
        """Clear and hide the filter box; the keys go to the list."""
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("-shown")
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        """Show the filter box."""
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filtered(self) -> None:
        self.show()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        """enter (or an arrow) in the filter: the list takes the keys, on the first match."""
        if not self.query_one("#filter", Input).value.strip():
            self._close_filter()
            return
        self.query_one(DataTable).focus()

    @work(group="account", exclusive=True)
    async def action_account(self) -> None:
        """Choose the account; the plans are worked out again for it."""
        from tui.ui.screens.accounts import AccountPickerScreen

        chosen = await self.app.push_screen_wait(AccountPickerScreen(current=self.account))
        if chosen is not None:
            self.account = chosen
            self.show()
            self.preview_all()

    @work(group="start", exclusive=True)
    async def action_start(self) -> None:
        """Start the marked files (or the one under the cursor) on the account."""
        paths = sorted(self.marked)
        entry = self.highlighted
        if not paths and entry is not None and entry.size is not None and not entry.note:
            paths = [entry.path]
        if not paths:
            self.notify("mark files with space first", severity="warning")
            return
        if self.account is None:
            from tui.ui.screens.accounts import AccountPickerScreen

            self.account = await self.app.push_screen_wait(AccountPickerScreen())
            if self.account is None:
                return
            self.show()
        accepted: list[Path] = []
        for path in paths:
            found = await self.preview(path, self.account)
            if isinstance(found, str):
                self.notify(f"{path.name}: {found}", severity="error", timeout=10)
            else:
                accepted.append(path)
        if accepted:
            self.dismiss(Batch(accepted, self.account))

    def action_cancel(self) -> None:
        """Clear the filter, or go back without starting."""
        if self.query_one("#filter", Input).has_class("-shown"):
            self._close_filter()
            return
        self.dismiss(None)
