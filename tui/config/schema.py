"""The config's validated models (accounts, engine, UI, service); the keys each table
takes are in :mod:`tui.config.keys`, and the checks that build the models from TOML in
:mod:`tui.config.load` and :mod:`tui.config.accounts`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import tomlkit

from tui.config.checks import dotted
from tui.config.keys import (
    PROVIDERS,
)
from tui.config.secrets import (
    profile_credential_source,
    profile_credentials,
    read_token_file,
    run_token_command,
)
from tui.core.errors import ConfigError
from tui.core.paths import default_config_path
from tui.core.plan import MULTIPART_THRESHOLD
from tui.core.settings import EngineSettings
from tui.providers.account import (
    BOX_AUTH_KINDS,
    DEFAULT_BASE_URLS,
    DEFAULT_BOX_AUTHORIZE_URL,
    DEFAULT_BOX_OAUTH_URL,
    DEFAULT_BOX_UPLOAD_URL,
)

if TYPE_CHECKING:
    from botocore.credentials import Credentials

__all__ = [
    "BOX_AUTH_KINDS",
    "DEFAULT_BASE_URLS",
    "DEFAULT_BOX_AUTHORIZE_URL",
    "DEFAULT_BOX_OAUTH_URL",
    "DEFAULT_BOX_UPLOAD_URL",
    "PROVIDERS",
    "SERVICE_MODES",
    "Account",
    "Config",
    "ServiceMode",
    "ServiceSettings",
]


ServiceMode = Literal["auto", "inline"]
"""How front ends reach the engine: ``auto`` attaches to the per-user service (starting it
when it is not running); ``inline`` runs the engine in the front end's own process, as
``--no-service`` does."""
SERVICE_MODES: tuple[ServiceMode, ...] = ("auto", "inline")
"""Every value ``[service] mode`` takes."""


@dataclass(frozen=True)
class ServiceSettings:
    """The ``[service]`` table."""

    mode: ServiceMode = "auto"
    """``auto`` (the default): attach to the per-user service; ``inline``: run the engine
    in this process."""
    events_kept: int = 20_000
    """Event records the service keeps for clients that drop and come back (``since=N``);
    a client further behind reloads the snapshot. Memory grows with it until it is full."""


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
    """Wunderlist: the app's client id, sent as X-Client-ID; Box OAuth/CCG: the app's."""
    auth: str = "token"
    """Box only: ``token`` (token_env, _command or _file), ``oauth`` (a sign-in with
    ``partdeck auth``, renewed by refresh) or ``ccg`` (client credentials)."""
    client_secret_env: str | None = None
    """Box OAuth/CCG: environment variable that holds the app's client secret."""
    client_secret_command: str | None = None
    """Box OAuth/CCG: shell command that prints the client secret."""
    client_secret_file: Path | None = None
    """Box OAuth/CCG: a file that holds the client secret; keep it 0600."""
    oauth_url: str | None = None
    """Box OAuth/CCG: the token endpoint (Box's when not set)."""
    authorize_url: str | None = None
    """Box OAuth: the sign-in page (Box's when not set)."""
    redirect_uri: str | None = None
    """Box OAuth: the redirect URI to name, when the app has more than one."""
    subject_type: str | None = None
    """Box CCG: ``enterprise`` or ``user``."""
    subject_id: str | None = None
    """Box CCG and JWT: the enterprise or user id the app acts for."""
    public_key_id: str | None = None
    """Box JWT: the id Box gave the app's public key (the assertion's ``kid``)."""
    private_key_file: Path | None = None
    """Box JWT: the app's private key (PEM, as Box's console makes it); keep it 0600."""
    private_key_passphrase_env: str | None = None
    """Box JWT: environment variable that holds the private key's passphrase."""
    private_key_passphrase_command: str | None = None
    """Box JWT: shell command that prints the passphrase."""
    private_key_passphrase_file: Path | None = None
    """Box JWT: a file that holds the passphrase."""
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
    multipart_threshold: int = MULTIPART_THRESHOLD
    """s3 only: files smaller than this go up as one PutObject (0: every file multipart)."""
    checksum: str = "auto"
    """s3 only: the checksum every part carries (``tui.core.checksums.SETTINGS``):
    ``auto`` sends CRC64NVME and falls back to MD5 on a store that refuses it."""
    verify_tls: bool = True
    """Check TLS certificates; may be false only for loopback hosts."""
    source: Path | None = None
    """The config file this account came from, for error messages."""
    inline_token: str | None = field(default=None, repr=False)
    """An inline token, accepted only with ``PARTDECK_ALLOW_INLINE_SECRETS=1``; never shown."""
    supplied_env: Mapping[str, str | None] = field(default_factory=dict, repr=False, compare=False)
    """Environment variables a client handed the service for this account (in memory
    only), None for one the client does not have: they stand for this process's own."""

    def _getenv(self, name: str) -> str | None:
        if name in self.supplied_env:  # the asking client's environment decides
            return self.supplied_env[name]
        return os.environ.get(name)

    def secret_env_names(self) -> tuple[str, ...]:
        """The environment variables this account's secret is read from (none when it
        comes from a file, a command, a profile or the config)."""
        if self.provider == "s3":
            return () if self.profile is not None else (self.access_key_env, self.secret_key_env)
        if self.auth != "token":
            return () if self.client_secret_env is None else (self.client_secret_env,)
        if self.inline_token is None and self.token_env is not None:
            return (self.token_env,)
        return ()

    @property
    def _label(self) -> str:
        return dotted("accounts", self.name)

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
            return bool(self._getenv(self.access_key_env)) and bool(
                self._getenv(self.secret_key_env)
            )
        if self.auth == "jwt" and not (self.private_key_file and self.private_key_file.is_file()):
            return False
        if self.auth != "token":
            if self.client_secret_env is not None:
                return bool(self._getenv(self.client_secret_env))
            if self.client_secret_file is not None:
                return self.client_secret_file.is_file()
            return bool(self.client_secret_command)
        if self.inline_token is not None:
            return True
        if self.token_env is not None:
            return bool(self._getenv(self.token_env))
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
        if self.auth != "token":
            raise ConfigError(
                f"{self._label} uses auth = {self.auth!r}: its tokens come from the token "
                f"endpoint, not from the config (sign in with partdeck auth {self.name})"
            )
        if self.inline_token is not None:
            return self.inline_token
        if self.token_env is not None:
            value = self._getenv(self.token_env)
            if not value:
                state = "is not set" if value is None else "is empty"
                raise ConfigError(
                    f"{self._label}: environment variable {self.token_env} {state}; "
                    f"export it or change token_env in {self._where}"
                )
            return value
        if self.token_command:
            return run_token_command(self.token_command, label=self._label, source=self._where)
        if self.token_file is not None:
            return read_token_file(self.token_file, label=self._label, source=self._where)
        raise ConfigError(
            f"{self._label}: no token_env or token_command is set; add one to {self._where}"
        )

    @property
    def token_refetchable(self) -> bool:
        """Whether the token comes from ``token_command`` or ``token_file`` (read again
        after a refusal: a vault may have rotated it)."""
        return (
            self.auth == "token"
            and self.inline_token is None
            and self.token_env is None
            and (bool(self.token_command) or self.token_file is not None)
        )

    def client_secret(self) -> str:
        """Box OAuth/CCG/JWT: the app's client secret, from its env var, command or file."""
        value = self._by_reference("client_secret")
        if value is None:
            raise ConfigError(
                f"{self._label}: no client_secret_env, client_secret_command or "
                f"client_secret_file is set; add one to {self._where}"
            )
        return value

    def _by_reference(self, name: str) -> str | None:
        """The secret ``NAME_env``, ``NAME_command`` or ``NAME_file`` points at (None when
        none is set); ConfigError, naming the setting, when it cannot be had."""
        env: str | None = getattr(self, f"{name}_env")
        command: str | None = getattr(self, f"{name}_command")
        file: Path | None = getattr(self, f"{name}_file")
        if env is not None:
            value = self._getenv(env)
            if not value:
                state = "is not set" if value is None else "is empty"
                raise ConfigError(
                    f"{self._label}: environment variable {env} {state}; export it or "
                    f"change {name}_env in {self._where}"
                )
            return value
        where = {"label": self._label, "source": self._where}
        if command:
            return run_token_command(command, key=f"{name}_command", **where)
        if file is not None:
            return read_token_file(file, key=f"{name}_file", **where)
        return None

    def private_key(self) -> bytes:
        """Box JWT: the private key file's bytes (PEM)."""
        path = self.private_key_file
        if path is None:
            raise ConfigError(
                f"{self._label}: private_key_file is not set; add it to {self._where}"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"{self._label}: private_key_file {path} cannot be read ({exc.strerror}); fix "
                f"it or change private_key_file in {self._where}"
            ) from None
        if len(data) > 64 * 1024 or b"PRIVATE KEY" not in data:
            raise ConfigError(
                f"{self._label}: private_key_file {path} is not a PEM private key; point it "
                "at the key Box's developer console gave you"
            )
        return data

    def private_key_passphrase(self) -> str | None:
        """Box JWT: the private key's passphrase, from its env var, command or file."""
        return self._by_reference("private_key_passphrase")

    def s3_credential_source(self) -> Credentials:
        """s3 only: botocore credentials to sign with. A profile's come from the AWS chain
        (SSO, assume-role, credential_process...) and renew themselves; keys from the
        environment are fixed, with ``AWS_SESSION_TOKEN`` when the AWS names are used."""
        if self.provider == "s3" and self.profile is not None:
            return profile_credential_source(
                self.profile, self.credentials_file, label=self._label, source=self._where
            )
        from botocore.credentials import Credentials

        access, secret = self.s3_credentials()
        token = None
        if self.access_key_env == "AWS_ACCESS_KEY_ID":
            token = self._getenv("AWS_SESSION_TOKEN") or None
        return Credentials(access, secret, token)

    def s3_credentials(self) -> tuple[str, str]:
        """Return ``(access key id, secret access key)`` from their environment variables."""
        if self.provider != "s3":
            raise ConfigError(
                f"{self._label}: only s3 accounts have access keys; use token() for "
                f"{self.provider} accounts"
            )
        if self.profile is not None:
            return profile_credentials(
                self.profile, self.credentials_file, label=self._label, source=self._where
            )
        access = self._getenv(self.access_key_env)
        secret = self._getenv(self.secret_key_env)
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


@dataclass(frozen=True)
class Config:
    """The validated config: engine settings, UI options, service, key remaps and accounts."""

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
    service: ServiceSettings = field(default_factory=ServiceSettings)
    """The ``[service]`` table: how front ends reach the engine."""
    document: tomlkit.TOMLDocument | None = field(default=None, repr=False, compare=False)
    """The parsed tomlkit document, kept so a write-back preserves comments."""

    def account(self, name: str) -> Account:
        """Return the account called ``name``, or raise a ConfigError saying how to add it."""
        found = self.accounts.get(name)
        if found is not None:
            return found
        where = self.path if self.path is not None else default_config_path()
        table = f"[{dotted('accounts', name)}]"
        if not self.accounts:
            raise ConfigError(f"no accounts configured; add {table} to {where}")
        names = ", ".join(self.accounts)
        raise ConfigError(
            f"unknown account {name!r}; accounts in {where}: {names} (add {table} to the config)"
        )
