"""Calls on Gumroad's API with one account's token, and how its answers are judged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from tui.core.errors import RejectedError
from tui.core.transfer import check_transient, network_error
from tui.providers.gumroad.answers import clean, json_object, server_text
from tui.providers.tokens import BearerAuth, TokenSource, as_source


class BadAnswer(Exception):
    """A 2xx answer whose body is not the JSON object the endpoint promises."""


class GumroadApi:
    """Gumroad's v2 API for one account and its OAuth token."""

    def __init__(
        self, client: httpx.AsyncClient, *, token: str | TokenSource, base_url: str, account: str
    ) -> None:
        self._client = client
        self.token = as_source(token)
        self._bearer = BearerAuth(self.token)
        self._base = base_url.rstrip("/")
        self._account = account

    def clean(self, text: str) -> str:
        """The server's text made safe and short for a message, this token cut out."""
        return clean(text, self.token.current)

    async def send(
        self,
        method: str,
        path: str,
        data: Mapping[str, str] | None = None,
        *,
        timeouts: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """One authenticated call; network failures become TransientError."""
        headers = {"Accept": "application/json"}
        extra: dict[str, Any] = {} if timeouts is None else {"timeout": timeouts}
        try:
            return await self._client.request(
                method,
                f"{self._base}{path}",
                data=dict(data) if data else None,
                headers=headers,
                auth=self._bearer,
                **extra,
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None

    def refusal(self, response: httpx.Response, what: str, fix: str = "") -> RejectedError:
        """The RejectedError for a non-2xx answer that is not worth repeating."""
        status = response.status_code
        said = server_text(json_object(response), self.token.current)
        if status == 401:
            return RejectedError(
                f"{what}: Gumroad rejected the token of account {self._account} (401"
                f"{': ' + said if said else ''}); check token_env (or token_command / "
                "token_file) in the config and that the token has not been revoked",
                status=status,
            )
        if status == 403:
            return RejectedError(
                f"{what}: the token of account {self._account} lacks the edit_products scope "
                "(403); authorize a token with edit_products and give it to the account "
                "(token_env, token_command or token_file)",
                status=status,
            )
        if said is None and status == 404:
            said = "not found; check the account's base_url"
        detail = f"({status}): {said}" if said else f"({status})"
        return RejectedError(f"{what}: Gumroad refused the request {detail}{fix}", status=status)

    def judge(self, response: httpx.Response, what: str, fix: str = "") -> dict[str, Any]:
        """The JSON object of a successful answer, or the right RemoteError."""
        check_transient(response, what)
        if not response.is_success:
            raise self.refusal(response, what, fix)
        body = json_object(response)
        if body is None:
            raise BadAnswer(f"answer ({response.status_code}) is not a JSON object")
        success = body.get("success")
        if success is not True and success is not False:
            # Gumroad always says true or false: without it the answer is not Gumroad's
            # (or was mangled on the way), so it proves neither success nor refusal.
            raise BadAnswer(f"answer ({response.status_code}) has no success true or false")
        if success is not True:
            said = server_text(body, self.token.current) or "success is not true"
            raise RejectedError(
                f"{what}: Gumroad refused the request: {said}{fix}", status=response.status_code
            )
        return body

    async def call(
        self,
        method: str,
        path: str,
        what: str,
        data: Mapping[str, str] | None = None,
        *,
        timeouts: httpx.Timeout | None = None,
    ) -> dict[str, Any]:
        """Send and judge one call; an answer that is not JSON is refused."""
        response = await self.send(method, path, data, timeouts=timeouts)
        try:
            return self.judge(response, what)
        except BadAnswer as exc:
            raise RejectedError(f"{what}: Gumroad's {exc}; check the account's base_url") from None
