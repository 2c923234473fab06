"""The Fileflare adapter: the Provider protocol over signed uploads and their parts."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from tui.core.errors import (
    AlreadyCompleted,
    CompleteUnknown,
    RejectedError,
    RemoteError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.model import Part, Session
from tui.core.plan import PartLimits, choose_part_size
from tui.core.ports import OpenedSession, PartTarget, Receipt
from tui.core.redact import url_for_people
from tui.core.units import GiB, MiB, TiB
from tui.providers.account import DEFAULT_BASE_URLS, AccountSettings
from tui.providers.base import BaseProvider
from tui.providers.fileflare.answers import (
    LINK_LIFETIME,
    MAX_PARTS,
    UnusableAnswer,
    as_identifier,
    as_integer,
    load_json,
    parse_signed,
    signed_ids,
)
from tui.providers.fileflare.api import RATE_WAITS, FileflareApi
from tui.providers.fileflare.errors import (
    NOT_FILEFLARE,
    cause,
    expired_message,
    rate_wait,
    shown_text,
)
from tui.providers.s3xml import etag_receipt
from tui.providers.tokens import TokenSource

ESTIMATED_PART = 100_000_000
"""The server's chunk size in the reference example; only an estimate before open."""
COMPLETE_PAUSE = 1.0
"""Seconds before complete is repeated after an ambiguous failure."""

LIMITS = PartLimits(
    min_part=5 * MiB,
    max_part=5 * GiB,
    max_parts=MAX_PARTS,
    max_size=5 * TiB,
    min_size=1,
    default_part=ESTIMATED_PART,
)
"""S3's rules under Fileflare; the server picks the real part size at open."""


