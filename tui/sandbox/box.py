"""Box's chunked upload API on loopback, with its own in-memory store (no S3 behind it).

Two roots, as on Box: ``/api/2.0`` (users/me, folders, files) and ``/upload/api/2.0``
(upload sessions). What it checks, as the Box reference says Box does: the Bearer token;
every part's ``Digest: sha=`` against its bytes; an inclusive ``Content-Range`` that
starts at a multiple of the session's part size, is exactly one part long (the last may
be shorter) and stays inside the file; parts that overlap a stored one (409); the
commit's part list and whole-file SHA-1; names already taken in the folder (409); the
20 MiB minimum; sessions that expire after 7 days (404), all on ``ctx.clock``.

The part size rule (Box does not publish one; these match what Box was seen to pick):
8 MiB below 512 MiB, 32 MiB up to 8 GiB, 64 MiB above, grown in whole MiB so no
session needs more than 10,000 parts.

Faults: part uploads are counted and broken like the S3 gateway's (``part_500``,
``part_reset``, ``part_stall``; ``expire_early`` answers as an expired session, since
Box has no part links); ``corrupt_etag`` stores the part but answers a wrong sha1.
``ctx.options["part_faults_after_store"] = True`` makes a part fault strike after the
part is stored (the answer is lost, the part landed). Counted faults per session:
``commit_202`` (202 + Retry-After: 1), ``complete_lost`` (committed, answered 500) and
``abort_lost`` (the session deleted, answered 500); ``upload_gone`` deletes the session
when a part arrives after that many, as if aborted elsewhere (the part meets 404); per
folder, ``view_500`` (its item listing answered 500).
``ctx.options["storage_quota"]`` (bytes) makes sessions that would pass it fail with
403 storage_limit_exceeded.

Test aids, without auth: ``GET /_sandbox/stats``, ``/_sandbox/files``,
``/_sandbox/files/{id}/content`` and ``/_sandbox/sessions/{id}``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.sandbox.context import EmulatorContext
from tui.sandbox.faults import CutResponse, part_fault_response

MiB = 1024**2
GiB = 1024**3
MIN_SIZE = 20 * MiB
"""Box says "20MB"; its SDK's test uses 20 MiB: the sandbox takes the stricter reading."""
MAX_PARTS = 10_000
SESSION_LIFETIME = 7 * 86_400
"""Seconds an upload session lives."""
LIST_DEFAULT_LIMIT = 100
LIST_MAX_LIMIT = 1000
LIST_MAX_OFFSET = 10_000
HELP_URL = "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/"
ROOT_FOLDER = "0"

_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_BAD_NAME = re.compile(r"[/\\]")


