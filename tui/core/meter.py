"""Smoothed transfer rates and ETAs, and a rate history per second, for the progress line
and the UI."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass
class RateMeter:
    """An exponentially weighted rate of a growing byte count.

    Feed it ``(time, total bytes)`` samples; ``half_life`` seconds is how fast old speed
    is forgotten, so the rate neither jumps with every chunk nor lags for minutes.
    """

    half_life: float = 3.0
    rate: float = 0.0
    _last_time: float | None = None
    _last_bytes: int = 0

    def update(self, now: float, total: int) -> float:
        """Take a sample; return the smoothed bytes per second."""
        if self._last_time is None:
            self._last_time, self._last_bytes = now, total
            return self.rate
        elapsed = now - self._last_time
        if elapsed <= 0:
            return self.rate
        instant = max(0, total - self._last_bytes) / elapsed
        weight = 1 - math.exp(-elapsed * math.log(2) / self.half_life)
        self.rate = instant if self.rate == 0 else self.rate + weight * (instant - self.rate)
        self._last_time, self._last_bytes = now, total
        return self.rate

    def eta(self, remaining: int) -> float | None:
        """Seconds until ``remaining`` bytes are sent at the current rate; None if unknown."""
        if remaining <= 0:
            return 0.0
        if self.rate <= 0:
            return None
        return remaining / self.rate


RATE_WINDOW = 120
"""Seconds of rate history kept per session (the rate graph's span)."""


class RateHistory:
    """One rate sample per second over the last ``seconds`` seconds, oldest first.

    ``add`` may be called many times a second (on every UI tick): a second's sample is
    the last rate given in it. A second nobody sampled (the session was paused, stopped
    or driven elsewhere, or the loop stalled) counts as 0 B/s, so the samples stay one
    per second of wall clock and a graph of them has a true time axis.
    """

    __slots__ = ("_last", "_values", "seconds")

    def __init__(self, seconds: int = RATE_WINDOW) -> None:
        self.seconds = seconds
        self._values: deque[float] = deque(maxlen=seconds)
        self._last: int | None = None
        """The second of the newest sample."""

    def add(self, now: float, rate: float) -> None:
        """Take the rate at ``now`` (a clock going back is ignored)."""
        second = math.floor(now)
        if self._last is not None and second <= self._last:
            if second == self._last:
                self._values[-1] = rate
            return
        if self._last is not None:
            self._values.extend([0.0] * min(second - self._last - 1, self.seconds))
        self._values.append(rate)
        self._last = second

    def window(self, now: float) -> list[float]:
        """The samples up to ``now``'s second, oldest first: none before the first one,
        at most ``seconds`` of them, and 0 for each second since the newest."""
        if self._last is None:
            return []
        idle = min(max(0, math.floor(now) - self._last), self.seconds)
        values = list(self._values)
        if idle:
            values.extend([0.0] * idle)
        return values[-self.seconds :]
