"""Snapshot tests of every partdeck screen, at 80x24 and 120x40 (pytest-textual-snapshot).

Each test builds the app on the showcase journal (a session in every state) with a frozen
clock, only the shipped themes, HOME in tmp_path and every account pointing at
127.0.0.1:9 (nothing listens there), so each screen draws the same on every run.

The showcase files are named by a path relative to HOME (the test's working directory):
the main screen and the inspect view print ``session.path`` as it is, and an absolute
tmp_path would change (and re-wrap) from run to run.

Update the SVGs with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and look at
them (``tests/ui/__snapshots__/test_snapshots/``) before committing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input

from tests.support.uidata import NOW, MiB, offline_config, showcase_journal
from tui.config import Config
from tui.core.engine import Engine
from tui.core.journal import Journal
from tui.core.liveness import DRIVEN_STATES
from tui.core.locks import SessionLock
from tui.core.model import PartState, Session
from tui.runtime import ProviderCache
from tui.ui.app import PartdeckApp
from tui.ui.screens.accounts import AccountPickerScreen
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.files import FileBrowserScreen
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.inspect import InspectScreen
from tui.ui.screens.main import MainScreen
from tui.ui.themes import shipped_themes_dir
from tui.ui.widgets.parts_view import PartsView
from tui.ui.widgets.sessions_table import SessionsTable

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

SnapCompare = Callable[..., bool]
"""The snap_compare fixture: (app, terminal_size=, run_before=) -> matches the SVG."""


def frozen_clock() -> float:
    """The wall clock of every snapshot (uidata.NOW)."""
    return NOW


class SnapshotApp(PartdeckApp):
    """PartdeckApp that owns its engine, the way ``tui.runtime.open_engine`` wires one.

    snap_compare runs the app with ``App.run`` (its own event loop), so the engine is
    built synchronously before and closed here, on the loop it ran on.
    """

    def __init__(self, config: Config, state_dir: Path, *, start_dir: Path | None = None) -> None:
        self._journal = Journal.open(state_dir)
        self._providers = ProviderCache(config, config.engine)
        engine = Engine(
            self._journal,
            self._providers,
            self._providers.client(),
            config.engine,
            clock=frozen_clock,
        )
        super().__init__(
            engine,
            config,
            clock=frozen_clock,
            theme_dirs=[shipped_themes_dir()],
            start_dir=start_dir,
        )

    async def run_async(self, **kwargs: Any) -> Any:
        # Returns what the app exits with: snap_compare's screenshot.
        try:
            return await super().run_async(**kwargs)
        finally:
            await self.engine.close()
            await self._providers.aclose()
            self._journal.close()


@dataclass(frozen=True)
class Showcase:
    """Where a test's app lives: HOME, the journal, and the sessions in it."""

    home: Path
    state_dir: Path
    sessions: list[Session]

    def app(self, *, start_dir: Path | None = None) -> SnapshotApp:
        """A fresh app on the showcase journal."""
        return SnapshotApp(offline_config(), self.state_dir, start_dir=start_dir)

    def session_id(self, name: str) -> str:
        """The id of the showcase session uploading ``name``."""
        return next(s.id for s in self.sessions if os.path.basename(s.path) == name)


@pytest.fixture
def showcase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Showcase]:
    """HOME and the working directory in tmp_path, fixed secrets, the showcase journal.

    The s3 account has its keys (so its connection check runs and fails against
    127.0.0.1:9); the other accounts' token variable is unset (so they show as missing).
    The uploading and stalled sessions' locks are held, as by the process driving them
    (else they show as interrupted).
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "PARTDECK_TEST_NO_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSNAPSHOTTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "snapshot-test-secret")
    state_dir = tmp_path / "state"
    sessions = showcase_journal(state_dir, Path("uploads"))
    locks = [SessionLock(state_dir, s.id) for s in sessions if s.state in DRIVEN_STATES]
    for lock in locks:
        lock.acquire()
    yield Showcase(home, state_dir, sessions)
    for lock in locks:
        lock.release()


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token for the gumroad, box and polar accounts too (their providers need one to
    be built at all)."""
    monkeypatch.setenv("PARTDECK_TEST_NO_TOKEN", "snapshot-test-token")


# -- driving the app --------------------------------------------------------------------------


