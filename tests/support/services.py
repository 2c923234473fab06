"""Real partdeck services in tests: the environment that makes commands attach to one,
and a hard stop (SIGKILL, as a power loss) of every service under a directory."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from tui.service.frontend import MODE_ENV
from tui.service.paths import RUNTIME_ENV


def service_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with commands attaching to the
    service (the suite runs inline) and the socket under the state dir, not the login's
    runtime dir, so every test's services stay apart."""
    env = dict(os.environ if base is None else base)
    env[MODE_ENV] = "auto"
    env.pop(RUNTIME_ENV, None)
    return env


def service_pids(under: Path) -> list[int]:
    """The pids of every ``python -m tui.service`` whose command line names a path
    under ``under`` (its state dir or config)."""
    prefix = str(under)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "tui.service" in words and any(w.startswith(prefix) for w in words):
            found.append(int(entry.name))
    return found


def kill_services(under: Path, wait: float = 10.0) -> list[int]:
    """SIGKILL every service under ``under`` and wait until each is gone; the pids."""
    pids = service_pids(under)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    return pids


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a killed service whose parent, the
    client that spawned it, has not reaped it yet counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rpartition(")")[2].split()[0] != "Z"
