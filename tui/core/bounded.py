"""Bounded answers: no server's answer is read past MAX_ANSWER bytes.

httpx reads an answer whole before any caller can judge it, so an endless or huge answer
(a broken proxy, a captive portal, a hostile server) would fill memory. A response hook
on the engine's client refuses one whose declared length is too large, wraps every other
answer's byte stream in a counter that stops reading at the limit, and refuses answers
compressed though the client asked for none (a small compressed answer can inflate to
gigabytes, past any count of the bytes on the wire).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

from tui.core.units import format_size

MAX_ANSWER = 64 * 1024 * 1024
"""Bytes of the largest answer read. The largest real ones (every presigned part link of a
10,000-part file in one JSON answer) are a few megabytes."""


class AnswerRefused(httpx.ReadError):
    """An answer partdeck will not read: too large, or compressed though not asked to be.

    A ReadError, so every caller that maps transport errors maps this one too: the
    request reached the server, so what it did is unknown (the caller treats it as it
    would a reset connection).
    """


class _CountedStream(httpx.AsyncByteStream):
    """An answer's raw bytes, refused once more than ``limit`` of them have come."""

    def __init__(self, inner: httpx.AsyncByteStream, limit: int, request: httpx.Request) -> None:
        self._inner = inner
        self._limit = limit
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise AnswerRefused(too_large(self._limit), request=self._request)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def too_large(limit: int) -> str:
    """The words of an answer refused for its size."""
    return f"the server's answer ran past {format_size(limit)}, so it was not read"


def bounded(limit: int = MAX_ANSWER) -> Callable[[httpx.Response], Awaitable[None]]:
    """A response hook that bounds every answer to ``limit`` bytes (see the module)."""

    async def hook(response: httpx.Response) -> None:
        request = response.request
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise AnswerRefused(
                f"the server's answer came compressed ({encoding[:20]}) though none was "
                "asked for, so it was not read",
                request=request,
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise AnswerRefused(too_large(limit), request=request)
        stream = response.stream
        if isinstance(stream, httpx.AsyncByteStream):
            response.stream = _CountedStream(stream, limit, request)

    return hook
