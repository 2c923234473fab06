"""The main screen: every session, live, and the parts of the selected one.

The tables refresh on a tick (TICK_HZ) from what the bridge noted; commands go to the
engine in workers, and their refusals come back as notifications, never tracebacks.
Between the tables, two pictures of the selected session: its part map and rate graph,
fed the same parts as the parts view (``_show_parts``) and the rate history on each tick.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker

from tui.core.diagnose import Fix, server_view
from tui.core.display import visible
from tui.core.errors import PartdeckError
from tui.core.liveness import resume_hint
from tui.core.model import Part, PartState, Session, SessionState
from tui.core.redact import redact
from tui.core.units import format_size
from tui.ui.actions import Selection, applies
from tui.ui.keys import MAIN_BINDINGS
from tui.ui.rows import SessionStats
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.files import tilde
from tui.ui.session_feed import SessionFeed
from tui.ui.session_list import SessionList
from tui.ui.widgets.part_map import PartMap
from tui.ui.widgets.parts_view import PartsView
from tui.ui.widgets.rate_graph import RateGraph
from tui.ui.widgets.sessions_table import SessionsTable

if TYPE_CHECKING:
    from tui.ui.app import PartdeckApp

P = PartState
S = SessionState

TICK_HZ = 5
"""Table refreshes per second (the brief allows 4-10)."""
RESYNC_SECONDS = 1.0
"""How often the journal is checked for writes by another partdeck (a headless upload);
the sessions are read again only when there were some."""


class MainScreen(Screen[None]):
    """Sessions above; the selected session's part map, rate graph and parts below."""

    BINDINGS: ClassVar[list[BindingType]] = [*MAIN_BINDINGS]
    VERTICAL_BREAKPOINTS: list[tuple[int, str]] | None = [
        (0, "-short"),
        (30, "-medium"),
        (45, "-tall"),
    ]
    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [(0, "-narrow"), (120, "-wide")]
    """Screen classes app.tcss sizes the pictures by (more map rows on a tall terminal)."""

    DEFAULT_CSS = """
    MainScreen #search { display: none; }
    MainScreen #search.-shown { display: block; }
    """

    selected: reactive[str | None] = reactive(None, init=False)
    """Id of the session under the cursor."""

    def __init__(self) -> None:
        super().__init__()
        self.rows = SessionList()
        """Every known session, and what the sessions table shows of them."""
        self._feed: SessionFeed | None = None
        self.remote: dict[str, dict[int, str]] = {}
        """What the server said of each part at the last refresh (``f``), by session."""
        self._parts_of: str | None = None
        self._applicable: tuple[bool, ...] = ()
        self._waiters: set[str] = set()
        self._loaded: tuple[object, ...] | None = None
        """What the journal said of the selected session when its parts were last read."""
        self._detail_text: str | None = None

    @property
    def _torn_down(self) -> bool:
        """True once the app tears the screen down (a worker's read may end after that)."""
        return not self.query(PartsView)

    @property
    def sessions(self) -> dict[str, Session]:
        """Every session known, by id (the table may fold some away)."""
        return self.rows.sessions

    @property
    def feed(self) -> SessionFeed:
        """What keeps the sessions up to date (made at mount: it needs the engine)."""
        if self._feed is None:
            self._feed = SessionFeed(self.papp.engine, self.rows)
        return self._feed

    @property
    def papp(self) -> PartdeckApp:
        """The app, typed."""
        from tui.ui.app import PartdeckApp

        assert isinstance(self.app, PartdeckApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Header(icon="⇡")
        with Vertical(id="panes"):
            yield Input(placeholder="search every session: file, account, state, id", id="search")
            yield SessionsTable(id="sessions")
            yield Static("", id="detail", markup=False)
            with Horizontal(id="pictures", classes="-none"):
                yield PartMap(id="part-map")
                yield RateGraph(id="rate-graph")
            yield PartsView(id="parts")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#sessions").border_title = "Sessions"
        self.query_one("#parts").border_title = "Parts"
        self.set_interval(1 / TICK_HZ, self.tick, name="tick")
        self.set_interval(RESYNC_SECONDS, self._poll, name="resync")
        self.query_one(SessionsTable).focus()
        self._background(self._open_history, group="history")

    async def _open_history(self) -> None:
        """Show the unfinished and newest finished sessions first, then read the whole
        history (for the search and the folded count) once that frame is up."""
        await self.resync()
        await self.query_one(SessionsTable).wait_for_refresh()
        await self.resync(full=True)

    async def _poll(self) -> None:
        """Read the journal again if another process wrote to it (a cheap check)."""
        await self.resync(force=False)

    def _background(
        self,
        work: Callable[[], Coroutine[Any, Any, None]],
        *,
        group: str,
        exclusive: bool = False,
        name: str = "",
    ) -> Worker[None]:
        """Run ``work`` in a worker. It is called when the worker starts, not before, so a
        worker cancelled early (an exclusive group) leaves no coroutine never awaited."""
        return self.run_worker(work, name=name, group=group, exclusive=exclusive)

    # -- data -------------------------------------------------------------------------------

    async def resync(self, force: bool = True, full: bool = False) -> None:
        """Read the sessions not driven here from the journal (without ``force``, only when
        another process wrote to it); sessions driven here come from the engine."""
        if not await self.feed.resync(force=force, full=full) or self._torn_down:
            return
        self.render_sessions()
        engine = self.papp.engine
        sid = self.selected
        if sid is not None and sid in self.sessions and not engine.is_running(sid):
            session = self.sessions[sid]
            stats = self.rows.stats.get(sid, SessionStats())
            seen = (sid, session.updated_at, session.state, stats.done_bytes, stats.done_parts,
                    stats.total_parts, self.rows.failed.get(sid))  # fmt: skip
            if seen != self._loaded:  # read 10,000 parts again only when something changed
                self._loaded = seen
                await self.load_parts(sid)

    def tick(self) -> None:
        """Apply what changed since the last tick (4-10 times a second)."""
        engine = self.papp.engine
        now = self.papp.clock()
        changes = self.papp.bridge.take()
        # a session no longer held by the engine: the journal has its last word
        stale = self.feed.ingest(changes, now)
        if stale:
            self._background(self.resync, group="resync", exclusive=True)
        self.render_sessions()
        selected = self.selected
        if selected is not None and selected in set(changes.parts) | set(engine.running()):
            live = engine.parts(selected) if engine.progress(selected) is not None else []
            if live:
                self._show_parts(selected, live, now)
            else:
                self._background(partial(self.load_parts, selected), group="parts", exclusive=True)
        else:
            self.query_one(PartsView).tick(now)
        self._show_rate(selected, now)
        self._refresh_footer()

    def _show_parts(self, session_id: str | None, parts: list[Part], now: float) -> None:
        """Show a session's parts in the parts view and the part map, from the same list."""
        remote = self.remote.get(session_id) if session_id is not None else None
        self.query_one(PartsView).show(parts, now=now, remote=remote)
        self.query_one(PartMap).show(part.state for part in parts)

    def _show_rate(self, session_id: str | None, now: float) -> None:
        """Show the session's rate history (one sample per second) in the rate graph."""
        stats = self.rows.stats.get(session_id) if session_id is not None else None
        self.query_one(RateGraph).show(stats.rates.window(now) if stats is not None else [])

    def _refresh_footer(self) -> None:
        """Refresh the footer only when what applies has changed."""
        sel = self.selection()
        signature = tuple(applies(b.action, sel) for b in MAIN_BINDINGS)
        if signature != self._applicable:
            self._applicable = signature
            self.refresh_bindings()

    def render_sessions(self) -> None:
        """Bring the sessions table up to date: only rows that changed or whose age is due
        are computed, and only their changed cells are written."""
        table = self.query_one(SessionsTable)
        rebuilt, cells = self.rows.changes(self.papp.clock())
        if rebuilt:
            with self.app.batch_update():
                table.sync(cells)
            table.border_title = self.rows.title()
        elif cells:
            with self.app.batch_update():
                table.update(cells)
        if self.selected is None or (rebuilt and self.selected not in cells):
            self.selected = table.selected_key
        self._show_detail()

    # -- search and folding -----------------------------------------------------------------

    def action_search(self) -> None:
        """Show the search box: it filters every session, folded ones too."""
        box = self.query_one("#search", Input)
        box.add_class("-shown")
        box.focus()

    def action_toggle_finished(self) -> None:
        """Show every finished session, or fold them again."""
        self.rows.set_view(show_finished=not self.rows.show_finished)
        self.render_sessions()

    def action_clear_search(self) -> None:
        """Clear and hide the search box."""
        box = self.query_one("#search", Input)
        if box.has_class("-shown") or box.value:
            box.value = ""
            box.remove_class("-shown")
            self.rows.set_view(needle="")
            self.render_sessions()
        self.query_one(SessionsTable).focus()

    @on(Input.Changed, "#search")
    def _searched(self, event: Input.Changed) -> None:
        self.rows.set_view(needle=event.value.strip())
        self.render_sessions()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one(SessionsTable).focus()

    async def load_parts(self, session_id: str) -> None:
        """Show a session's parts (the engine's view when it holds them, else the store's)."""
        parts = await self.papp.engine.load_parts(session_id)
        if self.selected != session_id or self._torn_down:
            return
        self._show_parts(session_id, parts, self.papp.clock())
        view = self.query_one(PartsView)
        if self._parts_of != session_id:
            self._parts_of = session_id
            view.cursor = 0
            view.scroll_to(y=0, animate=False)
        session = self.sessions.get(session_id)
        if session is not None:
            view.border_title = Text(f"Parts of {visible(os.path.basename(session.path))}")

    def _show_detail(self) -> None:
        detail = self.query_one("#detail", Static)
        session = self.sessions.get(self.selected or "")
        if session is None:
            self._set_detail("no sessions yet: press n to pick files" if not self.sessions else "")
            detail.set_class(False, "-error")
            return
        bits = [
            session.id[:12],
            f"{session.account} ({session.provider})",
            f"{format_size(session.part_size)} parts",
            tilde(Path(session.path)),
        ]
        if session.location:
            bits.append(f"→ {session.location}")
        text = "  ·  ".join(visible(redact(bit)) for bit in bits)
        stats = self.rows.stats.get(session.id)
        if stats is not None and stats.interrupted and not stats.running:
            text += (
                f"\n↯ interrupted: its process stopped; resume it (p) or run {resume_hint(session)}"
            )
        if session.error:
            text += f"\n✗ {visible(redact(session.error))}"
        self._set_detail(redact(text))
        detail.set_class(bool(session.error), "-error")

    def _set_detail(self, text: str) -> None:
        """Update the detail line only when its text changes (an update re-lays the screen)."""
        if text != self._detail_text:
            self._detail_text = text
            self.query_one("#detail", Static).update(text)

    @on(DataTable.RowHighlighted, "#sessions")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.selected = event.row_key.value

    def watch_selected(self, session_id: str | None) -> None:
        self._show_detail()
        self.refresh_bindings()
        self.query_one("#pictures").set_class(session_id is None, "-none")
        self._show_rate(session_id, self.papp.clock())
        if session_id is None:
            self._show_parts(None, [], self.papp.clock())
            return
        self._background(partial(self.load_parts, session_id), group="parts", exclusive=True)

    @on(PartsView.Highlighted)
    def _part_highlighted(self) -> None:
        self.refresh_bindings()

    # -- what applies -----------------------------------------------------------------------

    def selection(self) -> Selection:
        """The selection as the action rules see it."""
        sid = self.selected
        session = self.sessions.get(sid or "")
        if sid is None or session is None:
            return Selection()
        stats = self.rows.stats.get(sid, SessionStats())
        view = self.query_one(PartsView)
        part = view.highlighted if self._parts_of == sid else None
        return Selection(
            session=session,
            running=self.papp.engine.is_running(sid),
            part=part,
            failed_parts=self.rows.failed.get(sid, 0),
            done_parts=stats.done_parts,
            total_parts=stats.total_parts,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {b.action for b in MAIN_BINDINGS if "." not in b.action}:
            return applies(action, self.selection())
        return True

    def applicable(self) -> Iterator[tuple[str, str, str]]:
        """(action, title, help) of every action that applies now, for the palette."""
        sel = self.selection()
        for binding in MAIN_BINDINGS:
            if "." in binding.action or not applies(binding.action, sel):
                continue
            yield binding.action, binding.description, binding.tooltip

    # -- actions ----------------------------------------------------------------------------

    def _command(self, what: str, call: Callable[[], Awaitable[object]]) -> None:
        """Run one engine command in a worker; its refusal becomes a notification."""
        session_id = self.selected

        async def run() -> None:
            try:
                await call()
            except PartdeckError as exc:
                self.notify(redact(str(exc)), title=what, severity="error", timeout=10)
            except Exception as exc:  # a bug: say so, keep the app and the sessions alive
                self.papp.report_bug(what, exc)
            if session_id is not None:
                self.follow(session_id)
            await self.resync()

        self._background(run, group="commands", name=what)

    def follow(self, session_id: str) -> None:
        """Wait in the background for a running session to stop, then let the engine
        release it (its lock too), so other partdeck processes may take it up."""
        engine = self.papp.engine
        if session_id in self._waiters or not engine.is_running(session_id):
            return
        self._waiters.add(session_id)

        async def wait() -> None:
            try:
                while engine.is_running(session_id):
                    await engine.wait(session_id)
            except Exception as exc:  # the runner hit a bug; the session is left resumable
                self.papp.report_bug("upload", exc)
            finally:
                self._waiters.discard(session_id)
            await self.resync()

        self._background(wait, group="waiters", name=f"wait {session_id[:8]}")

    def _selected(self) -> Session | None:
        return self.sessions.get(self.selected or "")

    def action_new_batch(self) -> None:
        """Open the file browser; its batch starts here."""
        self.papp.open_browser()

    def action_accounts(self) -> None:
        """Show the accounts and check them."""
        self.papp.open_accounts()

    def action_pause_resume(self) -> None:
        """Pause a running session, or resume a stopped one."""
        session = self._selected()
        if session is None:
            return
        engine = self.papp.engine
        if engine.is_running(session.id):
            self._command("Pause", lambda: engine.pause(session.id))
        else:
            self._command("Resume", lambda: engine.start(session.id))

    def action_retry_part(self) -> None:
        """Send the part under the cursor again."""
        session = self._selected()
        part = self.selection().part
        if session is None or part is None:
            return
        engine = self.papp.engine

        async def retry() -> None:
            await engine.retry(session.id, [part.number])
            self.notify(f"part {part.number} of {os.path.basename(session.path)} queued again")

        self._command("Retry part", retry)

    def action_retry_failed(self) -> None:
        """Send every failed part of the session again."""
        session = self._selected()
        if session is None:
            return
        engine = self.papp.engine

        async def retry() -> None:
            queued = await engine.retry(session.id)
            self.notify(f"{len(queued)} part(s) of {os.path.basename(session.path)} queued again")

        self._command("Retry failed", retry)

    @work(group="confirm")
    async def action_complete(self) -> None:
        """Finish the upload; ask first when not every part could be verified."""
        session = self._selected()
        if session is None:
            return
        name = os.path.basename(session.path)
        force = False
        if session.state in (S.COMPLETE_UNKNOWN, S.COMPLETING):
            try:
                force = not self.papp.engine.complete_repeatable(session.account)
            except PartdeckError as exc:
                self.notify(redact(str(exc)), title="Complete", severity="error", timeout=10)
                return
            body = f"Complete was already sent for {name} and its outcome is unknown. " + (
                f"{session.provider} takes complete only once: check whether the file "
                "is already there, because sending it again may make a duplicate."
                if force
                else "Sending it again is safe for this provider."
            )
            if not await self.app.push_screen_wait(
                ConfirmScreen("Send complete again?", body, yes="Send again", danger=force)
            ):
                return
        else:
            parts = await self.papp.engine.load_parts(session.id)
            unverified = [p.number for p in parts if p.state == P.UNVERIFIABLE]
            if unverified:
                body = (
                    f"{len(unverified)} of {len(parts)} parts of {name} were accepted but the "
                    "server's receipt could not be checked against the local digest. "
                    "Complete anyway?"
                )
                if not await self.app.push_screen_wait(
                    ConfirmScreen("Not every part is verified", body, yes="Complete")
                ):
                    return
        engine = self.papp.engine
        self._command("Complete", lambda: engine.complete(session.id, force=force))

    @work(group="confirm")
    async def action_abort(self) -> None:
        """Discard the remote upload, after showing what will be lost."""
        session = self._selected()
        if session is None:
            return
        engine = self.papp.engine
        parts = await engine.load_parts(session.id)
        done = [p for p in parts if p.done]
        size = sum(p.size for p in done)
        name = os.path.basename(session.path)
        body = (
            f"Abort the upload of {name} to {session.account}?\n\n"
            f"Discards {len(done)} of {len(parts)} parts already on the server "
            f"({format_size(size)} of {format_size(session.size)}). The local file is not "
            "touched; to upload it again, start a new batch."
        )
        if engine.is_running(session.id):
            body += "\nThe parts in flight stop now."
        if not await self.app.push_screen_wait(
            ConfirmScreen("Abort upload?", body, yes="Abort", danger=True)
        ):
            return

        async def abort() -> None:
            result = await engine.abort(session.id)
            if result.state == S.ABORTED:
                self.notify(f"{name}: aborted")

        self._command("Abort", abort)

    def action_verify(self) -> None:
        """Re-hash the local file and compare with each part's fingerprint."""
        session = self._selected()
        if session is None:
            return
        engine = self.papp.engine
        name = os.path.basename(session.path)

        async def verify() -> None:
            self.notify(f"{name}: hashing the local file…", timeout=3)
            results = await engine.verify(session.id)
            bad = [n for n, ok in results if ok is False]
            checked = sum(1 for _, ok in results if ok is not None)
            if bad:
                self.notify(
                    f"{name}: {len(bad)} of {checked} parts no longer match the file "
                    f"({', '.join(map(str, bad[:8]))}); restore the file or abort",
                    severity="error",
                    timeout=10,
                )
            else:
                self.notify(f"{name}: all {checked} fingerprinted parts match the file")

        self._command("Verify", verify)

    def action_refresh_remote(self) -> None:
        """Ask the server which parts it holds and mark them in the parts view."""
        session = self._selected()
        if session is None:
            return
        engine = self.papp.engine
        name = os.path.basename(session.path)

        async def refresh() -> None:
            remote = await engine.remote_parts(session.id)
            if remote is None:
                self.notify(f"{name}: {session.provider} cannot list the parts it holds")
                return
            parts = await engine.load_parts(session.id)
            held = {r.number: r for r in remote}
            view = {part.number: str(server_view(part, held)) for part in parts}
            self.remote[session.id] = view
            missing = sum(1 for v in view.values() if v != "held")
            self.notify(
                f"{name}: the server holds {len(remote)} of {len(parts)} parts"
                + (f"; {missing} missing or different" if missing else "")
            )
            if self.selected == session.id:
                await self.load_parts(session.id)

        self._command("Server parts", refresh)

    def action_copy_url(self) -> None:
        """Copy the object's location to the clipboard (OSC 52 reaches the local terminal)."""
        session = self._selected()
        if session is None or not session.location:
            return
        location = redact(session.location)
        self.app.copy_to_clipboard(location)
        self.notify(f"copied {location}")

    @work(group="inspect", exclusive=True)
    async def action_inspect(self) -> None:
        """Open the stuck-session view; run the fix it suggests if asked."""
        session = self._selected()
        if session is None:
            return
        from tui.ui.screens.inspect import InspectScreen

        fix = await self.app.push_screen_wait(InspectScreen(session.id))
        if fix is not None:
            self.apply_fix(session.id, fix)

    def apply_fix(self, session_id: str, fix: Fix) -> None:
        """Carry out the fix the inspect view suggested."""
        engine = self.papp.engine
        if fix.action == "resume":
            self._command("Resume", lambda: engine.start(session_id))
        elif fix.action == "retry_failed":
            self._command("Retry failed", lambda: engine.retry(session_id))
        elif fix.action == "retry_parts":
            numbers = list(fix.parts)
            self._command("Retry parts", lambda: engine.retry(session_id, numbers))
        elif fix.action in ("complete", "complete_force"):
            self.action_complete()
        elif fix.action == "abort":
            self.action_abort()
        elif fix.action == "verify":
            self.action_verify()

    def start_batch(self, paths: list[Path], account: str) -> None:
        """Plan and start one session per file on ``account``."""
        engine = self.papp.engine

        async def start() -> None:
            started = 0
            for path in paths:
                try:
                    session = await engine.plan(path, account)
                    await engine.start(session.id)
                    self.follow(session.id)
                    started += 1
                except PartdeckError as exc:
                    self.notify(f"{path.name}: {redact(str(exc))}", severity="error", timeout=10)
            if started:
                self.notify(f"{started} upload(s) started on {account}")
            await self.resync()

        self._background(start, group="commands", name="start batch")
