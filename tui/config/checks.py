"""Typed reads from a parsed config table: each failure is one ConfigError line naming the
file, the key as TOML writes it, what was found and an example of what fits."""

from __future__ import annotations

import difflib
import ipaddress
import re
from pathlib import Path
from typing import Any, NoReturn, overload
from urllib.parse import urlsplit

from tui.core.bounds import check_setting, show_value
from tui.core.errors import ConfigError
from tui.core.units import parse_duration

__all__ = ["TableChecker", "dotted", "is_loopback", "show"]

_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dotted(*parts: str) -> str:
    """Join key parts as TOML would write them, quoting parts that are not bare keys."""
    return ".".join(p if _BARE_KEY_RE.match(p) else f'"{p}"' for p in parts)


show = show_value
"""Show a config value the way it was written, shortened for a one-line message."""


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TableChecker:
    """Typed reads from a parsed table; each failure is one ConfigError line naming the file."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, message: str) -> NoReturn:
        """Raise the one-line ConfigError for ``message``, prefixed by the file."""
        raise ConfigError(f"{self.where}: {message}")

    @staticmethod
    def suggest(key: str, choices: tuple[str, ...]) -> str:
        """`` (did you mean X?)`` for the choice closest to ``key``, or nothing."""
        close = difflib.get_close_matches(key, choices, n=1)
        return f" (did you mean {close[0]}?)" if close else ""

    def known_keys(
        self, table: dict[str, Any], path: tuple[str, ...], allowed: tuple[str, ...], what: str
    ) -> None:
        """Refuse a key ``table`` does not take, with a "did you mean" and the keys it takes."""
        for key in table:
            if key not in allowed:
                hint = self.suggest(key, allowed)
                self.fail(
                    f"{dotted(*path, key)} is not a known setting{hint}; "
                    f"{what} {', '.join(allowed)}"
                )

    def flag(self, table: dict[str, Any], path: tuple[str, ...], default: bool) -> bool:
        """A true/false setting; ``default`` when it is not set."""
        value = table.get(path[-1], default)
        if not isinstance(value, bool):
            self.fail(
                f"{dotted(*path)} must be true or false (got {show(value)}); "
                f"e.g. {dotted(path[-1])} = {'true' if default else 'false'}"
            )
        return value

    def choice(
        self, table: dict[str, Any], path: tuple[str, ...], choices: tuple[str, ...], default: str
    ) -> str:
        """One of ``choices``; ``default`` when it is not set."""
        value = table.get(path[-1], default)
        if value not in choices:
            listed = ", ".join(f'"{c}"' for c in choices)
            self.fail(
                f"{dotted(*path)} must be one of {listed} (got {show(value)}); "
                f'e.g. {path[-1]} = "{default}"'
            )
        return str(value)

    @overload
    def setting(self, table: dict[str, Any], path: tuple[str, ...], default: int) -> int: ...
    @overload
    def setting(self, table: dict[str, Any], path: tuple[str, ...]) -> int | None: ...
    def setting(
        self, table: dict[str, Any], path: tuple[str, ...], default: int | None = None
    ) -> int | None:
        """A size or count setting, checked by its bounds (the command line's check too);
        ``default`` when it is not set."""
        if path[-1] not in table:
            return default
        try:
            return check_setting(path[-1], table[path[-1]], dotted(*path), cli=False)
        except ValueError as exc:
            self.fail(str(exc))

    def duration(self, table: dict[str, Any], path: tuple[str, ...], default: float) -> float:
        """A duration above 0, in seconds or with a unit (``"90s"``); ``default`` when unset."""
        value = table.get(path[-1], default)
        try:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ValueError(value)
            seconds = parse_duration(value) if isinstance(value, str) else float(value)
        except ValueError:
            seconds = 0.0
        if not seconds > 0:
            self.fail(
                f"{dotted(*path)} must be a duration above 0, in seconds or with a unit "
                f'(got {show(value)}); e.g. {dotted(path[-1])} = "90s"'
            )
        return seconds

    def text(
        self,
        table: dict[str, Any],
        path: tuple[str, ...],
        example: str,
        *,
        empty_ok: bool = False,
    ) -> str | None:
        """A non-empty string (empty allowed with ``empty_ok``), or None when unset."""
        if path[-1] not in table:
            return None
        value = table[path[-1]]
        if not isinstance(value, str) or (not empty_ok and not value.strip()):
            self.fail(
                f"{dotted(*path)} must be a non-empty string (got {show(value)}); "
                f"e.g. {dotted(path[-1])} = {example}"
            )
        return value

    def env_name(self, table: dict[str, Any], path: tuple[str, ...], example: str) -> str | None:
        """The name of an environment variable, or None when unset; never echoes the value."""
        if path[-1] not in table:
            return None
        value = table[path[-1]]
        if not isinstance(value, str) or not _ENV_NAME_RE.match(value):
            # The value is not echoed: a pasted secret is the likeliest mistake here.
            self.fail(
                f"{dotted(*path)} must be the name of an environment variable (letters, "
                f'digits and _), not the secret itself; e.g. {dotted(path[-1])} = "{example}"'
            )
        return value

    def url(self, table: dict[str, Any], path: tuple[str, ...], example: str) -> str | None:
        """An http(s) URL without credentials and without its trailing slash, or None."""
        if path[-1] not in table:
            return None
        value = table[path[-1]]
        key = dotted(*path)
        fix = f'e.g. {dotted(path[-1])} = "{example}"'
        if isinstance(value, str) and "@" in value:
            # Not echoed: user:password@host would put a secret in the message.
            self.fail(f"{key} must not hold credentials; use the account's secret settings")
        try:
            parts = urlsplit(value) if isinstance(value, str) else None
            host = parts.hostname if parts is not None else None
            _ = parts.port if parts is not None else None  # ValueError when out of range
        except ValueError:
            parts, host = None, None
        if parts is None or parts.scheme not in ("http", "https") or not host or " " in value:
            self.fail(f"{key} must be an http:// or https:// URL (got {show(value)}); {fix}")
        return str(value).rstrip("/")

    def path(
        self, table: dict[str, Any], path: tuple[str, ...], source: Path | None
    ) -> Path | None:
        """A file path; ``~`` is expanded and a relative path is taken from the config's
        directory."""
        if path[-1] not in table:
            return None
        value = self.text(table, path, '"~/.config/partdeck/token"')
        assert value is not None
        found = Path(value).expanduser()
        if not found.is_absolute() and source is not None:
            found = source.parent / found
        return found

    def bucket(self, table: dict[str, Any], path: tuple[str, ...]) -> str:
        """The required s3 bucket name."""
        value = table.get(path[-1])
        key = dotted(*path)
        if value is None:
            self.fail(f'{key} is missing; s3 accounts need a bucket, e.g. bucket = "uploads"')
        if not isinstance(value, str) or not value or "/" in value or value != value.strip():
            self.fail(
                f'{key} must be a bucket name without "/" (got {show(value)}); '
                'e.g. bucket = "uploads"'
            )
        return value
