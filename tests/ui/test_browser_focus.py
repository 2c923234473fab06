"""After the filter is confirmed, or a directory entered, the keys go to the list."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.ui.conftest import Deck, until
from tui.core.units import MiB
from tui.ui.app import PartdeckApp
from tui.ui.screens.files import FileBrowserScreen
from tui.ui.screens.main import MainScreen


async def _browser(app: PartdeckApp, pilot: Pilot[None]) -> FileBrowserScreen:
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, FileBrowserScreen), "the browser")
    browser = app.screen
    assert isinstance(browser, FileBrowserScreen)
    await until(pilot, lambda: bool(browser.entries), "the listing")
    return browser


def _tree(deck: Deck) -> None:
    for name in ("other", "photos", "zeta"):
        (deck.tmp_path / "files" / name).mkdir(parents=True)
    deck.file("photos/a.bin", MiB, seed=1)
    deck.file("photos/b.bin", MiB, seed=2)


async def test_enter_in_the_filter_then_enter_opens_the_match_and_arrows_move(
    deck: Deck,
) -> None:
    _tree(deck)
    async with deck.app() as (app, pilot):
        browser = await _browser(app, pilot)
        table = browser.query_one(DataTable)
        box = browser.query_one("#filter", Input)
        await pilot.press("slash", "p", "h", "o")
        assert app.focused is box
        await pilot.press("enter")
        assert app.focused is table
        assert browser.highlighted is not None and browser.highlighted.name == "photos"
        await pilot.press("enter")
        await until(pilot, lambda: browser.directory.name == "photos", "photos/ opened")
        await until(pilot, lambda: table.row_count == 3, "photos/ listed")
        assert app.focused is table
        assert not box.has_class("-shown") and box.value == ""
        await pilot.press("down", "down")
        assert browser.highlighted is not None and browser.highlighted.name == "b.bin"


async def test_an_arrow_in_the_filter_moves_to_the_list(deck: Deck) -> None:
    _tree(deck)
    async with deck.app() as (app, pilot):
        browser = await _browser(app, pilot)
        table = browser.query_one(DataTable)
        await pilot.press("slash", "z", "down")
        assert app.focused is table
        assert browser.highlighted is not None and browser.highlighted.name == "zeta"
        await pilot.press("slash", "o", "t", "h", "up")
        assert app.focused is table
        assert browser.highlighted is not None and browser.highlighted.name == "other"


async def test_escape_and_an_empty_filter_put_the_box_away(deck: Deck) -> None:
    _tree(deck)
    async with deck.app() as (app, pilot):
        browser = await _browser(app, pilot)
        table = browser.query_one(DataTable)
        box = browser.query_one("#filter", Input)
        await pilot.press("slash", "enter")  # nothing typed: the box closes
        assert app.focused is table and not box.has_class("-shown")
        await pilot.press("slash", "p", "escape")
        assert app.focused is table and not box.has_class("-shown")
        assert table.row_count == 4  # ../ and the three directories again
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")


async def test_every_screen_opens_with_the_keys_on_its_list_and_gives_them_back(
    deck: Deck,
) -> None:
    from textual.containers import VerticalScroll

    from tui.ui.screens.accounts import AccountPickerScreen
    from tui.ui.screens.help import HelpScreen
    from tui.ui.screens.inspect import InspectScreen
    from tui.ui.widgets.sessions_table import SessionsTable

    path = deck.file("a.bin", MiB)
    async with deck.app() as (app, pilot):
        session = await app.engine.plan(path, "sandbox-s3")
        sessions = app.main.query_one(SessionsTable)
        await until(pilot, lambda: session.id in sessions.row_keys, "the session's row")
        for key, screen, widget in (
            ("A", AccountPickerScreen, DataTable),
            ("question_mark", HelpScreen, VerticalScroll),
            ("i", InspectScreen, DataTable),
        ):
            await pilot.press(key)
            await until(pilot, lambda screen=screen: isinstance(app.screen, screen), key)
            assert isinstance(app.focused, widget), (key, app.focused)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
            assert app.focused is sessions, (key, app.focused)
