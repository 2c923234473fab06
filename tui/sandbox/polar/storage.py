"""The S3 side of a file: signed part URLs, the complete with checksums, the lifecycle rule."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Any

from tui.sandbox.backend import BackendError
from tui.sandbox.context import EmulatorContext
from tui.sandbox.polar.records import FileRecord, iso

PRESIGN_TTL = 600
"""``S3_FILES_PRESIGN_TTL``: seconds a part URL lives."""


def multipart_checksum(checksums: list[str]) -> str:
    """The composite checksum Polar sends S3: base64 of SHA-256 over the raw part digests."""
    digests = b"".join(base64.b64decode(c) for c in checksums)
    return base64.b64encode(hashlib.sha256(digests).digest()).decode()


def presign_part(ctx: EmulatorContext, record: FileRecord, part: dict[str, Any]) -> dict[str, Any]:
    """One part of the create's answer: its UploadPart URL with its SHA-256 signed in."""
    checksum = part["checksum_sha256_base64"]
    url = ctx.require_backend().presign_part(
        record.path,
        record.upload_id,
        part["number"],
        PRESIGN_TTL,
        checksum_sha256=checksum or None,
    )
    headers = (
        {"x-amz-checksum-sha256": checksum, "x-amz-sdk-checksum-algorithm": "SHA256"}
        if checksum
        else {}
    )
    return {
        **part,
        "url": url,
        "expires_at": iso(ctx.clock() + PRESIGN_TTL),
        "headers": headers,
    }


async def complete_upload(ctx: EmulatorContext, record: FileRecord, data: dict[str, Any]) -> str:
    """CompleteMultipartUpload as Polar calls it: with the client's ``id`` and ``path``."""
    parts: list[dict[str, Any]] = []
    checksums: list[str] = []
    for part in data["parts"]:
        entry: dict[str, Any] = {"PartNumber": part["number"], "ETag": part["checksum_etag"]}
        given = part["checksum_sha256_base64"]
        # S3 holds each part's checksum from its (signed) PUT: any other value is
        # InvalidPart, as is a checksum for a part sent without one.
        if given != record.part_checksums.get(part["number"]):
            raise BackendError(
                400,
                "InvalidPart",
                f"part {part['number']}: ChecksumSHA256 differs from the part's checksum",
            )
        if given:
            entry["ChecksumSHA256"] = given
            checksums.append(given)
        parts.append(entry)
    composite = multipart_checksum(checksums) if checksums else None
    return await ctx.require_backend().complete(
        data["path"], data["id"], parts, checksum_sha256=composite
    )


async def sweep(ctx: EmulatorContext, records: Iterable[FileRecord]) -> None:
    """The bucket's lifecycle rule: abort multipart uploads older than the option says."""
    after = ctx.options.get("abort_incomplete_after")
    if after is None:
        return
    now = ctx.clock()
    backend = ctx.require_backend()
    for record in list(records):
        if record.is_uploaded or record.swept or now - record.created_at <= float(after):
            continue
        try:
            await backend.abort(record.path, record.upload_id)
        except BackendError as exc:
            if exc.code != "NoSuchUpload":
                raise
        record.swept = True
