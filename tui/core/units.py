"""Parse and format byte sizes, durations and rates for people."""

from __future__ import annotations

import math
import re
from decimal import Decimal

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")

_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([smhdw])")

KiB = 1024
MiB = 1024**2
GiB = 1024**3
TiB = 1024**4


def parse_size(text: str | int) -> int:
    """Parse ``8MiB``, ``100MB``, ``5242880`` (or an int) into bytes.

    Raises ValueError with a message that shows accepted forms.
    """
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a size; write e.g. 8MiB, 100MB or 5242880")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"{text} is negative; a size is 0 or more bytes")
        return text
    match = _SIZE_RE.match(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size; write e.g. 8MiB, 100MB or 5242880")
    value = Decimal(match.group(1)) * _SIZE_UNITS[unit]
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number of bytes")
    return int(value)


def parse_duration(text: str) -> float:
    """Parse ``90s``, ``15m``, ``2h``, ``1d12h`` or a plain number of seconds."""
    stripped = text.strip().lower()
    if _NUMBER_RE.fullmatch(stripped):  # ASCII digits only: float() also takes "٣" and "1_0"
        seconds = float(stripped)
    else:
        matches = list(_DURATION_RE.finditer(stripped))
        joined = "".join(m.group(0) for m in matches).replace(" ", "")
        if not matches or joined != stripped.replace(" ", ""):
            raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 15m, 2h or 1d")
        seconds = sum(float(m.group(1)) * _DURATION_UNITS[m.group(2)] for m in matches)
    if not math.isfinite(seconds):
        raise ValueError(f"{text!r} is too long a duration; write e.g. 90s, 15m, 2h or 1d")
    return seconds


def format_size(n: float) -> str:
    """Format bytes with binary units: ``0 B``, ``1.5 KiB``, ``100 MiB``."""
    if n < 1024:
        return f"{int(n)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            shown = f"{n:.0f}" if n >= 100 else f"{n:.1f}".removesuffix(".0")
            return f"{shown} {unit}"
    raise AssertionError("unreachable")


def format_rate(bytes_per_second: float) -> str:
    """Format a transfer rate, e.g. ``12.5 MiB/s``."""
    return f"{format_size(bytes_per_second)}/s"


def format_duration(seconds: float) -> str:
    """Format a duration compactly: ``45s``, ``3m05s``, ``2h10m``, ``3d4h``."""
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"
