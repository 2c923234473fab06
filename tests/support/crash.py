"""Crash a real ``partdeck`` child mid-upload and read what its journal kept."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tui.core.journal import Journal


def verified_parts(state_dir: Path) -> tuple[str | None, set[int]]:
    """(first session id, its verified part numbers), or (None, empty) before any exists."""
    if not (state_dir / Journal.FILENAME).exists():
        return None, set()
    journal = Journal.open(state_dir)
    try:
        sessions = journal.sessions()
        if not sessions:
            return None, set()
        parts = journal.parts(sessions[0].id)
        return sessions[0].id, {p.number for p in parts if p.state == "verified"}
    finally:
        journal.close()


def kill_when(argv: Sequence[str], ready: Callable[[], bool], timeout: float = 30.0) -> None:
    """Run ``argv``; SIGKILL it as soon as ``ready()`` holds (asked every 20 ms), or when
    ``timeout`` runs out. Fails with what the child said when it ended by itself first."""
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and child.poll() is None and not ready():
            time.sleep(0.02)
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stderr:
            child.stderr.close()


def kill_once_verified(
    argv: Sequence[str], state_dir: Path, *, want: int = 1, timeout: float = 30.0
) -> tuple[str, set[int]]:
    """Run ``argv``, SIGKILL it once ``want`` parts are verified in the journal at
    ``state_dir``; returns (session id, parts verified when it died)."""
    kill_when(argv, lambda: len(verified_parts(state_dir)[1]) >= want, timeout)
    session_id, verified = verified_parts(state_dir)
    assert session_id is not None
    return session_id, verified
