"""The Wunderlist adapter: the Provider protocol over its Upload resource."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from tui.core.errors import (
    CompleteUnknown,
    ConfigError,
    RejectedError,
    TargetExpired,
    TransientError,
)
from tui.core.model import Part, Session
from tui.core.plan import S3_LIMITS
from tui.core.ports import OpenedSession, PartTarget, Provider, Receipt
from tui.core.transfer import network_error
from tui.providers.account import DEFAULT_BASE_URLS, AccountSettings
from tui.providers.base import BaseProvider
from tui.providers.s3xml import error_of, etag_receipt
from tui.providers.tokens import BearerAuth, TokenSource, as_source
from tui.providers.wunderlist.answers import (
    PartCredentials,
    odd_answer,
    parse_finished,
    parse_upload,
    quote_text,
    read_json,
)
from tui.providers.wunderlist.errors import UPLOAD_GONE, USER_GONE, error_for

CREDENTIAL_MARGIN = 60.0
"""Part 1's stored credentials are used only while they live at least this much longer."""
FINISH_TRIES = 2
"""A finish with no clear answer is repeated once, then left to the user (reference 7.3)."""
FINISH_PAUSE = 0.5
"""Seconds before the repeated finish."""
ABORT_NOTE = "Wunderlist has no abort; the server discards unfinished uploads by itself"
"""What abort tells people: nothing is sent, and the upload stays until the server's GC."""

_HEX32 = re.compile(r"^[0-9a-f]{32}$")


