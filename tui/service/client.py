"""The client end of the service's socket: JSON calls and the event stream, over httpx's
unix-socket transport. Errors come back as the engine's own exception classes, so a
front end handles a refusal the same whether the engine is in-process or the service's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from tui import __version__
from tui.service.protocol import (
    PROTOCOL,
    Json,
    ServiceError,
    ServiceVersionMismatch,
    error_from_wire,
)

CALL_TIMEOUT = httpx.Timeout(connect=5.0, read=None, write=30.0, pool=30.0)
"""Commands may take long (a complete, an abort repeated): no read timeout on them."""
STATUS_TIMEOUT = httpx.Timeout(3.0)
"""A status probe answers at once or the service is not usable."""
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept for the next call: below the service's own
``server.KEEP_ALIVE``, so it is always this end that lets an idle connection go."""


class ServiceClient:
    """One connection pool to one service socket."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        # Plain HTTP on a local socket: no TLS context to build (tens of ms with the CA
        # bundle) and no proxy from the environment (HTTP_PROXY must not take our calls).
        self._http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=str(socket), verify=False),
            base_url="http://partdeck",
            timeout=CALL_TIMEOUT,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY),
            trust_env=False,
        )

    async def aclose(self) -> None:
        """Close the pool."""
        await self._http.aclose()

    async def __aenter__(self) -> ServiceClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def _unreachable(self, exc: Exception) -> ServiceError:
        return ServiceError(
            f"the partdeck service at {self.socket} does not answer ({type(exc).__name__}); "
            "partdeck service status says whether it runs, partdeck service start starts it"
        )

    async def call(
        self,
        path: str,
        body: Json | None = None,
        *,
        method: str = "POST",
        limit: httpx.Timeout | None = None,
    ) -> Json:
        """One call; its JSON answer, or the engine's error raised again here."""
        try:
            response = await self._http.request(
                method,
                path,
                json=body if method == "POST" else None,
                timeout=limit or CALL_TIMEOUT,
            )
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        try:
            data = response.json()
        except ValueError:
            raise ServiceError(
                f"the partdeck service answered {path} with something other than JSON "
                f"(HTTP {response.status_code}); partdeck service restart may help"
            ) from None
        if response.status_code >= 400:
            raise error_from_wire(data)
        if not isinstance(data, dict):
            raise ServiceError(f"the partdeck service answered {path} with a non-object")
        return data

    async def get(self, path: str, *, limit: httpx.Timeout | None = None) -> Json:
        """A GET call."""
        return await self.call(path, method="GET", limit=limit)

    async def status(self) -> Json:
        """The service's status, checked to be of this release."""
        found = await self.get("/status", limit=STATUS_TIMEOUT)
        check_version(found)
        return found

    async def events(self, since: int) -> AsyncIterator[Json]:
        """Every record after ``since``, as the service sends them, until the stream ends."""
        quiet_cancelled_wakeups(asyncio.get_running_loop())
        try:
            async with self._http.stream(
                "GET", "/events", params={"since": since}, timeout=httpx.Timeout(None)
            ) as response:
                if response.status_code >= 400:
                    raise error_from_wire(json.loads(await response.aread()))
                # Raw bytes split on newlines: no text decoding and no line decoder
                # between the socket and json (the stream is ASCII JSON, one per line).
                pending = b""
                async for chunk in response.aiter_raw():
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        if line:
                            yield json.loads(line)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None


def quiet_cancelled_wakeups(loop: asyncio.AbstractEventLoop) -> None:
    """Drop one harmless asyncio log line that anyio's unix-socket reads can cause.

    anyio (httpx's socket layer here) waits for a unix socket to turn readable with
    ``loop.add_reader(sock, future.set_result, None)``. When the read is cancelled (the
    event stream closed as a client quits) in the same turn of the loop as data arrives,
    the queued wake-up finds its future cancelled and asyncio logs "Exception in callback
    Future.set_result(None) ... InvalidStateError" on stderr, over the user's terminal.
    Nothing waits on that future any more, so exactly that case is dropped; every other
    error goes on to the handler the loop had. Idempotent."""
    previous = loop.get_exception_handler()
    if getattr(previous, "quiets_cancelled_wakeups", False):
        return

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        callback = getattr(context.get("handle"), "_callback", None)
        future = getattr(callback, "__self__", None)
        if (
            isinstance(context.get("exception"), asyncio.InvalidStateError)
            and isinstance(future, asyncio.Future)
            and future.cancelled()
        ):
            return
        if previous is None:
            loop.default_exception_handler(context)
        else:
            previous(loop, context)

    handler.quiets_cancelled_wakeups = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)


def check_version(status: Json) -> None:
    """Refuse a service of another release, in one line that says what to run."""
    theirs, protocol = status.get("version"), status.get("protocol")
    if theirs != __version__ or protocol != PROTOCOL:
        raise ServiceVersionMismatch(
            f"the running partdeck service is version {theirs} and this partdeck is "
            f"{__version__}; run partdeck service restart (sessions pause and resume, no "
            "verified part is sent again)"
        )