def part_size_for(size: int) -> int:
    """The part size this sandbox gives a session for a file of ``size`` bytes."""
    if size < 512 * MiB:
        part = 8 * MiB
    elif size <= 8 * GiB:
        part = 32 * MiB
    else:
        part = 64 * MiB
    fitting = -(-size // MAX_PARTS)
    if part < fitting:
        part = -(-fitting // MiB) * MiB
    return part


def iso(when: float) -> str:
    """Box's timestamp form, ``2026-11-28T10:53:43+00:00``."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")


def box_error(
    status: int, code: str, message: str, context_info: dict[str, Any] | None = None
) -> JSONResponse:
    """Box's ClientError body."""
    body = {
        "type": "error",
        "status": status,
        "code": code,
        "message": message,
        "context_info": context_info or {},
        "help_url": HELP_URL,
        "request_id": secrets.token_hex(6),
    }
    return JSONResponse(body, status_code=status)


@dataclass
class StoredPart:
    """A part Box holds for a session."""

    part_id: str
    offset: int
    size: int
    sha1: str
    """Hex, as Box reports it."""
    data: bytes

    def as_json(self, sha1: str | None = None) -> dict[str, Any]:
        """The UploadPart object."""
        return {
            "part_id": self.part_id,
            "offset": self.offset,
            "size": self.size,
            "sha1": sha1 or self.sha1,
        }


@dataclass
class UploadSession:
    """One chunked upload session."""

    id: str
    folder_id: str
    file_name: str
    file_size: int
    part_size: int
    expires_at: float
    parts: dict[int, StoredPart] = field(default_factory=dict)
    """By byte offset."""

    @property
    def total_parts(self) -> int:
        """ceil(file_size / part_size)."""
        return -(-self.file_size // self.part_size)


@dataclass
class BoxFile:
    """A committed file."""

    id: str
    name: str
    folder_id: str
    data: bytes
    sha1: str
    created_at: float

    def as_json(self, fields: set[str] | None = None) -> dict[str, Any]:
        """The File object (with only ``fields`` beside type, id and etag when asked)."""
        full: dict[str, Any] = {
            "type": "file",
            "id": self.id,
            "etag": "0",
            "sequence_id": "0",
            "name": self.name,
            "sha1": self.sha1,
            "size": len(self.data),
            "created_at": iso(self.created_at),
            "parent": {"type": "folder", "id": self.folder_id},
        }
        if fields is None:
            return full
        return {k: v for k, v in full.items() if k in fields or k in ("type", "id", "etag")}


@dataclass
class BoxStore:
    """Everything the emulator holds: folders, sessions, committed files."""

    folders: dict[str, str] = field(default_factory=lambda: {ROOT_FOLDER: "All Files"})
    sessions: dict[str, UploadSession] = field(default_factory=dict)
    files: dict[str, BoxFile] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000_001))

    def new_file_id(self) -> str:
        """Box file ids are numeric strings."""
        return str(next(self._ids))

    def named(self, folder_id: str, name: str) -> BoxFile | None:
        """The file called ``name`` in a folder, if any (Box compares names case-blind)."""
        for f in self.files.values():
            if f.folder_id == folder_id and f.name.lower() == name.lower():
                return f
        return None

    def used(self) -> int:
        """Bytes held in committed files."""
        return sum(len(f.data) for f in self.files.values())


def _digest_of(header: str | None) -> bytes | None:
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


async def _sha1(data: bytes) -> bytes:
    """SHA-1 in a thread: parts are megabytes, and the loop serves every other request."""
    return await asyncio.to_thread(lambda: hashlib.sha1(data).digest())


def _valid_name(name: str) -> bool:
    return (
        0 < len(name) <= 255
        and name not in (".", "..")
        and name == name.strip()
        and not _BAD_NAME.search(name)
    )


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        return None


def create_app(ctx: EmulatorContext) -> Starlette:
    """The Box emulator for ``ctx``: its token, faults, clock and options."""
    store = BoxStore()
    upload_root = f"{ctx.public_url}/upload/api/2.0"

    def endpoints(s: UploadSession) -> dict[str, str]:
        base = f"{upload_root}/files/upload_sessions/{s.id}"
        return {
            "upload_part": base,
            "commit": f"{base}/commit",
            "abort": base,
            "list_parts": f"{base}/parts",
            "status": base,
            "log_event": f"{base}/log",
        }

    def session_json(s: UploadSession) -> dict[str, Any]:
        return {
            "id": s.id,
            "type": "upload_session",
            "session_expires_at": iso(s.expires_at),
            "part_size": s.part_size,
            "total_parts": s.total_parts,
            "num_parts_processed": len(s.parts),
            "session_endpoints": endpoints(s),
        }

    def unauthorized(request: Request) -> Response | None:
        if request.headers.get("authorization", "") == f"Bearer {ctx.token}":
            return None
        # Box answers a bad token with an empty 401 and the reason in WWW-Authenticate.
        return Response(
            status_code=401,
            headers={
                "WWW-Authenticate": 'Bearer realm="Service", error="invalid_token", '
                'error_description="The access token provided is invalid."'
            },
        )

    def live_session(session_id: str) -> UploadSession | None:
        s = store.sessions.get(session_id)
        if s is not None and ctx.clock() >= s.expires_at:
            del store.sessions[session_id]  # expired: its parts are discarded
            return None
        return s

    def not_found() -> Response:
        return box_error(404, "not_found", "Could not find the specified resource")

    # -- /api/2.0 ----------------------------------------------------------------------------

    async def users_me(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        quota = ctx.options.get("storage_quota")
        return JSONResponse(
            {
                "type": "user",
                "id": "11446498",
                "name": "Sandbox User",
                "login": "sandbox@example.com",
                "space_amount": quota if isinstance(quota, int) else 10**15,
                "space_used": store.used(),
            }
        )

    async def folder(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        folder_id = request.path_params["folder_id"]
        if folder_id not in store.folders:
            return not_found()
        return JSONResponse({"type": "folder", "id": folder_id, "name": store.folders[folder_id]})

    async def folder_items(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        folder_id = request.path_params["folder_id"]
        if folder_id not in store.folders:
            return not_found()
        if ctx.faults.take("view_500", folder_id):
            return box_error(500, "internal_server_error", "Internal Server Error")
        try:
            offset = int(request.query_params.get("offset", "0"))
            limit = min(int(request.query_params.get("limit", str(LIST_DEFAULT_LIMIT))), 1000)
        except ValueError:
            return box_error(400, "bad_request", "offset and limit must be numbers")
        fields_param = request.query_params.get("fields")
        fields = set(fields_param.split(",")) if fields_param else None
        items = sorted(
            (f for f in store.files.values() if f.folder_id == folder_id),
            key=lambda f: f.name.lower(),
        )
        return JSONResponse(
            {
                "total_count": len(items),
                "entries": [f.as_json(fields) for f in items[offset : offset + limit]],
                "offset": offset,
                "limit": limit,
                "order": [{"by": "name", "direction": "ASC"}],
            }
        )

    async def file_info(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        f = store.files.get(request.path_params["file_id"])
        return JSONResponse(f.as_json()) if f is not None else not_found()

    # -- /upload/api/2.0 -----------------------------------------------------------------------

    async def create_session(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        data = await _json_body(request)
        if not isinstance(data, dict):
            return box_error(400, "bad_request", "The request body must be a JSON object")
        refusal = _creation_refusal(data)
        if refusal is not None:
            return refusal
        folder_id, size, name = data["folder_id"], data["file_size"], data["file_name"]
        if folder_id not in store.folders:
            return box_error(404, "invalid_parameter", f"Invalid value '{folder_id}' for folder_id")
        if size < MIN_SIZE:
            return box_error(
                400,
                "file_size_too_small",
                f"File size {size} less than minimum allowed for this API: {MIN_SIZE}",
            )
        taken = store.named(folder_id, name)
        if taken is not None:
            return _name_conflict(taken)
        quota = ctx.options.get("storage_quota")
        if isinstance(quota, int) and store.used() + size > quota:
            return box_error(403, "storage_limit_exceeded", "Account storage limit reached")
        s = UploadSession(
            id=secrets.token_hex(16).upper(),
            folder_id=folder_id,
            file_name=name,
            file_size=size,
            part_size=part_size_for(size),
            expires_at=ctx.clock() + SESSION_LIFETIME,
        )
        store.sessions[s.id] = s
        return JSONResponse(session_json(s), status_code=201)

    async def session_status(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        s = live_session(request.path_params["session_id"])
        return JSONResponse(session_json(s)) if s is not None else not_found()

    async def abort(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        s = live_session(request.path_params["session_id"])
        if s is None:
            return not_found()
        del store.sessions[s.id]
        if ctx.faults.take("abort_lost", s.id):
            return box_error(500, "internal_server_error", "Internal Server Error")
        return Response(status_code=204)

    async def log_event(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        s = live_session(request.path_params["session_id"])
        return Response(status_code=204) if s is not None else not_found()

    async def upload_part(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        known = store.sessions.get(session_id)
        match = _RANGE.match(request.headers.get("content-range", ""))
        number = None
        if known is not None and match is not None:
            number = int(match.group(1)) // known.part_size + 1
            ctx.faults.count_put(session_id, number)
            if ctx.faults.gone_now(session_id):
                store.sessions.pop(session_id, None)  # aborted elsewhere: this part meets 404
        after_store = bool(ctx.options.get("part_faults_after_store"))
        if number is not None and not after_store:
            broken = await part_fault_response(ctx.faults, number)
            if broken is not None:
                return _as_box(broken)
        # Read the whole body before refusing it, so the client sees the answer rather
        # than a connection reset halfway through its upload.
        body = await request.body()
        if (denied := unauthorized(request)) is not None:
            return denied
        s = live_session(session_id)
        if s is None:
            return not_found()
        given = _digest_of(request.headers.get("digest"))
        if given is None:
            return box_error(
                400, "invalid_digest", "The Digest header is missing or is not sha=BASE64"
            )
        if match is None:
            return box_error(
                416,
                "requested_range_not_satisfiable",
                "Content-Range must be bytes <first>-<last>/<total>",
            )
        first, last, total = (int(g) for g in match.groups())
        refusal = _range_refusal(s, first, last, total, len(body))
        if refusal is not None:
            return refusal
        actual = await _sha1(body)
        if given != actual:
            return box_error(
                400,
                "bad_digest",
                "The digest of the uploaded part does not match the Digest header",
            )
        for held in s.parts.values():
            if held.offset <= last and first <= held.offset + held.size - 1:
                return box_error(
                    409,
                    "range_overlaps_existing_part",
                    "Part overlaps with previously uploaded part",
                    {"conflicts": [held.as_json()]},
                )
        part = StoredPart(
            part_id=secrets.token_hex(4).upper(),
            offset=first,
            size=len(body),
            sha1=actual.hex(),
            data=body,
        )
        s.parts[first] = part
        number = first // s.part_size + 1
        if after_store:
            broken = await part_fault_response(ctx.faults, number)
            if broken is not None:
                return _as_box(broken)
        wrong = ctx.faults.corrupt(number, hashlib.sha1(b"corrupted" + body[:64]).hexdigest())
        return JSONResponse({"part": part.as_json(wrong)})

    async def list_parts(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        s = live_session(request.path_params["session_id"])
        if s is None:
            return not_found()
        try:
            offset = int(request.query_params.get("offset", "0"))
            limit = int(request.query_params.get("limit", str(LIST_DEFAULT_LIMIT)))
        except ValueError:
            return box_error(400, "bad_request", "offset and limit must be numbers")
        if offset > LIST_MAX_OFFSET or offset < 0:
            return box_error(
                400, "invalid_parameter", f"offset must be between 0 and {LIST_MAX_OFFSET}"
            )
        limit = max(1, min(limit, LIST_MAX_LIMIT))
        parts = [s.parts[o] for o in sorted(s.parts)]
        return JSONResponse(
            {
                "entries": [p.as_json() for p in parts[offset : offset + limit]],
                "limit": limit,
                "offset": offset,
                "order": [{"by": "offset", "direction": "ASC"}],
                "total_count": len(parts),
            }
        )

    async def commit(request: Request) -> Response:
        if (denied := unauthorized(request)) is not None:
            return denied
        s = live_session(request.path_params["session_id"])
        if s is None:
            return not_found()
        given = _digest_of(request.headers.get("digest"))
        if given is None:
            return box_error(
                400, "invalid_digest", "The Digest header is missing or is not sha=BASE64"
            )
        data = await _json_body(request)
        refusal = _parts_refusal(s, data)
        if refusal is not None:
            return refusal
        if ctx.faults.take("commit_202", s.id):
            return Response(status_code=202, headers={"Retry-After": "1"})
        content = await asyncio.to_thread(b"".join, [s.parts[o].data for o in sorted(s.parts)])
        actual = await _sha1(content)
        if actual != given:
            return box_error(
                400,
                "digest_mismatch",
                f"File digest was incorrect. Actual: {base64.b64encode(actual).decode()} "
                f"Expected: {base64.b64encode(given).decode()}",
            )
        taken = store.named(s.folder_id, s.file_name)
        if taken is not None:
            return _name_conflict(taken)
        made = BoxFile(
            id=store.new_file_id(),
            name=s.file_name,
            folder_id=s.folder_id,
            data=content,
            sha1=actual.hex(),
            created_at=ctx.clock(),
        )
        store.files[made.id] = made
        store.sessions.pop(s.id, None)  # a committed session is closed: its endpoints answer 404
        if ctx.faults.take("complete_lost", s.id):
            return box_error(500, "internal_server_error", "Internal Server Error")
        return JSONResponse({"total_count": 1, "entries": [made.as_json()]}, status_code=201)

    # -- test aids -----------------------------------------------------------------------------

    async def stats(request: Request) -> Response:
        return JSONResponse(
            {**ctx.faults.stats(), "sessions": len(store.sessions), "files": len(store.files)}
        )

    async def sandbox_files(request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "id": f.id,
                    "name": f.name,
                    "folder_id": f.folder_id,
                    "size": len(f.data),
                    "sha1": f.sha1,
                }
                for f in store.files.values()
            ]
        )

    async def sandbox_content(request: Request) -> Response:
        f = store.files.get(request.path_params["file_id"])
        if f is None:
            return not_found()
        return Response(f.data, media_type="application/octet-stream")

    async def sandbox_session(request: Request) -> Response:
        s = store.sessions.get(request.path_params["session_id"])
        if s is None:
            return not_found()
        return JSONResponse(
            {**session_json(s), "expired": ctx.clock() >= s.expires_at, "parts": len(s.parts)}
        )

    sessions = "/upload/api/2.0/files/upload_sessions"
    return Starlette(
        routes=[
            Route("/api/2.0/users/me", users_me, methods=["GET"]),
            Route("/api/2.0/folders/{folder_id}", folder, methods=["GET"]),
            Route("/api/2.0/folders/{folder_id}/items", folder_items, methods=["GET"]),
            Route("/api/2.0/files/{file_id}", file_info, methods=["GET"]),
            Route(sessions, create_session, methods=["POST"]),
            Route(f"{sessions}/{{session_id}}", session_status, methods=["GET"]),
            Route(f"{sessions}/{{session_id}}", upload_part, methods=["PUT"]),
            Route(f"{sessions}/{{session_id}}", abort, methods=["DELETE"]),
            Route(f"{sessions}/{{session_id}}/parts", list_parts, methods=["GET"]),
            Route(f"{sessions}/{{session_id}}/commit", commit, methods=["POST"]),
            Route(f"{sessions}/{{session_id}}/log", log_event, methods=["POST"]),
            Route("/_sandbox/stats", stats, methods=["GET"]),
            Route("/_sandbox/files", sandbox_files, methods=["GET"]),
            Route("/_sandbox/files/{file_id}/content", sandbox_content, methods=["GET"]),
            Route("/_sandbox/sessions/{session_id}", sandbox_session, methods=["GET"]),
        ]
    )


def _creation_refusal(data: dict[str, Any]) -> Response | None:
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


def _name_conflict(taken: BoxFile) -> Response:
    return box_error(
        409,
        "item_name_in_use",
        "Item with the same name already exists",
        {"conflicts": {"type": "file", "id": taken.id, "name": taken.name, "sha1": taken.sha1}},
    )


def _range_refusal(
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


def _parts_refusal(s: UploadSession, data: Any) -> Response | None:
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


def _as_box(response: Response) -> Response:
    """A part fault in Box's shape: Box errors are JSON, and it has no part links to expire."""
    if isinstance(response, CutResponse):
        return response
    if response.status_code == 403:
        return box_error(404, "not_found", "Could not find the specified resource")
    if response.status_code >= 500:
        return box_error(500, "internal_server_error", "Internal Server Error")
    return response
