"""Box's JSON answers, read defensively: upload sessions, parts, the committed file."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tui.core.errors import RejectedError, TransientError

MAX_JSON = 8 * 1024 * 1024
"""Larger JSON answers are refused as nonsense rather than parsed."""

SHA1_HEX = re.compile(r"^[0-9a-fA-F]{40}$")
"""A hex SHA-1, as Box writes it and as the journal keeps it."""
_ENDPOINTS = ("upload_part", "commit", "abort", "list_parts")


def load_json(body: bytes, what: str) -> Any:
    """Parse a JSON answer; not JSON at all is a TransientError (a proxy page, a cut)."""
    if len(body) > MAX_JSON:
        raise RejectedError(f"{what}: Box's answer is too large to be Box JSON")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise TransientError(f"{what}: Box's answer is not JSON; will retry") from None


def json_object(value: Any, what: str, name: str) -> dict[str, Any]:
    """``value`` when it is a JSON object; else RejectedError saying Box sent no ``name``."""
    if not isinstance(value, dict):
        raise RejectedError(f"{what}: Box's answer has no {name} object")
    return value


def _text(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise RejectedError(f"{what}: Box's answer has no valid {key}")
    return value


def _count(obj: Mapping[str, Any], key: str, what: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RejectedError(f"{what}: Box's answer has no valid {key}")
    return value


def _sha1(obj: Mapping[str, Any], what: str) -> str:
    value = obj.get("sha1")
    if not isinstance(value, str) or not SHA1_HEX.match(value):
        raise RejectedError(f"{what}: Box's answer has no valid sha1")
    return value.lower()


def iso_time(value: Any) -> float | None:
    """Unix time of an ISO 8601 timestamp (``2026-11-28T10:53:43-08:00``), or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


@dataclass(frozen=True)
class UploadSession:
    """The fields of Box's UploadSession that partdeck relies on."""

    id: str
    part_size: int
    total_parts: int
    num_parts_processed: int
    session_expires_at: str | None
    expires_at: float | None
    endpoints: dict[str, str]


def parse_session(body: bytes, what: str = "create upload session") -> UploadSession:
    """Read an UploadSession answer; RemoteError when it is not one."""
    data = json_object(load_json(body, what), what, "upload session")
    if data.get("type", "upload_session") != "upload_session":
        raise RejectedError(f"{what}: Box's answer is not an upload session")
    raw = json_object(data.get("session_endpoints"), what, "session_endpoints")
    endpoints: dict[str, str] = {}
    for name in (*_ENDPOINTS, "status", "log_event"):
        value = raw.get(name)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            endpoints[name] = value
        elif name in _ENDPOINTS:
            raise RejectedError(f"{what}: Box's answer has no valid {name} endpoint")
    expires = data.get("session_expires_at")
    return UploadSession(
        id=_text(data, "id", what),
        part_size=_count(data, "part_size", what),
        total_parts=_count(data, "total_parts", what),
        num_parts_processed=_count(data, "num_parts_processed", what),
        session_expires_at=expires if isinstance(expires, str) and len(expires) <= 64 else None,
        expires_at=iso_time(expires),
        endpoints=endpoints,
    )


@dataclass(frozen=True)
class BoxPart:
    """A part as Box reports it: id, byte offset, size and hex SHA-1."""

    part_id: str
    offset: int
    size: int
    sha1: str


def parse_part(value: Any, what: str) -> BoxPart:
    """Read one UploadPart object."""
    obj = json_object(value, what, "part")
    return BoxPart(
        part_id=_text(obj, "part_id", what),
        offset=_count(obj, "offset", what),
        size=_count(obj, "size", what),
        sha1=_sha1(obj, what),
    )


def parse_uploaded_part(body: bytes, what: str) -> BoxPart:
    """Read the answer to a part PUT: ``{"part": {...}}``."""
    data = json_object(load_json(body, what), what, "answer")
    return parse_part(data.get("part"), what)


def parse_parts_page(body: bytes, what: str = "list parts") -> tuple[list[BoxPart], int]:
    """Read one list_parts page: its parts and the total count."""
    data = json_object(load_json(body, what), what, "part list")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise RejectedError(f"{what}: Box's answer has no entries list")
    return [parse_part(e, what) for e in entries], _count(data, "total_count", what)


def parse_committed(body: bytes, what: str = "commit") -> tuple[str, str]:
    """(file id, name) of the file a 201 commit answer names."""
    data = json_object(load_json(body, what), what, "file list")
    entries = data.get("entries")
    if not isinstance(entries, list) or not entries:
        raise RejectedError(f"{what}: Box's answer names no file")
    file = json_object(entries[0], what, "file")
    return _text(file, "id", what), _text(file, "name", what)
