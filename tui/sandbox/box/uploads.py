"""``/upload/api/2.0``: chunked upload sessions, their parts and the commit."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui.sandbox.box.auth import BoxAuth
from tui.sandbox.box.checks import (
    LIST_DEFAULT_LIMIT,
    LIST_MAX_LIMIT,
    LIST_MAX_OFFSET,
    RANGE,
    creation_refusal,
    digest_of,
    invalid_digest,
    json_body,
    overlap_refusal,
    parts_refusal,
    range_refusal,
    sha1,
)
from tui.sandbox.box.errors import as_box, box_error, internal_error, name_conflict, not_found
from tui.sandbox.box.store import (
    MIN_SIZE,
    SESSION_LIFETIME,
    BoxFile,
    BoxStore,
    StoredPart,
    UploadSession,
    part_size_for,
)
from tui.sandbox.context import EmulatorContext
from tui.sandbox.faults import part_fault_response


class UploadApi:
    """The handlers under ``/upload/api/2.0/files/upload_sessions``."""

    def __init__(
        self, ctx: EmulatorContext, store: BoxStore, auth: BoxAuth, upload_root: str
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.auth = auth
        self.upload_root = upload_root
        """Where the session endpoints Box hands out point."""

    def _live(self, session_id: str) -> UploadSession | None:
        return self.store.live_session(session_id, self.ctx.clock)

    async def create_session(self, request: Request) -> Response:
        """POST: a new session for a file that fits the folder, the minimum and the quota."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        data = await json_body(request)
        if not isinstance(data, dict):
            return box_error(400, "bad_request", "The request body must be a JSON object")
        refusal = creation_refusal(data)
        if refusal is not None:
            return refusal
        folder_id, size, name = data["folder_id"], data["file_size"], data["file_name"]
        if folder_id not in self.store.folders:
            return box_error(404, "invalid_parameter", f"Invalid value '{folder_id}' for folder_id")
        if size < MIN_SIZE:
            return box_error(
                400,
                "file_size_too_small",
                f"File size {size} less than minimum allowed for this API: {MIN_SIZE}",
            )
        taken = self.store.named(folder_id, name)
        if taken is not None:
            return name_conflict(taken)
        quota = self.ctx.options.get("storage_quota")
        if isinstance(quota, int) and self.store.used() + size > quota:
            return box_error(403, "storage_limit_exceeded", "Account storage limit reached")
        s = UploadSession(
            id=secrets.token_hex(16).upper(),
            folder_id=folder_id,
            file_name=name,
            file_size=size,
            part_size=part_size_for(size),
            expires_at=self.ctx.clock() + SESSION_LIFETIME,
        )
        self.store.sessions[s.id] = s
        return JSONResponse(s.as_json(self.upload_root), status_code=201)

    async def session_status(self, request: Request) -> Response:
        """GET /{session_id}: the session, while it lives."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        s = self._live(request.path_params["session_id"])
        return JSONResponse(s.as_json(self.upload_root)) if s is not None else not_found()

    async def abort(self, request: Request) -> Response:
        """DELETE /{session_id}: the session and its parts are gone."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        s = self._live(request.path_params["session_id"])
        if s is None:
            return not_found()
        del self.store.sessions[s.id]
        if self.ctx.faults.take("abort_lost", s.id):
            return internal_error()
        return Response(status_code=204)

    async def log_event(self, request: Request) -> Response:
        """POST /{session_id}/log: accepted and dropped."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        s = self._live(request.path_params["session_id"])
        return Response(status_code=204) if s is not None else not_found()

    async def upload_part(self, request: Request) -> Response:
        """PUT /{session_id}: one part, checked against its Digest and Content-Range."""
        ctx = self.ctx
        session_id = request.path_params["session_id"]
        known = self.store.sessions.get(session_id)
        match = RANGE.match(request.headers.get("content-range", ""))
        number = None
        if known is not None and match is not None:
            number = int(match.group(1)) // known.part_size + 1
            ctx.faults.count_put(session_id, number)
            if ctx.faults.gone_now(session_id):
                self.store.sessions.pop(session_id, None)  # aborted elsewhere: this part meets 404
        after_store = bool(ctx.options.get("part_faults_after_store"))
        if number is not None and not after_store:
            broken = await part_fault_response(ctx.faults, number)
            if broken is not None:
                return as_box(broken)
        # The token is judged as the request arrives (a part that outlasts its token is
        # not refused for it), and the whole body read before refusing it, so the client
        # sees the answer rather than a connection reset halfway through its upload.
        denied = self.auth.refusal(request)
        body = await request.body()
        if denied is not None:
            return denied
        s = self._live(session_id)
        if s is None:
            return not_found()
        given = digest_of(request.headers.get("digest"))
        if given is None:
            return invalid_digest()
        if match is None:
            return box_error(
                416,
                "requested_range_not_satisfiable",
                "Content-Range must be bytes <first>-<last>/<total>",
            )
        first, last, total = (int(g) for g in match.groups())
        refusal = range_refusal(s, first, last, total, len(body))
        if refusal is not None:
            return refusal
        actual = await sha1(body)
        if given != actual:
            return box_error(
                400,
                "bad_digest",
                "The digest of the uploaded part does not match the Digest header",
            )
        overlap = overlap_refusal(s, first, last)
        if overlap is not None:
            return overlap
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
                return as_box(broken)
        wrong = ctx.faults.corrupt(number, hashlib.sha1(b"corrupted" + body[:64]).hexdigest())
        return JSONResponse({"part": part.as_json(wrong)})

    async def list_parts(self, request: Request) -> Response:
        """GET /{session_id}/parts: the stored parts by offset, paged."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        s = self._live(request.path_params["session_id"])
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

    async def commit(self, request: Request) -> Response:
        """POST /{session_id}/commit: the parts become a file once the whole SHA-1 matches."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        s = self._live(request.path_params["session_id"])
        if s is None:
            return not_found()
        given = digest_of(request.headers.get("digest"))
        if given is None:
            return invalid_digest()
        data = await json_body(request)
        refusal = parts_refusal(s, data)
        if refusal is not None:
            return refusal
        if self.ctx.faults.take("commit_202", s.id):
            return Response(status_code=202, headers={"Retry-After": "1"})
        content = await asyncio.to_thread(b"".join, [s.parts[o].data for o in sorted(s.parts)])
        actual = await sha1(content)
        if actual != given:
            return box_error(
                400,
                "digest_mismatch",
                f"File digest was incorrect. Actual: {base64.b64encode(actual).decode()} "
                f"Expected: {base64.b64encode(given).decode()}",
            )
        taken = self.store.named(s.folder_id, s.file_name)
        if taken is not None:
            return name_conflict(taken)
        made = BoxFile(
            id=self.store.new_file_id(),
            name=s.file_name,
            folder_id=s.folder_id,
            data=content,
            sha1=actual.hex(),
            created_at=self.ctx.clock(),
        )
        self.store.files[made.id] = made
        # A committed session is closed: its endpoints answer 404.
        self.store.sessions.pop(s.id, None)
        if self.ctx.faults.take("complete_lost", s.id):
            return internal_error()
        return JSONResponse({"total_count": 1, "entries": [made.as_json()]}, status_code=201)
