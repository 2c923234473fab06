"""One Box account's HTTP calls: the bearer token, error mapping, the session's endpoints."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx

from tui.core.errors import RejectedError
from tui.core.model import Session
from tui.core.transfer import network_error
from tui.providers.box.answers import BoxPart, parse_parts_page
from tui.providers.box.errors import raise_for_box
from tui.providers.tokens import BearerAuth, TokenSource, as_source

LIST_LIMIT = 1000
"""Parts (or folder items) asked for per page."""
LIST_MAX_OFFSET = 10_000
"""Box refuses list_parts with a larger offset (400)."""


def digest_header(sha1_hex: str) -> str:
    """The ``Digest`` header value Box wants for a hex SHA-1: ``sha=`` and its base64."""
    return f"sha={base64.b64encode(bytes.fromhex(sha1_hex)).decode()}"


class BoxApi:
    """Authenticated requests to one Box account's API and upload hosts.

    Every call carries the token ``token`` hands out now; a 401 renews it (where it can
    be) and sends the call once more.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        token: str | TokenSource,
        base_url: str,
        upload_url: str,
    ) -> None:
        self._client = client
        self.token = as_source(token)
        self.bearer = BearerAuth(self.token)
        self.base_url = base_url.rstrip("/")
        self.upload_url = upload_url.rstrip("/")

    async def auth(self) -> dict[str, str]:
        """The Authorization header, for a request partdeck sends outside ``send`` (a part
        upload, which the engine sends)."""
        return {"Authorization": self.bearer.value(await self.token.get())}

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request with auth; network failures become TransientError."""
        try:
            return await self._client.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                auth=self.bearer,
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None

    async def request(
        self,
        method: str,
        url: str,
        what: str,
        *,
        gone: str | None = None,
        file_name: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send, then raise the mapped RemoteError unless Box said yes."""
        response = await self.send(method, url, **kwargs)
        raise_for_box(response, what, gone=gone, file_name=file_name)
        return response

    @staticmethod
    def endpoint(session: Session, name: str) -> str:
        """The session endpoint ``name`` the journal holds from open."""
        endpoints = session.remote.get("session_endpoints")
        url = endpoints.get(name) if isinstance(endpoints, dict) else None
        if not isinstance(url, str):
            raise RejectedError(
                f"the journal has no Box {name} endpoint for session {session.id[:12]}; "
                "abort it and upload again"
            )
        return url

    async def list_parts(self, session: Session) -> list[BoxPart]:
        """Every part Box holds for the session, page by page."""
        url = self.endpoint(session, "list_parts")
        found: list[BoxPart] = []
        offset = 0
        while offset <= LIST_MAX_OFFSET:
            response = await self.request(
                "GET", url, "list parts", params={"offset": offset, "limit": LIST_LIMIT}
            )
            page, total = parse_parts_page(response.content)
            found.extend(page)
            offset += len(page)
            if not page or offset >= total:
                break
        return found
