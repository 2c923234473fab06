"""Start every emulator on loopback, with the S3 back end, and write a config for them.

``partdeck sandbox`` runs this in the foreground; the tests start it once per session;
with no config at all, ``partdeck`` starts it in-process. Each S3-backed provider gets
its own bucket and its own checking gateway (its "S3 host"), so faults and request
counts stay per provider.
"""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from tui.core.errors import UsageError
from tui.sandbox.backend import S3Backend
from tui.sandbox.box.oauth import ENTERPRISE_ID as BOX_ENTERPRISE_ID
from tui.sandbox.context import EmulatorContext
from tui.sandbox.faults import Faults, FaultSpec, quiet_cuts
from tui.sandbox.s3gateway import create_gateway
from tui.sandbox.serve import ServerThread, free_port

EMULATORS: dict[str, str] = {
    "gumroad": "tui.sandbox.gumroad",
    "polar": "tui.sandbox.polar",
    "box": "tui.sandbox.box",
    "fileflare": "tui.sandbox.fileflare",
    "wunderlist": "tui.sandbox.wunderlist",
}
"""Provider -> module whose ``create_app(ctx)`` builds its emulator."""
S3_BACKED = ("gumroad", "polar", "fileflare", "wunderlist")
ACCESS_KEY = "SANDBOXACCESSKEY0001"
BOX_CLIENT_ID = "sandbox-box-app"
"""The Box emulator's OAuth app (its secret is new in every sandbox, in a 0600 file)."""
PROFILE = "partdeck-sandbox"
SANDBOX_EXTRA_MISSING = "the sandbox needs the sandbox extra: pip install 'partdeck[sandbox]'"
"""What a sandbox with no S3 given says when moto (the sandbox extra) is not installed."""


def api_root(provider: str, url: str) -> str:
    """The base_url an account of ``provider`` uses against its emulator at ``url``."""
    return {
        "gumroad": f"{url}/v2",
        "polar": url,
        "box": f"{url}/api/2.0",
        "fileflare": f"{url}/api/v1",
        "wunderlist": f"{url}/api/v1",
    }[provider]


def box_upload_root(url: str) -> str:
    """The upload_url a Box account uses against the Box emulator at ``url``."""
    return f"{url}/upload/api/2.0"


