"""The S3 back end the S3-backed emulators use, as the real services use theirs.

Control calls go straight to the S3 server (moto) through botocore's client; part URLs
are presigned for the public gateway (which checks signatures, expiry and digests before
forwarding to moto), signed with the sandbox's key pair. botocore does the signing and
the XML; nothing here is hand-written S3.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import botocore.session
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.client import BaseClient
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

T = TypeVar("T")

REGION = "us-east-1"


class BackendError(Exception):
    """An S3 error from the back end: HTTP status, S3 code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BackendPart:
    """A part the back end holds."""

    number: int
    size: int
    etag: str
    """Quoted, as S3 gives it."""
    checksum_sha256: str | None = None


def _client(endpoint: str, access_key: str, secret_key: str) -> BaseClient:
    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 1},
        ),
    )


class SigV2Auth(HmacV1Auth):  # type: ignore[misc]  # botocore is untyped
    """botocore's SigV2 signer with the Date line S3 uses, not the signer's clock.

    HmacV1Auth always signs its own ``formatdate()``, so a signature made at one second
    never matches one recomputed at the next. S3 signs the request's Date, or an empty
    Date line when ``x-amz-date`` is sent (that header is signed among the x-amz-* ones).
    """

    def __init__(self, credentials: Credentials, date: str = "") -> None:
        super().__init__(credentials)
        self._date = date

    def _get_date(self) -> str:
        return self._date


class S3Backend:
    """One bucket: multipart calls against moto, part URLs minted for the gateway."""

    def __init__(
        self,
        s3_url: str,
        public_url: str,
        bucket: str,
        access_key: str,
        secret_key: str,
    ) -> None:
        self.bucket = bucket
        self.public_url = public_url
        self._credentials = Credentials(access_key, secret_key)
        self._s3 = _client(s3_url, access_key, secret_key)
        self._signer = _client(public_url, access_key, secret_key)

    async def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(functools.partial(fn, Bucket=self.bucket, **kwargs))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
            raise BackendError(
                status, str(error.get("Code", "InternalError")), str(error.get("Message", ""))
            ) from None
        except BotoCoreError as exc:
            raise BackendError(503, "ServiceUnavailable", str(exc)) from None

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet (blocking; used at start-up)."""
        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._s3.create_bucket(Bucket=self.bucket)

    async def create(
        self, key: str, content_type: str, *, checksum_algorithm: str | None = None
    ) -> str:
        """CreateMultipartUpload; returns the upload id."""
        kwargs: dict[str, Any] = {"Key": key, "ContentType": content_type}
        if checksum_algorithm:
            kwargs["ChecksumAlgorithm"] = checksum_algorithm
        answer = await self._call(self._s3.create_multipart_upload, **kwargs)
        return str(answer["UploadId"])

    def presign_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        expires: int,
        *,
        checksum_sha256: str | None = None,
        content_md5: str | None = None,
    ) -> str:
        """A SigV4 presigned UploadPart URL on the gateway; digests given are signed in."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": number,
        }
        if checksum_sha256:
            params["ChecksumSHA256"] = checksum_sha256
        if content_md5:
            params["ContentMD5"] = content_md5
        return str(
            self._signer.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires)
        )

    def sign_v2_part(
        self, key: str, upload_id: str, number: int, date: str, content_md5: str = ""
    ) -> str:
        """The SigV2 ``Authorization`` value for a part PUT with an empty Content-Type."""
        url = self.part_url(key, upload_id, number)
        headers = {"x-amz-date": date, "Content-Type": ""}
        if content_md5:
            headers["Content-MD5"] = content_md5
        request = AWSRequest(method="PUT", url=url, headers=headers)
        SigV2Auth(self._credentials).add_auth(request)
        return str(request.headers["Authorization"])

    def part_url(self, key: str, upload_id: str, number: int) -> str:
        """The plain (unsigned) UploadPart URL on the gateway."""
        query = urlencode({"partNumber": number, "uploadId": upload_id})
        return f"{self.public_url}/{quote(self.bucket)}/{quote(key, safe='/~')}?{query}"

    async def complete(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[Mapping[str, Any]],
        *,
        checksum_sha256: str | None = None,
    ) -> str:
        """CompleteMultipartUpload with ``[{"PartNumber", "ETag", "ChecksumSHA256"?}]``;
        returns the object's ETag. BackendError NoSuchUpload when the upload is gone."""
        kwargs: dict[str, Any] = {
            "Key": key,
            "UploadId": upload_id,
            "MultipartUpload": {"Parts": [dict(p) for p in parts]},
        }
        if checksum_sha256:
            kwargs["ChecksumSHA256"] = checksum_sha256
        try:
            answer = await self._call(self._s3.complete_multipart_upload, **kwargs)
        except BackendError as exc:
            if exc.status == 500:
                # moto fails a complete of an upload it no longer holds with a bare 500;
                # S3 says 404 NoSuchUpload, and ListParts (which raises it) says which.
                await self.parts(key, upload_id)
            raise
        return str(answer.get("ETag", ""))

    async def abort(self, key: str, upload_id: str) -> None:
        """AbortMultipartUpload; BackendError NoSuchUpload when it is unknown or finished."""
        await self._call(self._s3.abort_multipart_upload, Key=key, UploadId=upload_id)

    async def parts(self, key: str, upload_id: str) -> list[BackendPart]:
        """Every part of an upload (all pages)."""
        found: list[BackendPart] = []
        marker = 0
        while True:
            page = await self._call(
                self._s3.list_parts, Key=key, UploadId=upload_id, PartNumberMarker=marker
            )
            for p in page.get("Parts", []):
                found.append(
                    BackendPart(
                        number=int(p["PartNumber"]),
                        size=int(p["Size"]),
                        etag=str(p["ETag"]),
                        checksum_sha256=p.get("ChecksumSHA256"),
                    )
                )
            if not page.get("IsTruncated"):
                return found
            marker = int(page.get("NextPartNumberMarker", 0))

    async def uploads(self, prefix: str = "") -> list[tuple[str, str]]:
        """(key, upload id) of every incomplete upload under ``prefix``."""
        answer = await self._call(self._s3.list_multipart_uploads, Prefix=prefix)
        return [(str(u["Key"]), str(u["UploadId"])) for u in answer.get("Uploads", [])]

    async def head(self, key: str) -> dict[str, Any] | None:
        """The object's metadata, or None when it does not exist."""
        try:
            return dict(await self._call(self._s3.head_object, Key=key))
        except BackendError as exc:
            if exc.status == 404 or exc.code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    async def read(self, key: str) -> bytes:
        """The object's bytes (tests and small files only)."""
        answer = await self._call(self._s3.get_object, Key=key)
        return bytes(await asyncio.to_thread(answer["Body"].read))

    async def delete(self, key: str) -> None:
        """Delete the object."""
        await self._call(self._s3.delete_object, Key=key)
