"""Textual's Footer, rebuilt only when the keys it shows have changed.

Textual's Footer recomposes (removes and mounts a widget per key, then styles them) on
every bindings update of its screen, one recompose per update even when several come in
a row. The main screen updates its bindings whenever the selection or what applies to it
moves: at start-up that is five recomposes of some 15 ms each before the first frame
with parts. This one takes any number of updates as one, after the next refresh, and
recomposes only when the keys, their labels or whether they are enabled differ.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

KeySignature = tuple[tuple[str, str, str, bool, str], ...]
"""(key, action, description, enabled, tooltip) of each key shown, in order."""


class KeyFooter(Footer):
    """A Footer that recomposes at most once per refresh, and only for a change."""

    def __init__(self, *, compact: bool = True, show_command_palette: bool = False) -> None:
        super().__init__(compact=compact, show_command_palette=show_command_palette)
        self._pending = False
        self._shown: KeySignature | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._pending:
            self._pending = True
            self.call_after_refresh(self._recompose_if_changed)

    def signature(self) -> KeySignature:
        """What the footer would show now."""
        return tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        shown = self.signature()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()
