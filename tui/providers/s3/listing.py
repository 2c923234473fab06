"""What the store holds: the parts of one upload, and the incomplete uploads in a bucket."""

from __future__ import annotations

from tui.core.errors import CallUnsupported, RejectedError
from tui.core.ports import RemotePart, RemoteUpload
from tui.providers.s3.bucket import S3Bucket
from tui.providers.s3.parse import iso_time, parts_page
from tui.providers.s3xml import local_name, parse_xml, text

LIST_UPLOADS_PAGES = 1000
"""ListMultipartUploads pages read at most (a million uploads), whatever the markers say."""


async def list_parts(bucket: S3Bucket, key: str, upload_id: str) -> list[RemotePart]:
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
        response = await bucket.request("GET", "list parts", key, query)
        page, following = parts_page(parse_xml(response.content, "list parts"), marker)
        found += page
        if following is None:
            return found
        marker = following


async def list_uploads(bucket: S3Bucket, prefix: str) -> list[RemoteUpload]:
    """ListMultipartUploads under ``prefix``, with each upload's parts summed.

    CallUnsupported where the store lacks ListMultipartUploads; a store without ListParts
    lists its uploads with no parts.
    """
    uploads: list[RemoteUpload] = []
    key_marker: str | None = None
    id_marker: str | None = None
    seen: set[tuple[str, str | None]] = set()
    for _ in range(LIST_UPLOADS_PAGES):
        query: dict[str, str | int | None] = {
            "uploads": None,
            "max-uploads": 1000,
            "prefix": prefix,
        }
        if key_marker:
            query["key-marker"] = key_marker
        if id_marker:
            query["upload-id-marker"] = id_marker
        response = await bucket.request("GET", "list uploads", "", query)
        root = parse_xml(response.content, "list uploads")
        for el in root.iter():
            if local_name(el) != "Upload":
                continue
            key, upload_id = text(el, "Key"), text(el, "UploadId")
            if not key or not upload_id:
                continue
            try:
                parts = await list_parts(bucket, key, upload_id)
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
