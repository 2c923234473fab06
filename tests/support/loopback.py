"""A test server in a subprocess on a free loopback port: start it, wait until it answers,
stop it on exit."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import httpx

from tui.sandbox.serve import free_port

__all__ = ["free_port", "served"]


@contextmanager
def served(
    argv: Sequence[str], probe: str, name: str, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` until the block ends; yield once ``probe`` (a URL) answers at all.

    Raises RuntimeError naming ``name`` when the server exits or stays silent for 30 s.
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
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
