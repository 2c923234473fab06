"""S3's flexible checksums on a multipart upload: which one, and where each value goes.

An upload declares its algorithm at CreateMultipartUpload (``x-amz-checksum-algorithm``,
and ``x-amz-checksum-type: FULL_OBJECT`` for a CRC); every UploadPart then carries the
part's value (``x-amz-checksum-crc64nvme``), which S3 checks against the bytes it got
(BadDigest when they differ) and echoes; CompleteMultipartUpload lists each part's value
and, for a CRC, the whole object's, combined from the parts'. MD5 (Content-MD5 and the
ETag) is what a session uses when its account says ``checksum = "md5"``, when the store
refused the headers, and for every session opened before partdeck sent them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import httpx

from tui.core import checksums
from tui.core.errors import RemoteError, TargetStale, TransientError
from tui.core.model import Part, Session
from tui.core.ports import Receipt

AUTO = "crc64nvme"
"""What ``checksum = "auto"`` (``checksums.SETTINGS``) opens sessions with."""
MD5 = "md5"
REFUSED = "checksums_refused"
"""The key of ``S3Provider.learned`` that holds what the store answered when it refused."""
IGNORED = "checksums_ignored"
"""The key of ``S3Provider.learned`` set when the store took a part without echoing its
checksum: it does not check them (s3rver, older stores), so MD5 is what it checks."""


def session_algorithm(session: Session) -> str:
    """The algorithm an opened session's parts carry (MD5 for sessions opened before
    partdeck sent flexible checksums: their remote record does not name one)."""
    return str(session.remote.get("checksum", MD5))


def create_headers(name: str) -> dict[str, str]:
    """CreateMultipartUpload's headers for algorithm ``name`` (none for MD5)."""
    if name == MD5:
        return {}
    algo = checksums.algorithm(name)
    kind = "FULL_OBJECT" if algo.full_object else "COMPOSITE"
    return {"x-amz-checksum-algorithm": algo.s3_name, "x-amz-checksum-type": kind}


def part_value(part: Part, name: str) -> str | None:
    """The part's value under ``name`` as S3 writes it (base64), or None when unhashed."""
    if name == "sha256":
        return checksums.encode(bytes.fromhex(part.sha256)) if part.sha256 else None
    return part.checksum


def part_headers(part: Part, name: str) -> dict[str, str]:
    """The headers an UploadPart of ``part`` carries, signed into its presigned URL: the
    part's checksum (or its Content-MD5), which the store checks against the bytes."""
    if name == MD5:
        if not part.md5:
            return {}
        return {"Content-MD5": base64.b64encode(bytes.fromhex(part.md5)).decode()}
    value = part_value(part, name)
    if value is None:
        return {}
    algo = checksums.algorithm(name)
    # The SDKs name the algorithm as well; stores that echo the value key on it.
    return {algo.header: value, "x-amz-sdk-checksum-algorithm": algo.s3_name}


def sent_algorithm(response: httpx.Response) -> str:
    """The checksum an UploadPart carried (``part_headers`` names it), else MD5."""
    try:
        sent = response.request.headers.get("x-amz-sdk-checksum-algorithm")
    except RuntimeError:  # a response made without its request
        return MD5
    return str(sent).lower() if sent else MD5


class ChecksumsIgnored(TargetStale):
    """The store took a part without echoing its checksum: it does not check them."""


def checked_receipt(part: Part, name: str, response: httpx.Response, what: str) -> Receipt:
    """Judge a 2xx UploadPart answer of a checksum session: verified when the store
    echoes the part's value (it checked the bytes against it); sent again when it echoes
    another. ChecksumsIgnored when it echoes none: nothing says it checked the bytes."""
    etag = response.headers.get("ETag", "").strip().strip('"').strip()
    if not etag:
        raise TransientError(f"{what}: the server's answer has no ETag; will retry")
    echoed = response.headers.get(checksums.algorithm(name).header)
    ours = part_value(part, name)
    if echoed is None or ours is None:
        raise ChecksumsIgnored(
            f"{what}: the store took the part without checking its {name} checksum (its "
            "answer does not echo it); sending it again with Content-MD5, which it checks, "
            "as every part of this account from now on"
        )
    if echoed.strip() != ours:
        raise TransientError(
            f"{what}: the server's {name} {echoed.strip()} is not the one of the bytes sent "
            f"({ours}); sending the part again"
        )
    return Receipt(etag=etag.lower() if len(etag) == 32 else etag, verified=True)


def part_element(part: Part, name: str) -> str:
    """The checksum element of a part in CompleteMultipartUpload's XML ('' for MD5)."""
    value = part_value(part, name) if name != MD5 else None
    if value is None:
        return ""
    tag = f"Checksum{checksums.algorithm(name).s3_name}"
    return f"<{tag}>{value}</{tag}>"


def whole_object(parts: Sequence[Part], name: str) -> str | None:
    """The full-object value of the parts in order (a CRC), or None (MD5, SHA-256, or a
    part without its value)."""
    if name == MD5 or not checksums.algorithm(name).full_object:
        return None
    ordered = sorted(parts, key=lambda p: p.number)
    if any(p.checksum is None for p in ordered):
        return None
    return checksums.whole_object(name, [(p.checksum or "", p.size) for p in ordered])


def complete_headers(parts: Sequence[Part], name: str) -> dict[str, str]:
    """CompleteMultipartUpload's headers: the whole object's CRC, which S3 checks
    against the object it assembles (BadDigest when they differ)."""
    whole = whole_object(parts, name)
    if whole is None:
        return {}
    return {checksums.algorithm(name).header: whole, "x-amz-checksum-type": "FULL_OBJECT"}


def refuses_checksums(exc: RemoteError) -> bool:
    """True when a store's refusal is about the checksum headers themselves (Backblaze B2:
    400 InvalidArgument "Unsupported header 'x-amz-checksum-algorithm'"; stores that
    lack the feature: 501 NotImplemented naming the header)."""
    said = str(exc).lower()
    about = "checksum" in said or "unsupported header" in said
    return about and (exc.status in (400, 501) or exc.code in ("InvalidArgument", "NotImplemented"))
