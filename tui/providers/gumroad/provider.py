"""The Gumroad adapter: the Provider protocol over the v2 files API."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from tui.core.errors import (
    AlreadyCompleted,
    CompleteUnknown,
    RejectedError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.model import Part, Session
from tui.core.plan import PartLimits, check_file_size
from tui.core.ports import OpenedSession, PartTarget, Provider, Receipt
from tui.core.redact import url_for_people
from tui.core.units import GiB, MiB
from tui.providers.account import AccountSettings
from tui.providers.base import BaseProvider
from tui.providers.gumroad.answers import links_problem, no_such_upload
from tui.providers.gumroad.api import BadAnswer, GumroadApi
from tui.providers.s3xml import etag_receipt
from tui.providers.tokens import TokenSource

DEFAULT_BASE_URL = "https://api.gumroad.com/v2"
PART_SIZE = 100 * MiB
"""The part size Gumroad's server uses for every upload; the client cannot choose."""
MAX_SIZE = 20 * GiB
"""Gumroad's largest file (its "20 GB" is 20 GiB: 21,474,836,480 bytes)."""
LINK_LIFETIME = 900
"""Seconds every part link lives, counted from presign."""
ABORT_TRIES = 10
"""Abort calls at most, while Gumroad keeps answering ``accepted``."""
ABORT_SPACING = 3.0
"""Seconds between abort calls: parts still landing on S3 need a moment to be swept."""
ABORT_TIMEOUT = httpx.Timeout(10.0)
"""Abort is cleanup: a hung server must not hold the user for long."""

