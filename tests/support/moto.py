"""moto's S3 server in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.support.loopback import free_port, served_on_a_free_port

__all__ = ["MotoServer", "free_port", "moto_server"]


@dataclass(frozen=True)
class MotoServer:
    """A running moto server."""

    url: str
    port: int


@contextmanager
def moto_server(env: dict[str, str] | None = None) -> Iterator[MotoServer]:
    """Start ``moto_server`` on loopback; stop it on exit."""

    def argv(port: int) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

    probe = "http://127.0.0.1:{port}/moto-api/"
    with served_on_a_free_port(argv, probe, "moto server", {**os.environ, **(env or {})}) as port:
        yield MotoServer(url=f"http://127.0.0.1:{port}", port=port)
