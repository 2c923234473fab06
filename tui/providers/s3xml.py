"""S3's XML answers and its error codes, shared by every provider that sits on S3.

Gumroad, Polar, Fileflare and Wunderlist hand out presigned S3 part URLs, so their part
PUTs fail the way S3 fails; direct S3 accounts also read S3's control answers here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import httpx

from tui.core.errors import (
    CallUnsupported,
    RejectedError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.gone import GONE_TEXT
from tui.core.model import Part
from tui.core.ports import Receipt
from tui.core.redact import redact
from tui.core.transfer import answer_text, check_transient

MAX_XML = 4 * 1024 * 1024
"""Larger XML answers are refused as nonsense rather than parsed."""
MAX_DETAIL = 300
"""Characters of the server's own Code and Message kept in a message."""
_DOCTYPE = b"<!DOCTYPE"
"""S3 never declares a document type; entity bombs and external entities need one."""

_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable", "BadDigest"}
)
_UNSUPPORTED_CODES = frozenset({"NotImplemented", "MethodNotAllowed"})
UNSUPPORTED_STATUSES = frozenset({405, 501})
"""A store that lacks a call answers these (S3-compatible stores with partial APIs)."""


def _root(body: bytes) -> ET.Element | None:
    """The root element of ``body``, or None when it is not XML (or not XML S3 sends).

    A document with a DOCTYPE is refused unparsed: its entities could expand a few
    kilobytes into gigabytes (billion laughs) or point at local files. So is one whose
    declared encoding Python lacks or expat cannot use (LookupError, ValueError).
    """
    body = body.strip() or b"<empty/>"
    if _DOCTYPE in body:
        return None
    try:
        return ET.fromstring(body)
    except (ET.ParseError, LookupError, ValueError):
        return None


def parse_xml(body: bytes, what: str) -> ET.Element:
    """Parse an XML answer, or raise a RemoteError that says it was not XML."""
    if len(body) > MAX_XML:
        raise RejectedError(f"{what}: the server's answer is too large to be S3 XML")
    root = _root(body)
    if root is None:
        if _DOCTYPE in body:
            raise TransientError(
                f"{what}: the server's answer is XML with a DOCTYPE, which S3 never sends; "
                "will retry"
            )
        raise TransientError(f"{what}: the server's answer is not XML; will retry")
    return root


def text(element: ET.Element, tag: str) -> str | None:
    """The text of the first child ``tag`` (any namespace), or None."""
    found = element.find(f"{{*}}{tag}")
    if found is None:
        found = element.find(tag)
    return found.text if found is not None and found.text is not None else None


def local_name(element: ET.Element) -> str:
    """An element's tag without its namespace."""
    return element.tag.rsplit("}", 1)[-1]


def error_of(body: bytes) -> tuple[str | None, str | None]:
    """(Code, Message) of an S3 ``<Error>`` document, or (None, None)."""
    root = _root(body[:MAX_XML])
    if root is None or local_name(root) != "Error":
        return None, None
    return text(root, "Code"), text(root, "Message")


def server_said(code: str | None, message: str | None) -> str | None:
    """``Code: Message`` of an S3 error, fit for a message: redacted, one line, short."""
    said = f"{code}: {message}" if code and message else code or message
    if not said:
        return None
    said = redact(" ".join(said.split()))
    return said if len(said) <= MAX_DETAIL else said[: MAX_DETAIL - 1] + "…"


def raise_for_s3(response: httpx.Response, what: str) -> None:
    """Raise the right RemoteError for a failed S3 answer; return on 2xx."""
    if response.is_success:
        return
    code, message = error_of(answer_text(response).encode())
    detail = server_said(code, message)
    status = response.status_code
    said = f" ({detail})" if detail else ""
    if status in UNSUPPORTED_STATUSES or code in _UNSUPPORTED_CODES:
        # Checked before the 5xx rule: a 501 is the store saying it lacks the call, and
        # asking again gets the same answer.
        raise CallUnsupported(
            f"{what}: the store does not support this call ({status}{said})",
            status=status,
            code=code,
        )
    if code in _TRANSIENT_CODES:
        raise TransientError(
            f"{what}: server said {status}{said}; will retry", status=status, code=code
        )
    check_transient(response, what)
    if code == "ExpiredToken":  # temporary keys ran out: the URL is signed anew
        raise TargetExpired(
            f"{what}: the temporary credentials it was signed with have expired",
            status=status,
            code=code,
        )
    if status == 403 and message and "expired" in message.lower():
        raise TargetExpired(f"{what}: the signed URL has expired", status=status, code=code)
    if status == 403 and code == "SignatureDoesNotMatch":
        raise RejectedError(
            f"{what}: the server rejected the signature (SignatureDoesNotMatch); check the "
            "account's keys and that the system clock is right",
            status=status,
            code=code,
        )
    if status == 403:
        raise RejectedError(
            f"{what}: access denied{said}; check the account's permissions",
            status=status,
            code=code,
        )
    if code == "NoSuchUpload":
        raise UploadGone(f"{what}: {GONE_TEXT}", status=status, code=code)
    if code == "NoSuchBucket":
        raise RejectedError(
            f"{what}: the bucket does not exist; check the account's bucket",
            status=status,
            code=code,
        )
    raise RejectedError(f"{what}: server said {status}{said}", status=status, code=code)


def etag_receipt(part: Part, response: httpx.Response, what: str) -> Receipt:
    """Judge a part PUT answered by S3: its ETag must be the part's MD5 when it is an MD5.

    A 32-hex ETag that differs means the server stored other bytes: the part is sent again.
    Any other ETag (SSE-KMS, MinIO compression) cannot be checked: ``unverifiable``.
    """
    raise_for_s3(response, what)
    raw = response.headers.get("ETag", "").strip().strip('"').strip()
    if not raw:
        raise TransientError(f"{what}: the server's answer has no ETag; will retry")
    etag = raw.lower()
    if _HEX32.match(etag):
        if part.md5 is not None and etag != part.md5:
            raise TransientError(
                f"{what}: the server's ETag {etag} is not the MD5 of the bytes sent "
                f"({part.md5}); sending the part again"
            )
        return Receipt(etag=etag, verified=part.md5 is not None)
    return Receipt(etag=raw, verified=False)
