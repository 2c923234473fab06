"""A read on a real anyio unix-socket stream cancelled in the same turn of the loop as
data arrives: asyncio logs an InvalidStateError unless the client's filter is installed,
and the filter lets every other error through."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import anyio

from tui.service.client import quiet_cancelled_wakeups


async def _race(tmp_path: Path, logged: list[dict[str, Any]], quiet: bool) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: logged.append(context))
    if quiet:
        quiet_cancelled_wakeups(loop)
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()
    stream = await anyio.connect_unix(str(path))
    peer, _ = server.accept()
    try:
        reader = asyncio.create_task(stream.receive())
        for _ in range(100):  # until the read waits on its add_reader future
            await asyncio.sleep(0)
            if getattr(stream, "_receive_future", None) is not None:
                break
        peer.send(b"x")  # readable at the next select...
        loop.call_soon(reader.cancel)  # ...which queues the wake-up after this cancel
        await asyncio.sleep(0.05)
        assert reader.cancelled()
    finally:
        await stream.aclose()
        peer.close()
        server.close()


async def test_the_race_logs_without_the_filter(tmp_path: Path) -> None:
    logged: list[dict[str, Any]] = []
    await _race(tmp_path, logged, quiet=False)
    assert [type(c.get("exception")) for c in logged] == [asyncio.InvalidStateError]


async def test_the_filter_drops_that_line_only(tmp_path: Path) -> None:
    logged: list[dict[str, Any]] = []
    await _race(tmp_path, logged, quiet=True)
    assert logged == []

    def boom() -> None:
        raise RuntimeError("a real bug")

    asyncio.get_running_loop().call_soon(boom)
    await asyncio.sleep(0)
    assert [type(c.get("exception")) for c in logged] == [RuntimeError]
    quiet_cancelled_wakeups(asyncio.get_running_loop())  # twice: still one filter
    asyncio.get_running_loop().call_soon(boom)
    await asyncio.sleep(0)
    assert len(logged) == 2


def test_the_client_lets_an_idle_connection_go_before_the_service_does() -> None:
    # Else a call sent on a connection the service closes that instant fails as
    # RemoteProtocolError ("does not answer"), as a soak run once showed.
    from tui.service import client, server

    assert client.KEEPALIVE_EXPIRY < server.KEEP_ALIVE
