"""One process drives a session at a time: an advisory lock file per session.

The lock is an ``flock`` on ``<state dir>/locks/<session id>.lock``; the kernel drops it
when the holder dies, so a SIGKILLed upload never leaves a session locked.

A released lock's file is removed. The holder unlinks it while it still holds the lock,
so an acquirer that opened the old file before the unlink either fails to lock it or
locks an inode no longer at the path; it then sees (fstat against stat) that it holds a
lock on nothing and tries again on the file now at the path. Readers ask ``is_held``,
which takes the lock shared for an instant: an acquirer that meets such a probe (a lock
with no living holder's id in it) retries for a moment rather than calling it busy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from tui.core.errors import SessionBusy

HOLDER_WAIT = 0.5
"""Seconds to wait for a new holder to write its process id after taking the lock (and
for a reader's probe to let go)."""


def lock_path(state_dir: Path, session_id: str) -> Path:
    """Where the lock file of ``session_id`` lives."""
    return state_dir / "locks" / f"{session_id}.lock"


class SessionLock:
    """An exclusive, non-blocking lock on one session id."""

    def __init__(self, state_dir: Path, session_id: str) -> None:
        self.path = lock_path(state_dir, session_id)
        self.session_id = session_id
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise SessionBusy naming the process that holds it."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        deadline = time.monotonic() + HOLDER_WAIT
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _living_holder(fd)
                os.close(fd)
                if holder is not None or time.monotonic() > deadline:
                    who = f"process {holder}" if holder else "another process"
                    raise SessionBusy(
                        f"session {self.session_id[:12]} is being driven by {who}; wait for "
                        "it to finish or stop it first"
                    ) from None
                time.sleep(0.01)  # a holder about to write its id, or a reader's probe
                continue
            if _same_file(fd, self.path):
                break
            os.close(fd)  # the lock of a file its holder removed on release: try again
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up and remove its file (idempotent)."""
        if self._fd is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # while still held: see the module's docstring
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None


def is_held(state_dir: Path, session_id: str) -> bool:
    """True when some process (this one included) holds the lock on ``session_id``.

    Only reads: it never creates the file, and it holds a shared lock for an instant only.
    """
    path = lock_path(state_dir, session_id)
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        except OSError:
            return False  # unreadable: nothing this reader can say; treat as not held
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fd, fcntl.LOCK_UN)
            if _same_file(fd, path):
                return False
        finally:
            os.close(fd)
        # The file was released and replaced between open and lock: look again.


def _same_file(fd: int, path: Path) -> bool:
    """True when ``fd`` is still the file at ``path`` (not one unlinked since)."""
    try:
        at_path = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (at_path.st_dev, at_path.st_ino)


def _living_holder(fd: int) -> str | None:
    """The process id written in a lock file, when that process is alive.

    A holder writes its id just after it takes the lock; a holder that was killed leaves
    its id behind, and a reader's probe writes none.
    """
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return text if text.isdigit() and _alive(int(text)) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
