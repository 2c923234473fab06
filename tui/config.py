"""Read and validate partdeck's TOML config: engine settings, UI options, key remaps, accounts.

The file is parsed with tomlkit and the parsed document is kept on :class:`Config`, so a
later write-back keeps the user's comments and layout. Secrets are held by reference only
(an environment variable name or a command that prints the token); an inline ``token`` is
refused unless ``PARTDECK_ALLOW_INLINE_SECRETS=1`` is set. Every problem is a one-line
:class:`~tui.core.errors.ConfigError` naming the file, the key and the fix, and no message
or repr ever holds a secret value.
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, overload
from urllib.parse import urlsplit

import platformdirs
import tomlkit
from tomlkit.exceptions import ParseError, TOMLKitError

from tui.core.bounds import check_setting, show_value
from tui.core.errors import ConfigError
from tui.core.settings import EngineSettings
from tui.core.units import parse_duration

__all__ = [
    "ALLOW_INLINE_SECRETS_ENV",
    "CONFIG_ENV",
    "DEFAULT_BASE_URLS",
    "DEFAULT_BOX_UPLOAD_URL",
    "PROVIDERS",
    "STATE_DIR_ENV",
    "Account",
    "Config",
    "default_config_path",
    "default_state_dir",
    "inline_secret_warnings",
    "load_config",
    "parse_config",
    "resolve_config_path",
    "resolve_state_dir",
]

PROVIDERS: tuple[str, ...] = ("s3", "gumroad", "polar", "box", "fileflare", "wunderlist")
"""Every provider an account may name."""

DEFAULT_BASE_URLS: dict[str, str] = {
    "gumroad": "https://api.gumroad.com/v2",
    "polar": "https://api.polar.sh",
    "box": "https://api.box.com/2.0",
    "fileflare": "https://app.digital-downloads.com/api/v1",
    "wunderlist": "https://a.wunderlist.com/api/v1",
}
"""API root used when an account of that provider sets no ``base_url``."""

DEFAULT_BOX_UPLOAD_URL = "https://upload.box.com/api/2.0"
"""Upload host root used when a Box account sets no ``upload_url``."""

CONFIG_ENV = "PARTDECK_CONFIG"
"""Environment variable that points at another config file (``--config`` wins over it)."""
STATE_DIR_ENV = "PARTDECK_STATE_DIR"
"""Environment variable that points at another state directory (``--state-dir`` wins)."""
ALLOW_INLINE_SECRETS_ENV = "PARTDECK_ALLOW_INLINE_SECRETS"
"""Set to ``1`` to accept an inline ``token`` in an account table."""

TOKEN_COMMAND_TIMEOUT = 30.0
"""Seconds a ``token_command`` may run before it is killed."""
MAX_TOKEN_FILE = 64 * 1024
"""Largest ``token_file`` read: a token is a line of text."""
MAX_CONFIG_FILE = 1024 * 1024
"""Largest config file read: the sample config, every option commented, is about 6 KiB."""

_APP = "partdeck"
_ACCOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARSE_SUFFIX_RE = re.compile(r"\s*at line \d+ col \d+\s*$")
_ESCAPE_RE = re.compile(r"'(\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\[nrt])'")
_ESCAPE_NAMES = {"\\n": "a line break", "\\r": "a carriage return", "\\t": "a tab"}
_SECRET_KEYS = ("token", "access_key", "secret_key", "password", "api_key")
_TOP_LEVEL = ("engine", "ui", "keys", "accounts")
_ENGINE_KEYS = (
    "parts_in_flight",
    "parts_per_session",
    "part_size",
    "retries",
    "auto_complete",
    "bandwidth_limit",
    "stall_after",
    "link_speed",
)
_UI_KEYS = ("theme",)
_S3_KEYS = (
    "endpoint_url",
    "region",
    "bucket",
    "prefix",
    "access_key_env",
    "secret_key_env",
    "min_part_size",
    "profile",
    "credentials_file",
)
_HTTP_KEYS = ("base_url", "token_env", "token_command", "token_file")
_PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "box": ("upload_url", "folder_id"),
    "polar": ("organization_id",),
    "wunderlist": ("client_id",),
}
_BOX_KEYS = _PROVIDER_KEYS["box"]
_COMMON_KEYS = ("provider", "verify_tls")


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


def _dotted(*parts: str) -> str:
    """Join key parts as TOML would write them, quoting parts that are not bare keys."""
    return ".".join(p if _BARE_KEY_RE.match(p) else f'"{p}"' for p in parts)


_show = show_value
"""Show a config value the way it was written, shortened for a one-line message."""


def _is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Account:
    """One configured upload destination; secrets are held by reference only."""

    name: str
    """The account's name, the key of its ``[accounts.NAME]`` table."""
    provider: str
    """One of :data:`PROVIDERS`."""
    base_url: str | None = None
    """API root; set for every provider except s3 (which uses ``endpoint_url``)."""
    upload_url: str | None = None
    """Box only: the upload host root."""
    token_env: str | None = None
    """Name of the environment variable that holds the token."""
    token_command: str | None = None
    """Shell command that prints the token on stdout."""
    token_file: Path | None = None
    """A file that holds the token (e.g. written by ``partdeck sandbox``); keep it 0600."""
    folder_id: str = "0"
    """Box only: the folder new files go to (``0`` is the root)."""
    organization_id: str | None = None
    """Polar only: the organization, when the token is not an organization token."""
    client_id: str | None = None
    """Wunderlist only: the app's client id, sent as X-Client-ID."""
    endpoint_url: str | None = None
    """s3 only: the S3 endpoint; None means AWS for ``region``."""
    region: str = "us-east-1"
    """s3 only: the signing region."""
    bucket: str | None = None
    """s3 only: the bucket uploads go to (required for s3)."""
    prefix: str = ""
    """s3 only: prefix put before every object key, e.g. ``backups/``."""
    access_key_env: str = "AWS_ACCESS_KEY_ID"
    """s3 only: environment variable that holds the access key id."""
    secret_key_env: str = "AWS_SECRET_ACCESS_KEY"
    """s3 only: environment variable that holds the secret access key."""
    profile: str | None = None
    """s3 only: a profile of the AWS shared credentials file to take the keys from instead."""
    credentials_file: Path | None = None
    """s3 only: the shared credentials file for ``profile`` (default ~/.aws/credentials)."""
    min_part_size: int | None = None
    """s3 only: smallest part the store accepts, where it differs from 5 MiB."""
    verify_tls: bool = True
    """Check TLS certificates; may be false only for loopback hosts."""
    source: Path | None = None
    """The config file this account came from, for error messages."""
    inline_token: str | None = field(default=None, repr=False)
    """An inline token, accepted only with ``PARTDECK_ALLOW_INLINE_SECRETS=1``; never shown."""

    @property
    def _label(self) -> str:
        return _dotted("accounts", self.name)

    @property
    def _where(self) -> str:
        return str(self.source) if self.source is not None else "the config file"

    def secret_available(self) -> bool:
        """True when the secret(s) can be found; never raises and never runs token_command.

        With a ``token_command`` this is True when the command is set (the secret comes
        "by command" and is only known once it runs).
        """
        if self.provider == "s3":
            if self.profile is not None:
                try:
                    self.s3_credentials()
                except ConfigError:
                    return False
                return True
            return bool(os.environ.get(self.access_key_env)) and bool(
                os.environ.get(self.secret_key_env)
            )
        if self.inline_token is not None:
            return True
        if self.token_env is not None:
            return bool(os.environ.get(self.token_env))
        if self.token_file is not None:
            return self.token_file.is_file()
        return bool(self.token_command)

    def token(self) -> str:
        """Resolve the API token from ``token_env`` or by running ``token_command``."""
        if self.provider == "s3":
            raise ConfigError(
                f"{self._label}: s3 accounts sign requests with access keys and have no token; "
                "use s3_credentials()"
            )
        if self.inline_token is not None:
            return self.inline_token
        if self.token_env is not None:
            value = os.environ.get(self.token_env)
            if not value:
                state = "is not set" if value is None else "is empty"
                raise ConfigError(
                    f"{self._label}: environment variable {self.token_env} {state}; "
                    f"export it or change token_env in {self._where}"
                )
            return value
        if self.token_command:
            return self._run_token_command(self.token_command)
        if self.token_file is not None:
            return self._read_token_file(self.token_file)
        raise ConfigError(
            f"{self._label}: no token_env or token_command is set; add one to {self._where}"
        )

    def _read_token_file(self, path: Path) -> str:
        """The token in ``path``: a small regular file of UTF-8 text.

        It is opened without blocking and checked before it is read, so a FIFO or a
        device named by mistake is refused instead of waiting or reading forever.
        """
        fix = f"or change token_file in {self._where}"
        where = f"{self._label}: token_file {path}"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ConfigError(f"{where} does not exist; create it {fix}") from None
        except OSError as exc:
            raise ConfigError(f"{where} cannot be read ({exc.strerror}); fix it {fix}") from None
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise ConfigError(f"{where} is a directory; point it at the file {fix}")
            if not stat.S_ISREG(info.st_mode):
                raise ConfigError(
                    f"{where} is not a regular file (a pipe or device); put the token in a "
                    f"file {fix}"
                )
            if info.st_size > MAX_TOKEN_FILE:
                raise ConfigError(
                    f"{where} holds {info.st_size:,} bytes, too big for a token; point it at "
                    f"a file that holds only the token {fix}"
                )
            raw = os.read(fd, MAX_TOKEN_FILE + 1)
        except OSError as exc:
            raise ConfigError(f"{where} cannot be read ({exc.strerror}); fix it {fix}") from None
        finally:
            os.close(fd)
        try:
            token = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ConfigError(f"{where} cannot be read (not UTF-8 text); fix it {fix}") from None
        if not token:
            raise ConfigError(f"{self._label}: token_file {path} is empty; put the token in it")
        return token

    def _run_token_command(self, command: str) -> str:
        fix = f"change token_command in {self._where}"
        try:
            # stderr is discarded: it might echo the secret, and it would scribble on the UI.
            proc = subprocess.Popen(
                command,
                shell=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise ConfigError(
                f"{self._label}: token_command could not be started ({exc.strerror}); {fix}"
            ) from None
        try:
            stdout, _ = proc.communicate(timeout=TOKEN_COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ConfigError(
                f"{self._label}: token_command did not finish within "
                f"{TOKEN_COMMAND_TIMEOUT:g} s; make sure it runs without prompting, or {fix}"
            ) from None
        if proc.returncode < 0:
            raise ConfigError(
                f"{self._label}: token_command was killed by signal {-proc.returncode}; "
                f"run it in a shell to see why, or {fix}"
            )
        if proc.returncode != 0:
            raise ConfigError(
                f"{self._label}: token_command exited with status {proc.returncode}; "
                f"run it in a shell to see why, or {fix}"
            )
        token = stdout.decode("utf-8", errors="replace").strip()
        if not token:
            raise ConfigError(
                f"{self._label}: token_command printed nothing; it must print the token "
                f"on stdout, or {fix}"
            )
        return token

    def s3_credentials(self) -> tuple[str, str]:
        """Return ``(access key id, secret access key)`` from their environment variables."""
        if self.provider != "s3":
            raise ConfigError(
                f"{self._label}: only s3 accounts have access keys; use token() for "
                f"{self.provider} accounts"
            )
        if self.profile is not None:
            return self._profile_credentials(self.profile)
        access = os.environ.get(self.access_key_env)
        secret = os.environ.get(self.secret_key_env)
        missing = [
            name
            for name, value in ((self.access_key_env, access), (self.secret_key_env, secret))
            if not value
        ]
        if access and secret:
            return access, secret
        if len(missing) == 1:
            setting = "access_key_env" if missing[0] == self.access_key_env else "secret_key_env"
            raise ConfigError(
                f"{self._label}: environment variable {missing[0]} is not set; export it or "
                f"change {setting} in {self._where}"
            )
        raise ConfigError(
            f"{self._label}: environment variables {missing[0]} and {missing[1]} are not set; "
            f"export them or change access_key_env and secret_key_env in {self._where}"
        )

    def _profile_credentials(self, profile: str) -> tuple[str, str]:
        """Keys from a shared-credentials profile, resolved by botocore as the AWS CLI does."""
        import botocore.session
        from botocore.exceptions import BotoCoreError

        session = botocore.session.Session(profile=profile)
        if self.credentials_file is not None:
            self._check_credentials_file(self.credentials_file)
            session.set_config_variable("credentials_file", str(self.credentials_file))
        where = self.credentials_file or "~/.aws/credentials"
        try:
            found = session.get_credentials()
        except BotoCoreError as exc:
            raise ConfigError(
                f"{self._label}: profile {profile!r} cannot be read from {where} ({exc}); "
                f"fix the profile or change profile in {self._where}"
            ) from None
        frozen = found.get_frozen_credentials() if found is not None else None
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            raise ConfigError(
                f"{self._label}: profile {profile!r} has no keys in {where}; add "
                f"aws_access_key_id and aws_secret_access_key or change profile in {self._where}"
            )
        return frozen.access_key, frozen.secret_key

    def _check_credentials_file(self, path: Path) -> None:
        """Say plainly when ``credentials_file`` is missing or is not a file (botocore
        would report a missing profile, or wait forever on a pipe)."""
        fix = f"or change credentials_file in {self._where}"
        try:
            info = path.stat()
        except FileNotFoundError:
            raise ConfigError(
                f"{self._label}: credentials_file {path} does not exist; create it {fix}"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"{self._label}: credentials_file {path} cannot be read ({exc.strerror}); "
                f"fix it {fix}"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(
                f"{self._label}: credentials_file {path} is not a regular file; point it at "
                f"the shared credentials file {fix}"
            )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a timed-out token command and anything it started, then reap it."""
    if sys.platform == "win32":
        proc.kill()
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@dataclass(frozen=True)
class Config:
    """The validated config: engine settings, UI options, key remaps and accounts."""

    path: Path | None
    """The file it was read from; None when no file exists and defaults are in force."""
    accounts: dict[str, Account]
    """Accounts by name, in file order."""
    engine: EngineSettings
    """The ``[engine]`` table."""
    theme: str = "partdeck-dark"
    """The ``[ui] theme`` name; checked against the installed themes by the UI."""
    keys: dict[str, str] = field(default_factory=dict)
    """The ``[keys]`` table: binding id -> key, checked against the bindings by the UI."""
    document: tomlkit.TOMLDocument | None = field(default=None, repr=False, compare=False)
    """The parsed tomlkit document, kept so a write-back preserves comments."""

    def account(self, name: str) -> Account:
        """Return the account called ``name``, or raise a ConfigError saying how to add it."""
        found = self.accounts.get(name)
        if found is not None:
            return found
        where = self.path if self.path is not None else default_config_path()
        table = f"[{_dotted('accounts', name)}]"
        if not self.accounts:
            raise ConfigError(f"no accounts configured; add {table} to {where}")
        names = ", ".join(self.accounts)
        raise ConfigError(
            f"unknown account {name!r}; accounts in {where}: {names} (add {table} to the config)"
        )


def default_config_path() -> Path:
    """The per-user config file, e.g. ``~/.config/partdeck/config.toml`` on Linux."""
    return platformdirs.user_config_path(_APP, appauthor=False) / "config.toml"


def default_state_dir() -> Path:
    """The per-user state directory (journal and logs), e.g. ``~/.local/state/partdeck``."""
    return platformdirs.user_state_path(_APP, appauthor=False)


def resolve_config_path(cli_path: str | Path | None) -> Path:
    """Pick the config file: ``--config``, else ``$PARTDECK_CONFIG``, else the default."""
    if cli_path is not None and str(cli_path) != "":
        return Path(cli_path).expanduser()
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_config_path()


def resolve_state_dir(cli_dir: str | Path | None) -> Path:
    """Pick the state directory: ``--state-dir``, else ``$PARTDECK_STATE_DIR``, else default."""
    if cli_dir is not None and str(cli_dir) != "":
        return Path(cli_dir).expanduser()
    from_env = os.environ.get(STATE_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_state_dir()


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


def parse_config(text: str, *, source: Path | None = None) -> Config:
    """Parse and validate config text; ``source`` names the file in error messages."""
    check = _Checker(str(source) if source is not None else "<config>")
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
        if key not in _TOP_LEVEL:
            home = "engine" if key in _ENGINE_KEYS else "ui" if key in _UI_KEYS else None
            if home is not None:
                check.fail(f"{_dotted(key)} belongs in the [{home}] table; move it under [{home}]")
            hint = check.suggest(key, _TOP_LEVEL)
            check.fail(
                f"{_dotted(key)} is not a known table{hint}; the config holds [engine], "
                "[ui], [keys] and [accounts.NAME] tables"
            )
        if not isinstance(value, dict):
            check.fail(f"{_dotted(key)} must be a table (got {_show(value)}); write [{key}]")

    engine = _parse_engine(check, data.get("engine", {}))
    ui = data.get("ui", {})
    check.known_keys(ui, ("ui",), _UI_KEYS, "[ui] takes")
    theme = check.text(ui, ("ui", "theme"), example='"partdeck-dark"') or "partdeck-dark"
    keys = _parse_keys(check, data.get("keys", {}))

    accounts: dict[str, Account] = {}
    allow_inline = os.environ.get(ALLOW_INLINE_SECRETS_ENV) == "1"
    for name, table in data.get("accounts", {}).items():
        accounts[name] = _parse_account(check, name, table, source, allow_inline)

    return Config(
        path=source,
        accounts=accounts,
        engine=engine,
        theme=theme,
        keys=keys,
        document=document,
    )


def _parse_engine(check: _Checker, table: dict[str, Any]) -> EngineSettings:
    check.known_keys(table, ("engine",), _ENGINE_KEYS, "[engine] takes")
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


def _parse_keys(check: _Checker, table: dict[str, Any]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for binding, key in table.items():
        if not isinstance(key, str) or not key.strip():
            check.fail(
                f"{_dotted('keys', binding)} must be a key name in quotes "
                f'(got {_show(key)}); e.g. {_dotted(binding)} = "r"'
            )
        keys[binding] = key
    return keys


def _parse_account(
    check: _Checker,
    name: str,
    table: object,
    source: Path | None,
    allow_inline: bool,
) -> Account:
    label = _dotted("accounts", name)
    if not _ACCOUNT_NAME_RE.match(name):
        check.fail(
            f"{label}: account names may use only letters, digits, '.', '_' and '-'; "
            "rename the table"
        )
    if not isinstance(table, dict):
        check.fail(
            f"{label} must be a table (got {_show(table)}); write [{label}] with "
            'provider = "..." under it'
        )
    choices = ", ".join(PROVIDERS)
    provider = table.get("provider")
    if provider is None:
        check.fail(f'{label}.provider is missing; add provider = "..." (one of {choices})')
    if not isinstance(provider, str) or provider not in PROVIDERS:
        check.fail(f"{label}.provider {_show(provider)} is not supported; use one of {choices}")

    inline_token = _inline_secret(check, label, provider, table, allow_inline)
    allowed = _COMMON_KEYS + (_S3_KEYS if provider == "s3" else _HTTP_KEYS)
    allowed += _PROVIDER_KEYS.get(provider, ())
    for key in table:
        if key in allowed or (key == "token" and inline_token is not None):
            continue
        check.fail(f"{_dotted('accounts', name, key)} {_misplaced(key, provider, allowed)}")

    path = ("accounts", name)
    verify_tls = check.flag(table, (*path, "verify_tls"), True)
    if provider == "s3":
        account = Account(
            name=name,
            provider=provider,
            endpoint_url=check.url(table, (*path, "endpoint_url"), "http://127.0.0.1:9000"),
            region=check.text(table, (*path, "region"), '"us-east-1"') or "us-east-1",
            bucket=check.bucket(table, (*path, "bucket")),
            prefix=check.text(table, (*path, "prefix"), '"backups/"', empty_ok=True) or "",
            access_key_env=check.env_name(table, (*path, "access_key_env"), "AWS_ACCESS_KEY_ID")
            or "AWS_ACCESS_KEY_ID",
            secret_key_env=check.env_name(table, (*path, "secret_key_env"), "AWS_SECRET_ACCESS_KEY")
            or "AWS_SECRET_ACCESS_KEY",
            min_part_size=check.setting(table, (*path, "min_part_size")),
            profile=check.text(table, (*path, "profile"), '"default"'),
            credentials_file=check.path(table, (*path, "credentials_file"), source),
            verify_tls=verify_tls,
            source=source,
        )
        hosts = {
            "endpoint_url": account.endpoint_url or f"https://s3.{account.region}.amazonaws.com"
        }
    else:
        default_url = DEFAULT_BASE_URLS[provider]
        base_url = check.url(table, (*path, "base_url"), default_url) or default_url
        upload_url = None
        if provider == "box":
            upload_url = (
                check.url(table, (*path, "upload_url"), DEFAULT_BOX_UPLOAD_URL)
                or DEFAULT_BOX_UPLOAD_URL
            )
        example_env = f"{provider.upper()}_TOKEN"
        token_env = check.env_name(table, (*path, "token_env"), example_env)
        token_command = check.text(table, (*path, "token_command"), f'"pass show {provider}"')
        token_file = check.path(table, (*path, "token_file"), source)
        given = [
            k
            for k, v in (
                ("token_env", token_env),
                ("token_command", token_command),
                ("token_file", token_file),
                ("token", inline_token),
            )
            if v is not None
        ]
        if not given:
            check.fail(
                f"{label} needs token_env, token_command or token_file to find its token; "
                f'e.g. token_env = "{example_env}"'
            )
        if len(given) > 1:
            check.fail(f"{label} sets {' and '.join(given)}; keep only one of them")
        account = Account(
            name=name,
            provider=provider,
            base_url=base_url,
            upload_url=upload_url,
            token_env=token_env,
            token_command=token_command,
            token_file=token_file,
            folder_id=check.text(table, (*path, "folder_id"), '"0"') or "0",
            organization_id=check.text(table, (*path, "organization_id"), '"<uuid>"'),
            client_id=check.text(table, (*path, "client_id"), '"<client id>"'),
            verify_tls=verify_tls,
            source=source,
            inline_token=inline_token,
        )
        if provider == "wunderlist" and account.client_id is None:
            check.fail(
                f"{label}.client_id is missing; wunderlist accounts send their app's client id, "
                'e.g. client_id = "abc123"'
            )
        hosts = {"base_url": base_url}
        if upload_url is not None:
            hosts["upload_url"] = upload_url

    if provider != "s3":
        # A bearer token in every request: plain http would carry it in clear.
        for key, url in hosts.items():
            parts = urlsplit(url)
            if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
                check.fail(
                    f"{label}.{key} is plain http://, so the account's token would cross the "
                    f"network to {parts.hostname} in clear; use https:// (plain http is "
                    "allowed only for loopback hosts)"
                )
    if not verify_tls:
        for key, url in hosts.items():
            host = urlsplit(url).hostname or ""
            if not _is_loopback(host):
                check.fail(
                    f"{label}.verify_tls = false is allowed only for loopback hosts "
                    f"(127.0.0.0/8, ::1, localhost), and {key} points at {host}; "
                    f"remove verify_tls or point {key} at a loopback host"
                )
    return account


def _inline_secret(
    check: _Checker,
    label: str,
    provider: str,
    table: Mapping[str, object],
    allow_inline: bool,
) -> str | None:
    """Refuse secrets written into an account table; return an allowed inline token."""
    inline_token: str | None = None
    for key in _SECRET_KEYS:
        if key not in table:
            continue
        where = f"{label}.{key}"
        if key == "token" and provider != "s3" and allow_inline:
            value = table[key]
            if not isinstance(value, str) or not value.strip():
                check.fail(f"{where} must be a non-empty string; or set token_env instead")
            inline_token = value
            continue
        if provider == "s3":
            fix = 'set access_key_env = "VAR" and secret_key_env = "VAR"'
        else:
            fix = 'set token_env = "VAR" or token_command = "..."'
        check.fail(f"{where}: secrets are not stored in the config; {fix}")
    return inline_token


def _misplaced(key: str, provider: str, allowed: tuple[str, ...]) -> str:
    """Say why ``key`` does not belong in an account of ``provider``, and what to do."""
    if key in _S3_KEYS:
        return "applies only to s3 accounts; remove it"
    for owner, keys in _PROVIDER_KEYS.items():
        if key in keys:
            return f"applies only to {owner} accounts; remove it"
    if key == "base_url" and provider == "s3":
        return "is not used by s3 accounts; set endpoint_url instead"
    if key in ("token_env", "token_command") and provider == "s3":
        return "is not used by s3 accounts; set access_key_env and secret_key_env instead"
    hint = _Checker.suggest(key, allowed)
    return f"is not a known account setting{hint}; {provider} accounts take {', '.join(allowed)}"


class _Checker:
    """Typed reads from a parsed table; each failure is one ConfigError line naming the file."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, message: str) -> NoReturn:
        raise ConfigError(f"{self.where}: {message}")

    @staticmethod
    def suggest(key: str, choices: tuple[str, ...]) -> str:
        close = difflib.get_close_matches(key, choices, n=1)
        return f" (did you mean {close[0]}?)" if close else ""

    def known_keys(
        self, table: dict[str, Any], path: tuple[str, ...], allowed: tuple[str, ...], what: str
    ) -> None:
        for key in table:
            if key not in allowed:
                hint = self.suggest(key, allowed)
                self.fail(
                    f"{_dotted(*path, key)} is not a known setting{hint}; "
                    f"{what} {', '.join(allowed)}"
                )

    def flag(self, table: dict[str, Any], path: tuple[str, ...], default: bool) -> bool:
        value = table.get(path[-1], default)
        if not isinstance(value, bool):
            self.fail(
                f"{_dotted(*path)} must be true or false (got {_show(value)}); "
                f"e.g. {_dotted(path[-1])} = {'true' if default else 'false'}"
            )
        return value

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
            return check_setting(path[-1], table[path[-1]], _dotted(*path), cli=False)
        except ValueError as exc:
            self.fail(str(exc))

    def duration(self, table: dict[str, Any], path: tuple[str, ...], default: float) -> float:
        value = table.get(path[-1], default)
        try:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ValueError(value)
            seconds = parse_duration(value) if isinstance(value, str) else float(value)
        except ValueError:
            seconds = 0.0
        if not seconds > 0:
            self.fail(
                f"{_dotted(*path)} must be a duration above 0, in seconds or with a unit "
                f'(got {_show(value)}); e.g. {_dotted(path[-1])} = "90s"'
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
        if path[-1] not in table:
            return None
        value = table[path[-1]]
        if not isinstance(value, str) or (not empty_ok and not value.strip()):
            self.fail(
                f"{_dotted(*path)} must be a non-empty string (got {_show(value)}); "
                f"e.g. {_dotted(path[-1])} = {example}"
            )
        return value

    def env_name(self, table: dict[str, Any], path: tuple[str, ...], example: str) -> str | None:
        if path[-1] not in table:
            return None
        value = table[path[-1]]
        if not isinstance(value, str) or not _ENV_NAME_RE.match(value):
            # The value is not echoed: a pasted secret is the likeliest mistake here.
            self.fail(
                f"{_dotted(*path)} must be the name of an environment variable (letters, "
                f'digits and _), not the secret itself; e.g. {_dotted(path[-1])} = "{example}"'
            )
        return value

    def url(self, table: dict[str, Any], path: tuple[str, ...], example: str) -> str | None:
        if path[-1] not in table:
            return None
        value = table[path[-1]]
        key = _dotted(*path)
        fix = f'e.g. {_dotted(path[-1])} = "{example}"'
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
            self.fail(f"{key} must be an http:// or https:// URL (got {_show(value)}); {fix}")
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
        value = table.get(path[-1])
        key = _dotted(*path)
        if value is None:
            self.fail(f'{key} is missing; s3 accounts need a bucket, e.g. bucket = "uploads"')
        if not isinstance(value, str) or not value or "/" in value or value != value.strip():
            self.fail(
                f'{key} must be a bucket name without "/" (got {_show(value)}); '
                'e.g. bucket = "uploads"'
            )
        return value
