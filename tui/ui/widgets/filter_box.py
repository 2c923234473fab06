"""A filter box that hands the keys back to its list once the filter is set."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class FilterBox(Input):
    """An ``Input`` where enter, down and up all confirm (``Input.Submitted``).

    A single-line box has no use for the arrows, and someone who filtered a list reaches
    for them to move in it: the screen moves the focus to the list on ``Submitted``.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "submit", "To the list", show=False, id="filter.down"),
        Binding("up", "submit", "To the list", show=False, id="filter.up"),
    ]
