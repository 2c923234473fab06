"""Argument parsing shared by every command: the parser class, option types, common flags."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tui.core.errors import UsageError

# The checks (tui.core.bounds, tui.core.units) are imported where a value is read: every
# command's parser is built at each start, --version's too, and reads no value.

__all__ = ["Parser", "add_bandwidth_flag", "add_session_arg", "age", "setting"]


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str) -> Any:
        raise UsageError(
            f"{message}; see partdeck {self.prog.split()[-1]} --help".replace(
                "partdeck partdeck", "partdeck"
            )
        )


def setting(key: str, name: str) -> Callable[[str], int]:
    """An argparse type for a size or count option: the config's check, by its bounds.

    It raises UsageError, not ArgumentTypeError, so the line is the check's own (argparse
    would put "argument --part-size: " before it)."""

    def read(text: str) -> int:
        from tui.core.bounds import check_setting

        try:
            return check_setting(key, text, name, cli=True)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    read.__name__ = name  # argparse names the type in some of its own messages
    return read


def age(text: str) -> float:
    """An argparse type for a duration such as ``2h`` or ``7d``, in seconds."""
    from tui.core.units import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_bandwidth_flag(p: argparse.ArgumentParser) -> None:
    """``--bandwidth-limit SIZE``, over the config's ``engine.bandwidth_limit``."""
    p.add_argument(
        "--bandwidth-limit",
        type=setting("bandwidth_limit", "--bandwidth-limit"),
        metavar="SIZE",
        help="bytes per second across every upload, e.g. 50MB (else engine.bandwidth_limit)",
    )


def add_session_arg(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``SESSION`` positional (an id or a unique prefix); returns ``p``."""
    p.add_argument("session", metavar="SESSION", help="session id or a unique prefix of it")
    return p
