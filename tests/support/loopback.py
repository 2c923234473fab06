"""A test server in a subprocess on a free loopback port: start it, wait until it answers,
stop it on exit."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from tui.sandbox.serve import free_port

__all__ = ["PortTaken", "free_port", "listens", "served", "served_on_a_free_port"]


class PortTaken(RuntimeError):
    """The port answered, but another process holds it (a free port was picked by two
    test servers at once: pytest-xdist's workers start theirs side by side)."""


def listens(pid: int, port: int) -> bool:
    """True when process ``pid`` holds the socket listening on loopback ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            continue
    return False


@contextmanager
def served(
    argv: Sequence[str],
    probe: str,
    name: str,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` until the block ends; yield once ``probe`` (a URL) answers at all and,
    given ``port``, the answer came from this process's own socket.

    Raises RuntimeError naming ``name`` when the server exits or stays silent for 30 s,
    and PortTaken when another process answered on ``port``.
    """
    proc = subprocess.Popen(
        list(argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(probe, timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.1)
        if port is not None and not listens(proc.pid, port):
            raise PortTaken(f"{name}: port {port} is held by another process")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def served_on_a_free_port(
    argv_for: Callable[[int], Sequence[str]],
    probe: str,
    name: str,
    env: Mapping[str, str] | None = None,
    tries: int = 3,
) -> Iterator[int]:
    """``served`` on a free port (``probe`` a format string with ``{port}``); picked
    again when another server took it first. Yields the port."""
    with ExitStack() as stack:
        for attempt in range(tries):
            port = free_port()
            try:
                stack.enter_context(
                    served(argv_for(port), probe.format(port=port), name, env, port)
                )
            except PortTaken:
                if attempt == tries - 1:
                    raise
                continue
            yield port
            return
