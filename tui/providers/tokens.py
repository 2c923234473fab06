"""Where an account's access token comes from, and how a refused one is replaced.

Every HTTP API provider sends a token with each call. A ``TokenSource`` hands out one that
is good for now (``get``: renewed ahead of its expiry where it has one) and, after the
server refused a token (401), another one if there is one to be had (``renew``). The
sources:

* ``FixedToken``: an environment variable (or the sandbox's inline token); never changes.
* ``FetchedToken``: ``token_command`` or ``token_file``, fetched again once when the
  token it gave is refused (a vault or password manager rotated it).
* OAuth sources (``tui.providers.oauth``): refreshed from the token store.

``BearerAuth`` is the httpx auth flow that puts the token on a request and, on a 401,
sends the request once more with the renewed token. Part uploads carry their token in
their target's headers instead; a 401 there is worth sending again when
``refused_part`` says the token was renewed.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Protocol

import httpx

__all__ = [
    "BearerAuth",
    "FetchedToken",
    "FixedToken",
    "RenewableToken",
    "TokenSource",
    "as_source",
]


class TokenSource(Protocol):
    """An account's access token, renewed where it can be."""

    renewable: bool
    """Whether a refused token can be replaced at all (False for a fixed one)."""

    async def get(self) -> str:
        """A token good for now (raises ConfigError or RejectedError when there is none)."""
        ...

    async def renew(self, refused: str) -> str | None:
        """After the server refused ``refused``: a different token, or None when no other
        is to be had (the refusal stands); raises when getting one failed in a way to tell
        (a refresh token revoked: sign in again)."""
        ...

    def mark_refused(self, token: str) -> None:
        """The server refused ``token`` where it could not be renewed at once (a part's
        answer): the next ``get`` renews it."""
        ...

    @property
    def current(self) -> str:
        """The token handed out last ("" before the first), to cut out of server text."""
        ...


class FixedToken:
    """A token that never changes (an environment variable, an inline value)."""

    renewable = False

    def __init__(self, value: str) -> None:
        self._value = value

    async def get(self) -> str:
        return self._value

    async def renew(self, refused: str) -> str | None:
        return None

    def mark_refused(self, token: str) -> None:
        return None

    @property
    def current(self) -> str:
        return self._value


def as_source(token: str | TokenSource) -> TokenSource:
    """``token`` as a source: a plain string is a fixed token."""
    return FixedToken(token) if isinstance(token, str) else token


class RenewableToken(ABC):
    """A token got by ``_obtain`` when first needed, when it runs out (``_fresh``) and
    when one it gave is refused; concurrent askers share one ``_obtain``."""

    renewable = True

    def __init__(self) -> None:
        self._value = ""
        self._refused = ""
        self._lock = asyncio.Lock()

    @abstractmethod
    async def _obtain(self, refused: str) -> str:
        """A token (``refused``: the one the server refused, or ""); raises when none."""

    def _fresh(self) -> bool:
        """Whether the token held is still good for now (by its expiry, where known)."""
        return True

    def _usable(self) -> bool:
        return bool(self._value) and self._value != self._refused and self._fresh()

    async def get(self) -> str:
        if not self._usable():
            async with self._lock:
                if not self._usable():
                    self._value = await self._obtain(self._refused)
        return self._value

    async def renew(self, refused: str) -> str | None:
        self.mark_refused(refused)
        fresh = await self.get()
        return None if fresh == refused else fresh

    def mark_refused(self, token: str) -> None:
        if token and token == self._value:
            self._refused = token

    @property
    def current(self) -> str:
        return self._value


class FetchedToken(RenewableToken):
    """A token read by a blocking call (``token_command``, ``token_file``), in a thread:
    read again once when the token it gave is refused (a vault rotated it). A read that
    gives the refused token back leaves the refusal standing."""

    def __init__(self, fetch: Callable[[], str], *, first: str = "") -> None:
        super().__init__()
        self._fetch = fetch
        self._value = first  # read by the caller already (a missing secret fails there)

    async def _obtain(self, refused: str) -> str:
        return await asyncio.to_thread(self._fetch)


class BearerAuth(httpx.Auth):
    """Puts ``source``'s token on each request; after a 401, renews it and sends once more.

    ``header`` and ``scheme`` fit APIs that want the token elsewhere (Wunderlist's
    ``X-Access-Token`` has no scheme). Only requests whose body can be sent again go
    through it (JSON and form bodies, bytes); httpx reads nothing twice.
    """

    def __init__(
        self, source: TokenSource, *, header: str = "Authorization", scheme: str = "Bearer "
    ) -> None:
        self.source = source
        self._header = header
        self._scheme = scheme

    def value(self, token: str) -> str:
        """The header value that carries ``token``."""
        return f"{self._scheme}{token}"

    def token_of(self, request: httpx.Request) -> str:
        """The token a request carried ("" when none)."""
        value: str = request.headers.get(self._header, "")
        return value.removeprefix(self._scheme)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.source.get()
        request.headers[self._header] = self.value(token)
        response = yield request
        if response.status_code != 401:
            return
        fresh = await self.source.renew(token)
        if fresh is None:
            return
        request.headers[self._header] = self.value(fresh)
        yield request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Not used: partdeck's clients are async."""
        raise RuntimeError("BearerAuth works with httpx.AsyncClient only")

    def refused_part(self, response: httpx.Response) -> bool:
        """A part upload answered 401: True when its token can be replaced, so that the
        part is worth sending again (its next target carries the renewed token)."""
        if response.status_code != 401 or not self.source.renewable:
            return False
        self.source.mark_refused(self.token_of(response.request))
        return True
