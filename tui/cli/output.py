"""How the command line writes: lines for people (escaped), JSON lines (exact), and the one
line on stderr that an error or a piece of advice gets.

Every line for people goes through :func:`tui.core.display.visible`, so a file name, a
server message or an object key cannot move the cursor, recolour or retitle the terminal
or split a line. ``--json`` writes every value exactly as it is (JSON escapes controls).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tui.core.display import visible

__all__ = ["line", "print_json", "say"]


def line(text: str) -> None:
    """Write one line for people on stdout, escaped: a line break in a file name shows as
    ``\\n`` and cannot split the line."""
    sys.stdout.write(visible(text) + "\n")


def say(text: str) -> None:
    """Write one line for people on stderr, ``partdeck: `` first: errors, warnings, advice.

    A line break inside ``text`` (a server's message, a file name) is shown as ``\\n``, so
    it stays one line.
    """
    sys.stderr.write(f"partdeck: {visible(text)}\n")


def print_json(obj: Any) -> None:
    """Write one JSON object on one line of stdout."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
