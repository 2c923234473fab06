"""Direct S3: any S3-compatible endpoint, signed with botocore's SigV4 signer.

Control calls (create, list, complete, abort) are header-signed; part uploads go to
presigned URLs with Content-MD5 signed in, so the server checks every part and the URL
can be minted again whenever one expires.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import httpx
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tui.core.errors import (
    CallUnsupported,
    CompleteUnknown,
    RejectedError,
    TransientError,
    UploadGone,
    UsageError,
)
from tui.core.gone import GONE_TEXT
from tui.core.model import Part, Session
from tui.core.plan import S3_LIMITS, PartLimits
from tui.core.ports import OpenedSession, PartTarget, Receipt, RemotePart, RemoteUpload
from tui.core.transfer import network_error
from tui.providers.base import BaseProvider
from tui.providers.s3parse import is_completion, iso_time, multipart_etag, parts_page
from tui.providers.s3xml import (
    UNSUPPORTED_STATUSES,
    error_of,
    etag_receipt,
    local_name,
    parse_xml,
    raise_for_s3,
    server_said,
    text,
)

PART_URL_LIFETIME = 3600
"""Seconds a minted part URL lives; minted again on demand, so short is safe."""
ABORT_TRIES = 10
ABORT_SPACING = 1.0
"""Seconds between abort calls while the server still lists the upload."""
COMPLETE_TRIES = 4
COMPLETE_BACKOFF = 1.0
"""Seconds before the second complete; doubled for each further one."""
LIST_UPLOADS_PAGES = 1000
"""ListMultipartUploads pages read at most (a million uploads), whatever the markers say."""


class S3Provider(BaseProvider):
    """An S3 bucket reached directly with an access key pair."""

    name: ClassVar[str] = "s3"
    title: ClassVar[str] = "S3"
    digests = frozenset({"md5"})
    can_list_parts = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        prefix: str = "",
        min_part_size: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.bucket = bucket
        self.region = region
        self.prefix = prefix
        self._credentials = Credentials(access_key, secret_key)
        self._clock = clock
        if endpoint_url:
            self._base = f"{endpoint_url.rstrip('/')}/{quote(bucket)}"
        else:
            self._base = f"https://{bucket}.s3.{region}.amazonaws.com"
        self.limits: PartLimits = S3_LIMITS
        self.lacking: dict[str, CallUnsupported] = {}
        """Calls this store answered 405/501 to, by name: not asked again in this process."""
        if min_part_size is not None:
            self.limits = PartLimits(
                min_part=min_part_size, default_part=max(min_part_size, S3_LIMITS.default_part)
            )

    # -- plumbing --------------------------------------------------------------------------

    def _url(self, key: str = "", query: Mapping[str, str | int | None] | None = None) -> str:
        url = f"{self._base}/{quote(key, safe='/~')}" if key else f"{self._base}/"
        if query:
            parts = [k if v is None else urlencode({k: v}) for k, v in sorted(query.items())]
            url += "?" + "&".join(parts)
        return url

    async def _request(
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
        url = self._url(key, query)
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        S3SigV4Auth(self._credentials, "s3", self.region).add_auth(request)
        try:
            response = await self._client.request(
                method, url, content=body, headers=dict(request.headers.items())
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None
        if check:
            raise_for_s3(response, what)
        return response

    def key_for(self, path: str) -> str:
        """The object key for a local file: the account's prefix plus the file name."""
        return f"{self.prefix}{os.path.basename(path)}"

    # -- the protocol ----------------------------------------------------------------------

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """CreateMultipartUpload."""
        key = self.key_for(session.path)
        content_type = mimetypes.guess_type(session.path)[0] or "application/octet-stream"
        response = await self._request(
            "POST", "create upload", key, {"uploads": None}, headers={"Content-Type": content_type}
        )
        root = parse_xml(response.content, "create upload")
        upload_id = text(root, "UploadId")
        if not upload_id:
            raise RejectedError("create upload: the server's answer has no UploadId")
        return OpenedSession(
            remote={"upload_id": upload_id, "key": key, "bucket": self.bucket},
            location=f"s3://{self.bucket}/{key}",
        )

    async def target(self, session: Session, part: Part) -> PartTarget:
        """A freshly presigned UploadPart URL with Content-MD5 signed in."""
        url = self._url(
            session.remote["key"],
            {"partNumber": part.number, "uploadId": session.remote["upload_id"]},
        )
        headers: dict[str, str] = {}
        if part.md5:
            headers["Content-MD5"] = base64.b64encode(bytes.fromhex(part.md5)).decode()
        request = AWSRequest(method="PUT", url=url, headers=headers)
        S3SigV4QueryAuth(self._credentials, "s3", self.region, expires=PART_URL_LIFETIME).add_auth(
            request
        )
        return PartTarget(
            url=str(request.url),
            headers=headers,
            expires_at=self._clock() + PART_URL_LIFETIME,
        )

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """The part's ETag must equal its MD5 when it is an MD5."""
        return etag_receipt(part, response, f"part {part.number}")

    async def remote_parts(self, session: Session) -> list[RemotePart] | None:
        """ListParts, every page. CallUnsupported where the store lacks ListParts (then
        the journal alone says which parts are on the server)."""
        known = self.lacking.get("ListParts")
        if known is not None:
            raise known
        try:
            return await self._list_parts(session.remote["key"], session.remote["upload_id"])
        except CallUnsupported as exc:
            # Told once: from now on the engine does not ask, and the journal decides.
            self.can_list_parts = False
            raise self._lacks("ListParts", exc) from None

    def _lacks(self, call: str, exc: CallUnsupported) -> CallUnsupported:
        """Remember that the store lacks ``call``; the error that says so, once, for people."""
        said = f"{exc.status} {exc.code}" if exc.code else str(exc.status)
        lacking = CallUnsupported(
            f"the S3 store of bucket {self.bucket} does not support {call} (it answered {said})",
            status=exc.status,
            code=exc.code,
        )
        self.lacking[call] = lacking
        return lacking

    async def _list_parts(self, key: str, upload_id: str) -> list[RemotePart]:
        """ListParts, page by page. A RejectedError ends the listing, rather than trusting
        it, when an entry has no whole-number PartNumber and Size (skipping it would read
        as "that part is not held", and a verified part would be sent again) or when a
        next-page marker does not move forward (the same page would be asked for forever)."""
        found: list[RemotePart] = []
        marker = 0
        while True:
            query: dict[str, str | int | None] = {"uploadId": upload_id, "max-parts": 1000}
            if marker:
                query["part-number-marker"] = marker
            response = await self._request("GET", "list parts", key, query)
            page, following = parts_page(parse_xml(response.content, "list parts"), marker)
            found += page
            if following is None:
                return found
            marker = following

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """CompleteMultipartUpload; an ambiguous failure is checked against the object."""
        key, upload_id = session.remote["key"], session.remote["upload_id"]
        body = "".join(
            f"<Part><PartNumber>{p.number}</PartNumber><ETag>&quot;{escape(p.etag or '')}"
            "&quot;</ETag></Part>"
            for p in sorted(parts, key=lambda p: p.number)
        )
        xml = f"<CompleteMultipartUpload>{body}</CompleteMultipartUpload>".encode()
        location = f"s3://{self.bucket}/{key}"
        last: TransientError | None = None
        for attempt in range(COMPLETE_TRIES):
            if attempt:
                await asyncio.sleep(COMPLETE_BACKOFF * 2.0 ** (attempt - 1))
            try:
                response = await self._request(
                    "POST",
                    "complete",
                    key,
                    {"uploadId": upload_id},
                    xml,
                    headers={"Content-Type": "application/xml"},
                    check=False,
                )
            except TransientError as exc:
                last = exc
                continue
            code, message = error_of(response.content)
            if response.is_success and code is None:
                if is_completion(response.content):
                    return location
                # A 200 that is not S3's result (a page from something in between, an empty
                # or cut answer) says nothing: ask again, then the object says if it landed.
                last = TransientError(
                    "complete: the server answered 200 without S3's CompleteMultipartUploadResult"
                )
                continue
            repeated = attempt > 0 or session.complete_sent > 1
            if code == "NoSuchUpload" and (repeated or response.status_code == 404):
                # After a complete that may have landed (this one's earlier try, another
                # process's), the object says whether it did; else S3's 404 means gone.
                found = await self._object_matches(key, parts)
                if found:
                    return location
                if found is None:
                    last = TransientError("complete: the upload is gone and the object unchecked")
                    continue
                if response.status_code == 404:
                    raise UploadGone(f"complete: {GONE_TEXT}", status=404, code=code)
            if response.is_success:
                # 200 with an <Error> body: S3 failed while assembling.
                said = server_said(code, message)
                if code in ("InternalError", "SlowDown", "ServiceUnavailable"):
                    last = TransientError(f"complete: server said {said}")
                    continue
                raise RejectedError(f"complete: server said 200 but failed ({said})", code=code)
            try:
                raise_for_s3(response, "complete")
            except TransientError as exc:
                last = exc
        if await self._object_matches(key, parts):
            return location
        said = last.settled if last else "no answer"
        raise CompleteUnknown(
            f"complete: no clear answer from the server ({said}); the object may or may not "
            "exist: check it, then run partdeck complete again"
        )

    async def _object_matches(self, key: str, parts: Sequence[Part]) -> bool | None:
        """True when the object exists with the multipart ETag these parts make; None when
        the server could not say (no answer, or a 5xx)."""
        try:
            response = await self._request("HEAD", "check object", key, check=False)
        except TransientError:
            return None
        if response.status_code >= 500:
            return None
        if response.status_code != 200:
            return False
        etag: str = response.headers.get("ETag", "").strip('"')
        md5s = [p.md5 for p in sorted(parts, key=lambda p: p.number)]
        if all(md5s) and len(parts) > 0:
            return etag == multipart_etag([m for m in md5s if m])
        return etag.endswith(f"-{len(parts)}")

    async def abort(self, session: Session) -> str | None:
        """AbortMultipartUpload, repeated until ListParts says the upload is gone. A store
        that lacks the call leaves the parts sent: the note says so."""
        try:
            await self.abort_upload(session.remote["key"], session.remote["upload_id"])
        except CallUnsupported as exc:
            lacking = self._lacks("AbortMultipartUpload", exc)
            return f"{lacking}; the parts sent stay on the store until it drops them"
        return None

    async def abort_upload(self, key: str, upload_id: str) -> None:
        """Abort one upload by key and id, repeating until it is gone."""
        for attempt in range(ABORT_TRIES):
            if attempt:
                await asyncio.sleep(ABORT_SPACING)
            try:
                response = await self._request(
                    "DELETE", "abort", key, {"uploadId": upload_id}, check=False
                )
                code, _ = error_of(response.content)
                if code != "NoSuchUpload":
                    raise_for_s3(response, "abort")
                listing = await self._request(
                    "GET",
                    "check abort",
                    key,
                    {"uploadId": upload_id, "max-parts": 1},
                    check=False,
                )
            except TransientError:
                continue
            code, _ = error_of(listing.content)
            if listing.status_code == 404 or code == "NoSuchUpload":
                return
            if listing.status_code in UNSUPPORTED_STATUSES:
                return  # no ListParts to confirm with: the abort's own 2xx must do
        raise TransientError(
            f"abort: the server still lists the upload after {ABORT_TRIES} tries; "
            "run partdeck abort again later"
        )

    async def list_uploads(self, prefix: str = "") -> list[RemoteUpload]:
        """ListMultipartUploads under the account's prefix, with each upload's parts summed."""
        uploads: list[RemoteUpload] = []
        key_marker: str | None = None
        id_marker: str | None = None
        seen: set[tuple[str, str | None]] = set()
        for _ in range(LIST_UPLOADS_PAGES):
            query: dict[str, str | int | None] = {
                "uploads": None,
                "max-uploads": 1000,
                "prefix": self.prefix + prefix,
            }
            if key_marker:
                query["key-marker"] = key_marker
            if id_marker:
                query["upload-id-marker"] = id_marker
            try:
                response = await self._request("GET", "list uploads", "", query)
            except CallUnsupported as exc:
                lacking = self._lacks("ListMultipartUploads", exc)
                raise UsageError(
                    f"{lacking}, so partdeck cannot list its incomplete uploads; the journal's "
                    "sessions (partdeck sessions) are all partdeck knows of"
                ) from None
            root = parse_xml(response.content, "list uploads")
            for el in root.iter():
                if local_name(el) != "Upload":
                    continue
                key, upload_id = text(el, "Key"), text(el, "UploadId")
                if not key or not upload_id:
                    continue
                try:
                    parts = await self._list_parts(key, upload_id)
                except CallUnsupported:
                    parts = []  # a store without ListParts: the upload's size is unknown
                uploads.append(
                    RemoteUpload(
                        key=key,
                        upload_id=upload_id,
                        initiated=iso_time(text(el, "Initiated")),
                        parts=len(parts),
                        bytes=sum(p.size for p in parts),
                    )
                )
            if text(root, "IsTruncated") != "true":
                return uploads
            key_marker = text(root, "NextKeyMarker")
            id_marker = text(root, "NextUploadIdMarker")
            if not key_marker:
                return uploads
            if (key_marker, id_marker) in seen:
                raise RejectedError(
                    "list uploads: the server's next-page markers repeat, so its list of "
                    "uploads cannot be read to the end; try again later"
                )
            seen.add((key_marker, id_marker))
        return uploads

    async def check(self) -> str:
        """HeadBucket."""
        response = await self._request("HEAD", "check bucket", check=False)
        if response.status_code == 404:
            raise RejectedError(f"bucket {self.bucket} does not exist; check the account's bucket")
        if response.status_code in (401, 403):
            raise RejectedError(f"bucket {self.bucket}: access denied; check the account's keys")
        raise_for_s3(response, "check bucket")
        return f"bucket {self.bucket} reachable"


def describe(remote: Mapping[str, Any]) -> str:
    """A short, secret-free description of an S3 remote session."""
    return f"s3://{remote.get('bucket')}/{remote.get('key')} (upload {remote.get('upload_id')})"