class FileflareProvider(BaseProvider):
    """A Fileflare (Digital Downloads) store reached with an API key."""

    name: ClassVar[str] = "fileflare"
    title: ClassVar[str] = "Fileflare"
    limits = LIMITS
    digests = frozenset({"md5"})
    server_part_size = True
    renewable_targets = False
    target_lifetime = float(LINK_LIFETIME)
    overwrites_parts = True
    complete_repeatable = True
    open_repeatable = False

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        token: str | TokenSource,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = FileflareApi(client, base_url=base_url, token=token)
        self._clock = clock

    def part_size(self, size: int, requested: int | None) -> int:
        """Only an estimate: the server picks the part size at open."""
        return choose_part_size(size, self.limits, None)

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """``POST /assets/signed``: a new asset, its upload id and every part's URL."""
        name = os.path.basename(session.path)
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = await self._api.request(
            "POST", "/assets/signed", "open", {"name": name, "size": session.size, "mime": mime}
        )
        data = load_json(response.content)
        try:
            signed = parse_signed(data, session.size, self._clock())
        except UnusableAnswer as exc:
            # Every part would go to the wrong place or not at all: undo the new asset.
            left = await self._cancel_unusable(data)
            raise RejectedError(
                f"open: Fileflare's answer cannot be used ({exc}); {left}; report this to "
                "Fileflare",
                code="unusable",
            ) from None
        location = signed.file_url or f"Fileflare asset {signed.asset_id}"
        return OpenedSession(
            remote=signed.remote(), location=url_for_people(location), ranges=signed.ranges
        )

    async def _cancel_unusable(self, data: Any) -> str:
        """Cancel an asset whose answer was unusable; say what is left behind."""
        ids = signed_ids(data)
        if ids is None:
            return "it names no asset, so nothing could be cancelled"
        try:
            await self._api.cancel(*ids)
        except RemoteError as exc:
            return f"the new asset {shown_text(ids[0])} could not be cancelled ({cause(exc)})"
        return "the new asset was cancelled, nothing is left behind"

    def _stored_link(self, session: Session, part: Part) -> dict[str, Any]:
        for link in session.remote.get("parts", []):
            if link.get("part") == part.number:
                if (link.get("start"), link.get("end")) != (part.start, part.end):
                    break
                return dict(link)
        raise RejectedError(
            f"part {part.number}: the journal holds no Fileflare link for bytes "
            f"{part.start:,}-{part.end:,}; abort with partdeck abort {session.id[:8]} and "
            "upload the file again"
        )

    async def target(self, session: Session, part: Part) -> PartTarget:
        """The part's URL from open, with no headers at all (the URL signs only ``host``)."""
        link = self._stored_link(session, part)
        expires_at = float(link["expires_at"])
        if self._clock() >= expires_at:
            raise TargetExpired(expired_message(session, part))
        return PartTarget(url=link["url"], method="PUT", headers={}, expires_at=expires_at)

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """S3's answer: the ETag is the MD5 of the part, unless MinIO made it opaque."""
        what = f"part {part.number}"
        try:
            return etag_receipt(part, response, what)
        except TargetExpired:
            raise TargetExpired(expired_message(session, part), status=403) from None
        except RejectedError as exc:
            if exc.code != "SignatureDoesNotMatch":
                raise
            raise RejectedError(
                f"{what}: the storage server refused Fileflare's signed link "
                f"(SignatureDoesNotMatch), which cannot be renewed; abort with partdeck abort "
                f"{session.id[:8]} and upload the file again",
                status=exc.status,
                code=exc.code,
            ) from None

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """``POST /assets/{id}/uploaded``; repeated once after an ambiguous failure."""
        remote = session.remote
        body = {
            "parts": [
                {"ETag": (p.etag or "").strip('"'), "PartNumber": p.number}
                for p in sorted(parts, key=lambda p: p.number)
            ],
            "upload_id": remote["upload_id"],
        }
        path = f"/assets/{quote(str(remote['asset_id']), safe='')}/uploaded"
        # The engine counts this call already: more than one means an earlier outcome is unknown.
        earlier = session.complete_sent > 1
        unknown: TransientError | None = None
        rate_waits = 0
        while True:
            try:
                response = await self._api.request("POST", path, "complete", body)
                if response.status_code == 201 or isinstance(load_json(response.content), dict):
                    return session.location
                # Fileflare answers 201; any other 2xx that is not its JSON (a page from
                # something in between) says nothing about whether the upload completed.
                raise TransientError(
                    "complete: the answer is not Fileflare's",
                    status=response.status_code,
                    code=NOT_FILEFLARE,
                )
            except TransientError as exc:
                if exc.status == 429 and rate_waits < RATE_WAITS:
                    rate_waits += 1
                    await asyncio.sleep(rate_wait(exc))
                    continue
                if exc.status == 429 and unknown is None and not earlier:
                    # A 429 is refused before anything happens: nothing was completed.
                    raise RejectedError(
                        f"complete: rate limited by Fileflare {rate_waits + 1} times in a row, so "
                        f"nothing was completed; run partdeck complete {session.id[:8]} again in "
                        "a minute",
                        status=429,
                        code="rate_limited",
                    ) from None
                if unknown is None and exc.status != 429:
                    unknown = exc
                    await asyncio.sleep(COMPLETE_PAUSE)
                    if await self.find_completed(session):  # it took effect: no repeat
                        return session.location
                    continue
                raise self._unknown(session, unknown, exc) from None
            except RejectedError as exc:
                # After a complete that may have landed, a refusal proves nothing.
                if (unknown is not None or earlier) and exc.status != 401:
                    raise self._unknown(session, unknown, exc) from None
                if exc.status == 404:  # the asset was cancelled or removed: its parts too
                    raise UploadGone(exc.message, status=404, code=exc.code) from None
                raise

    def _unknown(
        self, session: Session, first: RemoteError | None, last: RemoteError
    ) -> CompleteUnknown:
        """Complete's outcome is unknown: say why, where to look, and what to run next."""
        if first is not None:
            why = f"{cause(first)}, then {cause(last)} on the repeat"
        else:
            why = f"{cause(last)} on a repeat of an earlier complete"
        where = url_for_people(session.remote.get("file_url") or "") or "your Fileflare assets"
        short = session.id[:8]
        return CompleteUnknown(
            f"complete: Fileflare gave no clear answer ({why}); the file may already be there: "
            f"check {where}, then run partdeck complete {short} if it is missing or partdeck "
            f"abort {short} to cancel it"
        )

    async def find_completed(self, session: Session) -> str | None:
        """``GET /assets/{id}``: Fileflare shows an asset once its upload is complete."""
        asset_id = str(session.remote.get("asset_id", ""))
        path = f"/assets/{quote(asset_id, safe='')}"
        try:
            data = load_json((await self._api.request("GET", path, "look for the file")).content)
        except RemoteError:
            return None  # 404: not (or no longer) there; anything else: cannot say
        shown = data.get("data", data) if isinstance(data, dict) else None
        if isinstance(shown, dict) and as_identifier(shown.get("id")) == asset_id:
            return session.location or f"Fileflare asset {asset_id}"
        return None

    async def abort(self, session: Session) -> str | None:
        """``POST /assets/{id}/cancel``: Fileflare removes the parts; 404 = already gone."""
        try:
            await self._api.cancel(
                str(session.remote["asset_id"]), str(session.remote["upload_id"])
            )
        except RejectedError as exc:
            # Refused (422, "already completed"): the asset may be complete after all.
            found = await self.find_completed(session) if exc.status == 422 else None
            if found is None:
                raise
            raise AlreadyCompleted(
                f"abort: Fileflare refused ({cause(exc)})", location=found
            ) from None
        return None

    async def forget(self, session: Session) -> str | None:
        """Best effort: cancel the Fileflare asset a gone upload leaves (one call)."""
        asset_id, upload_id = session.remote.get("asset_id"), session.remote.get("upload_id")
        if asset_id is None or upload_id is None:
            return None
        shown = str(asset_id)[:64]
        path = f"/assets/{quote(str(asset_id), safe='')}/cancel"
        try:
            await self._api.request("POST", path, "cancel asset", {"upload_id": str(upload_id)})
        except RemoteError as exc:
            if exc.status == 404:
                return None  # cancelled already, or removed: nothing is left
            return f"Fileflare asset {shown} may remain: delete it in Fileflare"
        return f"Fileflare asset {shown} (never completed) was cancelled"

    async def check(self) -> str:
        """``GET /assets?per_page=1``: proves the key works; counts the store's assets."""
        response = await self._api.request("GET", "/assets", "check", params={"per_page": 1})
        data = load_json(response.content)
        meta = data.get("meta") if isinstance(data, dict) else None
        total = as_integer(meta.get("total")) if isinstance(meta, dict) else None
        counted = f" ({total:,} assets)" if total is not None else ""
        return f"Fileflare API key accepted{counted}"


def from_account(
    account: AccountSettings, client: httpx.AsyncClient, token: TokenSource
) -> FileflareProvider:
    """The adapter for a configured Fileflare account, with its token's source."""
    return FileflareProvider(
        client,
        base_url=account.base_url or DEFAULT_BASE_URLS["fileflare"],
        token=token,
    )
