"""One process drives a session at a time: an advisory lock file per session.

The lock is an ``flock`` on ``<state dir>/locks/<session id>.lock``; the kernel drops it
when the holder dies, so a SIGKILLed upload never leaves a session locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from tui.core.errors import SessionBusy


class SessionLock:
    """An exclusive, non-blocking lock on one session id."""

    def __init__(self, state_dir: Path, session_id: str) -> None:
        self.path = state_dir / "locks" / f"{session_id}.lock"
        self.session_id = session_id
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise SessionBusy naming the process that holds it."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise SessionBusy(
                f"session {self.session_id[:12]} is being driven by {who}; wait for it to "
                "finish or stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # a released lock names nobody
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None


HOLDER_WAIT = 0.5
"""Seconds to wait for a new holder to write its process id after taking the lock."""


def _holder(fd: int) -> str | None:
    """The process id written in a lock file held by another process, if it shows one.

    The holder writes its id just after it takes the lock, and a holder that was killed
    leaves its id behind: wait briefly for the id of a living process.
    """
    deadline = time.monotonic() + HOLDER_WAIT
    while True:
        text = os.pread(fd, 64, 0).decode(errors="replace").strip()
        if text.isdigit() and _alive(int(text)):
            return text
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
