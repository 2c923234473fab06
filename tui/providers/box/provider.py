"""The Box adapter: the Provider protocol over Box's chunked upload sessions."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from tui.core.errors import RejectedError, TargetStale, TransientError, UploadGone, UsageError
from tui.core.model import Part, Session
from tui.core.plan import PartLimits, check_file_size
from tui.core.ports import OpenedSession, PartTarget, Receipt, RemotePart
from tui.core.redact import url_for_people
from tui.core.units import GiB, MiB, format_size
from tui.providers.account import DEFAULT_BASE_URLS, DEFAULT_BOX_UPLOAD_URL, AccountSettings
from tui.providers.base import BaseProvider
from tui.providers.box.answers import (
    UploadSession,
    json_object,
    load_json,
    parse_session,
    parse_uploaded_part,
)
from tui.providers.box.api import BoxApi, digest_header
from tui.providers.box.commit import BoxCommit
from tui.providers.box.errors import EXPIRED, TOO_SMALL, raise_for_box
from tui.providers.tokens import TokenSource

MIN_SIZE = 20 * MiB
"""Smallest file Box's chunked upload takes: "20MB", and Box's own SDK test uses 20 MiB."""
MAX_PARTS = 10_000


def estimate_part_size(size: int) -> int:
    """The part size Box is expected to pick for ``size`` bytes (the sandbox's rule).

    8 MiB below 512 MiB, 32 MiB up to 8 GiB, 64 MiB above, grown (in whole MiB) so a
    session never needs more than 10,000 parts. Seen on Box: 8 MiB for files of ~160 MB,
    32 MiB for a 1 GB file; the server's ``part_size`` is what counts.
    """
    if size < 512 * MiB:
        part = 8 * MiB
    elif size <= 8 * GiB:
        part = 32 * MiB
    else:
        part = 64 * MiB
    fitting = -(-size // MAX_PARTS)
    if part < fitting:
        part = -(-fitting // MiB) * MiB
    return part


class BoxProvider(BaseProvider):
    """A Box account: chunked upload sessions into one folder."""

    name: ClassVar[str] = "box"
    title: ClassVar[str] = "Box"
    limits = PartLimits(
        min_part=8 * MiB,
        max_parts=MAX_PARTS,
        max_size=None,  # plan-dependent on Box; the server refuses what it cannot take
        min_size=MIN_SIZE,
        default_part=8 * MiB,
        align=MiB,
    )
    digests = frozenset({"sha1"})
    can_list_parts = True
    file_digests = frozenset({"sha1"})
    server_part_size = True
    renewable_targets = True
    overwrites_parts = False
    complete_repeatable = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        token: str | TokenSource,
        base_url: str,
        upload_url: str,
        folder_id: str = "0",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = BoxApi(client, token=token, base_url=base_url, upload_url=upload_url)
        self.folder_id = folder_id
        self._clock = clock

    @property
    def base_url(self) -> str:
        """The API root (``https://api.box.com/2.0``), without a trailing slash."""
        return self._api.base_url

    @property
    def upload_url(self) -> str:
        """The upload host root (``https://upload.box.com/api/2.0``), without a trailing slash."""
        return self._api.upload_url

    def _commits(self) -> BoxCommit:
        """Commit and look-up calls into the account's folder as it is set now."""
        return BoxCommit(self._api, self.folder_id)

    # -- planning and opening -------------------------------------------------------------

    def part_size(self, size: int, requested: int | None) -> int:
        """Box picks the part size at open; this is the estimate the plan shows until then."""
        if size < MIN_SIZE:
            have = format_size(size)
            if have == format_size(MIN_SIZE):
                have = f"{size:,} bytes"  # "20 MiB is too small" would read as nonsense
            raise UsageError(f"file of {have} is too small for Box: {TOO_SMALL}")
        check_file_size(size, self.limits)
        part = estimate_part_size(size)
        if part > self.limits.max_part:
            raise UsageError(
                f"file of {format_size(size)} is too big for Box: it would need parts larger "
                f"than {format_size(self.limits.max_part)} to fit in {MAX_PARTS:,} parts; "
                "split it or use another account"
            )
        return part

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """POST /files/upload_sessions; the server's part_size sets the part boundaries."""
        file_name = os.path.basename(session.path)
        response = await self._api.request(
            "POST",
            f"{self._api.upload_url}/files/upload_sessions",
            "create upload session",
            gone=f"Box folder {self.folder_id} does not exist or this user cannot see it; "
            "check the account's folder_id",
            file_name=file_name,
            json_body={
                "folder_id": self.folder_id,
                "file_size": session.size,
                "file_name": file_name,
            },
        )
        box = parse_session(response.content)
        await self._check_session(box, session.size)
        remote = {
            "upload_id": box.id,
            "session_endpoints": box.endpoints,
            "part_size": box.part_size,
            "total_parts": box.total_parts,
            "session_expires_at": box.session_expires_at,
            "expires_at": box.expires_at,
            "folder_id": self.folder_id,
            "file_name": file_name,
        }
        ranges = [
            (start, min(start + box.part_size, session.size))
            for start in range(0, session.size, box.part_size)
        ]
        return OpenedSession(
            remote=remote,
            location=f"box folder {self.folder_id}: {file_name}",
            ranges=ranges,
        )

    async def _check_session(self, box: UploadSession, size: int) -> None:
        """The SDK's sanity checks; a session that fails them is aborted, not left behind."""
        problem = None
        if box.part_size <= 0 or box.part_size * box.total_parts < size:
            problem = f"part_size {box.part_size} x total_parts {box.total_parts} < {size} bytes"
        elif box.total_parts != -(-size // box.part_size):
            problem = f"total_parts {box.total_parts} does not fit part_size {box.part_size}"
        elif box.num_parts_processed != 0:
            problem = f"a new session already has {box.num_parts_processed} parts"
        if problem is None:
            return
        with contextlib.suppress(TransientError):  # else it expires by itself in 7 days
            await self._api.send("DELETE", box.endpoints["abort"])
        raise RejectedError(
            f"create upload session: Box's session does not add up ({problem}); it was "
            "aborted, try again later"
        )

    # -- parts -----------------------------------------------------------------------------

    async def target(self, session: Session, part: Part) -> PartTarget:
        """The session's upload_part endpoint with this part's Digest and Content-Range."""
        expires_at = session.remote.get("expires_at")
        if isinstance(expires_at, int | float) and self._clock() >= expires_at:
            raise UploadGone(f"part {part.number}: {EXPIRED}")
        if part.sha1 is None:
            raise RejectedError(f"part {part.number} has no SHA-1 yet; a bug: please report it")
        headers = {
            **(await self._api.auth()),
            "Digest": digest_header(part.sha1),
            "Content-Range": f"bytes {part.start}-{part.end - 1}/{session.size}",
            "Content-Type": "application/octet-stream",
        }
        return PartTarget(
            url=self._api.endpoint(session, "upload_part"),
            method="PUT",
            headers=headers,
            expires_at=float(expires_at) if isinstance(expires_at, int | float) else None,
        )

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """Box's part answer must name our offset, size and SHA-1 (hex)."""
        what = f"part {part.number}"
        if self._api.bearer.refused_part(response):
            # The token ran out (or was rotated) while the part was on its way: the part
            # goes again, its new target carrying the renewed token.
            raise TargetStale(
                f"{what}: Box refused the access token; sending it again with a new one"
            )
        raise_for_box(response, what)
        try:
            got = parse_uploaded_part(response.content, what)
        except RejectedError as exc:
            # Box said 200, so the part may well be there: the engine checks list_parts.
            raise TransientError(f"{exc}; checking what Box holds") from None
        if got.offset != part.start or got.size != part.size:
            raise RejectedError(
                f"{what}: Box stored {got.size:,} bytes at offset {got.offset:,}, not "
                f"{part.size:,} at {part.start:,}; abort and upload again"
            )
        if got.sha1 != part.sha1:
            raise RejectedError(
                f"{what}: Box reports SHA-1 {got.sha1} but the bytes sent have {part.sha1}; "
                f"run partdeck retry {session.id[:8]} to check what Box holds, or abort"
            )
        return Receipt(etag=got.part_id, verified=True)

    async def remote_parts(self, session: Session) -> list[RemotePart] | None:
        """list_parts, numbered by offset / part_size; misaligned entries are not ours."""
        part_size = session.remote.get("part_size")
        if not isinstance(part_size, int) or part_size <= 0:
            part_size = session.part_size
        return [
            RemotePart(number=p.offset // part_size + 1, size=p.size, etag=p.part_id, digest=p.sha1)
            for p in await self._api.list_parts(session)
            if p.offset % part_size == 0
        ]

    def remote_receipt(self, part: Part, remote: RemotePart) -> Receipt | None:
        """A listed part is ours when its size and SHA-1 match."""
        if remote.size == part.size and part.sha1 is not None and remote.digest == part.sha1:
            return Receipt(etag=remote.etag, verified=True)
        return None

    # -- commit and abort ------------------------------------------------------------------

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """Check list_parts, then commit, waiting out 202s; a lost answer is looked up."""
        return await self._commits().complete(session, parts)

    async def find_completed(self, session: Session) -> str | None:
        """The committed file in the folder (same name and SHA-1), if Box has it."""
        return await self._commits().find_completed(session)

    async def abort(self, session: Session) -> str | None:
        """DELETE the session (204); a session Box no longer has (404) is already gone.

        Any other success status is not Box's answer (something in between may have sent
        it), so the DELETE is sent once more: only 204 or 404 confirm the session is gone.
        """
        url = self._api.endpoint(session, "abort")
        for _ in range(2):
            response = await self._api.send("DELETE", url)
            if response.status_code in (204, 404):
                return None
            raise_for_box(response, "abort")
        raise TransientError(
            f"abort: Box did not confirm it (an HTTP {response.status_code} answer that is not "
            "Box's)",
            status=response.status_code,
        )

    async def check(self) -> str:
        """GET /users/me and the target folder."""
        base_url = self._api.base_url
        response = await self._api.request(
            "GET", f"{base_url}/users/me", "check account", gone="Box has no such user"
        )
        user = json_object(load_json(response.content, "check account"), "check account", "user")
        who = user.get("login") or user.get("name") or user.get("id")
        folder = await self._api.request(
            "GET",
            f"{base_url}/folders/{self.folder_id}",
            "check folder",
            gone=f"Box folder {self.folder_id} does not exist or this user cannot see it; "
            "check the account's folder_id",
            params={"fields": "id,name"},
        )
        info = json_object(load_json(folder.content, "check folder"), "check folder", "folder")
        name = info.get("name") if isinstance(info.get("name"), str) else self.folder_id
        return (
            f"Box user {str(who)[:80]} at {url_for_people(base_url)}; uploads go to folder "
            f"{self.folder_id} ({str(name)[:80]})"
        )


def from_account(
    account: AccountSettings, client: httpx.AsyncClient, token: TokenSource
) -> BoxProvider:
    """The Box adapter for a configured account, with its token's source."""
    return BoxProvider(
        client,
        token=token,
        base_url=account.base_url or DEFAULT_BASE_URLS["box"],
        upload_url=account.upload_url or DEFAULT_BOX_UPLOAD_URL,
        folder_id=account.folder_id,
    )


def describe(remote: Mapping[str, Any]) -> str:
    """A short, secret-free description of a Box remote session."""
    return (
        f"box folder {remote.get('folder_id')}: {remote.get('file_name')} "
        f"(upload session {remote.get('upload_id')})"
    )
