"""Ending a multipart upload: complete and abort, each repeated until the store is clear."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from xml.sax.saxutils import escape

from tui.core import checksums
from tui.core.errors import CompleteUnknown, RejectedError, TransientError, UploadGone
from tui.core.gone import GONE_TEXT
from tui.core.model import Part, Session
from tui.providers.s3 import flexible
from tui.providers.s3.bucket import S3Bucket
from tui.providers.s3.parse import is_completion, multipart_etag
from tui.providers.s3xml import (
    UNSUPPORTED_STATUSES,
    error_of,
    parse_xml,
    raise_for_s3,
    server_said,
    text,
)

ABORT_TRIES = 10
ABORT_SPACING = 1.0
"""Seconds between abort calls while the server still lists the upload."""
COMPLETE_TRIES = 4
COMPLETE_BACKOFF = 1.0
"""Seconds before the second complete; doubled for each further one."""


async def complete(bucket: S3Bucket, session: Session, parts: Sequence[Part]) -> str | None:
    """CompleteMultipartUpload; an ambiguous failure is checked against the object."""
    key, upload_id = session.remote["key"], session.remote["upload_id"]
    name = flexible.session_algorithm(session)
    body = "".join(
        f"<Part><PartNumber>{p.number}</PartNumber><ETag>&quot;{escape(p.etag or '')}"
        f"&quot;</ETag>{flexible.part_element(p, name)}</Part>"
        for p in sorted(parts, key=lambda p: p.number)
    )
    xml = f"<CompleteMultipartUpload>{body}</CompleteMultipartUpload>".encode()
    # The whole object's CRC: S3 checks the object it assembles against it.
    headers = {"Content-Type": "application/xml", **flexible.complete_headers(parts, name)}
    location = f"s3://{bucket.name}/{key}"
    last: TransientError | None = None
    for attempt in range(COMPLETE_TRIES):
        if attempt:
            await asyncio.sleep(COMPLETE_BACKOFF * 2.0 ** (attempt - 1))
        try:
            response = await bucket.request(
                "POST",
                "complete",
                key,
                {"uploadId": upload_id},
                xml,
                headers=headers,
                check=False,
            )
        except TransientError as exc:
            last = exc
            continue
        code, message = error_of(response.content)
        if response.is_success and code is None:
            if is_completion(response.content):
                check_object_checksum(response.content, parts, name)
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
            found = await object_matches(bucket, key, parts, name)
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
    if await object_matches(bucket, key, parts, name):
        return location
    said = last.settled if last else "no answer"
    raise CompleteUnknown(
        f"complete: no clear answer from the server ({said}); the object may or may not "
        "exist: check it, then run partdeck complete again"
    )


def check_object_checksum(body: bytes, parts: Sequence[Part], name: str) -> None:
    """Refuse a completion whose object checksum is not the one of the parts sent."""
    whole = flexible.whole_object(parts, name)
    if whole is None:
        return
    said = text(parse_xml(body, "complete"), f"Checksum{checksums.algorithm(name).s3_name}")
    if said is not None and said.strip() != whole:
        raise RejectedError(
            f"complete: the store says the object's {name} is {said.strip()}, but the parts "
            f"sent make {whole}: the object is not the file; delete it and upload again"
        )


async def object_matches(
    bucket: S3Bucket, key: str, parts: Sequence[Part], name: str = flexible.MD5
) -> bool | None:
    """True when the object exists with the checksum (a CRC session) or the multipart
    ETag (an MD5 session) these parts make; None when the server could not say (no
    answer, or a 5xx)."""
    whole = flexible.whole_object(parts, name)
    ask = {"x-amz-checksum-mode": "ENABLED"} if whole is not None else None
    try:
        response = await bucket.request("HEAD", "check object", key, headers=ask, check=False)
    except TransientError:
        return None
    if response.status_code >= 500:
        return None
    if response.status_code != 200:
        return False
    if whole is not None:
        said = response.headers.get(checksums.algorithm(name).header)
        if said is not None:
            return bool(said.strip() == whole)
    etag: str = response.headers.get("ETag", "").strip('"')
    md5s = [p.md5 for p in sorted(parts, key=lambda p: p.number)]
    if all(md5s) and len(parts) > 0:
        return etag == multipart_etag([m for m in md5s if m])
    return etag.endswith(f"-{len(parts)}")


async def abort_upload(bucket: S3Bucket, key: str, upload_id: str) -> None:
    """Abort one upload by key and id, repeating until it is gone."""
    for attempt in range(ABORT_TRIES):
        if attempt:
            await asyncio.sleep(ABORT_SPACING)
        try:
            response = await bucket.request(
                "DELETE", "abort", key, {"uploadId": upload_id}, check=False
            )
            code, _ = error_of(response.content)
            if code != "NoSuchUpload":
                raise_for_s3(response, "abort")
            listing = await bucket.request(
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
