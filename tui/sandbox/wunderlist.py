"""The Wunderlist emulator: Upload resources on the S3 back end, part credentials one at a time.

Served under ``/api/v1`` as a.wunderlist.com was. Every call needs ``X-Access-Token`` and
``X-Client-ID``; JSON bodies need ``Content-Type: application/json``. POST /uploads starts
an S3 multipart upload and answers with part 1's SigV2 credentials; GET
/uploads/:id/parts answers with part N's; S3 (the gateway) accepts a part while its date
is within 15 minutes of its clock, hence ``expires_at`` = date + 15 min. PATCH to finished
completes the S3 upload with every part S3 holds. There is no abort: unfinished uploads
are garbage-collected once their lifetime ends (``options["upload_lifetime"]`` seconds,
a day by default; the length is not documented).

Test hooks outside the API: GET /_sandbox/uploads/:id (the S3 key and upload id, state,
and every part-credential request with the part PUTs the gateway had seen by then) and
GET /_sandbox/stats (API calls served).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import hmac
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.sandbox.backend import BackendError, S3Backend
from tui.sandbox.context import EmulatorContext

API = "/api/v1"
PART_LIFETIME = 15 * 60
"""Seconds a part's credentials work: S3's SigV2 clock-skew limit."""
UPLOAD_LIFETIME = 24 * 3600
"""Seconds an unfinished upload lives before it is collected (not documented; a guess)."""
NO_PARTS = "There are no parts upload to finish it"
USER_ID = 1337
USER = {
    "id": USER_ID,
    "name": "Sandbox User",
    "email": "sandbox@example.com",
    "created_at": "2013-08-30T08:25:58.000Z",
    "revision": 1,
    "type": "user",
}
MAX_PARTS = 10_000
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass
class _Upload:
    """One Upload resource and the S3 multipart upload behind it."""

    id: int
    key: str
    s3_upload_id: str
    file_name: str
    content_type: str
    file_size: int
    created_at: float
    state: str = "new"
    """``new``, ``finished`` or ``collected`` (garbage-collected, gone from the API)."""
    part_requests: list[dict[str, int]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def api_error(status: int, kind: str, message: str, **fields: list[str]) -> JSONResponse:
    """Wunderlist's common error shape: ``{"error": {"type", "translation_key", "message"}}``."""
    key = {"missing_parameter": "api_error_missing_params"}.get(kind, f"api_error_{kind}")
    body: dict[str, Any] = {"type": kind, "translation_key": key, "message": message, **fields}
    return JSONResponse({"error": body}, status_code=status)


def unauthorized() -> JSONResponse:
    """401 as Wunderlist answers it."""
    return api_error(401, "unauthorized", "You are not authorized.")


def not_found() -> JSONResponse:
    """404 as Wunderlist answers it."""
    return api_error(404, "not_found", "The resource you requested could not be found.")


def missing(**fields: list[str]) -> JSONResponse:
    """400 missing_parameter with per-field arrays (also used for invalid values)."""
    return api_error(400, "missing_parameter", "Missing parameter.", **fields)


