"""The Polar adapter: the Provider protocol over Polar's Files API."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from tui.core.errors import (
    CompleteUnknown,
    ConfigError,
    RejectedError,
    RemoteError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.model import Part, Session
from tui.core.plan import PartLimits
from tui.core.ports import OpenedSession, PartTarget, Receipt
from tui.core.units import GiB, MiB, TiB
from tui.providers.account import AccountSettings
from tui.providers.base import BaseProvider
from tui.providers.polar.answers import (
    b64_of_hex,
    is_int,
    listed_uploaded,
    parse_file_read,
    parse_file_upload,
)
from tui.providers.polar.api import PolarApi
from tui.providers.s3xml import error_of, etag_receipt
from tui.providers.tokens import TokenSource

LINK_LIFETIME = 600.0
"""``S3_FILES_PRESIGN_TTL``: seconds every part URL lives after create."""
POLAR_LIMITS = PartLimits(
    min_part=5 * MiB,
    max_part=5 * GiB,
    max_parts=10_000,
    max_size=5 * TiB,
    min_size=0,
    default_part=10_000_000,
)
"""The web uploader's 10,000,000 B parts under S3's rules (Polar checks no sizes itself)."""
SERVICE = "downloadable"
"""Files for the downloadables benefit: any type, no size cap."""
ABORT_NOTE = (
    "Polar has no abort for uploads: the file record is deleted, but parts already sent "
    "stay in Polar's storage until its lifecycle rules remove them"
)


class PolarProvider(BaseProvider):
    """A Polar organization's file storage, reached with an access token."""

    name: ClassVar[str] = "polar"
    title: ClassVar[str] = "Polar"
    limits = POLAR_LIMITS
    digests = frozenset({"sha256", "md5"})
    """SHA-256 is signed into each part link; MD5 checks S3's ETag."""
    digests_before_open = True
    file_digests = frozenset({"sha256"})
    renewable_targets = False
    target_lifetime = LINK_LIFETIME
    overwrites_parts = True
    """Part links are S3 UploadPart URLs: a repeated PUT overwrites."""
    complete_repeatable = True
    """A repeated ``/uploaded`` cannot make a second file, and each one checks the list."""
    open_repeatable = False
    """Each create starts a new file and S3 upload; one whose answer is lost is not found."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        token: str | TokenSource,
        organization_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = PolarApi(client, base_url=base_url, token=token)
        self.organization_id = organization_id
        self._clock = clock

    def _list_params(self, **extra: str | list[str]) -> dict[str, str | list[str]]:
        params: dict[str, str | list[str]] = dict(extra)
        if self.organization_id:
            params["organization_id"] = self.organization_id
        return params

    # -- the protocol ----------------------------------------------------------------------

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """Create the file: Polar starts the S3 upload and signs one URL per part."""
        checksums: dict[int, str] = {}
        for part in parts:
            if not part.sha256:
                raise RejectedError(
                    f"part {part.number} has no SHA-256 yet and Polar needs every part's before "
                    f"the upload opens; resume with partdeck resume {session.id[:8]}"
                )
            checksums[part.number] = b64_of_hex(part.sha256)
        name = os.path.basename(session.path)
        request: dict[str, Any] = {
            "name": name,
            "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "size": session.size,
            "service": SERVICE,
            "upload": {
                "parts": [
                    {
                        "number": p.number,
                        "chunk_start": p.start,
                        "chunk_end": p.end,
                        "checksum_sha256_base64": checksums[p.number],
                    }
                    for p in parts
                ]
            },
        }
        if self.organization_id:
            request["organization_id"] = self.organization_id
        if session.digests.get("sha256"):
            request["checksum_sha256_base64"] = b64_of_hex(session.digests["sha256"])
        response = await self._api.request("POST", "/v1/files/", "create file", body=request)
        data = self._api.read_json(response, "create file")
        try:
            remote = parse_file_upload(data, parts, checksums)
        except RejectedError:
            await self._discard(data)
            raise
        return OpenedSession(remote=remote, location=_location(remote))

    async def _discard(self, data: Any) -> None:
        """Best effort: delete a file whose create answer we will not use."""
        file_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(file_id, str) or not file_id:
            return
        # The refusal that brought us here is the message that matters, not this one's.
        with contextlib.suppress(RemoteError):
            await self._api.request("DELETE", f"/v1/files/{quote(file_id, safe='')}", "delete file")

    async def target(self, session: Session, part: Part) -> PartTarget:
        """The link Polar signed at create; past its expiry there is no other."""
        link = _link(session, part)
        expires_at = float(link["expires_at"])
        if self._clock() >= expires_at:
            raise TargetExpired(
                f"part {part.number}: its link expired at "
                f"{time.strftime('%H:%M:%S', time.localtime(expires_at))} and Polar cannot "
                "renew part links: abort and upload again"
            )
        return PartTarget(
            url=str(link["url"]),
            method="PUT",
            headers=dict(link["headers"]),
            expires_at=expires_at,
        )

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """S3's answer to the PUT; the ETag is kept as received, for ``/uploaded``."""
        what = f"part {part.number}"
        if response.status_code == 400 and error_of(response.content)[0] == "BadDigest":
            raise RejectedError(
                f"{what}: Polar's storage refused the bytes because their SHA-256 is not the "
                "one signed into the part link at create (BadDigest); retry the part with "
                f"partdeck retry {session.id[:8]}, and if it is refused again abort and "
                "upload the file again",
                status=400,
                code="BadDigest",
            )
        try:
            checked = etag_receipt(part, response, what)
        except TargetExpired as exc:
            raise TargetExpired(
                f"{what}: its link has expired and Polar cannot renew part links: abort and "
                "upload again",
                status=exc.status,
                code=exc.code,
            ) from None
        return Receipt(etag=response.headers.get("ETag", "").strip(), verified=checked.verified)

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """``/uploaded``; after an unclear answer the file list says whether it landed."""
        remote = session.remote
        location = _location(remote)
        if session.complete_sent > 1 and await self._listed(remote):
            return location  # an earlier complete whose answer was lost did land
        body = _uploaded_body(remote, parts)
        last: TransientError | None = None
        for _ in range(2):
            try:
                await self._uploaded(remote, body)
                return location
            except TransientError as exc:
                last = exc
            except RejectedError as exc:
                if exc.status == 404:  # FileNotFound: deleted, and its parts with it
                    raise UploadGone(exc.message, status=404, code=exc.code) from None
                raise
            if await self._listed(remote):
                return location
        said = f"HTTP {last.status}" if last and last.status else str(last).split(";")[0]
        raise CompleteUnknown(
            f"complete: no clear answer from Polar ({said}) and its list does not show file "
            f"{remote.get('file_id')} as uploaded; check the file in Polar, then run partdeck "
            f"complete {session.id[:8]} again (repeating it is safe) or abort"
        )

    async def _uploaded(self, remote: Mapping[str, Any], body: dict[str, Any]) -> None:
        file_id = str(remote["file_id"])
        what = "complete"
        response = await self._api.request(
            "POST", f"/v1/files/{quote(file_id, safe='')}/uploaded", what, body=body
        )
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise TransientError(f"{what}: Polar's answer is not JSON") from None
        parse_file_read(data, file_id, what)

    async def _listed(self, remote: Mapping[str, Any]) -> bool:
        """True when Polar lists the file as uploaded (its list shows nothing else)."""
        file_id = str(remote["file_id"])
        try:
            response = await self._api.request(
                "GET", "/v1/files/", "check file", params=self._list_params(ids=file_id)
            )
            data = response.json()
        except (RemoteError, ValueError, UnicodeDecodeError, RecursionError):
            return False  # unknown: the caller goes on as if not listed
        return listed_uploaded(data, file_id)

    async def find_completed(self, session: Session) -> str | None:
        """Polar lists only uploaded files: listed means complete took effect."""
        return _location(session.remote) if await self._listed(session.remote) else None

    async def abort(self, session: Session) -> str | None:
        """Delete the file record; Polar cannot abort the S3 upload behind it."""
        file_id = str(session.remote["file_id"])
        path = f"/v1/files/{quote(file_id, safe='')}"
        try:
            # Polar answers 204; any other success is not its answer (something in between
            # may have sent it), so the DELETE goes once more: 204 or 404 confirm it.
            for _ in range(2):
                response = await self._api.request("DELETE", path, "abort (delete file)")
                if response.status_code == 204:
                    return ABORT_NOTE
        except RejectedError as exc:
            if exc.status != 404:  # 404: already deleted
                raise
            return ABORT_NOTE
        raise TransientError(
            f"abort (delete file): Polar did not confirm it (an HTTP {response.status_code} "
            "answer that is not Polar's)",
            status=response.status_code,
        )

    async def forget(self, session: Session) -> str | None:
        """Best effort: delete the Polar file a gone upload leaves (never uploaded)."""
        file_id = session.remote.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            return None
        shown = file_id[:64]
        try:
            response = await self._api.request(
                "DELETE", f"/v1/files/{quote(file_id, safe='')}", "delete file"
            )
        except RemoteError as exc:
            if exc.status == 404:
                return None  # deleted already: nothing is left
            return f"Polar file {shown} (never uploaded) may remain: delete it in Polar"
        if response.status_code != 204:
            return f"Polar file {shown} (never uploaded) may remain: delete it in Polar"
        return f"Polar file {shown} (never uploaded) was deleted"

    async def check(self) -> str:
        """List one file: proves the token, its scope and the organization."""
        response = await self._api.request(
            "GET", "/v1/files/", "check account", params=self._list_params(limit="1")
        )
        data = self._api.read_json(response, "check account")
        pagination = data.get("pagination") if isinstance(data, dict) else None
        count = pagination.get("total_count") if isinstance(pagination, dict) else None
        if not is_int(count):
            raise RejectedError("check account: Polar's answer is not a file list")
        return f"Polar files API reachable ({count} uploaded file(s))"


