"""The main screen: every session, live, and the parts of the selected one.

The tables refresh on a tick (TICK_HZ) from what the bridge noted, and early (EARLY_GAP
after the last tick at the soonest) when a session changes state; what the keys do is in
``SessionCommands``, in workers, and refusals come back as notifications, never tracebacks.
Between the tables, two pictures of the selected session: its part map and rate graph,
fed the same parts as the parts view (``SelectedParts.show``) and the rate history on each tick.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, Input
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from tui.core.diagnose import Fix
from tui.core.model import PartState, Session, SessionState
from tui.ui.actions import Selection, applies
from tui.ui.heap import freeze_startup_heap, thaw_heap
from tui.ui.keys import MAIN_BINDINGS
from tui.ui.rows import SessionStats, detail_text
from tui.ui.screens.files import tilde
from tui.ui.screens.main_commands import SessionCommands
from tui.ui.screens.main_parts import SelectedParts
from tui.ui.session_feed import SessionFeed
from tui.ui.session_list import SessionList
from tui.ui.ticker import Ticker
from tui.ui.widgets.detail_line import DetailLine
from tui.ui.widgets.key_footer import KeyFooter
from tui.ui.widgets.part_map import PartMap
from tui.ui.widgets.parts_view import PartsView
from tui.ui.widgets.rate_graph import RateGraph
from tui.ui.widgets.sessions_table import SessionsTable

if TYPE_CHECKING:
    from tui.ui.app import PartdeckApp

P = PartState
S = SessionState

TICK_HZ = 4
"""Table refreshes per second (the brief allows 4-10). Each one repaints every widget on
screen from Textual's line caches, so the rate is most of what the TUI costs while uploads
run (``ui-service-cpu``); state changes still show within EARLY_GAP."""
EARLY_GAP = 0.1
"""Least time between a tick and one a state change brings forward (so at most 10 Hz)."""
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
        self._applicable: tuple[bool, ...] = ()
        self.commands = SessionCommands(self)
        """What the keys do to a session."""
        self._ticker = Ticker(self, self.tick, 1 / TICK_HZ, EARLY_GAP)
        self._detail_of: tuple[object, ...] = ()
        """What the detail line was last made from."""
        self.parts = SelectedParts(self)
        """The selected session's parts, read and shown."""

    @property
    def torn_down(self) -> bool:
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
            yield DetailLine(id="detail")
            with Horizontal(id="pictures", classes="-none"):
                yield PartMap(id="part-map")
                yield RateGraph(id="rate-graph")
            yield PartsView(id="parts")
        yield KeyFooter()

    def warm_up(self) -> None:
        """Before the screen is built: let the engine start reading the parts the first
        frame shows (the table's first row is the newest session, see SessionList)."""
        newest = self.papp.engine.store.newest_session()
        if newest is not None:
            self.papp.engine.prefetch_parts(newest)

    def on_mount(self) -> None:
        self.query_one("#sessions").border_title = "Sessions"
        self.query_one("#parts").border_title = "Parts"
        self._ticker.start()
        self.papp.bridge.wake = self._ticker.wake  # a state change shows early
        self.set_interval(RESYNC_SECONDS, self._poll, name="resync")
        self.query_one(SessionsTable).focus()
        self.background(self._open_history, group="history")

    def on_unmount(self) -> None:
        self.papp.bridge.wake = None
        thaw_heap()

    async def _open_history(self) -> None:
        """Show the unfinished and newest finished sessions first, and the selected one's
        parts; only once that frame is up, read the whole history (for the search and the
        folded count) and freeze the heap built so far."""
        await self.resync()
        await self.query_one(SessionsTable).wait_for_refresh()
        if self.parts.worker is not None:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):  # the worker tells
                await self.parts.worker.wait()
            if self.torn_down:
                return
            await self.query_one(PartsView).wait_for_refresh()
        await self.resync(full=True)
        freeze_startup_heap()

    async def _poll(self) -> None:
        """Read the journal again if another process wrote to it (a cheap check)."""
        await self.resync(force=False)

    def background(
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
        if not await self.feed.resync(force=force, full=full) or self.torn_down:
            return
        self.render_sessions()
        engine = self.papp.engine
        sid = self.selected
        running = sid is not None and engine.is_running(sid)
        if sid is not None and sid in self.sessions and not running and self.parts.may_differ(sid):
            await self.parts.load(sid)  # 10,000 parts read again only when they may differ

    def tick(self) -> None:
        """Apply what changed since the last tick (4-10 times a second)."""
        engine = self.papp.engine
        now = self.papp.clock()
        changes = self.papp.bridge.take()
        # a session no longer held by the engine: the journal has its last word
        stale = self.feed.ingest(changes, now)
        if stale:
            self.background(self.resync, group="resync", exclusive=True)
        self.render_sessions()
        selected = self.selected
        if selected is not None and selected in set(changes.parts) | set(engine.running()):
            live = engine.parts(selected) if engine.progress(selected) is not None else []
            if live:
                self.parts.show(selected, live, now)
            else:
                self.background(partial(self.parts.load, selected), group="parts", exclusive=True)
        else:
            self.query_one(PartsView).tick(now)
        self._show_rate(selected, now)
        self._refresh_footer()

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

    def _show_detail(self) -> None:
        line = self.query_one(DetailLine)
        session = self.sessions.get(self.selected or "")
        if session is None:
            self._detail_of = ()
            line.show("no sessions yet: press n to pick files" if not self.sessions else "")
            return
        stats = self.rows.stats.get(session.id)
        said = (session.id, session.account, session.provider, session.path, session.part_size,
                session.location, session.error, stats and stats.interrupted,
                stats and stats.running)  # fmt: skip
        if said != self._detail_of:  # what the line says changes far less than each tick
            self._detail_of = said
            line.show(detail_text(session, stats, tilde), error=bool(session.error))

    @on(SessionsTable.Highlighted, "#sessions")
    def _row_highlighted(self, event: SessionsTable.Highlighted) -> None:
        self.selected = event.key

    def watch_selected(self, session_id: str | None) -> None:
        self._show_detail()
        self.refresh_bindings()
        self.query_one("#pictures").set_class(session_id is None, "-none")
        self._show_rate(session_id, self.papp.clock())
        self.parts.select(session_id)

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
        part = view.highlighted if self.parts.shown_of == sid else None
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

    # -- actions: each key's work is in SessionCommands -------------------------------------

    def follow(self, session_id: str) -> None:
        """Wait in the background for a running session to stop, then release it."""
        self.commands.follow(session_id)

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
        if (session := self._selected()) is not None:
            self.commands.pause_resume(session)

    def action_retry_part(self) -> None:
        """Send the part under the cursor again."""
        session, part = self._selected(), self.selection().part
        if session is not None and part is not None:
            self.commands.retry_part(session, part.number)

    def action_retry_failed(self) -> None:
        """Send every failed part of the session again."""
        if (session := self._selected()) is not None:
            self.commands.retry_failed(session)

    @work(group="confirm")
    async def action_complete(self) -> None:
        """Finish the upload; ask first when not every part could be verified."""
        if (session := self._selected()) is not None:
            await self.commands.complete(session)

    @work(group="confirm")
    async def action_abort(self) -> None:
        """Discard the remote upload, after showing what will be lost."""
        if (session := self._selected()) is not None:
            await self.commands.abort(session)

    def action_verify(self) -> None:
        """Re-hash the local file and compare with each part's fingerprint."""
        if (session := self._selected()) is not None:
            self.commands.verify(session)

    def action_refresh_remote(self) -> None:
        """Ask the server which parts it holds and mark them in the parts view."""
        if (session := self._selected()) is not None:
            self.commands.refresh_remote(session)

    def action_copy_url(self) -> None:
        """Copy the object's location to the clipboard (OSC 52 reaches the local terminal)."""
        if (session := self._selected()) is not None:
            self.commands.copy_url(session)

    @work(group="inspect", exclusive=True)
    async def action_inspect(self) -> None:
        """Open the stuck-session view; run the fix it suggests if asked."""
        if (session := self._selected()) is not None:
            await self.commands.inspect(session)

    def apply_fix(self, session_id: str, fix: Fix) -> None:
        """Carry out the fix the inspect view suggested."""
        self.commands.apply_fix(session_id, fix)

    def start_batch(self, paths: list[Path], account: str) -> None:
        """Plan and start one session per file on ``account``."""
        self.commands.start_batch(paths, account)