class _MotoThread:
    """moto's S3 server in this process, for a sandbox that has no S3 given."""

    def __init__(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:  # moto, or its server's own dependencies, not installed
            raise UsageError(SANDBOX_EXTRA_MISSING) from None

        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # werkzeug logs every request moto serves; the sandbox's own output must stay readable.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server.start()

    def stop(self) -> None:
        self._server.stop()


@dataclass
class Sandbox:
    """Every emulator, its gateway and its bucket; ``start`` serves them, ``stop`` ends it."""

    state_dir: Path
    """Where the tokens and credentials files go (``<state_dir>/sandbox``)."""
    faults: Mapping[str, FaultSpec] = field(default_factory=dict)
    s3_url: str | None = None
    """An S3 server to use as the back end; None starts moto in this process."""
    time_offset: float = 0.0
    """Seconds added to the clock of every emulator and gateway (tests jump ahead with it)."""
    providers: tuple[str, ...] = ("s3", *EMULATORS)
    contexts: dict[str, EmulatorContext] = field(default_factory=dict)
    """Each emulator's live context (token, faults, clock, back end), by provider."""
    backends: dict[str, S3Backend] = field(default_factory=dict)
    """Each S3-backed provider's bucket, plus ``s3`` for the direct S3 account."""
    fault_state: dict[str, Faults] = field(default_factory=dict, repr=False)
    """Each provider's live faults (shared by its emulator and its gateway)."""
    endpoints: dict[str, str] = field(default_factory=dict)
    """Name -> URL of everything served, for the banner."""
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(30), repr=False)
    """The S3 back end's secret key (kept out of ``repr``, like every secret)."""
    _servers: list[Any] = field(default_factory=list)
    _box_key: tuple[str, str] | None = field(default=None, repr=False)
    """The Box JWT app's private key (encrypted PEM) and its passphrase."""
    _moto: _MotoThread | None = None

    def now(self) -> float:
        """The sandbox's clock: real time plus ``time_offset``."""
        return time.time() + self.time_offset

    @property
    def root(self) -> Path:
        """The sandbox's own directory under the state dir."""
        return self.state_dir / "sandbox"

    def start(self) -> Sandbox:
        """Serve everything on 127.0.0.1; returns once every socket accepts connections."""
        quiet_cuts()
        if self.s3_url is None:
            self._moto = _MotoThread()
            self._moto.start()
            self.s3_url = self._moto.url
        self.endpoints["s3 back end (moto)"] = self.s3_url
        keys = {ACCESS_KEY: self.secret_key}
        clock_kw: dict[str, Any] = {"clock": self.now}
        try:
            for provider in self.providers:
                faults = Faults(self.faults.get(provider, FaultSpec()))
                self.fault_state[provider] = faults
                if provider == "s3" or provider in S3_BACKED:
                    gateway = ServerThread(
                        create_gateway(self.s3_url, keys, faults=faults, **clock_kw)
                    )
                    self._serve(gateway, f"{provider} S3 gateway")
                    self.backends[provider] = S3Backend(
                        self.s3_url, gateway.url, f"sandbox-{provider}", ACCESS_KEY, self.secret_key
                    )
                    self.backends[provider].ensure_bucket()
                if provider == "s3":
                    continue
                port = free_port()
                ctx = EmulatorContext(
                    provider=provider,
                    token=f"sandbox-{provider}-{secrets.token_urlsafe(18)}",
                    public_url=f"http://127.0.0.1:{port}",
                    faults=faults,
                    backend=self.backends.get(provider),
                    **clock_kw,
                )
                if provider == "box":  # its OAuth app, for the oauth / ccg / jwt accounts
                    ctx.client_id = BOX_CLIENT_ID
                    ctx.client_secret = secrets.token_urlsafe(24)
                    ctx.sign_in_code = secrets.token_hex(8)
                    self._box_key = _box_key_pair(ctx)
                self.contexts[provider] = ctx
                module = importlib.import_module(EMULATORS[provider])
                self._serve(ServerThread(module.create_app(ctx), port=port), provider)
        except BaseException:
            self.stop()
            raise
        return self

    def _serve(self, server: ServerThread, name: str) -> None:
        server.start()
        self._servers.append(server)
        self.endpoints[name] = server.url

    def stop(self) -> None:
        """Stop every server (moto too, when this sandbox started it)."""
        threads = [threading.Thread(target=s.stop) for s in self._servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self._servers.clear()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the config it writes ------------------------------------------------------------

    def write_secrets(self) -> None:
        """Write each token and the S3 key pair into 0600 files under ``root``."""
        tokens = self.root / "tokens"
        # Each level made 0700 here: the state dir too, when the sandbox is first to need it.
        for directory in (self.state_dir, self.root, tokens):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for provider, ctx in self.contexts.items():
            _write_private(tokens / provider, ctx.token + "\n")
            if ctx.client_secret:
                _write_private(tokens / f"{provider}-client-secret", ctx.client_secret + "\n")
        if self._box_key is not None:
            pem, passphrase = self._box_key
            _write_private(tokens / "box-private-key.pem", pem)
            _write_private(tokens / "box-key-passphrase", passphrase + "\n")
        _write_private(
            self.root / "aws-credentials",
            f"[{PROFILE}]\naws_access_key_id = {ACCESS_KEY}\n"
            f"aws_secret_access_key = {self.secret_key}\n",
        )

    def account_tables(self) -> dict[str, dict[str, Any]]:
        """``sandbox-NAME`` account tables for the config, one per provider served."""
        accounts: dict[str, dict[str, Any]] = {}
        for provider in self.providers:
            name = f"sandbox-{provider}"
            if provider == "s3":
                accounts[name] = {
                    "provider": "s3",
                    "endpoint_url": self.backends["s3"].public_url,
                    "bucket": self.backends["s3"].bucket,
                    "profile": PROFILE,
                    "credentials_file": str(self.root / "aws-credentials"),
                }
                continue
            ctx = self.contexts[provider]
            table: dict[str, Any] = {
                "provider": provider,
                "base_url": api_root(provider, ctx.public_url),
                "token_file": str(self.root / "tokens" / provider),
            }
            if provider == "box":
                table["upload_url"] = box_upload_root(ctx.public_url)
            if provider == "wunderlist":
                table["client_id"] = ctx.client_id
            accounts[name] = table
            if provider == "box":
                accounts.update(self._box_oauth_tables(table, ctx))
        return accounts

    def _box_oauth_tables(
        self, table: Mapping[str, Any], ctx: EmulatorContext
    ) -> dict[str, dict[str, Any]]:
        """``sandbox-box-oauth`` (signed in with ``partdeck auth``) and ``sandbox-box-ccg``
        (client credentials), on the Box emulator's OAuth app."""
        app = {
            "provider": "box",
            "base_url": table["base_url"],
            "upload_url": table["upload_url"],
            "client_id": ctx.client_id,
            "client_secret_file": str(self.root / "tokens" / "box-client-secret"),
            "oauth_url": f"{ctx.public_url}/oauth2/token",
        }
        return {
            "sandbox-box-oauth": {
                **app,
                "auth": "oauth",
                "authorize_url": f"{ctx.public_url}/api/oauth2/authorize",
            },
            "sandbox-box-ccg": {
                **app,
                "auth": "ccg",
                "subject_type": "enterprise",
                "subject_id": BOX_ENTERPRISE_ID,
            },
            "sandbox-box-jwt": {
                **app,
                "auth": "jwt",
                "subject_type": "enterprise",
                "subject_id": BOX_ENTERPRISE_ID,
                "public_key_id": ctx.jwt_key_id,
                "private_key_file": str(self.root / "tokens" / "box-private-key.pem"),
                "private_key_passphrase_file": str(self.root / "tokens" / "box-key-passphrase"),
            },
        }

    def write_config(self, path: Path, engine: Mapping[str, Any] | None = None) -> Path:
        """Write a ready config for the sandbox accounts (and its secret files); returns it."""
        self.write_secrets()
        document = tomlkit.document()
        document.add(tomlkit.comment("Written by partdeck sandbox: accounts for its emulators."))
        document.add(tomlkit.comment("Valid while that sandbox runs; its tokens are in files."))
        if engine:
            document["engine"] = dict(engine)
        accounts = tomlkit.table(is_super_table=True)
        for name, table in self.account_tables().items():
            accounts[name] = table
        document["accounts"] = accounts
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, tomlkit.dumps(document))
        return path


def _box_key_pair(ctx: EmulatorContext) -> tuple[str, str]:
    """A new RSA key pair for the Box emulator's JWT app: its public half goes into the
    emulator; returns the private half (PEM, encrypted as Box's console makes it) and its
    passphrase."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    passphrase = secrets.token_urlsafe(18)
    ctx.jwt_public_key = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    ctx.jwt_key_id = secrets.token_hex(4)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode()
    return pem, passphrase


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, atomically: a process reading
    it meanwhile (an upload reading its token) sees the old content or the new, never
    an empty file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
