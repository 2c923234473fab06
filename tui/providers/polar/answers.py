"""Polar's answers checked against what was asked: the signed parts, the uploaded file."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from tui.core.errors import RejectedError, TransientError
from tui.core.model import Part
from tui.providers.polar.errors import clip

CHECKSUM_HEADER = "x-amz-checksum-sha256"


def b64_of_hex(digest: str) -> str:
    """Base64 of the raw bytes of a hex digest, as Polar wants SHA-256 values."""
    return base64.b64encode(bytes.fromhex(digest)).decode()


def is_int(value: Any) -> bool:
    """True for a JSON integer (a bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _epoch(value: Any, what: str) -> float:
    """An ISO 8601 datetime from Polar as Unix time (UTC when it names no zone)."""
    if not isinstance(value, str):
        raise RejectedError(f"{what}: expires_at is missing or not a date")
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    except (ValueError, OverflowError, OSError):
        raise RejectedError(f"{what}: expires_at {clip(value)!r} is not a date") from None


def check_part_url(url: Any, what: str) -> str:
    """A part URL must be https, or plain http on a loopback host (the sandbox)."""
    if not isinstance(url, str) or not url:
        raise RejectedError(f"{what}: the part has no URL")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise RejectedError(f"{what}: the part URL is not a valid URL") from None
    if parsed.scheme == "https" and parsed.host:
        return url
    if parsed.scheme == "http" and _loopback(parsed.host):
        return url
    raise RejectedError(
        f"{what}: the part URL is not https ({clip(parsed.scheme)}://{clip(parsed.host)}); "
        "refusing to send file bytes there"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _headers(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise RejectedError(f"{what}: the part's headers are not a map of strings")
    return dict(value)


def parse_file_upload(
    data: Any, parts: Sequence[Part], checksums: Mapping[int, str]
) -> dict[str, Any]:
    """Check Polar's FileUpload answer against the request; return the session's remote.

    The answer must describe the same parts with the same ranges, each with a usable URL,
    an expiry and headers that carry the checksum we gave. Anything else raises
    RejectedError: sending bytes on a plan Polar did not sign would fail later, and worse.
    """
    what = "create file"
    if not isinstance(data, dict):
        raise RejectedError(f"{what}: Polar's answer is not a FileUpload object")
    file_id, upload = data.get("id"), data.get("upload")
    if not isinstance(file_id, str) or not file_id.strip():
        raise RejectedError(f"{what}: Polar's answer has no file id")
    if not isinstance(upload, dict):
        raise RejectedError(f"{what}: Polar's answer has no upload")
    upload_id, upload_path = upload.get("id"), upload.get("path")
    if not isinstance(upload_id, str) or not upload_id or not isinstance(upload_path, str):
        raise RejectedError(f"{what}: Polar's answer has no upload id or path")
    answered = upload.get("parts")
    if not isinstance(answered, list) or len(answered) != len(parts):
        count = len(answered) if isinstance(answered, list) else "no"
        raise RejectedError(
            f"{what}: Polar answered with {count} part(s) for the {len(parts)} asked for"
        )
    by_number = {p.number: p for p in parts}
    links: dict[int, dict[str, Any]] = {}
    for item in answered:
        link = _parse_part(item, by_number, checksums, what)
        if link["number"] in links:
            raise RejectedError(f"{what}: Polar listed part {link['number']} twice")
        links[link["number"]] = link
    organization = data.get("organization_id")
    return {
        "file_id": file_id,
        "upload_id": upload_id,
        "key": upload_path,
        "organization_id": organization if isinstance(organization, str) else None,
        "name": data.get("name") if isinstance(data.get("name"), str) else None,
        "parts": [links[n] for n in sorted(links)],
    }


def _parse_part(
    item: Any, by_number: Mapping[int, Part], checksums: Mapping[int, str], what: str
) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise RejectedError(f"{what}: a part in Polar's answer is not an object")
    number: Any = item.get("number")
    part = by_number.get(number) if is_int(number) else None
    if part is None:
        raise RejectedError(f"{what}: Polar answered with a part {clip(number)} not asked for")
    where = f"{what}: part {part.number}"
    if item.get("chunk_start") != part.start or item.get("chunk_end") != part.end:
        raise RejectedError(
            f"{where}: Polar's range {clip(item.get('chunk_start'))}-"
            f"{clip(item.get('chunk_end'))} is not the {part.start}-{part.end} asked for"
        )
    checksum = checksums[part.number]
    headers = _headers(item.get("headers"), where)
    signed = {k.lower(): v for k, v in headers.items()}.get(CHECKSUM_HEADER)
    echoed = item.get("checksum_sha256_base64")
    if signed != checksum or echoed not in (None, checksum):
        raise RejectedError(
            f"{where}: Polar did not sign the part's SHA-256 as given; the part would be refused"
        )
    return {
        "number": part.number,
        "url": check_part_url(item.get("url"), where),
        "expires_at": _epoch(item.get("expires_at"), where),
        "headers": headers,
        "checksum_sha256_base64": checksum,
    }


def parse_file_read(data: Any, file_id: str, what: str) -> None:
    """Check the FileRead ``/uploaded`` answers: this file, marked uploaded.

    Anything else leaves complete's outcome open: TransientError, so the caller looks
    for the file in Polar's list before sending ``/uploaded`` again.
    """
    if not isinstance(data, dict):
        raise TransientError(f"{what}: Polar's answer is not a file object")
    if data.get("id") not in (None, file_id):
        raise TransientError(f"{what}: Polar answered about another file ({clip(data['id'])})")
    if data.get("is_uploaded") is not True:
        raise TransientError(f"{what}: Polar's answer does not mark the file uploaded")


def listed_uploaded(data: Any, file_id: str) -> bool:
    """True when a ``GET /v1/files/`` page lists ``file_id`` as uploaded."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return False
    return any(
        isinstance(i, dict) and i.get("id") == file_id and i.get("is_uploaded") is True
        for i in items
    )
