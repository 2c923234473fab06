"""The S3 adapter: the Provider protocol over one bucket's multipart uploads."""

from __future__ import annotations

import base64
import mimetypes
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from tui.core.errors import CallUnsupported, RejectedError, UsageError
from tui.core.model import Part, Session
from tui.core.plan import S3_LIMITS, PartLimits
from tui.core.ports import OpenedSession, PartTarget, Receipt, RemotePart, RemoteUpload
from tui.providers.base import BaseProvider
from tui.providers.s3 import finish, listing
from tui.providers.s3.bucket import S3Bucket
from tui.providers.s3xml import etag_receipt, parse_xml, raise_for_s3, text

PART_URL_LIFETIME = 3600
"""Seconds a minted part URL lives; minted again on demand, so short is safe."""


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
        self._bucket = S3Bucket(
            client,
            name=bucket,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            endpoint_url=endpoint_url,
        )
        self.prefix = prefix
        self._clock = clock
        self.limits: PartLimits = S3_LIMITS
        self.lacking: dict[str, CallUnsupported] = {}
        """Calls this store answered 405/501 to, by name: not asked again in this process."""
        if min_part_size is not None:
            self.limits = PartLimits(
                min_part=min_part_size, default_part=max(min_part_size, S3_LIMITS.default_part)
            )

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        return self._bucket.name

    @property
    def region(self) -> str:
        """The signing region."""
        return self._bucket.region

    def key_for(self, path: str) -> str:
        """The object key for a local file: the account's prefix plus the file name."""
        return f"{self.prefix}{os.path.basename(path)}"

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

    # -- the protocol ----------------------------------------------------------------------

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """CreateMultipartUpload."""
        key = self.key_for(session.path)
        content_type = mimetypes.guess_type(session.path)[0] or "application/octet-stream"
        response = await self._bucket.request(
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
        url = self._bucket.url(
            session.remote["key"],
            {"partNumber": part.number, "uploadId": session.remote["upload_id"]},
        )
        headers: dict[str, str] = {}
        if part.md5:
            headers["Content-MD5"] = base64.b64encode(bytes.fromhex(part.md5)).decode()
        return PartTarget(
            url=self._bucket.presign("PUT", url, headers, PART_URL_LIFETIME),
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
            return await listing.list_parts(
                self._bucket, session.remote["key"], session.remote["upload_id"]
            )
        except CallUnsupported as exc:
            # Told once: from now on the engine does not ask, and the journal decides.
            self.can_list_parts = False
            raise self._lacks("ListParts", exc) from None

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """CompleteMultipartUpload; an ambiguous failure is checked against the object."""
        return await finish.complete(self._bucket, session, parts)

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
        await finish.abort_upload(self._bucket, key, upload_id)

    async def list_uploads(self, prefix: str = "") -> list[RemoteUpload]:
        """ListMultipartUploads under the account's prefix, with each upload's parts summed."""
        try:
            return await listing.list_uploads(self._bucket, self.prefix + prefix)
        except CallUnsupported as exc:
            lacking = self._lacks("ListMultipartUploads", exc)
            raise UsageError(
                f"{lacking}, so partdeck cannot list its incomplete uploads; the journal's "
                "sessions (partdeck sessions) are all partdeck knows of"
            ) from None

    async def check(self) -> str:
        """HeadBucket."""
        response = await self._bucket.request("HEAD", "check bucket", check=False)
        if response.status_code == 404:
            raise RejectedError(f"bucket {self.bucket} does not exist; check the account's bucket")
        if response.status_code in (401, 403):
            raise RejectedError(f"bucket {self.bucket}: access denied; check the account's keys")
        raise_for_s3(response, "check bucket")
        return f"bucket {self.bucket} reachable"


def describe(remote: Mapping[str, Any]) -> str:
    """A short, secret-free description of an S3 remote session."""
    return f"s3://{remote.get('bucket')}/{remote.get('key')} (upload {remote.get('upload_id')})"
