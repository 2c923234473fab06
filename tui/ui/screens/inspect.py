"""The stuck-session view: the journal, the local file and the server, joined, with the
action that would move the session on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from tui.core.diagnose import Diagnosis, Fix, LocalState, ServerView
from tui.core.display import visible
from tui.core.errors import PartdeckError
from tui.core.redact import redact
from tui.core.units import format_duration, format_size
from tui.ui.keys import INSPECT_BINDINGS
from tui.ui.rows import part_label
from tui.ui.screens.files import tilde
from tui.ui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from tui.ui.app import PartdeckApp

_SERVER = {
    ServerView.HELD: "● held",
    ServerView.MISSING: "○ missing",
    ServerView.DIFFERS: "≠ differs",
    ServerView.UNKNOWN: "–",
}
_LOCAL = {
    LocalState.MATCHES: "✓ matches the journal (size and mtime)",
    LocalState.CHANGED: "≠ changed since it was planned",
    LocalState.MISSING: "✗ missing",
    LocalState.UNREADABLE: "✗ unreadable",
}


class InspectScreen(Screen[Fix | None]):
    """Why a session is stuck; ``x`` returns the suggested fix to the main screen."""

    BINDINGS: ClassVar[list[BindingType]] = [*INSPECT_BINDINGS]

    DEFAULT_CSS = """
    InspectScreen #summary { padding: 0 1; height: auto; }
    InspectScreen #fix { padding: 0 1; margin: 1 0 0 0; height: auto; text-style: bold; }
    InspectScreen #fix.-none { text-style: none; color: $text-muted; }
    InspectScreen DataTable { height: 1fr; }
    """

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id
        self.diagnosis: Diagnosis | None = None

    @property
    def papp(self) -> PartdeckApp:
        """The app, typed."""
        from tui.ui.app import PartdeckApp

        assert isinstance(self.app, PartdeckApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Header(icon="⇡")
        with Vertical():
            yield Static("asking the server and the file…", id="summary", markup=False)
            yield Static("", id="fix", markup=False)
            yield DataTable(cursor_type="row", id="findings")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("#", key="number", width=6)
        table.add_column("State", key="state", width=15)
        table.add_column("Try", key="attempts", width=3)
        table.add_column("Server", key="server", width=10)
        table.add_column("URL expiry", key="expiry", width=11)
        table.add_column("Error history (oldest first)", key="errors")
        table.border_title = "Parts that need attention"
        self.action_reload()

    @work(group="inspect", exclusive=True)
    async def action_reload(self) -> None:
        """Ask the journal, the file and the server again."""
        try:
            diagnosis = await self.papp.engine.inspect(self.session_id)
        except PartdeckError as exc:
            problem = visible(redact(str(exc)))
            self.query_one("#summary", Static).update(f"cannot inspect: {problem}")
            return
        self.show(diagnosis)

    def show(self, d: Diagnosis) -> None:
        """Render a diagnosis."""
        self.diagnosis = d
        s = d.session
        now = self.papp.clock()
        lines = [
            f"{tilde(Path(s.path))}  →  {s.account} ({s.provider})",
            f"session {s.id[:12]}   state {self.papp.engine.shown_state(s)}   "
            f"{d.done}/{d.total} parts done",
            f"{format_size(s.size)} in parts of {format_size(s.part_size)}, "
            f"last change {format_duration(now - s.updated_at)} ago",
            f"local file   {_LOCAL[d.local]}",
            f"server       {d.server_note}",
        ]
        if s.error:
            lines.append(f"last error   {s.error}")
        if s.location:
            lines.append(f"object       {s.location}")
        self.query_one("#summary", Static).update("\n".join(visible(redact(x)) for x in lines))
        fix = self.query_one("#fix", Static)
        key = self.app.get_key_display(INSPECT_BINDINGS[0])
        fix.update(visible(f"fix: {d.fix.text}") + (f" ({key}: do it)" if d.fix.action else ""))
        fix.set_class(d.fix.action is None, "-none")
        table = self.query_one(DataTable)
        table.clear()
        for f in d.findings:
            if f.url_expires_at is None:
                expiry = "–"
            elif f.url_expires_at <= now:
                expiry = "expired"
            else:
                expiry = f"in {format_duration(f.url_expires_at - now)}"
            table.add_row(
                str(f.number),
                part_label(f.state),
                str(f.attempts),
                _SERVER[f.server],
                expiry,
                Text(visible(redact(" | ".join(f.errors))) or "–"),
                key=str(f.number),
            )
        if not d.findings:
            table.add_row("", "every part is fine", "", "", "", "")

    def action_fix(self) -> None:
        """Leave and carry out the suggested fix."""
        if self.diagnosis is not None and self.diagnosis.fix.action is not None:
            self.dismiss(self.diagnosis.fix)

    def action_close(self) -> None:
        """Back to the sessions."""
        self.dismiss(None)
