"""The bounds of every size and count setting, checked one way for the command line and
the config file.

``--part-size 0`` and ``part_size = 0`` meet the same check and get the same kind of
line: the option's name as the user wrote it, what it takes, what it got and an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tui.core.plan import S3_LIMITS
from tui.core.units import format_size, parse_size

__all__ = ["BOUNDS", "Bound", "check_setting", "show_value"]

MAX_STORED = 2**63 - 1
"""The largest whole number the journal (SQLite) stores."""
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Bound:
    """What one setting takes."""

    kind: Literal["size", "count"]
    minimum: int
    maximum: int | None
    example: str
    """A good value, as the user would write it (``16MiB``, ``8``)."""
    why_maximum: str = ""
    """Why the maximum is there, said after it (``the largest part S3 takes``)."""


BOUNDS: dict[str, Bound] = {
    "part_size": Bound(
        "size", 1, S3_LIMITS.max_part, "16MiB", "the largest part any provider takes"
    ),
    "min_part_size": Bound("size", 1, S3_LIMITS.max_part, "5MiB", "the largest part S3 takes"),
    "multipart_threshold": Bound(
        "size", 0, S3_LIMITS.max_part, "8MiB", "the largest object one PutObject takes"
    ),
    "bandwidth_limit": Bound("size", 1, MAX_STORED, "50MB"),
    "link_speed": Bound("size", 1, MAX_STORED, "20MB"),
    "parts_in_flight": Bound("count", 1, None, "8"),
    "parts_per_session": Bound("count", 1, None, "4"),
    "retries": Bound("count", 0, None, "5"),
    "part": Bound("count", 1, MAX_STORED, "3"),
    "events_kept": Bound("count", 10, 10_000_000, "20000"),
}
"""Every size and count setting by its config key (``part`` is a part number)."""


def show_value(value: object) -> str:
    """A value as the user wrote it, shortened for a one-line message."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "a table"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _example(key: str, bound: Bound, name: str, *, cli: bool) -> str:
    if cli:
        return f"{name} {bound.example}" if name.startswith("-") else bound.example
    quoted = f'"{bound.example}"' if bound.kind == "size" else bound.example
    return f"{key} = {quoted}"


def _read(bound: Bound, value: object, *, cli: bool) -> int | None:
    """The whole number in ``value``, or None when it is not one of the right form."""
    if isinstance(value, bool):
        return None
    if bound.kind == "size":
        if not isinstance(value, (int, str)):
            return None
        try:
            return parse_size(value) if isinstance(value, str) else value
        except ValueError:
            return None
    if cli and isinstance(value, str):  # a count on the command line: plain digits only
        return int(value) if _DIGITS.fullmatch(value.strip()) else None
    return value if isinstance(value, int) else None


def check_setting(key: str, value: object, name: str, *, cli: bool) -> int:
    """``value`` of the setting ``key`` as a whole number within its bounds.

    ``name`` is the setting as the user spelled it (``--part-size``,
    ``engine.part_size``); ``cli`` says where it came from (text on the command line, or a
    TOML value). Raises ValueError with one line naming the setting and the fix.
    """
    bound = BOUNDS[key]
    number = _read(bound, value, cli=cli)
    example = _example(key, bound, name, cli=cli)
    got = show_value(value)
    if number is None or number < bound.minimum:
        if bound.kind == "size":
            takes = (
                "a size above 0, in bytes or with a unit such as MiB or MB"
                if bound.minimum == 1
                else f"a size of at least {bound.minimum} bytes"
            )
        else:
            takes = f"a whole number >= {bound.minimum}"
        raise ValueError(f"{name} must be {takes} (got {got}); e.g. {example}")
    if bound.maximum is not None and number > bound.maximum:
        limit = format_size(bound.maximum) if bound.kind == "size" else f"{bound.maximum:,}"
        shown = format_size(number) if number < 2**70 and bound.kind == "size" else got
        why = f", {bound.why_maximum}" if bound.why_maximum else ""
        raise ValueError(f"{name} must be at most {limit}{why} (got {shown}); e.g. {example}")
    return number
