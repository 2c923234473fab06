"""Checks on what a Box request carries: digests, ranges, names, bodies, commit part lists.

Each ``*_refusal`` answers None for a request Box accepts, else the error Box gives.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox.box.errors import box_error
from tui.sandbox.box.store import UploadSession

LIST_DEFAULT_LIMIT = 100
LIST_MAX_LIMIT = 1000
LIST_MAX_OFFSET = 10_000

RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
"""An inclusive ``Content-Range``: ``bytes <first>-<last>/<total>``."""
_BAD_NAME = re.compile(r"[/\\]")


def digest_of(header: str | None) -> bytes | None:
    """The SHA-1 in an RFC 3230 ``Digest`` header (``sha=BASE64``), or None."""
    for item in (header or "").split(","):
        name, _, value = item.strip().partition("=")
        if name.lower() == "sha":
            try:
                raw = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                return None
            return raw if len(raw) == 20 else None
    return None


def invalid_digest() -> Response:
    """The 400 for a ``Digest`` header that is missing or not ``sha=BASE64``."""
    return box_error(400, "invalid_digest", "The Digest header is missing or is not sha=BASE64")


async def sha1(data: bytes) -> bytes:
    """SHA-1 in a thread: parts are megabytes, and the loop serves every other request."""
    return await asyncio.to_thread(lambda: hashlib.sha1(data).digest())


def _valid_name(name: str) -> bool:
    return (
        0 < len(name) <= 255
        and name not in (".", "..")
        and name == name.strip()
        and not _BAD_NAME.search(name)
    )


async def json_body(request: Request) -> Any:
    """The request's JSON body, or None when it is not JSON."""
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        return None


def creation_refusal(data: dict[str, Any]) -> Response | None:
    """Box's 400s for a create-session body, in the order its reference lists them."""
    folder_id = data.get("folder_id")
    if folder_id is None:
        return box_error(400, "missing_destination", "folder_id is required")
    if not isinstance(folder_id, str) or not folder_id.isdigit():
        return box_error(400, "invalid_folder_id", f"Invalid value '{folder_id}' for folder_id")
    size = data.get("file_size")
    if size is None:
        return box_error(400, "missing_file_size", "file_size is required")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return box_error(400, "invalid_file_size", f"Invalid value '{size}' for file_size")
    name = data.get("file_name")
    if name is None:
        return box_error(400, "missing_file_name", "file_name is required")
    if not isinstance(name, str) or not _valid_name(name):
        return box_error(400, "item_name_invalid", "Item name invalid")
    return None


def range_refusal(
    s: UploadSession, first: int, last: int, total: int, length: int
) -> Response | None:
    """416 for a range this session does not allow; 400 when the body does not fill it."""
    problem = None
    if total != s.file_size:
        problem = f"the total {total} is not the session's file size {s.file_size}"
    elif last < first or last >= s.file_size:
        problem = f"bytes {first}-{last} are not inside the file"
    elif first % s.part_size:
        problem = f"the range must start at a multiple of the part size {s.part_size}"
    elif last - first + 1 != min(s.part_size, s.file_size - first):
        problem = f"a part must be {s.part_size} bytes long (only the last may be shorter)"
    if problem is not None:
        return box_error(
            416, "requested_range_not_satisfiable", f"Content-Range not allowed: {problem}"
        )
    if length != last - first + 1:
        return box_error(
            400,
            "bad_request",
            f"The body has {length} bytes but Content-Range names {last - first + 1}",
        )
    return None


def overlap_refusal(s: UploadSession, first: int, last: int) -> Response | None:
    """409 when bytes ``first..last`` overlap a part the session already holds."""
    for held in s.parts.values():
        if held.offset <= last and first <= held.offset + held.size - 1:
            return box_error(
                409,
                "range_overlaps_existing_part",
                "Part overlaps with previously uploaded part",
                {"conflicts": [held.as_json()]},
            )
    return None


def parts_refusal(s: UploadSession, data: Any) -> Response | None:
    """400 unless the commit lists exactly the stored parts, in offset order."""
    parts = data.get("parts") if isinstance(data, dict) else None
    if not isinstance(parts, list) or not parts:
        return box_error(400, "bad_request", "parts is required")
    offsets: list[int] = []
    for entry in parts:
        offset = entry.get("offset") if isinstance(entry, dict) else None
        held = s.parts.get(offset) if type(offset) is int else None
        if (
            held is None
            or not isinstance(entry, dict)
            or entry.get("part_id") != held.part_id
            or entry.get("size") != held.size
            or entry.get("sha1", held.sha1) != held.sha1
        ):
            return box_error(400, "bad_request", f"Part {entry!r:.200} is not in this session")
        offsets.append(held.offset)
    if offsets != sorted(set(offsets)):
        return box_error(400, "bad_request", "Parts must be listed once each, by offset")
    if len(offsets) != len(s.parts) or sum(s.parts[o].size for o in offsets) != s.file_size:
        return box_error(
            400,
            "bad_request",
            f"The parts cover {sum(p.size for p in s.parts.values())} of {s.file_size} bytes",
        )
    return None
