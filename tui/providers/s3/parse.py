"""Values read out of S3's answers: numbers, times, the completion document, ETags.

Pure functions, kept apart from the modules that send the requests.
"""

from __future__ import annotations

import calendar
import hashlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from tui.core.errors import RejectedError, RemoteError, TransientError
from tui.core.ports import RemotePart
from tui.providers.s3xml import local_name, parse_xml, text

__all__ = ["is_completion", "iso_time", "multipart_etag", "parts_page", "whole_number"]

MAX_PART_NUMBER = 10_000
"""S3's highest part number: a ListParts marker at or past it has nothing after it."""


def multipart_etag(md5s: Sequence[str]) -> str:
    """The ETag S3 gives a completed multipart object: md5 of the part MD5s, dash, count."""
    joined = b"".join(bytes.fromhex(m) for m in md5s)
    return f"{hashlib.md5(joined).hexdigest()}-{len(md5s)}"


def whole_number(value: str | None) -> int | None:
    """A whole number written in an S3 XML element (ASCII digits only), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    return int(value)


def is_completion(body: bytes) -> bool:
    """True when ``body`` is S3's CompleteMultipartUploadResult (what a completed upload
    is answered with; any other 200 is not proof that it completed)."""
    try:
        root = parse_xml(body, "complete")
    except RemoteError:
        return False
    # AWS says ...Result; S3-compatible stores and emulators also say ...Response.
    return local_name(root) in ("CompleteMultipartUploadResult", "CompleteMultipartUploadResponse")


def iso_time(value: str | None) -> float | None:
    """Unix time of an S3 ``2026-11-21T10:00:00.000Z`` timestamp, or None."""
    if not value:
        return None
    try:
        return float(calendar.timegm(time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def _is_checksum(tag: str) -> bool:
    """``ChecksumCRC64NVME`` and the like: a part's value, not ``ChecksumType``."""
    return tag.startswith("Checksum") and tag != "ChecksumType"


def parts_page(root: ET.Element, marker: int) -> tuple[list[RemotePart], int | None]:
    """The parts one ListParts page lists, and the marker of the next page (None when
    this is the last). A RejectedError ends the listing, rather than trusting it, when an
    entry has no whole-number PartNumber and Size (skipping it would read as "that part
    is not held", and a verified part would be sent again) or when the next-page marker
    does not move past ``marker`` (the same page would be asked for forever)."""
    # ListPartsResult (AWS) or ListPartsResponse (moto). An empty or foreign answer is no
    # proof that the parts are gone: trusting it would send them all again.
    if not local_name(root).startswith("ListParts"):
        raise TransientError("list parts: the server's answer is not a list of parts; will retry")
    found: list[RemotePart] = []
    for el in root.iter():
        if local_name(el) != "Part":
            continue
        number, size = whole_number(text(el, "PartNumber")), whole_number(text(el, "Size"))
        if number is None or size is None:
            raise RejectedError(
                "list parts: the server listed a part without a readable PartNumber "
                "and Size, so its list of parts cannot be trusted"
            )
        etag = text(el, "ETag")
        checksum = next(
            (c.text.strip() for c in el if _is_checksum(local_name(c)) and c.text), None
        )
        found.append(RemotePart(number, size, etag.strip('"') if etag else None, checksum))
    given = text(root, "NextPartNumberMarker")
    if text(root, "IsTruncated") != "true" or not given:
        return found, None
    following = whole_number(given)
    if following is None or following <= marker:
        raise RejectedError(
            "list parts: the server's next-page marker does not move forward, so its "
            "list of parts cannot be read to the end"
        )
    return found, None if following >= MAX_PART_NUMBER else following
