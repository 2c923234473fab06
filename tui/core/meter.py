"""Smoothed transfer rates and ETAs, for the progress line and the UI."""

from __future__ import annotations

import math
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