class WunderlistProvider(BaseProvider):
    """A Wunderlist account: X-Access-Token + X-Client-ID, parts on S3 with SigV2."""

    name: ClassVar[str] = "wunderlist"
    title: ClassVar[str] = "Wunderlist"
    limits = S3_LIMITS
    digests = frozenset({"md5"})
    can_list_parts = False
    renewable_targets = True
    complete_repeatable = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        token: str | TokenSource,
        client_id: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._auth = {"X-Client-ID": client_id}
        self._bearer = BearerAuth(as_source(token), header="X-Access-Token", scheme="")
        self._clock = clock
        self._stale: set[str] = set()
        """Sessions whose stored part 1 credentials S3 refused as out of date."""

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        gone: str = UPLOAD_GONE,
    ) -> Any:
        """Send one API call with auth; return its JSON, or raise the right RemoteError."""
        headers = dict(self._auth)
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body).encode()
        try:
            response = await self._client.request(
                method,
                self._base + path,
                params=params,
                content=content,
                headers=headers,
                auth=self._bearer,
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None
        if not response.is_success:
            raise error_for(response, what, gone)
        return read_json(response, what)

    @staticmethod
    def _path(session: Session, tail: str = "") -> str:
        return f"/uploads/{quote(str(session.remote['upload_id']), safe='')}{tail}"

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """POST /uploads: the S3 upload starts and part 1's credentials come back."""
        file_name = os.path.basename(session.path)
        content_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        request: dict[str, Any] = {
            "content_type": content_type,
            "file_name": file_name,
            "file_size": session.size,
        }
        # Create returns part 1's credentials, so its md5sum is part 1's (inferred).
        first_md5 = parts[0].md5 if parts and parts[0].number == 1 else None
        if first_md5:
            request["md5sum"] = first_md5
        what = "create upload"
        answer = parse_upload(
            await self._request("POST", "/uploads", what, body=request), what, 1, first_md5
        )
        return OpenedSession(
            remote={
                "upload_id": answer.id,
                "user_id": answer.user_id,
                "file_name": file_name,
                "part1": answer.part.as_remote(),
            },
            location=f"wunderlist upload {answer.id} ({file_name})",
        )

    def _stored(self, session: Session, part: Part) -> PartCredentials | None:
        """Part 1's credentials from create, while they still live and fit the part."""
        if part.number != 1 or session.id in self._stale:
            return None
        stored = PartCredentials.from_remote(session.remote.get("part1"))
        if stored is None or stored.number != 1 or stored.expires_at is None:
            return None
        if stored.md5 is not None and stored.md5 != part.md5:
            return None
        if stored.expires_at - self._clock() < CREDENTIAL_MARGIN:
            return None
        return stored

    async def target(self, session: Session, part: Part) -> PartTarget:
        """Part 1 from create while valid; any other part (or a renewal) fetched now."""
        credentials = self._stored(session, part)
        if credentials is None:
            credentials = await self._fetch(session, part)
        return PartTarget(
            url=credentials.url,
            method="PUT",
            headers=credentials.headers(),
            expires_at=credentials.expires_at,
        )

    async def _fetch(self, session: Session, part: Part) -> PartCredentials:
        """GET /uploads/:id/parts?part_number=N&md5sum=…: fresh credentials for one part."""
        params: dict[str, str | int] = {"part_number": part.number}
        md5 = part.md5 if part.md5 and _HEX32.match(part.md5) else None
        if md5:
            params["md5sum"] = md5
        what = f"part {part.number} credentials"
        body = await self._request("GET", self._path(session, "/parts"), what, params=params)
        answer = parse_upload(body, what, part.number, md5)
        if answer.id != str(session.remote["upload_id"]):
            raise odd_answer(what, f"credentials for upload {answer.id}")
        return answer.part

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """S3's answer to the PUT; out-of-date credentials are renewed, not failed."""
        what = f"part {part.number}"
        if response.status_code == 403:
            code, _ = error_of(response.content)
            if code == "RequestTimeTooSkewed":
                self._forget(session, part)
                raise TargetExpired(
                    f"{what}: Wunderlist's credentials for this part are more than 15 minutes "
                    "old (RequestTimeTooSkewed); fetching new ones",
                    status=403,
                    code=code,
                )
            if code == "SignatureDoesNotMatch":
                raise RejectedError(
                    f"{what}: S3 rejected Wunderlist's signature (SignatureDoesNotMatch): the "
                    "Content-Type or date sent is not the one signed; retry the part, and "
                    "check for a proxy that rewrites request headers if it fails again",
                    status=403,
                    code=code,
                )
        try:
            return etag_receipt(part, response, what)
        except TargetExpired:
            self._forget(session, part)
            raise

    def _forget(self, session: Session, part: Part) -> None:
        if part.number == 1:
            self._stale.add(session.id)

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """PATCH the upload to finished; an unclear answer is repeated once (it is safe)."""
        what = "finish upload"
        last: TransientError | None = None
        for attempt in range(FINISH_TRIES):
            if attempt:
                await asyncio.sleep(FINISH_PAUSE)
            try:
                body = await self._request(
                    "PATCH", self._path(session), what, body={"state": "finished"}
                )
            except TransientError as exc:
                last = exc
                continue
            parse_finished(body, what)
            return session.location
        reason = last.settled if last else "no answer"
        raise CompleteUnknown(
            f"{reason}; Wunderlist may or may not have finished the upload: run partdeck "
            f"complete {session.id[:8]} again (repeating it is safe)"
        )

    async def abort(self, session: Session) -> str | None:
        """Nothing to send: Wunderlist has no abort and collects the upload itself."""
        return ABORT_NOTE

    async def check(self) -> str:
        """GET /user: the token and client id work."""
        body = await self._request("GET", "/user", "check account", gone=USER_GONE)
        if not isinstance(body, Mapping):
            raise odd_answer("check account", "not a JSON object")
        name = body.get("name") or body.get("email") or body.get("id")
        shown = quote_text(name) if isinstance(name, str | int) else "an unnamed user"
        return f"signed in to Wunderlist as {shown}"


def from_account(
    account: AccountSettings, client: httpx.AsyncClient, token: TokenSource
) -> Provider:
    """The adapter for a ``provider = "wunderlist"`` account, with its token's source."""
    if not account.client_id:
        raise ConfigError(
            f"accounts.{account.name}.client_id is missing; wunderlist accounts send their "
            'app\'s client id, e.g. client_id = "abc123"'
        )
    return WunderlistProvider(
        client,
        base_url=account.base_url or DEFAULT_BASE_URLS["wunderlist"],
        token=token,
        client_id=account.client_id,
    )
