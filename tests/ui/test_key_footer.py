"""KeyFooter: many bindings updates in a row rebuild the keys once, and only for a change."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Label
from textual.widgets._footer import FooterKey

from tui.ui.widgets.key_footer import KeyFooter


class KeysApp(App[None]):
    """Two keys; ``p`` applies only while ``can_pause`` is set."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.can_pause = False

    def compose(self) -> ComposeResult:
        yield Label("body")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause":
            return True if self.can_pause else None  # None: shown, disabled
        return True

    def action_pause(self) -> None:
        """Nothing: only whether it applies matters here."""


def keys(app: KeysApp) -> list[FooterKey]:
    return [k for k in app.query(FooterKey) if k.key in ("p", "q")]


async def test_updates_in_a_row_rebuild_the_keys_once_and_only_for_a_change() -> None:
    app = KeysApp()
    async with app.run_test(size=(60, 6)) as pilot:
        await pilot.pause()
        first = keys(app)
        assert [k.key for k in first] == ["p", "q"]
        assert first[0].has_class("-disabled") and not first[1].has_class("-disabled")

        for _ in range(5):  # nothing changed: the same widgets stay
            app.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert keys(app) == first

        recomposes = 0
        footer = app.query_one(KeyFooter)
        original = footer.recompose

        async def counted() -> None:
            nonlocal recomposes
            recomposes += 1
            await original()

        footer.recompose = counted  # type: ignore[method-assign]
        app.can_pause = True
        for _ in range(5):  # one change, announced five times: one rebuild
            app.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        now = keys(app)
        assert recomposes == 1
        assert now != first and not now[0].has_class("-disabled")
