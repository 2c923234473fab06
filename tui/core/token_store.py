"""The tokens partdeck signed in for: one 0600 JSON file in the state dir, by account.

OAuth refresh tokens are single use (Box rotates them on every refresh), so renewing one
is a read-modify-write that two processes must never interleave: ``locked()`` holds an
exclusive ``flock`` on ``tokens.lock`` across the re-read, the refresh and the write.
Writes are atomic (a temp file in the same directory, fsync, rename, fsync of the
directory), so a crash leaves the old pair or the new one, never half of either.

Nothing here is ever logged or shown: ``StoredToken``'s repr hides its values.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tui.core.errors import ConfigError

FILENAME = "tokens.json"
LOCKNAME = "tokens.lock"
VERSION = 1


@dataclass(frozen=True)
class StoredToken:
    """One account's tokens: what a sign-in or a refresh returned, and when it runs out."""

    access_token: str = field(repr=False)
    expires_at: float | None = None
    """Unix time the access token runs out; None when the server did not say."""
    issued_at: float | None = None
    """Unix time it was issued (its life: renewed when a fifth of it is left)."""
    refresh_token: str | None = field(default=None, repr=False)
    kind: str = "oauth"
    """How it was got: ``oauth`` (a sign-in, renewed by refresh) or ``ccg``."""
    client_id: str | None = None
    """The app it was issued to: a token of another app (a copied config) is not used."""


class TokenStore:
    """The token file of one state dir."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILENAME
        self.lock_path = state_dir / LOCKNAME

    def read(self, account: str) -> StoredToken | None:
        """The tokens stored for ``account``, or None."""
        entry = self._load().get(account)
        if not isinstance(entry, dict):
            return None
        try:
            return StoredToken(**entry)
        except TypeError:
            return None  # written by another version: as good as absent, sign in again

    def write(self, account: str, token: StoredToken) -> None:
        """Store ``token`` for ``account`` atomically (hold ``locked()`` around a refresh)."""
        accounts = self._load()
        accounts[account] = asdict(token)
        self._save(accounts)

    def forget(self, account: str) -> bool:
        """Remove ``account``'s tokens; True when there were any."""
        accounts = self._load()
        if accounts.pop(account, None) is None:
            return False
        self._save(accounts)
        return True

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (blocking): no other process refreshes meanwhile."""
        fd = self._lock_fd()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock

    def try_lock(self) -> int | None:
        """Take the store's lock if no one holds it: its fd (``unlock`` it), else None.
        For callers that wait without blocking (an event loop polls this)."""
        fd = self._lock_fd()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @staticmethod
    def unlock(fd: int) -> None:
        """Let go of a lock ``try_lock`` took."""
        os.close(fd)

    def _lock_fd(self) -> int:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(
                f"cannot read the token store {self.path} ({exc.strerror}); check its owner "
                "and mode (0600)"
            ) from None
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigError(
                f"the token store {self.path} is not valid JSON; remove it and sign in again "
                "(partdeck auth ACCOUNT)"
            ) from None
        accounts = data.get("accounts") if isinstance(data, dict) else None
        return dict(accounts) if isinstance(accounts, dict) else {}

    def _save(self, accounts: dict[str, Any]) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps({"version": VERSION, "accounts": accounts}, indent=1, sort_keys=True)
        fd, temp = tempfile.mkstemp(prefix=".tokens-", dir=directory)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