GUMROAD_LIMITS = PartLimits(
    min_part=PART_SIZE,
    max_part=PART_SIZE,
    max_parts=-(-MAX_SIZE // PART_SIZE),
    max_size=MAX_SIZE,
    min_size=1,
    default_part=PART_SIZE,
    align=PART_SIZE,
)
"""Server-fixed 100 MiB parts, 1 byte to 20 GiB, so at most 205 parts."""

_AMBIGUOUS = frozenset({408, 409, 429})
"""4xx answers to complete that do not prove nothing was committed."""


class GumroadProvider(BaseProvider):
    """One Gumroad account reached with an OAuth token holding ``edit_products``."""

    name: ClassVar[str] = "gumroad"
    title: ClassVar[str] = "Gumroad"
    limits = GUMROAD_LIMITS
    digests = frozenset({"md5"})
    """Part links are plain S3: the ETag is checked against each part's MD5."""
    server_part_size = True
    renewable_targets = False
    target_lifetime: float | None = float(LINK_LIFETIME)
    complete_repeatable = False
    open_repeatable = False

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        token: str | TokenSource,
        base_url: str = DEFAULT_BASE_URL,
        account: str = "gumroad",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = GumroadApi(client, token=token, base_url=base_url, account=account)
        self._clock = clock

    # -- the protocol ----------------------------------------------------------------------

    def part_size(self, size: int, requested: int | None) -> int:
        """Always Gumroad's 100 MiB; a file it cannot take is refused here, at plan."""
        check_file_size(size, self.limits)
        return PART_SIZE

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """POST /files/presign; every part link is checked before any byte is sent."""
        presigned_at = self._clock()
        body = await self._api.call(
            "POST",
            "/files/presign",
            "start upload",
            {"filename": os.path.basename(session.path), "file_size": str(session.size)},
        )
        upload_id, key = body.get("upload_id"), body.get("key")
        if not isinstance(upload_id, str) or not upload_id or not isinstance(key, str) or not key:
            raise RejectedError(
                "start upload: Gumroad's answer has no upload_id or key, so nothing can be "
                "sent; try again later, and report it if it persists"
            )
        problem = links_problem(body.get("parts"), len(parts))
        if problem is not None:
            cleanup = await self._abort_quietly(key, upload_id)
            raise RejectedError(
                f"start upload: Gumroad's answer {problem}, so no byte was sent; {cleanup}"
            )
        expires_at = presigned_at + LINK_LIFETIME
        links = [
            {"part": n, "url": item["presigned_url"], "expires_at": expires_at}
            for n, item in enumerate(body["parts"], start=1)
        ]
        file_url = body.get("file_url")
        file_url = file_url if isinstance(file_url, str) and file_url else None
        remote = {
            "upload_id": upload_id,
            "key": key,
            "file_url": file_url,
            "presigned_at": presigned_at,
            "links": links,
        }
        location = url_for_people(file_url) if file_url else f"gumroad:{key}"
        return OpenedSession(remote=remote, location=location)

    async def _abort_quietly(self, key: str, upload_id: str) -> str:
        """Abort an upload whose presign answer is unusable; say how that went."""
        try:
            await self.abort_upload(key, upload_id)
        except (TransientError, RejectedError):
            return "aborting it failed too, so Gumroad may keep its parts until S3 expires them"
        return "the upload was aborted; try again, and report it if it persists"

    async def target(self, session: Session, part: Part) -> PartTarget:
        """The link minted at presign; past its expiry the part cannot be sent at all."""
        link = _stored_link(session.remote, part.number)
        if link is None:
            raise RejectedError(
                f"part {part.number}: the journal holds no Gumroad link for it; abort with "
                f"partdeck abort {session.id[:8]} and upload the file again"
            )
        url, expires_at = link
        if self._clock() >= expires_at:
            raise TargetExpired(_expired_message(part.number))
        return PartTarget(url=url, method="PUT", headers={}, expires_at=expires_at)

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """S3's answer to the part PUT; an expired link says Gumroad cannot renew it."""
        try:
            return etag_receipt(part, response, f"part {part.number}")
        except TargetExpired as exc:
            raise TargetExpired(
                _expired_message(part.number), status=exc.status, code=exc.code
            ) from None

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """POST /files/complete exactly once; an unclear answer is never repeated here."""
        remote = session.remote
        data = {"upload_id": str(remote.get("upload_id", "")), "key": str(remote.get("key", ""))}
        for i, part in enumerate(sorted(parts, key=lambda p: p.number)):
            data[f"parts[{i}][part_number]"] = str(part.number)
            data[f"parts[{i}][etag]"] = (part.etag or "").strip().strip('"')
        short = session.id[:8]
        try:
            response = await self._api.send("POST", "/files/complete", data)
        except TransientError as exc:
            detail = exc.settled
            raise CompleteUnknown(_unknown_message(detail, short)) from None
        status = response.status_code
        if status >= 500 or status in _AMBIGUOUS:
            raise CompleteUnknown(_unknown_message(f"Gumroad answered {status}", short))
        fix = (
            f"; nothing was committed: check the parts with partdeck show {short}, then complete "
            f"again or abort with partdeck abort {short}"
        )
        if session.complete_sent > 1:
            # A forced repeat: a refusal may only mean the first complete took effect.
            fix = (
                "; the first complete may have taken effect (then Gumroad no longer holds the "
                f"upload): run partdeck abort {short} to settle it"
            )
        if status == 400 and session.complete_sent <= 1 and no_such_upload(response):
            # S3's NoSuchUpload, passed on by Gumroad, to a first complete: the upload was
            # aborted or expired, and its parts with it; only a new upload carries the file.
            raise UploadGone(
                "complete: Gumroad no longer holds the upload (S3: the specified upload does "
                "not exist)",
                status=status,
                code="NoSuchUpload",
            )
        try:
            body = self._api.judge(response, "complete", fix)
        except BadAnswer as exc:
            raise CompleteUnknown(_unknown_message(f"Gumroad's {exc}", short)) from None
        file_url = body.get("file_url")
        if isinstance(file_url, str) and file_url:
            return url_for_people(file_url)
        return session.location

    def before_abort(self, session: Session) -> None:
        """Count the abort about to be sent (``aborts_sent``), so that once it is journaled
        a later abort knows an earlier one may have reached Gumroad, answer or not."""
        remote = session.remote
        count = remote.get("aborts_sent")
        before = count if isinstance(count, int) and count > 0 else 0
        if not before and remote.get("abort_sent"):
            before = 1  # the older, true/false mark
        remote["aborts_sent"] = before + 1

    async def abort(self, session: Session) -> str | None:
        """POST /files/abort until Gumroad says ``already_gone``."""
        key, upload_id = session.remote.get("key"), session.remote.get("upload_id")
        if not isinstance(key, str) or not isinstance(upload_id, str):
            raise RejectedError(
                f"abort: the journal holds no Gumroad upload id or key for session "
                f"{session.id[:8]}; there is nothing on Gumroad to abort"
            )
        if "aborts_sent" not in session.remote:
            self.before_abort(session)  # a caller that journals no mark: count it here
        # Gumroad cannot show a finished file, but the very first abort answered
        # already_gone can: the upload ended, and nothing aborted it, so the lost complete
        # took effect. Once an abort may have left, already_gone proves nothing.
        unaborted = session.complete_sent > 0 and session.remote.get("aborts_sent") == 1
        if await self._abort_calls(key, upload_id) and unaborted:
            raise AlreadyCompleted(
                "abort: Gumroad no longer holds the upload, and it was never aborted",
                location=session.location,
            )
        return None

    async def abort_upload(self, key: str, upload_id: str) -> None:
        """Abort one upload by key and id: repeat while ``accepted``, spaced and capped."""
        await self._abort_calls(key, upload_id)

    async def _abort_calls(self, key: str, upload_id: str) -> bool:
        """The abort calls; True when the very first one found the upload already gone."""
        last: str | None = None
        for attempt in range(ABORT_TRIES):
            if attempt:
                await asyncio.sleep(ABORT_SPACING)
            try:
                body = await self._api.call(
                    "POST",
                    "/files/abort",
                    "abort",
                    {"upload_id": upload_id, "key": key},
                    timeouts=ABORT_TIMEOUT,
                )
            except TransientError as exc:
                last = exc.settled
                continue
            status = body.get("status")
            if status == "already_gone":
                return attempt == 0
            if status != "accepted":
                kind = type(status).__name__
                shown = self._api.clean(status) if isinstance(status, str) else kind
                raise RejectedError(
                    f"abort: Gumroad answered an unknown status ({shown}); run partdeck abort "
                    "again later, and report it if it persists"
                )
            last = None
        said = f"no clear answer ({last})" if last else "it still answers 'accepted'"
        raise TransientError(
            f"abort: after {ABORT_TRIES} calls Gumroad gives {said}, so the upload may still "
            "hold parts; run partdeck abort again later"
        )

    async def check(self) -> str:
        """GET /user: proves the token works; names the account it belongs to."""
        body = await self._api.call("GET", "/user", "check account")
        user = body.get("user")
        if isinstance(user, dict):
            for field in ("name", "email", "user_id"):
                value = user.get(field)
                if isinstance(value, str) and value.strip():
                    return f"Gumroad account {self._api.clean(value)}"
        return "Gumroad token accepted"


def _stored_link(remote: Mapping[str, Any], number: int) -> tuple[str, float] | None:
    """(url, expires_at) journaled for part ``number``, or None."""
    links = remote.get("links")
    if not isinstance(links, list) or not 1 <= number <= len(links):
        return None
    link = links[number - 1]
    if not isinstance(link, dict) or link.get("part") != number:
        return None
    url, expires_at = link.get("url"), link.get("expires_at")
    if not isinstance(url, str) or not isinstance(expires_at, int | float):
        return None
    return url, float(expires_at)


def _expired_message(number: int) -> str:
    return (
        f"part {number}: its link expired (Gumroad part links live {LINK_LIFETIME // 60} min "
        "from the start of the upload) and Gumroad cannot renew part links: abort and upload "
        "again"
    )


def _unknown_message(detail: str, short: str) -> str:
    return (
        f"complete: no clear answer ({detail}); Gumroad may already have this file: run "
        f"partdeck abort {short} to settle it (if Gumroad has the file, the session is "
        f"recorded completed, else the upload is discarded), or check on Gumroad and only if "
        f"the file is missing run partdeck complete {short} --force"
    )


def from_account(
    account: AccountSettings, client: httpx.AsyncClient, token: TokenSource
) -> Provider:
    """The adapter for a configured Gumroad account, with its token's source."""
    return GumroadProvider(
        client,
        token=token,
        base_url=account.base_url or DEFAULT_BASE_URL,
        account=account.name,
    )
