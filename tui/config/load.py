"""Read a config file with tomlkit (the document is kept, so a write-back keeps comments)
and validate it table by table into a :class:`~tui.config.schema.Config`.

Every problem is one :class:`~tui.core.errors.ConfigError` line naming the file, the key
and the fix; an unknown key or table gets a "did you mean".
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError, TOMLKitError

from tui.config.accounts import parse_account
from tui.config.checks import TableChecker, dotted, show
from tui.config.keys import (
    ENGINE_KEYS,
    SERVICE_KEYS,
    TOP_LEVEL,
    UI_KEYS,
)
from tui.config.schema import (
    SERVICE_MODES,
    Account,
    Config,
    ServiceSettings,
)
from tui.config.secrets import ALLOW_INLINE_SECRETS_ENV
from tui.core.errors import ConfigError
from tui.core.settings import EngineSettings

__all__ = ["MAX_CONFIG_FILE", "inline_secret_warnings", "load_config", "parse_config"]

MAX_CONFIG_FILE = 1024 * 1024
"""Largest config file read: the sample config, every option commented, is about 6 KiB."""

_PARSE_SUFFIX_RE = re.compile(r"\s*at line \d+ col \d+\s*$")
_ESCAPE_RE = re.compile(r"'(\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\[nrt])'")
_HOMES = (("engine", ENGINE_KEYS), ("ui", UI_KEYS), ("service", SERVICE_KEYS))
"""Each table with its keys, to say where a key written at the top level belongs."""
_ESCAPE_NAMES = {"\\n": "a line break", "\\r": "a carriage return", "\\t": "a tab"}


def _plain_escapes(reason: str, *, has_nul: bool) -> str:
    """tomlkit's reason with Python escapes (``'\\x00'``) said in words (a NUL byte).

    tomlkit reports the end of the text as ``'\\x00'`` too; without a NUL in the text,
    that is what it means.
    """

    def say(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape in _ESCAPE_NAMES:
            return _ESCAPE_NAMES[escape]
        code = int(escape[2:], 16)
        if code == 0:
            return "a NUL byte" if has_nul else "the end of the file"
        return f"the control character U+{code:04X}"

    return _ESCAPE_RE.sub(say, reason)


def load_config(path: Path, *, must_exist: bool = False) -> Config:
    """Read and validate the config at ``path``; a missing file gives the defaults.

    With ``must_exist`` (an explicit ``--config`` or ``$PARTDECK_CONFIG``) a missing file
    is a ConfigError instead.
    """
    path = Path(path).expanduser()
    try:
        raw = _read_config_bytes(path)
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(
                f"config file {path} not found; create it (see sample-config.toml) or pass --config"
            ) from None
        return Config(path=None, accounts={}, engine=EngineSettings())
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a directory, not a config file; pass the path of a .toml file"
        ) from None
    except PermissionError:
        raise ConfigError(
            f"{path}: permission denied reading the config; make it readable by you "
            f"(chmod 600 {path})"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the config ({exc.strerror}); check the path"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from None
    return parse_config(text.removeprefix("\ufeff"), source=path)


def _read_config_bytes(path: Path) -> bytes:
    """The bytes of a config file; OSError as reading it raises it.

    The file is looked at before it is read: a pipe or device is refused instead of
    waiting on it, and a file far too big to be a config (an ISO passed by mistake)
    instead of being read into memory and parsed for minutes.
    """
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(path)
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            f"{path}: is not a regular file (a pipe or device); pass the path of a .toml file"
        )
    if info.st_size > MAX_CONFIG_FILE:
        raise ConfigError(
            f"{path}: is {info.st_size:,} bytes; a config is a small text file (at most "
            f"{MAX_CONFIG_FILE // 1024 // 1024} MiB), so check the path"
        )
    return path.read_bytes()


def parse_config(text: str, *, source: Path | None = None) -> Config:
    """Parse and validate config text; ``source`` names the file in error messages."""
    check = TableChecker(str(source) if source is not None else "<config>")
    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        reason = _PARSE_SUFFIX_RE.sub("", str(exc)).rstrip(". ")
        reason = _plain_escapes(reason, has_nul="\0" in text)
        if reason.startswith("Control characters"):  # tomlkit's words for an open quote
            reason = "a quoted string is not closed on its line, or holds a control character"
        check.fail(
            f"line {exc.line}, column {exc.col + 1}: invalid TOML ({reason}); fix the syntax there"
        )
    except TOMLKitError as exc:
        check.fail(f"invalid TOML ({exc}); fix the syntax")
    data: dict[str, Any] = document.unwrap()

    for key, value in data.items():
        if key not in TOP_LEVEL:
            home = next((name for name, keys in _HOMES if key in keys), None)
            if home is not None:
                check.fail(f"{dotted(key)} belongs in the [{home}] table; move it under [{home}]")
            hint = check.suggest(key, TOP_LEVEL)
            check.fail(
                f"{dotted(key)} is not a known table{hint}; the config holds [engine], "
                "[ui], [service], [keys] and [accounts.NAME] tables"
            )
        if not isinstance(value, dict):
            check.fail(f"{dotted(key)} must be a table (got {show(value)}); write [{key}]")

    engine = _parse_engine(check, data.get("engine", {}))
    ui = data.get("ui", {})
    check.known_keys(ui, ("ui",), UI_KEYS, "[ui] takes")
    theme = check.text(ui, ("ui", "theme"), example='"partdeck-dark"') or "partdeck-dark"
    service = _parse_service(check, data.get("service", {}))
    keys = _parse_keys(check, data.get("keys", {}))

    accounts: dict[str, Account] = {}
    allow_inline = os.environ.get(ALLOW_INLINE_SECRETS_ENV) == "1"
    for name, table in data.get("accounts", {}).items():
        accounts[name] = parse_account(check, name, table, source, allow_inline)

    return Config(
        path=source,
        accounts=accounts,
        engine=engine,
        theme=theme,
        keys=keys,
        service=service,
        document=document,
    )


def _parse_engine(check: TableChecker, table: dict[str, Any]) -> EngineSettings:
    check.known_keys(table, ("engine",), ENGINE_KEYS, "[engine] takes")
    d = EngineSettings()
    return EngineSettings(
        parts_in_flight=check.setting(table, ("engine", "parts_in_flight"), d.parts_in_flight),
        parts_per_session=check.setting(
            table, ("engine", "parts_per_session"), d.parts_per_session
        ),
        part_size=check.setting(table, ("engine", "part_size")),
        retries=check.setting(table, ("engine", "retries"), d.retries),
        auto_complete=check.flag(table, ("engine", "auto_complete"), d.auto_complete),
        bandwidth_limit=check.setting(table, ("engine", "bandwidth_limit")),
        stall_after=check.duration(table, ("engine", "stall_after"), d.stall_after),
        link_speed=check.setting(table, ("engine", "link_speed")),
    )


def _parse_keys(check: TableChecker, table: dict[str, Any]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for binding, key in table.items():
        if not isinstance(key, str) or not key.strip():
            check.fail(
                f"{dotted('keys', binding)} must be a key name in quotes "
                f'(got {show(key)}); e.g. {dotted(binding)} = "r"'
            )
        keys[binding] = key
    return keys


def _parse_service(check: TableChecker, table: dict[str, Any]) -> ServiceSettings:
    check.known_keys(table, ("service",), SERVICE_KEYS, "[service] takes")
    mode = table.get("mode", ServiceSettings.mode)
    if mode not in SERVICE_MODES:
        choices = " or ".join(f'"{m}"' for m in SERVICE_MODES)
        check.fail(
            f"{dotted('service', 'mode')} must be {choices} (got {show(mode)}); auto attaches "
            "to the per-user service, inline runs the engine in the process (as --no-service)"
        )
    kept = check.setting(table, ("service", "events_kept"), ServiceSettings.events_kept)
    return ServiceSettings(mode=mode, events_kept=kept)


def inline_secret_warnings(config: Config) -> list[str]:
    """Warnings for a config file that holds an inline secret and that its group or other
    users can read (or, failing that, change)."""
    path = config.path
    if path is None or sys.platform == "win32":
        return []
    if not any(a.inline_token is not None for a in config.accounts.values()):
        return []
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    readers, writers = mode & 0o044, mode & 0o022
    if not (readers or writers):
        return []
    how, bits = ("readable", readers) if readers else ("writable", writers)
    who = "other users" if bits & 0o007 else "its group"
    return [f"{path.name} holds an inline secret and is {how} by {who}; run chmod 600 {path}"]
