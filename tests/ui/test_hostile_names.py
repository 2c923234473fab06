"""A file name with terminal controls, bidi overrides or Rich markup shows escaped and
literal in the app: the sessions table, the parts view and the inspect view (Pilot, on the
sandbox over sockets)."""

from __future__ import annotations

import html

from tests.support.hostile import hidden_characters
from tests.ui.conftest import Deck, row_text, until
from tui.core.display import visible
from tui.core.model import SessionState
from tui.ui.app import PartdeckApp
from tui.ui.rows import FILE_WIDTH
from tui.ui.screens.inspect import InspectScreen

MARKUP = "[bold]loud[reverse]\x9b31m\u202egnp\t.bin"
"""Markup, a C1 CSI, a bidi override and a tab: S3 takes it as a key."""
ESCAPES = "esc\x1b]0;PWNED\x07\x1b[31mred.bin"
"""An OSC title and a colour: the sandbox's S3 refuses the key, so the session fails."""


def _screen_text(app: PartdeckApp) -> str:
    """What the screen shows, as text (the screenshot's SVG, entities undone)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def test_a_hostile_name_shows_escaped_and_literal(deck: Deck) -> None:
    path = deck.file(MARKUP, 1000)
    async with deck.app() as (app, pilot):
        app.main.start_batch([path], "sandbox-s3")
        await until(pilot, lambda: len(app.engine.journal.sessions()) == 1, "the session")
        sid = app.engine.journal.sessions()[0].id
        await until(
            pilot, lambda: app.engine.session(sid).state == SessionState.COMPLETED, "the upload"
        )
        await pilot.pause(0.3)
        cells = row_text(app, sid)
        assert cells["file"] == visible(MARKUP)[: FILE_WIDTH - 1] + "…"
        assert hidden_characters(" ".join(cells.values())) == []
        shown = _screen_text(app)
        assert "[bold]loud" in shown  # markup shown as text, not applied
        assert "Parts of [bold]loud" in shown  # the parts view's title too
        assert hidden_characters(shown) == []


async def test_a_failed_hostile_name_in_the_parts_and_inspect_views(deck: Deck) -> None:
    path = deck.file(ESCAPES, 1000)
    async with deck.app() as (app, pilot):
        app.main.start_batch([path], "sandbox-s3")
        await until(pilot, lambda: len(app.engine.journal.sessions()) == 1, "the session")
        sid = app.engine.journal.sessions()[0].id
        await until(
            pilot,
            lambda: app.engine.session(sid).final or bool(app.engine.session(sid).error),
            "the session to stop",
        )
        await pilot.pause(0.3)
        cells = row_text(app, sid)
        assert "\x1b" not in cells["file"] and cells["file"].startswith("esc\\x1b]0;")
        assert hidden_characters(_screen_text(app)) == []  # table, parts view, detail line
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InspectScreen), "the inspect view")
        screen = app.screen
        assert isinstance(screen, InspectScreen)
        await until(pilot, lambda: screen.diagnosis is not None, "the diagnosis")
        summary = str(screen.query_one("#summary").render())
        assert visible(path.name) in summary
        assert hidden_characters(summary) == []