def _link(session: Session, part: Part) -> Mapping[str, Any]:
    for link in session.remote.get("parts", ()):
        if isinstance(link, dict) and link.get("number") == part.number:
            return link
    raise RejectedError(
        f"part {part.number}: the journal holds no Polar link for it; abort and upload again"
    )


def _uploaded_body(remote: Mapping[str, Any], parts: Sequence[Part]) -> dict[str, Any]:
    """FileUploadCompleted: each part's ETag as S3 sent it and the checksum given at create."""
    checksums = {link["number"]: link.get("checksum_sha256_base64") for link in remote["parts"]}
    return {
        "id": remote["upload_id"],
        "path": remote["key"],
        "parts": [
            {
                "number": p.number,
                "checksum_etag": p.etag or "",
                "checksum_sha256_base64": checksums.get(p.number),
            }
            for p in sorted(parts, key=lambda p: p.number)
        ],
    }


def _location(remote: Mapping[str, Any]) -> str:
    return f"polar file {remote.get('file_id')} ({remote.get('key')})"


def describe(remote: Mapping[str, Any]) -> str:
    """A short, secret-free description of a Polar remote session."""
    return _location(remote)


def from_account(
    account: AccountSettings, client: httpx.AsyncClient, token: TokenSource
) -> PolarProvider:
    """The adapter for a configured Polar account, with its token's source."""
    if not account.base_url:
        raise ConfigError(f"accounts.{account.name}: base_url is not set; add it to the config")
    return PolarProvider(
        client,
        base_url=account.base_url,
        token=token,
        organization_id=account.organization_id,
    )
