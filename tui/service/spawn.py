"""Start the service or attach to the one running, stop it, say how it stands.

Two clients that find no service at once never start two: starting happens under a lock
in the state dir, and whoever gets it second finds the first one's service answering. The
service runs in a session of its own (setsid), so the terminal that started it can go.
Secrets a client read from its environment reach it on its stdin, never in its
environment, its command line or a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tui.service.client import ServiceClient, check_version
from tui.service.paths import (
    advertised_socket,
    log_path,
    service_lock_path,
    socket_path,
    spawn_lock_path,
)
from tui.service.protocol import Json, ServiceError, ServiceVersionMismatch

START_TIMEOUT = 20.0
"""Seconds a new service may take to answer."""
STOP_TIMEOUT = 60.0
"""Seconds a stopping service may take to pause its sessions and exit."""

Secrets = Mapping[str, Mapping[str, str]]


def service_socket(state_dir: Path) -> Path:
    """The socket a running service said it listens on, else where it would."""
    return advertised_socket(state_dir) or socket_path(state_dir)


async def connect(state_dir: Path) -> ServiceClient | None:
    """A client of the running service, or None when none answers.

    A service of another release raises ServiceVersionMismatch."""
    path = service_socket(state_dir)
    if not path.exists():
        return None
    client = ServiceClient(path)
    try:
        await client.status()
    except ServiceVersionMismatch:
        await client.aclose()
        raise
    except ServiceError:
        await client.aclose()
        return None
    return client


def service_pid(state_dir: Path) -> int | None:
    """The process holding the state dir's service lock, if any."""
    path = service_lock_path(state_dir)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def private_dirs(state_dir: Path) -> None:
    """The state dir and its ``locks/``, each 0700 whatever the umask (``mkdir`` with
    ``parents`` would make the state dir 0777 under umask 000)."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (state_dir / "locks").mkdir(exist_ok=True, mode=0o700)


@contextlib.contextmanager
def _spawn_lock(state_dir: Path) -> Iterator[None]:
    path = spawn_lock_path(state_dir)
    private_dirs(state_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServiceError(
                        f"another partdeck has been starting the service for over "
                        f"{START_TIMEOUT:.0f}s; see {log_path(state_dir)}"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def service_command(state_dir: Path, config_path: Path) -> list[str]:
    """The command line that runs the service in the foreground."""
    return [
        sys.executable,
        "-m",
        "tui.service",
        "--state-dir",
        str(os.path.abspath(state_dir)),
        "--config",
        str(os.path.abspath(config_path)),
    ]


def _child_env(secrets: Secrets) -> dict[str, str]:
    """This environment without the variables secrets were read from."""
    drop = {name for env in secrets.values() for name in env}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _spawn(state_dir: Path, config_path: Path, secrets: Secrets) -> subprocess.Popen[bytes]:
    private_dirs(state_dir)
    log = log_path(state_dir)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        child = subprocess.Popen(
            [*service_command(state_dir, config_path), "--secrets-stdin"],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=out,
            cwd="/",
            env=_child_env(secrets),
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(out)
    assert child.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        child.stdin.write(json.dumps({"secrets": secrets}).encode())
    with contextlib.suppress(BrokenPipeError):
        child.stdin.close()
    return child


def _last_line(path: Path) -> str:
    with contextlib.suppress(OSError):
        lines = path.read_text(errors="replace").strip().splitlines()
        if lines:
            return lines[-1]
    return "it said nothing"


async def ensure_service(state_dir: Path, config_path: Path, secrets: Secrets) -> ServiceClient:
    """A client of the state dir's service, started first if none runs."""
    client = await connect(state_dir)
    if client is not None:
        return client
    async with _locked(state_dir):
        client = await connect(state_dir)
        if client is not None:
            return client
        child = _spawn(state_dir, config_path, secrets)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            client = await connect(state_dir)
            if client is not None:
                return client
            if child.poll() is not None:
                raise ServiceError(
                    f"the partdeck service did not start: {_last_line(log_path(state_dir))}"
                )
            await asyncio.sleep(0.05)
    raise ServiceError(
        f"the partdeck service did not answer within {START_TIMEOUT:.0f}s; see "
        f"{log_path(state_dir)}"
    )


@contextlib.asynccontextmanager
async def _locked(state_dir: Path) -> Any:
    lock = _spawn_lock(state_dir)
    await asyncio.to_thread(lock.__enter__)
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


async def service_status(state_dir: Path) -> Json:
    """How the state dir's service stands: ``running``, ``pid``, ``socket``, ``version``,
    and what the process holds (``resources``: memory, descriptors, threads, tasks)."""
    path = service_socket(state_dir)
    client = ServiceClient(path)
    try:
        found = await client.get("/status")
        with contextlib.suppress(ServiceError):  # a service of an older release has none
            found["resources"] = await client.get("/resources")
    except ServiceError:
        pid = service_pid(state_dir)
        return {
            "running": False,
            "pid": pid,
            "socket": str(path),
            "version": None,
            "note": (
                f"process {pid} holds the service lock but does not answer"
                if pid
                else "no service runs for this state dir"
            ),
        }
    finally:
        await client.aclose()
    with contextlib.suppress(ServiceVersionMismatch):
        check_version(found)
        return found
    found["note"] = "another release of partdeck; partdeck service restart"
    return found


async def stop_service(state_dir: Path, *, resume_later: bool = True) -> int | None:
    """Ask the service to pause everything and exit; wait until it has. Returns its pid,
    or None when none ran."""
    pid = service_pid(state_dir)
    if pid is None:
        return None
    client = ServiceClient(service_socket(state_dir))
    try:
        await client.call("/shutdown", {"resume": resume_later})
    except ServiceError:
        if pid > 0:  # it holds the lock but does not answer: SIGTERM pauses just as well
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    finally:
        await client.aclose()
    deadline = time.monotonic() + STOP_TIMEOUT
    while service_pid(state_dir) is not None:
        if time.monotonic() > deadline:
            raise ServiceError(
                f"the partdeck service (process {pid}) is still stopping after "
                f"{STOP_TIMEOUT:.0f}s; see {log_path(state_dir)}"
            )
        await asyncio.sleep(0.05)
    return pid
