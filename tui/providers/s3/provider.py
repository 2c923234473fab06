"""The S3 adapter: the Provider protocol over one bucket's multipart uploads."""

from __future__ import annotations

import mimetypes
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import httpx
from botocore.credentials import Credentials

from tui.core.errors import CallUnsupported, RejectedError, TargetStale, UsageError
from tui.core.model import Part, Session
from tui.core.plan import MULTIPART_THRESHOLD, S3_LIMITS, PartLimits, check_file_size
from tui.core.ports import OpenedSession, PartTarget, Receipt, RemotePart, RemoteUpload
from tui.providers.base import BaseProvider
from tui.providers.s3 import finish, flexible, listing
from tui.providers.s3.bucket import S3Bucket
from tui.providers.s3xml import etag_receipt, parse_xml, raise_for_s3, text

PART_URL_LIFETIME = 3600
"""Seconds a minted part URL lives; minted again on demand, so short is safe."""


def is_single(session: Session) -> bool:
    """True for a session sent as one PutObject: no multipart upload behind it."""
    return bool(session.remote.get("single"))


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
        access_key: str = "",
        secret_key: str = "",
        credentials: Credentials | None = None,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        prefix: str = "",
        min_part_size: int | None = None,
        checksum: str = "auto",
        multipart_threshold: int = MULTIPART_THRESHOLD,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bucket = S3Bucket(
            client,
            name=bucket,
            access_key=access_key,
            secret_key=secret_key,
            credentials=credentials,
            region=region,
            endpoint_url=endpoint_url,
        )
        self.prefix = prefix
        self.checksum = checksum
        """The account's ``checksum`` setting (``checksums.SETTINGS``)."""
        self.multipart_threshold = multipart_threshold
        """Files smaller than this are one PutObject (``single``), larger ones multipart."""
        self._refused: str | None = None
        """What the store answered when it refused flexible checksums (then MD5)."""
        self._ignored = False
        """True once the store took a part without checking its checksum (then MD5)."""
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

    @property
    def learned(self) -> dict[str, str]:
        """That the store refuses flexible checksums (and what it said), or ignores them."""
        facts = {flexible.REFUSED: self._refused} if self._refused else {}
        if self._ignored:
            facts[flexible.IGNORED] = "yes"
        return facts

    def learn(self, facts: Mapping[str, str]) -> None:
        """Take up what an earlier process found of the store's checksums."""
        self._refused = facts.get(flexible.REFUSED) or self._refused
        self._ignored = self._ignored or flexible.IGNORED in facts

    @property
    def algorithm(self) -> str:
        """The algorithm a session opened now uses: the setting's; MD5 where the store
        refuses or ignores flexible checksums."""
        if self.checksum == flexible.MD5 or self._refused or self._ignored:
            return flexible.MD5
        return flexible.AUTO if self.checksum == "auto" else self.checksum

    def part_digests(self, session: Session) -> frozenset[str]:
        """MD5, or the session's flexible checksum (SHA-256 as the hash it is)."""
        name = flexible.session_algorithm(session) if session.opened else self.algorithm
        return frozenset({name})

    def part_size(self, size: int, requested: int | None) -> int:
        """One part for a file under the multipart threshold (whatever part size was
        asked for, as aws cli does), else the client's choice within S3's limits."""
        if size < self.multipart_threshold:
            check_file_size(size, self.limits)
            return max(size, 1)
        return super().part_size(size, requested)

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
        """CreateMultipartUpload, declaring the account's checksum. A store that refuses
        the checksum headers gets the request again without them, and the account uses
        MD5 from then on (``learned``), said in one line."""
        key = self.key_for(session.path)
        content_type = mimetypes.guess_type(session.path)[0] or "application/octet-stream"
        name, note = self.algorithm, None
        if len(parts) == 1 and session.size < self.multipart_threshold:
            # One PutObject: nothing to create; the part's PUT makes the object.
            remote = {"key": key, "bucket": self.bucket, "checksum": name, "single": True}
            remote["content_type"] = content_type
            return OpenedSession(remote=remote, location=f"s3://{self.bucket}/{key}")
        try:
            response = await self._create(key, content_type, name)
        except RejectedError as exc:
            if name == flexible.MD5 or not flexible.refuses_checksums(exc):
                raise
            self._refused = exc.settled
            note = (
                f"the S3 store of bucket {self.bucket} refuses {name} checksums ({exc.settled}); "
                "this account sends Content-MD5 from now on"
            )
            name = flexible.MD5
            response = await self._create(key, content_type, name)
        root = parse_xml(response.content, "create upload")
        upload_id = text(root, "UploadId")
        if not upload_id:
            raise RejectedError("create upload: the server's answer has no UploadId")
        return OpenedSession(
            remote={"upload_id": upload_id, "key": key, "bucket": self.bucket, "checksum": name},
            location=f"s3://{self.bucket}/{key}",
            note=note,
        )

    async def _create(self, key: str, content_type: str, name: str) -> httpx.Response:
        headers = {"Content-Type": content_type, **flexible.create_headers(name)}
        return await self._bucket.request(
            "POST", "create upload", key, {"uploads": None}, headers=headers
        )

    async def target(self, session: Session, part: Part) -> PartTarget:
        """A freshly presigned UploadPart (or PutObject) URL with the part's checksum (or
        Content-MD5) signed in: the store checks the bytes against it."""
        headers = flexible.part_headers(part, flexible.session_algorithm(session))
        if is_single(session):
            url = self._bucket.url(session.remote["key"])
            headers["Content-Type"] = str(
                session.remote.get("content_type", "application/octet-stream")
            )
        else:
            url = self._bucket.url(
                session.remote["key"],
                {"partNumber": part.number, "uploadId": session.remote["upload_id"]},
            )
        return PartTarget(
            url=await self._bucket.presign("PUT", url, headers, PART_URL_LIFETIME),
            headers=headers,
            expires_at=self._clock() + PART_URL_LIFETIME,
        )

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """Judged by what the part was sent with (a session may have turned to MD5 while
        it was on its way): Content-MD5, the ETag must equal the part's MD5; a checksum,
        the value the store echoes must equal the part's."""
        name, what = flexible.sent_algorithm(response), f"part {part.number}"
        if name == flexible.MD5:
            return etag_receipt(part, response, what)
        try:
            raise_for_s3(response, what)
        except RejectedError as exc:
            if flexible.refuses_checksums(exc) and is_single(session):
                # A PutObject is the whole upload: send it again with Content-MD5.
                self._refused = exc.settled
                session.remote["checksum"] = flexible.MD5
                raise TargetStale(
                    f"the S3 store of bucket {self.bucket} refuses {name} checksums "
                    f"({exc.settled}); sending the file again with Content-MD5, as this "
                    "account does from now on",
                    status=exc.status,
                    code=exc.code,
                ) from None
            if flexible.refuses_checksums(exc):
                raise RejectedError(
                    f"{exc.settled}; the store refuses {name} checksums on parts: set "
                    'checksum = "md5" on the account, then abort this session and upload again',
                    status=exc.status,
                    code=exc.code,
                ) from None
            raise
        try:
            return flexible.checked_receipt(part, name, response, what)
        except flexible.ChecksumsIgnored:
            # The part goes again with Content-MD5 (hashed anew: its target is minted
            # again), and so does every later part and session of the account.
            self._ignored = True
            session.remote["checksum"] = flexible.MD5
            raise

    def remote_receipt(self, part: Part, remote: RemotePart) -> Receipt | None:
        """A listed part is ours when its size and its checksum (or MD5 ETag) match."""
        ours = part.checksum or flexible.part_value(part, "sha256")
        if ours is None or remote.digest is None:
            return super().remote_receipt(part, remote)
        if remote.size == part.size and remote.digest == ours:
            return Receipt(etag=(remote.etag or "").strip('"'), verified=True)
        return None

    async def remote_parts(self, session: Session) -> list[RemotePart] | None:
        """ListParts, every page. CallUnsupported where the store lacks ListParts (then
        the journal alone says which parts are on the server)."""
        if is_single(session):
            return None  # one PutObject: no upload to list; the journal decides
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
        """CompleteMultipartUpload; an ambiguous failure is checked against the object. A
        PutObject session is complete once its part is verified: the object is there."""
        if is_single(session):
            return f"s3://{self.bucket}/{session.remote['key']}"
        return await finish.complete(self._bucket, session, parts)

    async def abort(self, session: Session) -> str | None:
        """AbortMultipartUpload, repeated until ListParts says the upload is gone. A store
        that lacks the call leaves the parts sent: the note says so. A PutObject session
        has no upload to abort, and partdeck never deletes an object."""
        if is_single(session):
            return (
                f"nothing to abort: {session.path} goes up as one PutObject; if it was sent, "
                f"s3://{self.bucket}/{session.remote['key']} stays (partdeck deletes no object)"
            )
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
    where = f"s3://{remote.get('bucket')}/{remote.get('key')}"
    if remote.get("single"):
        return f"{where} (one PutObject)"
    return f"{where} (upload {remote.get('upload_id')})"
