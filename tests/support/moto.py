"""moto's S3 server in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.support.loopback import free_port, served

__all__ = ["MotoServer", "free_port", "moto_server"]


@dataclass(frozen=True)
class MotoServer:
    """A running moto server."""

    url: str
    port: int


@contextmanager
def moto_server(env: dict[str, str] | None = None) -> Iterator[MotoServer]:
    """Start ``moto_server`` on loopback; stop it on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with served(argv, f"{url}/moto-api/", "moto server", {**os.environ, **(env or {})}):
        yield MotoServer(url=url, port=port)