def iso(when: float) -> str:
    """``2014-04-30T14:44:48Z``: Wunderlist's date format."""
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(value: Any) -> int | None:
    """An integer parameter from JSON or a query string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def create_app(ctx: EmulatorContext) -> Starlette:
    """The emulator's ASGI app for ``ctx``."""
    backend: S3Backend = ctx.require_backend()
    uploads: dict[int, _Upload] = {}
    files: dict[int, dict[str, Any]] = {}
    ids = itertools.count(2000)
    file_ids = itertools.count(123456)
    served: Counter[str] = Counter()

    def denied(request: Request) -> Response | None:
        """401 unless both the token and the client id are the sandbox's."""
        served["requests"] += 1
        token = request.headers.get("x-access-token", "")
        client_id = request.headers.get("x-client-id", "")
        if hmac.compare_digest(token.encode(), ctx.token.encode()) and hmac.compare_digest(
            client_id.encode(), ctx.client_id.encode()
        ):
            return None
        return unauthorized()

    async def json_body(request: Request) -> dict[str, Any] | Response:
        """The JSON object of a POST/PATCH; 400 unless sent as application/json."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            # The docs say a missing or other Content-Type is "an error"; its shape is a guess.
            return api_error(400, "bad_request", "Content-Type must be application/json.")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return api_error(400, "bad_request", "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return api_error(400, "bad_request", "The request body must be a JSON object.")
        return body

    async def collect() -> None:
        """Garbage-collect unfinished uploads whose lifetime is over (the API's own GC)."""
        lifetime = float(ctx.options.get("upload_lifetime", UPLOAD_LIFETIME))
        now = ctx.clock()
        for upload in list(uploads.values()):
            if upload.state == "new" and now > upload.created_at + lifetime:
                upload.state = "collected"
                # Already gone on S3 is fine: nothing is left to collect.
                with contextlib.suppress(BackendError):
                    await backend.abort(upload.key, upload.s3_upload_id)

    async def live_upload(request: Request) -> _Upload | Response:
        """The upload named in the path, or 404 when unknown or collected."""
        await collect()
        number = _int(request.path_params["id"])
        upload = uploads.get(number) if number is not None else None
        if upload is None or upload.state == "collected":
            return not_found()
        return upload

    def md5_param(source: Any) -> str | Response | None:
        """``md5sum`` (or ``md5_sum``, as one client spells it): 32 hex digits, optional."""
        value = source.get("md5sum", source.get("md5_sum"))
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not _MD5.match(value):
            return missing(md5sum=["is invalid"])
        return value.lower()

    def credentials(upload: _Upload, number: int, md5: str | None) -> dict[str, Any]:
        """The Upload shape with SigV2 credentials for part ``number``, dated now."""
        now = ctx.clock()
        date = email.utils.formatdate(now, usegmt=True)
        content_md5 = base64.b64encode(bytes.fromhex(md5)).decode() if md5 else ""
        authorization = backend.sign_v2_part(
            upload.key, upload.s3_upload_id, number, date, content_md5=content_md5
        )
        return {
            "id": upload.id,
            "user_id": USER_ID,
            "state": upload.state,
            "type": "upload",
            "expires_at": iso(now + PART_LIFETIME),
            "part": {
                "url": backend.part_url(upload.key, upload.s3_upload_id, number),
                "date": date,
                "authorization": authorization,
            },
        }

    def finished(upload: _Upload) -> JSONResponse:
        return JSONResponse(
            {"id": upload.id, "user_id": USER_ID, "state": "finished", "type": "upload"}
        )

    async def user(request: Request) -> Response:
        return denied(request) or JSONResponse(USER)

    async def create_upload(request: Request) -> Response:
        if (refusal := denied(request)) is not None:
            return refusal
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        await collect()
        problems: dict[str, list[str]] = {}
        for name in ("content_type", "file_name"):
            if not isinstance(body.get(name), str) or not body[name]:
                problems[name] = ["required", "can't be blank"]
        size = body.get("file_size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            problems["file_size"] = ["required", "must be a whole number of bytes"]
        number = _int(body.get("part_number", 1))
        if number is None or not 1 <= number <= MAX_PARTS:
            problems["part_number"] = ["must be between 1 and 10000"]
        md5 = md5_param(body)
        if problems:
            return missing(**problems)
        if isinstance(md5, Response):
            return md5
        assert number is not None and isinstance(size, int)
        upload_id = next(ids)
        key = f"uploads/{upload_id}/{body['file_name']}"
        try:
            s3_upload_id = await backend.create(key, body["content_type"])
        except BackendError:
            return api_error(500, "server_error", "Something went wrong.")
        upload = _Upload(
            id=upload_id,
            key=key,
            s3_upload_id=s3_upload_id,
            file_name=body["file_name"],
            content_type=body["content_type"],
            file_size=size,
            created_at=ctx.clock(),
        )
        uploads[upload_id] = upload
        return JSONResponse(credentials(upload, number, md5), status_code=201)

    async def upload_part(request: Request) -> Response:
        if (refusal := denied(request)) is not None:
            return refusal
        upload = await live_upload(request)
        if isinstance(upload, Response):
            return upload
        number = _int(request.query_params.get("part_number"))
        if number is None or not 1 <= number <= MAX_PARTS:
            return missing(part_number=["required", "must be between 1 and 10000"])
        md5 = md5_param(request.query_params)
        if isinstance(md5, Response):
            return md5
        if upload.state != "new":
            # Not documented: the PATCH failure shape, for parts of a finished upload.
            return JSONResponse({"errors": ["state", "The upload is already finished"]}, 400)
        puts = ctx.faults.puts_for(upload.s3_upload_id)
        upload.part_requests.append({"part_number": number, "puts_before": sum(puts.values())})
        return JSONResponse(credentials(upload, number, md5))

    async def finish_upload(request: Request) -> Response:
        if (refusal := denied(request)) is not None:
            return refusal
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        upload = await live_upload(request)
        if isinstance(upload, Response):
            return upload
        if "state" not in body:
            return missing(state=["required"])
        if body["state"] != "finished":
            return missing(state=["must be finished"])
        async with upload.lock:
            if upload.state == "finished":
                return finished(upload)  # a repeated finish is answered like the first
            return await assemble(upload)

    async def assemble(upload: _Upload) -> Response:
        """Complete the S3 upload with every part S3 holds (the API never sees ETags)."""
        try:
            held = await backend.parts(upload.key, upload.s3_upload_id)
        except BackendError as exc:
            if exc.code == "NoSuchUpload":
                return not_found()
            return api_error(500, "server_error", "Something went wrong.")
        if not held:
            return JSONResponse({"errors": ["state", NO_PARTS]}, status_code=400)
        listing = [{"PartNumber": p.number, "ETag": p.etag} for p in sorted(held, key=_number)]
        try:
            await backend.complete(upload.key, upload.s3_upload_id, listing)
        except BackendError as exc:
            if exc.status >= 500:
                return api_error(500, "server_error", "Something went wrong.")
            # Not documented: S3's refusal (e.g. EntityTooSmall) in the PATCH failure shape.
            return JSONResponse({"errors": ["state", f"{exc.code}: {exc.message}"]}, 400)
        upload.state = "finished"
        if ctx.faults.take("complete_lost", str(upload.id)):
            return api_error(500, "server_error", "Something went wrong.")
        return finished(upload)

    async def create_file(request: Request) -> Response:
        if (refusal := denied(request)) is not None:
            return refusal
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        upload_id, task_id = _int(body.get("upload_id")), _int(body.get("task_id"))
        problems = {
            name: ["required", "can't be blank"]
            for name, value in (("upload_id", upload_id), ("task_id", task_id))
            if value is None
        }
        if problems:
            return missing(**problems)
        await collect()
        upload = uploads.get(upload_id) if upload_id is not None else None
        if upload is None or upload.state == "collected":
            return not_found()
        if upload.state != "finished":
            return JSONResponse({"errors": ["upload", "is not finished"]}, status_code=400)
        now = iso(ctx.clock())
        file_id = next(file_ids)
        record = {
            "id": file_id,
            "url": backend.part_url(upload.key, upload.s3_upload_id, 1).split("?", 1)[0],
            "task_id": task_id,
            "list_id": 1,
            "user_id": USER_ID,
            "file_name": upload.file_name,
            "content_type": upload.content_type,
            "file_size": upload.file_size,
            "local_created_at": body.get("local_created_at") or now,
            "created_at": now,
            "updated_at": now,
            "type": "file",
            "revision": 1,
        }
        files[file_id] = record
        return JSONResponse(record, status_code=201)

    async def sandbox_upload(request: Request) -> Response:
        await collect()
        number = _int(request.path_params["id"])
        upload = uploads.get(number) if number is not None else None
        if upload is None:
            return not_found()
        return JSONResponse(
            {
                "id": upload.id,
                "key": upload.key,
                "s3_upload_id": upload.s3_upload_id,
                "state": upload.state,
                "file_name": upload.file_name,
                "file_size": upload.file_size,
                "part_requests": upload.part_requests,
            }
        )

    async def sandbox_stats(request: Request) -> Response:
        return JSONResponse({"requests": served["requests"], "uploads": len(uploads)})

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            return api_error(405, "method_not_allowed", "Method not allowed.")
        return not_found()

    return Starlette(
        routes=[
            Route(f"{API}/user", user, methods=["GET"]),
            Route(f"{API}/uploads", create_upload, methods=["POST"]),
            Route(f"{API}/uploads/{{id}}/parts", upload_part, methods=["GET"]),
            Route(f"{API}/uploads/{{id}}", finish_upload, methods=["PATCH"]),
            Route(f"{API}/files", create_file, methods=["POST"]),
            Route("/_sandbox/uploads/{id}", sandbox_upload, methods=["GET"]),
            Route("/_sandbox/stats", sandbox_stats, methods=["GET"]),
        ],
        exception_handlers={404: http_error, 405: http_error},
    )


def _number(part: Any) -> int:
    return int(part.number)
