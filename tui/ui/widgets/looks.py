"""Styles of a widget's component classes, for widgets that draw with the Line API."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def component_style(widget: Widget, name: str) -> Style:
    """The widget's style plus its component class ``name``'s, with the class's colour
    blended over the widget's background (``partial_rich_style`` drops the alpha, so
    ``$text-muted`` would come out as the plain foreground colour)."""
    styles = widget.get_component_styles(name)
    style = widget.rich_style + styles.partial_rich_style
    if styles.has_rule("color"):
        _, background = widget.background_colors
        style += Style(color=(background + styles.color).rich_color)
    return style
