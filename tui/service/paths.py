"""Where a state dir's service listens and keeps its locks and log.

The socket lives in ``$XDG_RUNTIME_DIR/partdeck/`` when the login has a runtime dir
(tmpfs, the user's own, gone at logout or reboot), else in ``STATE_DIR/run/``. Its name
is a digest of the state dir, so one user can run a service per state dir and the path
stays short enough for a unix socket wherever the state dir is.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

from tui.service.protocol import ServiceError

RUNTIME_ENV = "XDG_RUNTIME_DIR"
MAX_SOCKET_PATH = 107
"""Longest path a unix socket may have on Linux (108 bytes with the NUL)."""


def _usable_runtime_dir() -> Path | None:
    """``$XDG_RUNTIME_DIR`` when it is a directory of this user's that others cannot enter."""
    value = os.environ.get(RUNTIME_ENV)
    if not value or not os.path.isabs(value):
        return None
    try:
        info = os.stat(value)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return None
    if info.st_mode & 0o077:
        return None
    return Path(value)


def state_key(state_dir: Path) -> str:
    """A short name for a state dir, the same for every spelling of its path."""
    return hashlib.sha256(os.fsencode(os.path.realpath(state_dir))).hexdigest()[:16]


def runtime_dir(state_dir: Path) -> Path:
    """The directory that holds the socket (made 0700 by ``prepare_runtime_dir``)."""
    base = _usable_runtime_dir()
    return base / "partdeck" if base is not None else state_dir / "run"


def socket_path(state_dir: Path) -> Path:
    """The service's unix socket for ``state_dir``."""
    path = runtime_dir(state_dir) / f"{state_key(state_dir)}.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise ServiceError(
            f"the service socket path {path} is longer than a unix socket may be; set "
            f"{RUNTIME_ENV} to a short private directory or use a shorter --state-dir"
        )
    return path


def prepare_runtime_dir(state_dir: Path) -> Path:
    """Make the socket's directory, 0700 and this user's, or say why it cannot be used."""
    path = runtime_dir(state_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the state dir, or
        path.mkdir(exist_ok=True, mode=0o700)  # $XDG_RUNTIME_DIR, already the user's
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise ServiceError(
                f"{path} is not a directory of this user's; remove it so the service can "
                "make its own"
            )
        if info.st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise ServiceError(
            f"cannot make the service's directory {path} ({exc.strerror}); check the "
            "permissions of its parents"
        ) from None
    return path


def service_lock_path(state_dir: Path) -> Path:
    """Held (flock) by the running service for as long as it runs."""
    return state_dir / "locks" / "service.lock"


def spawn_lock_path(state_dir: Path) -> Path:
    """Held by a client while it starts the service, so two never start two."""
    return state_dir / "locks" / "service-start.lock"


def log_path(state_dir: Path) -> Path:
    """The service's log (secrets cut), 0600."""
    return state_dir / "service.log"


def advert_path(state_dir: Path) -> Path:
    """Where a running service writes the socket it listens on, so clients whose
    environment differs (cron, another login without a runtime dir) find it."""
    return state_dir / "service.json"


def advertised_socket(state_dir: Path) -> Path | None:
    """The socket the service said it listens on, if it said."""
    try:
        found = json.loads(advert_path(state_dir).read_text())
    except (OSError, ValueError):
        return None
    socket = found.get("socket") if isinstance(found, dict) else None
    return Path(socket) if isinstance(socket, str) and socket else None