async def settle(pilot: Pilot[None]) -> None:
    """Let the top screen's workers finish (journal reads, server asks, connection checks)
    and the screen redraw.

    Workers of the screens below are left alone: those behind a modal wait for its answer
    (``push_screen_wait``) and would never finish.
    """
    await pilot.pause()
    for _ in range(10):
        screen = pilot.app.screen
        pending = [
            worker
            for worker in pilot.app.workers
            if not worker.is_finished
            and isinstance(worker.node, Widget)
            and worker.node.screen is screen
        ]
        if not pending:
            break
        await pilot.app.workers.wait_for_complete(pending)
        await pilot.pause()
    else:
        raise AssertionError(f"{screen!r} keeps starting workers: {pending}")
    for field in screen.query(Input):
        field.cursor_blink = False  # a blinking cursor would make the screen flicker
    # PartsView widens its virtual size to its outer width on every resize (a horizontal
    # scrollbar appears) and back to its content width whenever it shows parts, so its look
    # depends on which came last. Show the selected session's parts again (what the main
    # screen does when they change) until the screen stops changing.
    app = pilot.app
    assert isinstance(app, PartdeckApp)
    main = app.main
    shot = None
    for _ in range(10):
        if main.selected is not None:
            await main.parts.load(main.selected)
        await pilot.pause()
        previous, shot = shot, app.export_screenshot()
        if shot == previous:
            break
    else:
        raise AssertionError("the screen keeps changing")


async def select(pilot: Pilot[None], session_id: str) -> None:
    """Put the sessions table's cursor on a session and wait for its parts."""
    await settle(pilot)
    table = pilot.app.screen.query_one(SessionsTable)
    table.move_cursor(row=table.get_row_index(session_id))
    await settle(pilot)
    main = pilot.app.screen
    assert isinstance(main, MainScreen)
    assert main.selected == session_id


async def press(pilot: Pilot[None], *keys: str) -> None:
    """Press keys, then settle."""
    await pilot.press(*keys)
    await settle(pilot)


def expect_screen(pilot: Pilot[None], kind: type[object]) -> None:
    """Fail early (with a clear message) when the wrong screen is on top."""
    assert isinstance(pilot.app.screen, kind), f"{pilot.app.screen!r} is not a {kind.__name__}"


