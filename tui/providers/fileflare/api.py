"""Calls on one Fileflare store: the API key, answers judged, a cancel seen through."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from tui.core.errors import RejectedError, TransientError
from tui.core.transfer import network_error
from tui.providers.fileflare.answers import load_json
from tui.providers.fileflare.errors import NOT_FILEFLARE, cause, error_for, rate_wait
from tui.providers.tokens import BearerAuth, TokenSource, as_source

RATE_WAITS = 3
"""429 answers waited out inside complete and abort before giving up."""
ABORT_TRIES = 4
ABORT_PAUSE = 1.0
"""Seconds between cancel calls after a server error; doubled each time."""


class FileflareApi:
    """One Fileflare store's API, reached with its key: every answer judged."""

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, token: str | TokenSource
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self.token = as_source(token)
        self._bearer = BearerAuth(self.token)
        self._headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    async def request(
        self,
        method: str,
        path: str,
        what: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Response:
        """Send one API call with the key; raise the right RemoteError unless it is 2xx."""
        try:
            response = await self._client.request(
                method,
                self._base + path,
                headers=self._headers,
                auth=self._bearer,
                content=json.dumps(body).encode() if body is not None else None,
                params=params,
            )
        except httpx.TransportError as exc:
            error = network_error(exc)
            if not isinstance(error, TransientError):  # an untrusted certificate: no retry
                raise error from None
            raise TransientError(f"{what}: {error}") from None
        if not response.is_success:
            raise error_for(response, what)
        return response

    async def cancel(self, asset_id: str, upload_id: str) -> None:
        """Cancel one asset's upload, waiting out 429s and retrying server errors."""
        path = f"/assets/{quote(asset_id, safe='')}/cancel"
        failures = rate_waits = 0
        while True:
            try:
                response = await self.request("POST", path, "abort", {"upload_id": upload_id})
                if response.status_code == 204 or isinstance(load_json(response.content), dict):
                    return
                # Not Fileflare's answer (something in between may have sent it): ask
                # again; once cancelled, the asset answers 404.
                raise TransientError(
                    "abort: the answer is not Fileflare's",
                    status=response.status_code,
                    code=NOT_FILEFLARE,
                )
            except RejectedError as exc:
                if exc.status == 404:
                    return  # cancelled before, or never made: nothing is left either way
                raise
            except TransientError as exc:
                if exc.status == 429 and rate_waits < RATE_WAITS:
                    rate_waits += 1
                    await asyncio.sleep(rate_wait(exc))
                    continue
                failures += 1
                if failures >= ABORT_TRIES or exc.status == 429:
                    raise TransientError(
                        f"abort: Fileflare did not confirm the cancel after {failures} "
                        f"tries ({cause(exc)})",
                        status=exc.status,
                    ) from None
                await asyncio.sleep(ABORT_PAUSE * 2.0 ** (failures - 1))
