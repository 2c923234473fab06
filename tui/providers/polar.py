"""Polar's Files API: a multipart S3 upload that Polar opens, signs and closes.

``POST /v1/files/`` takes the client's part boundaries with every part's SHA-256 and
answers with one presigned S3 URL per part (600 s, no way to sign again); each part is
PUT there with exactly the headers Polar gives (the SHA-256 is signed in, so S3 refuses
other bytes); ``POST /v1/files/{id}/uploaded`` hands Polar the ETags and the same
checksums. Polar has no abort: ``DELETE /v1/files/{id}`` removes the record and the
object, and the parts already sent stay in Polar's bucket until its lifecycle rules
remove them.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import mimetypes
import os
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, NoReturn
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
from tui.core.redact import redact
from tui.core.transfer import check_transient, network_error
from tui.core.units import GiB, MiB, TiB
from tui.providers.account import AccountSettings
from tui.providers.base import BaseProvider
from tui.providers.s3xml import error_of, etag_receipt

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
CHECKSUM_HEADER = "x-amz-checksum-sha256"
SCOPE_FIX = "create an Organization Access Token with the files:write scope"
ABORT_NOTE = (
    "Polar has no abort for uploads: the file record is deleted, but parts already sent "
    "stay in Polar's storage until its lifecycle rules remove them"
)
MAX_TEXT = 200
"""Longest piece of a server's error text put into a message."""


def b64_of_hex(digest: str) -> str:
    """Base64 of the raw bytes of a hex digest, as Polar wants SHA-256 values."""
    return base64.b64encode(bytes.fromhex(digest)).decode()


def _clip(value: Any, secret: str = "") -> str:
    """A server-supplied value as a short, single-line, secret-free piece of text.

    ``secret`` is cut out before anything is shortened: a cut first could leave part of
    it behind, to surface once whitespace collapses.
    """
    text = str(value)
    if secret:
        text = text.replace(secret, "…")
    text = redact(" ".join(text[: 4 * MAX_TEXT].split()))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _epoch(value: Any, what: str) -> float:
    """An ISO 8601 datetime from Polar as Unix time (UTC when it names no zone)."""
    if not isinstance(value, str):
        raise RejectedError(f"{what}: expires_at is missing or not a date")
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    except (ValueError, OverflowError, OSError):
        raise RejectedError(f"{what}: expires_at {_clip(value)!r} is not a date") from None