# -- the main screen --------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_main_screen(snap_compare: SnapCompare, showcase: Showcase, size: tuple[int, int]) -> None:
    """The main screen: a session in every state; the first (oldest) row is selected, so
    its parts show below and its detail line sits between the tables."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        expect_screen(pilot, MainScreen)
        assert pilot.app.screen.query_one(SessionsTable).row_count == len(showcase.sessions)

    assert snap_compare(showcase.app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_parts_of_failed_session(
    snap_compare: SnapCompare, showcase: Showcase, size: tuple[int, int]
) -> None:
    """render-final.mov (failed: parts 3 and 5) selected, the parts view focused (tab) and
    its cursor on failed part 3, so Retry part shows in the footer."""
    session_id = showcase.session_id("render-final.mov")

    async def run_before(pilot: Pilot[None]) -> None:
        await select(pilot, session_id)
        await press(pilot, "tab", "down", "down")
        view = pilot.app.screen.query_one(PartsView)
        assert view.has_focus
        part = view.highlighted
        assert part is not None and part.number == 3 and part.state == PartState.FAILED

    assert snap_compare(showcase.app(), terminal_size=size, run_before=run_before)


# -- inspect ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_inspect_failed_session(
    snap_compare: SnapCompare, showcase: Showcase, size: tuple[int, int]
) -> None:
    """The stuck-session view of render-final.mov (failed, s3): the server line says it
    could not connect to 127.0.0.1, failed parts 3 and 5 are listed (no error history:
    the showcase journal has no events), and the fix (retry them) is offered on x."""
    session_id = showcase.session_id("render-final.mov")

    async def run_before(pilot: Pilot[None]) -> None:
        await select(pilot, session_id)
        await press(pilot, "i")
        expect_screen(pilot, InspectScreen)
        screen = pilot.app.screen
        assert isinstance(screen, InspectScreen) and screen.diagnosis is not None

    assert snap_compare(showcase.app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_inspect_stalled_session(
    snap_compare: SnapCompare, showcase: Showcase, tokens: None, size: tuple[int, int]
) -> None:
    """The stuck-session view of photos.tar (stalled, box): parts 7 and 8 were in flight
    when it stalled, box at 127.0.0.1:9 could not be asked, and resuming is the fix."""
    session_id = showcase.session_id("photos.tar")

    async def run_before(pilot: Pilot[None]) -> None:
        await select(pilot, session_id)
        await press(pilot, "i")
        expect_screen(pilot, InspectScreen)

    assert snap_compare(showcase.app(), terminal_size=size, run_before=run_before)


# -- the file browser and the account picker --------------------------------------------------


def browser_dir(home: Path) -> Path:
    """~/renders: a subdirectory and four files of fixed sizes (sparse)."""
    directory = home / "renders"
    (directory / "proxies").mkdir(parents=True)
    for name, size in (
        ("final-4k.mov", 700 * MiB),
        ("final-1080p.mp4", 96 * MiB + 123),
        ("poster.png", 2 * MiB),
        ("README.txt", 1234),
    ):
        with open(directory / name, "wb") as f:
            f.truncate(size)
    return directory


@pytest.mark.parametrize("size", SIZES)
def test_file_browser_account_picker(
    snap_compare: SnapCompare, showcase: Showcase, size: tuple[int, int]
) -> None:
    """The file browser (n) at ~/renders with the account picker over it (a), after every
    connection check has finished: archive-s3 could not connect, the others lack a token."""
    app = showcase.app(start_dir=browser_dir(showcase.home))

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await press(pilot, "n")
        expect_screen(pilot, FileBrowserScreen)
        await press(pilot, "a")
        expect_screen(pilot, AccountPickerScreen)
        picker = pilot.app.screen.query_one(DataTable)
        checks = [str(picker.get_cell(name, "check")) for name in offline_config().accounts]
        assert not any(c.endswith("…") for c in checks), checks

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_file_browser_with_account(
    snap_compare: SnapCompare, showcase: Showcase, size: tuple[int, int]
) -> None:
    """The file browser at ~/renders after picking archive-s3 (a, enter) and marking
    final-1080p.mp4 (space): each file's plan on the account and the batch summary."""
    app = showcase.app(start_dir=browser_dir(showcase.home))

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await press(pilot, "n")
        await press(pilot, "a")
        expect_screen(pilot, AccountPickerScreen)
        await press(pilot, "enter")
        expect_screen(pilot, FileBrowserScreen)
        screen = pilot.app.screen
        assert isinstance(screen, FileBrowserScreen) and screen.account == "archive-s3"
        await press(pilot, "down", "down", "space")
        assert [p.name for p in screen.marked] == ["final-1080p.mp4"]

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_accounts(snap_compare: SnapCompare, showcase: Showcase, size: tuple[int, int]) -> None:
    """The account list (A on the main screen) after its connection checks finished."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await press(pilot, "A")
        expect_screen(pilot, AccountPickerScreen)

    assert snap_compare(showcase.app(), terminal_size=size, run_before=run_before)


# -- confirmations and help -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_confirm_abort(
    snap_compare: SnapCompare, showcase: Showcase, size: tuple[int, int]
) -> None:
    """The abort confirmation (a) for photos.tar: what would be discarded, No focused."""
    session_id = showcase.session_id("photos.tar")

    async def run_before(pilot: Pilot[None]) -> None:
        await select(pilot, session_id)
        await press(pilot, "a")
        expect_screen(pilot, ConfirmScreen)

    assert snap_compare(showcase.app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_confirm_complete_unknown(
    snap_compare: SnapCompare, showcase: Showcase, tokens: None, size: tuple[int, int]
) -> None:
    """Send complete again? (c) for course-video.mp4, whose first complete's outcome is
    unknown: gumroad takes complete once, so the question is a danger one."""
    session_id = showcase.session_id("course-video.mp4")

    async def run_before(pilot: Pilot[None]) -> None:
        await select(pilot, session_id)
        await press(pilot, "c")
        expect_screen(pilot, ConfirmScreen)

    assert snap_compare(showcase.app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: SnapCompare, showcase: Showcase, size: tuple[int, int]) -> None:
    """The key map (?) over the main screen."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await press(pilot, "question_mark")
        expect_screen(pilot, HelpScreen)

    assert snap_compare(showcase.app(), terminal_size=size, run_before=run_before)
