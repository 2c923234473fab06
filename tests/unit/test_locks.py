"""Tests for tui.core.locks: one process drives a session at a time.

flock(2) locks belong to an open file description, so a second ``os.open`` of the lock
file conflicts even inside the same process; a different process conflicts too, and the
kernel drops the lock when its holder dies.
"""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.core import locks
from tui.core.errors import SessionBusy
from tui.core.locks import SessionLock

SID = "0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
import threading
from pathlib import Path
from tui.core.locks import SessionLock
lock = SessionLock(Path(sys.argv[1]), sys.argv[2])
lock.acquire()
print("locked", flush=True)
sys.stdin.read()  # hold the lock until stdin closes or the process is killed
lock.release()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A child process holding the lock on SID in tmp_path."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), SID],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_acquire_and_release(tmp_path: Path) -> None:
    lock = SessionLock(tmp_path, SID)
    assert not lock.held
    lock.acquire()
    assert lock.held
    assert lock.path == tmp_path / "locks" / f"{SID}.lock"
    assert lock.path.read_text() == str(os.getpid())
    assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600
    lock.acquire()  # idempotent while held
    assert lock.held
    lock.release()
    assert not lock.held
    lock.release()  # idempotent
    assert not lock.held


def test_second_lock_in_same_process_is_busy(tmp_path: Path) -> None:
    first = SessionLock(tmp_path, SID)
    first.acquire()
    try:
        second = SessionLock(tmp_path, SID)
        with pytest.raises(SessionBusy) as info:
            second.acquire()
        message = str(info.value)
        assert "\n" not in message
        assert SID[:12] in message
        assert f"process {os.getpid()}" in message
        assert not second.held
    finally:
        first.release()
    second.acquire()  # free once the first lets go
    assert second.held
    second.release()


def test_failed_acquire_does_not_leak_an_fd(tmp_path: Path) -> None:
    first = SessionLock(tmp_path, SID)
    first.acquire()
    try:
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(5):
            with pytest.raises(SessionBusy):
                SessionLock(tmp_path, SID).acquire()
        assert len(os.listdir("/proc/self/fd")) == before
    finally:
        first.release()


def test_other_sessions_are_independent(tmp_path: Path) -> None:
    a = SessionLock(tmp_path, SID)
    b = SessionLock(tmp_path, "f" * 32)
    a.acquire()
    b.acquire()
    assert a.held and b.held
    a.release()
    b.release()


def test_lock_held_by_another_process_names_its_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    lock = SessionLock(tmp_path, SID)
    with pytest.raises(SessionBusy) as info:
        lock.acquire()
    assert f"process {holder.pid}" in str(info.value)
    assert not lock.held


def test_lock_released_when_holder_exits(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.wait(timeout=10) == 0
    lock = SessionLock(tmp_path, SID)
    lock.acquire()
    assert lock.path.read_text() == str(os.getpid())  # the stale pid is replaced
    lock.release()


def test_lock_released_when_holder_is_sigkilled(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(SessionBusy):
        SessionLock(tmp_path, SID).acquire()
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=10) == -signal.SIGKILL
    lock = SessionLock(tmp_path, SID)
    lock.acquire()
    assert lock.held
    assert lock.path.read_text() == str(os.getpid())
    lock.release()


def test_busy_names_the_new_holder_not_a_dead_one(tmp_path: Path) -> None:
    """Between taking the lock and writing its id, a holder's file may still name the
    process killed before it: the refusal waits for the living holder's id."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    path = tmp_path / "locks" / f"{SID}.lock"
    path.parent.mkdir()
    path.write_text(dead)
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # taken, id not written yet

    def write_id() -> None:  # as acquire does: the old id may be longer than the new one
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)

    timer = threading.Timer(0.1, write_id)
    timer.start()
    try:
        with pytest.raises(SessionBusy) as busy:
            SessionLock(tmp_path, SID).acquire()
        assert f"driven by process {os.getpid()};" in str(busy.value)
    finally:
        timer.join()
        os.close(fd)


def test_a_released_lock_leaves_no_file(tmp_path: Path) -> None:
    lock = SessionLock(tmp_path, SID)
    lock.acquire()
    assert lock.path.read_text() == str(os.getpid())
    lock.release()
    assert not lock.path.exists()
    assert os.listdir(tmp_path / "locks") == []


def test_busy_without_a_holder_id_says_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locks, "HOLDER_WAIT", 0.05)
    path = tmp_path / "locks" / f"{SID}.lock"
    path.parent.mkdir()
    path.write_text("")
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, never names itself
    try:
        with pytest.raises(SessionBusy) as busy:
            SessionLock(tmp_path, SID).acquire()
        assert str(busy.value) == (
            f"session {SID[:12]} is being driven by another process; wait for it to finish "
            "or stop it first"
        )
    finally:
        os.close(fd)
