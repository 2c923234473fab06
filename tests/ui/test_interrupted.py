"""The TUI shows a session whose process was killed as ``interrupted``, and resumes it.

A real ``partdeck upload`` to the sandbox is SIGKILLed mid-way; the app opened on the
same state dir shows the session as ``↯ interrupted`` (its journal still says
uploading) with the resume hint in the detail line and in the inspect view; ``p``
resumes it to completed.
"""

from __future__ import annotations

import sys

from tests.support.crash import kill_once_verified
from tests.ui.conftest import Deck, row_text, until
from tui.core.units import MiB
from tui.ui.screens.inspect import InspectScreen
from tui.ui.screens.main import MainScreen
from tui.ui.widgets.detail_line import DetailLine


async def test_killed_session_shows_interrupted_and_resumes(deck: Deck) -> None:
    slow = deck.sandbox.write_config(
        deck.tmp_path / "slow.toml", {"parts_in_flight": 1, "bandwidth_limit": "4MiB"}
    )
    path = deck.file("killed.bin", 20 * MiB + 3)
    argv = [
        sys.executable, "-m", "tui", "upload", str(path), "--account", "sandbox-s3",
        "--part-size", "5MiB", "--config", str(slow), "--state-dir", str(deck.state_dir),
    ]  # fmt: skip
    session_id, _ = kill_once_verified(argv, deck.state_dir, want=1, timeout=60)
    async with deck.app() as (app, pilot):
        await until(
            pilot,
            lambda: row_text(app, session_id)["state"] == "↯ interrupted",
            "the killed session to show as interrupted",
        )
        screen = app.main
        assert isinstance(screen, MainScreen)
        screen.selected = session_id
        await pilot.pause()
        assert f"partdeck resume {session_id[:8]}" in (screen.query_one(DetailLine).text or "")
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InspectScreen), "the inspect view")
        inspect = app.screen
        assert isinstance(inspect, InspectScreen)
        await until(pilot, lambda: inspect.diagnosis is not None, "the diagnosis")
        assert "state interrupted" in str(inspect.query_one("#summary").render())
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await pilot.press("p")
        await until(
            pilot,
            lambda: row_text(app, session_id)["state"] == "✓ completed",
            "the resumed session to complete",
        )
