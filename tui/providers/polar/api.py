"""Calls on Polar's API with one access token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from tui.core.errors import RejectedError
from tui.core.transfer import network_error
from tui.providers.polar.errors import raise_for_polar
from tui.providers.tokens import BearerAuth, TokenSource, as_source


class PolarApi:
    """Polar's API with one access token: transport and Polar errors mapped."""

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, token: str | TokenSource
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self.token = as_source(token)
        self._bearer = BearerAuth(self.token)

    async def request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: Any = None,
        params: Mapping[str, str | list[str]] | None = None,
    ) -> httpx.Response:
        """Send one API call with the token; map transport and Polar errors."""
        try:
            response = await self._client.request(
                method,
                f"{self._base}{path}",
                json=body,
                params=params,
                headers={"Accept": "application/json"},
                auth=self._bearer,
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None
        if not response.is_success:
            raise_for_polar(response, what, self.token.current)
        return response

    @staticmethod
    def read_json(response: httpx.Response, what: str) -> Any:
        """The answer's JSON; RejectedError when it is not JSON."""
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RejectedError(f"{what}: Polar's answer is not JSON") from None
