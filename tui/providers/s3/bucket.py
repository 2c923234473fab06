"""One S3 bucket and its credentials: object URLs, SigV4-signed requests, presigned URLs.

The credentials are botocore's: a fixed key pair, or refreshable ones from the AWS chain
(a profile with SSO, assume-role or credential_process, container or instance
metadata), renewed by botocore ahead of their expiry. A renewal may run a command or an
HTTP call, so it runs in a thread; every request and part URL is signed with the keys
good at that moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import quote, urlencode

import httpx
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials, RefreshableCredentials

from tui.core.transfer import network_error
from tui.providers.s3xml import raise_for_s3


class S3Bucket:
    """One bucket on an S3 endpoint, reached with a key pair or botocore credentials."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        name: str,
        access_key: str = "",
        secret_key: str = "",
        region: str,
        endpoint_url: str | None,
        credentials: Credentials | None = None,
    ) -> None:
        self._client = client
        self.name = name
        self.region = region
        self._credentials = credentials or Credentials(access_key, secret_key)
        if endpoint_url:
            self._base = f"{endpoint_url.rstrip('/')}/{quote(name)}"
        else:
            self._base = f"https://{name}.s3.{region}.amazonaws.com"

    def url(self, key: str = "", query: Mapping[str, str | int | None] | None = None) -> str:
        """The URL of ``key`` in the bucket (the bucket itself for none), with ``query``."""
        url = f"{self._base}/{quote(key, safe='/~')}" if key else f"{self._base}/"
        if query:
            parts = [k if v is None else urlencode({k: v}) for k, v in sorted(query.items())]
            url += "?" + "&".join(parts)
        return url

    async def keys(self) -> ReadOnlyCredentials:
        """The keys to sign with now: refreshable ones are renewed first (in a thread)
        when botocore says they run out soon."""
        credentials = self._credentials
        if isinstance(credentials, RefreshableCredentials) and credentials.refresh_needed():
            return await asyncio.to_thread(credentials.get_frozen_credentials)
        return credentials.get_frozen_credentials()

    async def request(
        self,
        method: str,
        what: str,
        key: str = "",
        query: Mapping[str, str | int | None] | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        check: bool = True,
    ) -> httpx.Response:
        """Sign and send one control request; map transport errors and S3 errors."""
        url = self.url(key, query)
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        S3SigV4Auth(await self.keys(), "s3", self.region).add_auth(request)
        try:
            response = await self._client.request(
                method, url, content=body, headers=dict(request.headers.items())
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None
        if check:
            raise_for_s3(response, what)
        return response

    async def presign(self, method: str, url: str, headers: dict[str, str], expires: int) -> str:
        """``url`` signed in its query string for ``expires`` seconds, ``headers`` signed in
        (with temporary keys, it works only as long as they do: S3 answers ExpiredToken,
        and the part gets a URL signed anew)."""
        request = AWSRequest(method=method, url=url, headers=headers)
        keys = await self.keys()
        S3SigV4QueryAuth(keys, "s3", self.region, expires=expires).add_auth(request)
        return str(request.url)
