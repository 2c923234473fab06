"""Lock files are removed on release without opening a race: real processes contend.

Several processes take and give up the same session's lock in a loop while another one
probes it as a reader does (``is_held``). Inside the lock each one creates a marker file
with O_EXCL: two holders at once would find the other's marker. At the end no lock file
is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tui.core.locks import SessionLock, is_held, lock_path

SID = "0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 150

CONTENDER = """
import os, sys
from pathlib import Path
from tui.core.errors import SessionBusy
from tui.core.locks import SessionLock
state, sid, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
marker = state / "inside"
taken = busy = 0
while taken < rounds:
    lock = SessionLock(state, sid)
    try:
        lock.acquire()
    except SessionBusy:
        busy += 1
        continue
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # raises if two inside
        os.close(fd)
        os.unlink(marker)
    finally:
        lock.release()
    taken += 1
print(taken, busy)
"""

PROBER = """
import sys
from pathlib import Path
from tui.core.locks import is_held
state, sid = Path(sys.argv[1]), sys.argv[2]
seen = 0
while not (state / "stop").exists():
    seen += is_held(state, sid)
print(seen)
"""

HOLDER = """
import sys
from pathlib import Path
from tui.core.locks import SessionLock
SessionLock(Path(sys.argv[1]), sys.argv[2]).acquire()
print("locked", flush=True)
sys.stdin.read()
"""


def _python(code: str, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", code, *args], text=True, env=env, **kwargs
    )


def test_contending_processes_never_overlap_and_leave_no_file(tmp_path: Path) -> None:
    prober = _python(PROBER, str(tmp_path), SID, stdout=subprocess.PIPE)
    workers = [
        _python(
            CONTENDER,
            str(tmp_path),
            SID,
            str(ROUNDS),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    (tmp_path / "stop").touch()
    prober.communicate(timeout=60)
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err  # a second holder inside raises FileExistsError
        assert int(out.split()[0]) == ROUNDS
    assert prober.returncode == 0
    assert not (tmp_path / "inside").exists()
    assert os.listdir(tmp_path / "locks") == []


def test_is_held_follows_a_real_holder_and_creates_nothing(tmp_path: Path) -> None:
    assert not is_held(tmp_path, SID)
    assert not (tmp_path / "locks").exists()  # a reader creates nothing
    holder = _python(HOLDER, str(tmp_path), SID, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        assert is_held(tmp_path, SID)
        holder.send_signal(signal.SIGKILL)
        assert holder.wait(timeout=10) == -signal.SIGKILL
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
    assert lock_path(tmp_path, SID).exists()  # a killed holder cannot remove its file
    assert not is_held(tmp_path, SID)  # but the kernel dropped its lock
    lock = SessionLock(tmp_path, SID)
    lock.acquire()
    assert is_held(tmp_path, SID)  # another open file description in this process
    lock.release()
    assert not lock_path(tmp_path, SID).exists()  # the next holder cleans it up
    assert not is_held(tmp_path, SID)
