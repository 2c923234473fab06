"""Will every part start before its link expires? Pure arithmetic, no I/O.

Gumroad (15 min) and Polar (10 min) mint every part link when the upload opens and
cannot renew them, so the whole file, minus the parts sent last side by side, must go
out before the links die. This is checked before such a session opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tui.core.errors import UsageError
from tui.core.units import MiB, format_duration, format_rate, format_size

ASSUMED_SPEED = 10 * MiB
"""Bytes per second assumed when neither the config nor a past upload gives a speed."""
SAFETY = 0.8
"""Share of a link's lifetime the plan may use; the rest absorbs retries and slow starts."""


@dataclass(frozen=True)
class Speed:
    """An upload speed and where it comes from, for the message."""

    bytes_per_second: float
    source: str
    """``configured``, ``measured``, ``bandwidth limit`` or ``assumed``."""


def pick_speed(
    configured: int | None, measured: float | None, bandwidth_limit: int | None
) -> Speed:
    """The speed to plan with: configured, else measured, else assumed; never above the cap."""
    if configured:
        speed = Speed(float(configured), "engine.link_speed")
    elif measured:
        speed = Speed(measured, "measured on this account's last upload")
    else:
        speed = Speed(float(ASSUMED_SPEED), "assumed; set engine.link_speed to your link's speed")
    if bandwidth_limit and bandwidth_limit < speed.bytes_per_second:
        speed = Speed(float(bandwidth_limit), "engine.bandwidth_limit")
    return speed


def bytes_before_last_start(sizes: Sequence[int], concurrency: int) -> int:
    """Bytes that must be sent before the last part can start, ``concurrency`` at a time."""
    waiting = max(0, len(sizes) - max(1, concurrency))
    return sum(sizes[:waiting])


def check_links_last(
    provider: str,
    sizes: Sequence[int],
    lifetime: float,
    speed: Speed,
    concurrency: int,
) -> None:
    """Refuse, saying why and what would fit, when a part could not start in time."""
    must_send = bytes_before_last_start(sizes, concurrency)
    usable = lifetime * SAFETY
    if must_send <= speed.bytes_per_second * usable:
        return
    needed = must_send / usable
    total = sum(sizes)
    tail = total - must_send
    fits = int(speed.bytes_per_second * usable) + tail
    raise UsageError(
        f"{format_size(total)} cannot go to {provider} in time: its part links expire "
        f"{format_duration(lifetime)} after the upload opens and cannot be renewed, which "
        f"needs {format_rate(needed)} but the expected speed is "
        f"{format_rate(speed.bytes_per_second)} ({speed.source}); upload files under "
        f"{format_size(fits)}, or set engine.link_speed if your link is faster"
    )
