"""A tick on a chained one-shot timer that a state change can bring forward.

Each tick schedules the next one a period after it began, so ticks never overlap; an
early tick (``wake``) comes no sooner than ``early_gap`` after the last one, so a burst
of state changes (eight sessions starting one after another) shares a few repaints
rather than costing one each, and the rate stays within 1/period .. 1/early_gap.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer


class Ticker:
    """Calls ``tick`` every ``period`` seconds, and early when woken."""

    def __init__(
        self, owner: MessagePump, tick: Callable[[], object], period: float, early_gap: float
    ) -> None:
        self._owner = owner
        self._tick = tick
        self.period = period
        self.early_gap = early_gap
        self._timer: Timer | None = None
        self._due = 0.0
        """When the next tick is due (``time.monotonic``)."""
        self._last = 0.0
        self._woken = False

    def start(self) -> None:
        """Tick a period from now, and on."""
        self._schedule(self.period)

    def wake(self) -> None:
        """Tick early. Safe from outside the app's context: the work is done from the
        owner's message queue, and the wakes of one burst share it."""
        if not self._woken:
            self._woken = True
            self._owner.call_later(self._bring_forward)

    def _bring_forward(self) -> None:
        self._woken = False
        now = time.monotonic()
        wait = max(0.0, self._last + self.early_gap - now)
        if wait == 0.0:
            self._beat()
        elif now + wait < self._due:
            self._schedule(wait)

    def _schedule(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._due = time.monotonic() + delay
        self._timer = self._owner.set_timer(delay, self._beat, name="tick")

    def _beat(self) -> None:
        self._last = time.monotonic()
        self._tick()
        self._schedule(max(0.0, self._last + self.period - time.monotonic()))
