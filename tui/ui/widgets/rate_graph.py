"""A small graph of one session's upload rate over the last minutes, with its numbers.

The samples are one per second (``tui.core.meter.RateHistory``), newest last. Each column
of bars is the peak of a fixed number of seconds, counted back from the newest, so the
time axis stays put as the graph fills; bars are scaled from 0 (Textual's ``Sparkline``
scales from the smallest sample, which makes a steady rate look like a saw). The current
rate and the peak are written beside the bars, so the graph reads without colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from tui.core.meter import RATE_WINDOW
from tui.core.units import format_rate
from tui.ui.widgets.looks import component_style

BARS = " ▁▂▃▄▅▆▇█"
"""Eighths of a row, from empty to full."""
TEXT_WIDTH = 15
"""Room for the numbers beside the bars: ``peak 1023 MiB/s``."""


def columns(samples: Sequence[float], width: int, span: int = RATE_WINDOW) -> list[float]:
    """The samples as at most ``width`` columns, oldest first: each column the peak of
    ``ceil(span / width)`` seconds, counted back from the newest sample."""
    per = max(1, math.ceil(span / max(1, width)))
    out: list[float] = []
    end = len(samples)
    while end > 0 and len(out) < width:
        out.append(max(samples[max(0, end - per) : end]))
        end -= per
    out.reverse()
    return out


def bars(values: Sequence[float], height: int, peak: float) -> list[str]:
    """The columns as ``height`` rows of block characters, top row first, scaled from 0
    to ``peak``: blank for 0, at least the lowest block for any rate above it."""
    levels = 8 * height
    tops = [
        0 if value <= 0 or peak <= 0 else max(1, min(levels, math.ceil(value / peak * levels)))
        for value in values
    ]
    return [
        "".join(BARS[min(8, max(0, top - 8 * row))] for top in tops)
        for row in reversed(range(height))
    ]


def rate_text(rate: float) -> str:
    """``43.8 MiB/s``, or ``–`` below 1 B/s (as the sessions table shows a rate)."""
    return format_rate(rate) if rate >= 1 else "–"


def numbers(samples: Sequence[float], span: int = RATE_WINDOW) -> list[str]:
    """The lines beside the bars: the current rate, the peak, the time the graph spans."""
    now = samples[-1] if samples else 0.0
    peak = max(samples, default=0.0)
    minutes, seconds = divmod(span, 60)
    return [
        f"now {rate_text(now)}",
        f"peak {rate_text(peak)}",
        f"last {minutes}m" if minutes and not seconds else f"last {span}s",
    ]


class RateGraph(Widget):
    """The selected session's rate, one column per few seconds, with now and peak."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"rate-graph--bars", "rate-graph--muted"}
    """Looks of the bars and of the peak and span lines (set in app.tcss)."""

    def __init__(self, *, span: int = RATE_WINDOW, id: str | None = None) -> None:
        super().__init__(id=id)
        self.span = span
        """Seconds of samples the graph spans (the history's length)."""
        self._samples: list[float] = []
        self._lines: list[Strip] | None = None
        self._built_for: tuple[int, int] = (0, 0)

    @property
    def samples(self) -> Sequence[float]:
        """The samples shown, oldest first."""
        return self._samples

    def show(self, samples: Sequence[float]) -> None:
        """Show these samples (one per second, oldest first); repaint only when changed."""
        shown = list(samples)
        if shown == self._samples:
            return
        self._samples = shown
        self._lines = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines = None  # a new theme: the styles are built into the lines

    def _style(self, name: str) -> Style:
        return component_style(self, f"rate-graph--{name}")

    def _build(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        room = max(0, width - TEXT_WIDTH - 1)
        values = columns(self._samples, room, self.span)
        rows = bars(values, height, max(self._samples, default=0.0))
        text = numbers(self._samples, self.span)
        bar_style, muted = self._style("bars"), self._style("muted")
        lines = []
        for y in range(height):
            segments = [Segment(" " * (room - len(values)), base)] if room > len(values) else []
            if room:
                segments += [Segment(rows[y], bar_style), Segment(" ", base)]
            if y < len(text):
                segments.append(Segment(text[y], base if y == 0 else muted))
            lines.append(Strip(segments).crop_extend(0, width, base))
        return lines

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if self._lines is None or self._built_for != (width, height):
            self._lines = self._build(width, height)
            self._built_for = (width, height)
        return self._lines[y] if y < len(self._lines) else Strip.blank(width, self.rich_style)