def check_part_url(url: Any, what: str) -> str:
    """A part URL must be https, or plain http on a loopback host (the sandbox)."""
    if not isinstance(url, str) or not url:
        raise RejectedError(f"{what}: the part has no URL")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise RejectedError(f"{what}: the part URL is not a valid URL") from None
    if parsed.scheme == "https" and parsed.host:
        return url
    if parsed.scheme == "http" and _loopback(parsed.host):
        return url
    raise RejectedError(
        f"{what}: the part URL is not https ({_clip(parsed.scheme)}://{_clip(parsed.host)}); "
        "refusing to send file bytes there"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _headers(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise RejectedError(f"{what}: the part's headers are not a map of strings")
    return dict(value)


def parse_file_upload(
    data: Any, parts: Sequence[Part], checksums: Mapping[int, str]
) -> dict[str, Any]:
    """Check Polar's FileUpload answer against the request; return the session's remote.

    The answer must describe the same parts with the same ranges, each with a usable URL,
    an expiry and headers that carry the checksum we gave. Anything else raises
    RejectedError: sending bytes on a plan Polar did not sign would fail later, and worse.
    """
    what = "create file"
    if not isinstance(data, dict):
        raise RejectedError(f"{what}: Polar's answer is not a FileUpload object")
    file_id, upload = data.get("id"), data.get("upload")
    if not isinstance(file_id, str) or not file_id.strip():
        raise RejectedError(f"{what}: Polar's answer has no file id")
    if not isinstance(upload, dict):
        raise RejectedError(f"{what}: Polar's answer has no upload")
    upload_id, upload_path = upload.get("id"), upload.get("path")
    if not isinstance(upload_id, str) or not upload_id or not isinstance(upload_path, str):
        raise RejectedError(f"{what}: Polar's answer has no upload id or path")
    answered = upload.get("parts")
    if not isinstance(answered, list) or len(answered) != len(parts):
        count = len(answered) if isinstance(answered, list) else "no"
        raise RejectedError(
            f"{what}: Polar answered with {count} part(s) for the {len(parts)} asked for"
        )
    by_number = {p.number: p for p in parts}
    links: dict[int, dict[str, Any]] = {}
    for item in answered:
        link = _parse_part(item, by_number, checksums, what)
        if link["number"] in links:
            raise RejectedError(f"{what}: Polar listed part {link['number']} twice")
        links[link["number"]] = link
    organization = data.get("organization_id")
    return {
        "file_id": file_id,
        "upload_id": upload_id,
        "key": upload_path,
        "organization_id": organization if isinstance(organization, str) else None,
        "name": data.get("name") if isinstance(data.get("name"), str) else None,
        "parts": [links[n] for n in sorted(links)],
    }


def _parse_part(
    item: Any, by_number: Mapping[int, Part], checksums: Mapping[int, str], what: str
) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise RejectedError(f"{what}: a part in Polar's answer is not an object")
    number: Any = item.get("number")
    part = by_number.get(number) if _is_int(number) else None
    if part is None:
        raise RejectedError(f"{what}: Polar answered with a part {_clip(number)} not asked for")
    where = f"{what}: part {part.number}"
    if item.get("chunk_start") != part.start or item.get("chunk_end") != part.end:
        raise RejectedError(
            f"{where}: Polar's range {_clip(item.get('chunk_start'))}-"
            f"{_clip(item.get('chunk_end'))} is not the {part.start}-{part.end} asked for"
        )
    checksum = checksums[part.number]
    headers = _headers(item.get("headers"), where)
    signed = {k.lower(): v for k, v in headers.items()}.get(CHECKSUM_HEADER)
    echoed = item.get("checksum_sha256_base64")
    if signed != checksum or echoed not in (None, checksum):
        raise RejectedError(
            f"{where}: Polar did not sign the part's SHA-256 as given; the part would be refused"
        )
    return {
        "number": part.number,
        "url": check_part_url(item.get("url"), where),
        "expires_at": _epoch(item.get("expires_at"), where),
        "headers": headers,
        "checksum_sha256_base64": checksum,
    }


def parse_file_read(data: Any, file_id: str, what: str) -> None:
    """Check the FileRead ``/uploaded`` answers: this file, marked uploaded.

    Anything else leaves complete's outcome open: TransientError, so the caller looks
    for the file in Polar's list before sending ``/uploaded`` again.
    """
    if not isinstance(data, dict):
        raise TransientError(f"{what}: Polar's answer is not a file object")
    if data.get("id") not in (None, file_id):
        raise TransientError(f"{what}: Polar answered about another file ({_clip(data['id'])})")
    if data.get("is_uploaded") is not True:
        raise TransientError(f"{what}: Polar's answer does not mark the file uploaded")


def listed_uploaded(data: Any, file_id: str) -> bool:
    """True when a ``GET /v1/files/`` page lists ``file_id`` as uploaded."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return False
    return any(
        isinstance(i, dict) and i.get("id") == file_id and i.get("is_uploaded") is True
        for i in items
    )


def polar_error_text(response: httpx.Response, secret: str = "") -> tuple[str | None, str]:
    """(error kind, detail) from any of Polar's error bodies; detail may be empty.

    Polar's own errors are ``{"type", "detail"}``, validation errors ``{"detail": [{"loc",
    "msg", "type"}]}`` and OAuth errors ``{"error", "error_description"}``.
    """
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested absurdly deep
        return None, _clip(response.text, secret) if response.text.strip() else ""
    if not isinstance(body, dict):
        return None, ""
    if isinstance(body.get("error"), str):
        return _clip(body["error"], secret), _clip(body.get("error_description") or "", secret)
    kind = _clip(body["type"], secret) if isinstance(body.get("type"), str) else None
    detail = body.get("detail")
    if isinstance(detail, list):
        return kind or "validation", _validation_text(detail, secret)
    return kind, _clip(detail, secret) if detail is not None else ""


def _validation_text(entries: list[Any], secret: str = "") -> str:
    """``body.size: Input should be …; body.name: Field required`` (first three)."""
    shown = []
    for entry in entries[:3]:
        if not isinstance(entry, dict):
            continue
        loc = entry.get("loc")
        where = ".".join(str(x) for x in loc) if isinstance(loc, list) else ""
        msg = entry.get("msg", "invalid")
        shown.append(_clip(f"{where}: {msg}" if where else msg, secret))
    more = len(entries) - 3
    return "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")


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
        token: str,
        organization_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token
        self._auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.organization_id = organization_id
        self._clock = clock

    # -- plumbing --------------------------------------------------------------------------

    async def _request(
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
                headers=self._auth,
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None
        if not response.is_success:
            raise_for_polar(response, what, self._token)
        return response

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RejectedError(f"{what}: Polar's answer is not JSON") from None

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
        response = await self._request("POST", "/v1/files/", "create file", body=request)
        data = self._json(response, "create file")
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
            await self._request("DELETE", f"/v1/files/{quote(file_id, safe='')}", "delete file")

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
        response = await self._request(
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
            response = await self._request(
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
                response = await self._request("DELETE", path, "abort (delete file)")
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
            response = await self._request(
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
        response = await self._request(
            "GET", "/v1/files/", "check account", params=self._list_params(limit="1")
        )
        data = self._json(response, "check account")
        pagination = data.get("pagination") if isinstance(data, dict) else None
        count = pagination.get("total_count") if isinstance(pagination, dict) else None
        if not _is_int(count):
            raise RejectedError("check account: Polar's answer is not a file list")
        return f"Polar files API reachable ({count} uploaded file(s))"


def raise_for_polar(response: httpx.Response, what: str, secret: str = "") -> NoReturn:
    """Raise the RemoteError for a failed Polar API answer (5xx and 429 are transient).

    ``secret`` (the token) is cut out of anything the server said.
    """
    check_transient(response, what)
    status = response.status_code
    kind, detail = polar_error_text(response, secret)
    said = f" ({detail})" if detail else ""
    if status == 401:
        raise RejectedError(
            f"{what}: Polar rejected the token{said}; check the account's token ({SCOPE_FIX})",
            status=status,
            code=kind,
        )
    if status == 403 and (kind == "insufficient_scope" or "scope" in detail.lower()):
        raise RejectedError(
            f"{what}: the token lacks files:write; {SCOPE_FIX}", status=status, code=kind
        )
    if status == 403:
        raise RejectedError(
            f"{what}: Polar said not permitted{said}; check that the token belongs to the "
            "file's organization",
            status=status,
            code=kind,
        )
    if status == 404:
        raise RejectedError(
            f"{what}: Polar has no such file{said}; it was deleted, so upload the file again",
            status=status,
            code=kind,
        )
    if status == 422:
        raise RejectedError(
            f"{what}: Polar refused the request: {detail or 'invalid'}", status=status, code=kind
        )
    label = f"{kind}: {detail}" if kind and detail else kind or detail
    raise RejectedError(
        f"{what}: Polar said {status}" + (f" ({label})" if label else ""), status=status, code=kind
    )


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


def from_account(account: AccountSettings, client: httpx.AsyncClient) -> PolarProvider:
    """The adapter for a configured Polar account (its token is read once, here)."""
    if not account.base_url:
        raise ConfigError(f"accounts.{account.name}: base_url is not set; add it to the config")
    return PolarProvider(
        client,
        base_url=account.base_url,
        token=account.token(),
        organization_id=account.organization_id,
    )
