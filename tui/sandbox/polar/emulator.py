"""The Files API's handlers over the emulated store, and the Starlette app that serves them."""

from __future__ import annotations

import base64
import binascii
import math
import uuid
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.sandbox.backend import BackendError
from tui.sandbox.context import EmulatorContext
from tui.sandbox.polar.auth import payload_organization, token_refusal
from tui.sandbox.polar.errors import Invalid, internal_error, polar_error, validation_error
from tui.sandbox.polar.records import FileRecord, file_read
from tui.sandbox.polar.storage import complete_upload, presign_part, sweep
from tui.sandbox.polar.validation import (
    json_body,
    parse_create,
    parse_uploaded,
    parse_uuid,
    query_int,
)


class PolarEmulator:
    """The Files API's state and handlers for one sandbox."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.organization_id = str(uuid.uuid4())
        """The organization the sandbox's Organization Access Token belongs to."""
        self.files: dict[str, FileRecord] = {}
        self.calls: Counter[str] = Counter()
        """API calls received, by handler name (``GET /_sandbox/stats`` shows them)."""

    # -- plumbing --------------------------------------------------------------------------

    async def _enter(self, request: Request, call: str) -> Response | None:
        """Count the call, check the token, run the lifecycle sweep; a refusal or None."""
        self.calls[call] += 1
        refused = token_refusal(request, self.ctx)
        if refused is None:
            await sweep(self.ctx, self.files.values())
        return refused

    def _live(self, file_id: str) -> FileRecord | None:
        record = self.files.get(file_id)
        return None if record is None or record.deleted else record

    # -- handlers ----------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        """POST /v1/files/: a file record, an S3 multipart upload and a URL per part."""
        refused = await self._enter(request, "create")
        if refused is not None:
            return refused
        try:
            data = parse_create(await json_body(request))
            organization_id = payload_organization(
                self.ctx,
                self.organization_id,
                data["organization_id"],
                ["body", "organization_id"],
            )
        except Invalid as exc:
            return validation_error(exc.errors)
        sha_b64 = data["checksum_sha256_base64"]
        try:
            sha_hex = base64.b64decode(sha_b64).hex() if sha_b64 else None
        except (binascii.Error, ValueError):
            return internal_error()  # Polar decodes it unguarded
        file_id = str(uuid.uuid4())
        path = f"{data['service']}/{organization_id}/{file_id}/{data['name']}"
        backend = self.ctx.require_backend()
        try:
            upload_id = await backend.create(path, data["mime_type"], checksum_algorithm="SHA256")
        except BackendError:
            return internal_error()
        record = FileRecord(
            id=file_id,
            organization_id=organization_id,
            name=data["name"],
            path=path,
            mime_type=data["mime_type"],
            size=data["size"],
            service=data["service"],
            version=data["version"],
            upload_id=upload_id,
            created_at=self.ctx.clock(),
            part_checksums={p["number"]: p["checksum_sha256_base64"] for p in data["parts"]},
            checksum_sha256_base64=sha_b64,
            checksum_sha256_hex=sha_hex,
        )
        self.files[file_id] = record
        parts = [presign_part(self.ctx, record, p) for p in data["parts"]]
        body = file_read(record, self.ctx)
        del body["created_at"]  # FileUpload has no created_at
        body["upload"] = {"id": upload_id, "path": path, "parts": parts}
        return JSONResponse(body)

    async def uploaded(self, request: Request) -> Response:
        """POST /v1/files/{id}/uploaded: complete the S3 upload and mark the file uploaded."""
        refused = await self._enter(request, "uploaded")
        if refused is not None:
            return refused
        try:
            file_id = parse_uuid(request.path_params["id"], ["path", "id"])
            data = parse_uploaded(await json_body(request))
        except Invalid as exc:
            return validation_error(exc.errors)
        record = self._live(file_id)
        if record is None:
            return polar_error(404, "FileNotFound", f"No file exists with ID: {file_id}")
        repeat = self.ctx.options.get("repeat_complete")
        if record.is_uploaded and repeat == "succeed":
            return JSONResponse(file_read(record, self.ctx))  # AWS repeats a complete happily
        if record.is_uploaded and repeat == "nosuchupload":
            return internal_error()  # MinIO: NoSuchUpload, which Polar does not catch
        try:
            etag = await complete_upload(self.ctx, record, data)
        except (BackendError, binascii.Error):
            # S3's InvalidPart / NoSuchUpload / EntityTooSmall, or a checksum that is not
            # base64: Polar lets the exception escape, so the client sees a bare 500.
            return internal_error()
        record.is_uploaded = True
        record.checksum_etag = etag
        record.last_modified_at = self.ctx.clock()
        if self.ctx.faults.take("complete_lost", file_id):
            return internal_error()
        return JSONResponse(file_read(record, self.ctx))

    async def delete(self, request: Request) -> Response:
        """DELETE /v1/files/{id}: soft-delete the record and delete the object (only)."""
        refused = await self._enter(request, "delete")
        if refused is not None:
            return refused
        try:
            file_id = parse_uuid(request.path_params["id"], ["path", "id"])
        except Invalid as exc:
            return validation_error(exc.errors)
        record = self._live(file_id)
        if record is None:
            return polar_error(404, "FileNotFound", f"No file exists with ID: {file_id}")
        record.deleted = True
        try:
            await self.ctx.require_backend().delete(record.path)
        except BackendError:
            return internal_error()
        if self.ctx.faults.take("abort_lost", str(file_id)):
            return internal_error()
        return Response(status_code=204)

    async def list(self, request: Request) -> Response:
        """GET /v1/files/: the organization's uploaded files, optionally only ``ids``."""
        refused = await self._enter(request, "list")
        if refused is not None:
            return refused
        try:
            ids = {
                parse_uuid(v, ["query", "ids", i])
                for i, v in enumerate(request.query_params.getlist("ids"))
            }
            page = query_int(request, "page", 1, 1, None)
            limit = query_int(request, "limit", 10, 1, 100)
        except Invalid as exc:
            return validation_error(exc.errors)
        if any(self.ctx.faults.take("view_500", str(i)) for i in ids):
            return internal_error()
        organization = request.query_params.get("organization_id") or self.organization_id
        if organization != self.organization_id:
            return polar_error(403, "NotPermitted", "Not permitted")
        found = sorted(
            (
                r
                for r in self.files.values()
                if not r.deleted and r.is_uploaded and (not ids or r.id in ids)
            ),
            key=lambda r: r.created_at,
            reverse=True,
        )
        items = found[(page - 1) * limit : page * limit]
        return JSONResponse(
            {
                "items": [file_read(r, self.ctx) for r in items],
                "pagination": {
                    "total_count": len(found),
                    "max_page": math.ceil(len(found) / limit),
                },
            }
        )


def create_app(ctx: EmulatorContext) -> Starlette:
    """The Polar emulator: ``/v1/files/`` on the sandbox's S3 back end."""
    polar = PolarEmulator(ctx)

    async def files(request: Request) -> Response:
        if request.method == "POST":
            return await polar.create(request)
        return await polar.list(request)

    async def stats(request: Request) -> Response:
        return JSONResponse({"calls": dict(polar.calls), "files": len(polar.files)})

    app = Starlette(
        routes=[
            Route("/_sandbox/stats", stats, methods=["GET"]),
            Route("/v1/files/", files, methods=["GET", "POST"]),
            Route("/v1/files/{id}/uploaded", polar.uploaded, methods=["POST"]),
            Route("/v1/files/{id}", polar.delete, methods=["DELETE"]),
        ]
    )
    app.state.polar = polar
    return app
