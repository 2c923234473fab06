"""Fileflare's answers judged without I/O: the signed upload and its part links."""

from __future__ import annotations

import calendar
import ipaddress
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tui.core.errors import RejectedError
from tui.core.redact import url_for_people
from tui.core.units import MiB

LINK_LIFETIME = 43_200
"""Seconds a part URL lives (X-Amz-Expires=43200, 12 h); it cannot be renewed."""
MAX_PARTS = 10_000
"""S3's part-number ceiling: more parts could never be completed."""
MAX_JSON = 32 * MiB
"""Larger answers are refused as nonsense rather than parsed (10,000 URLs fit easily)."""


def as_integer(value: Any) -> int | None:
    """An int from JSON (a bool is not one; a string of up to 19 digits is, PHP sends those)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    return None


def as_identifier(value: Any) -> str | None:
    """A non-empty id from JSON: a string, or an integer as text."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    number = as_integer(value)
    return str(number) if number is not None else None


def load_json(body: bytes) -> Any:
    """Parse a JSON answer; None when it is too large, not JSON, or nested absurdly deep."""
    if len(body) > MAX_JSON:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def link_expiry(url: str, now: float) -> float:
    """When a presigned URL dies: X-Amz-Date + X-Amz-Expires, else ``now`` + 12 h."""
    query = parse_qs(urlsplit(url).query)
    signed_at = (query.get("X-Amz-Date") or [""])[0]
    expires = as_integer((query.get("X-Amz-Expires") or [""])[0])
    if expires is None or not signed_at:
        return now + LINK_LIFETIME
    try:
        start = calendar.timegm(time.strptime(signed_at, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        return now + LINK_LIFETIME
    return float(start + expires)


def _loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (the sandbox's hosts)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _usable_url(url: Any) -> bool:
    """https, or http to a loopback host (the sandbox); never anything else."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(host)
    return parts.scheme == "http" and _loopback(host)


@dataclass(frozen=True)
class SignedUpload:
    """The parts of an ``/assets/signed`` answer partdeck uses."""

    asset_id: str
    upload_id: str
    file_url: str | None
    chunk_size: int | None
    links: list[dict[str, Any]]
    """``{"part", "start", "end", "url", "expires_at"}`` in part order."""

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """The server's part boundaries, ``[start, end)``."""
        return [(link["start"], link["end"]) for link in self.links]

    def remote(self) -> dict[str, Any]:
        """What a resume needs, for the journal."""
        return {
            "asset_id": self.asset_id,
            "upload_id": self.upload_id,
            "file_url": self.file_url,
            "chunk_size": self.chunk_size,
            "parts": self.links,
        }


class UnusableAnswer(RejectedError):
    """The server's answer to ``/assets/signed`` cannot be used as it is."""


def signed_ids(data: Any) -> tuple[str, str] | None:
    """(asset id, upload id) of a signed answer, when both are there: enough to cancel it."""
    if not isinstance(data, dict):
        return None
    asset_id, upload_id = as_identifier(data.get("id")), as_identifier(data.get("upload_id"))
    return (asset_id, upload_id) if asset_id and upload_id else None


def _link(item: Any, index: int, now: float) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise UnusableAnswer(f"urls[{index}] is not an object")
    start, end, part = (as_integer(item.get(k)) for k in ("start", "end", "part"))
    url = item.get("url")
    if start is None or end is None or part is None or not isinstance(url, str):
        raise UnusableAnswer(f"urls[{index}] lacks a whole-number start, end or part, or a url")
    if not _usable_url(url):
        raise UnusableAnswer(f"part {part}'s URL is not https ({url_for_people(url)[:80]})")
    return {
        "part": part,
        "start": start,
        "end": end,
        "url": url,
        "expires_at": link_expiry(url, now),
    }


def parse_signed(data: Any, size: int, now: float) -> SignedUpload:
    """Judge an ``/assets/signed`` answer for a file of ``size`` bytes.

    The parts must be numbered 1..N and cover ``[0, size)`` with no gap or overlap, each
    URL https (or loopback http); anything else raises UnusableAnswer saying what.
    """
    ids = signed_ids(data)
    if ids is None:
        raise UnusableAnswer("it has no id or upload_id")
    urls = data.get("urls")
    if not isinstance(urls, list) or not urls:
        raise UnusableAnswer("it has no part URLs")
    if len(urls) > MAX_PARTS:
        raise UnusableAnswer(f"{len(urls):,} parts is more than S3's {MAX_PARTS:,}")
    links = sorted((_link(item, i, now) for i, item in enumerate(urls)), key=lambda x: x["part"])
    position = 0
    for number, link in enumerate(links, start=1):
        if link["part"] != number:
            raise UnusableAnswer(f"its parts are not numbered 1 to {len(links)}")
        if link["start"] != position or link["end"] <= link["start"]:
            raise UnusableAnswer(
                f"part {number} covers bytes {link['start']}-{link['end']}, expected it to "
                f"start at {position} and not be empty"
            )
        position = link["end"]
    if position != size:
        raise UnusableAnswer(f"its parts end at byte {position:,}, the file has {size:,}")
    file_url = data.get("file_url")
    chunk = as_integer(data.get("chunk_size"))
    return SignedUpload(
        asset_id=ids[0],
        upload_id=ids[1],
        file_url=file_url if isinstance(file_url, str) and file_url else None,
        chunk_size=chunk,
        links=links,
    )
