"""The main screen's lower half: the selected session's parts, read when they may have
changed and shown in the parts view and the part map from the same list.

``SelectedParts`` is composed into ``MainScreen`` (as ``SessionCommands`` is); the screen
says when the selection changes, and the reads run in its workers.
"""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.worker import Worker

from tui.core.display import visible
from tui.core.model import Part
from tui.ui.rows import SessionStats
from tui.ui.widgets.part_map import PartMap
from tui.ui.widgets.parts_view import PartsView

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen


class SelectedParts:
    """Which session's parts are shown, and what the store said of it when they were read."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.shown_of: str | None = None
        """The session whose parts the parts view shows (its cursor belongs to it)."""
        self._loaded: tuple[object, ...] | None = None
        """What the store said of the selected session when its parts were last read."""
        self.worker: Worker[None] | None = None
        """The last read of the selected session's parts."""

    def seen(self, session_id: str) -> tuple[object, ...]:
        """What the store says of a session, to tell whether its parts may have changed."""
        screen = self.screen
        session = screen.sessions.get(session_id)
        stats = screen.rows.stats.get(session_id, SessionStats())
        return (session_id, session and session.updated_at, session and session.state,
                stats.done_bytes, stats.done_parts, stats.total_parts,
                screen.rows.failed.get(session_id))  # fmt: skip

    def may_differ(self, session_id: str) -> bool:
        """True when the store says more of the session than when its parts were read."""
        return self.seen(session_id) != self._loaded

    def select(self, session_id: str | None) -> None:
        """The cursor moved to ``session_id``: read its parts in a worker (or show none)."""
        screen = self.screen
        if session_id is None:
            self.show(None, [], screen.papp.clock())
            return
        self._loaded = self.seen(session_id)  # on its way: a resync meanwhile need not read
        self.worker = screen.background(
            partial(self.load, session_id), group="parts", exclusive=True
        )

    async def load(self, session_id: str) -> None:
        """Show a session's parts (the engine's view when it holds them, else the store's)."""
        screen = self.screen
        self._loaded = self.seen(session_id)  # a resync meanwhile need not read them too
        try:
            parts = await screen.papp.engine.load_parts(session_id)
        except BaseException:
            self._loaded = None
            raise
        if screen.selected != session_id or screen.torn_down:
            return
        self.show(session_id, parts, screen.papp.clock())
        view = screen.query_one(PartsView)
        if self.shown_of != session_id:
            self.shown_of = session_id
            view.cursor = 0
            view.scroll_to(y=0, animate=False)
        session = screen.sessions.get(session_id)
        if session is not None:
            view.border_title = Text(f"Parts of {visible(os.path.basename(session.path))}")

    def show(self, session_id: str | None, parts: list[Part], now: float) -> None:
        """Show a session's parts in the parts view and the part map, from the same list."""
        screen = self.screen
        remote = screen.remote.get(session_id) if session_id is not None else None
        screen.query_one(PartsView).show(parts, now=now, remote=remote)
        screen.query_one(PartMap).show(part.state for part in parts)
