"""The selected session's detail line: repainted only when its text changes, and the
screen laid out again only when its height may have."""

from __future__ import annotations

from textual.widgets import Static


class DetailLine(Static):
    """One or two lines about the selected session; red (``-error``) when it failed.

    A Static's update lays the whole screen out again; a running session's bytes change
    this text on every tick, and it never wraps, so that is done only when the number of
    lines changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.text: str | None = None
        """What the line shows (None before the first ``show``)."""

    def show(self, text: str, *, error: bool = False) -> None:
        """Show ``text``, marked as an error or not."""
        if text != self.text:
            relayout = self.text is None or _lines(self.text) != _lines(text)
            self.text = text
            self.update(text, layout=relayout)
        self.set_class(error, "-error")


def _lines(text: str) -> int:
    """How many lines a text takes here (none when empty)."""
    return text.count("\n") + 1 if text else 0
