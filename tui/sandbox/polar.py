"""Polar's Files API (``/v1/files/``), emulated on the sandbox's S3 back end.

It does what Polar's server does (polarsource/polar ``file`` and ``integrations/aws/s3``):
create starts an S3 multipart upload under ``<service>/<org id>/<file uuid>/<name>`` and
presigns one UploadPart URL per part the client describes, for 600 s, with the part's
SHA-256 signed in; ``/uploaded`` completes the S3 upload with each part's ETag and
checksum plus the composite checksum; DELETE soft-deletes the record and deletes the
object but leaves the multipart upload (and its parts) to the bucket's lifecycle rules;
the list shows uploaded files only. Errors have Polar's shapes: ``{"type", "detail"}``
for its own errors, ``{"detail": [{"type", "loc", "msg", "input"}]}`` for validation,
and the bare 500 of an S3 failure Polar does not catch.

Switches (``ctx.options``): ``scopes`` (the token's scopes, default ``files:read
files:write``), ``token_kind`` (``organization``, the default, or ``user``: then
``organization_id`` is required), ``repeat_complete`` (``succeed`` answers a repeated
``/uploaded`` as AWS does, ``nosuchupload`` with the 500 a MinIO NoSuchUpload gives;
unset, the S3 back end decides: moto completes again, like AWS),
``abort_incomplete_after`` (seconds: the lifecycle rule that aborts older multipart
uploads).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tui.sandbox.backend import BackendError
from tui.sandbox.context import EmulatorContext

PRESIGN_TTL = 600
"""``S3_FILES_PRESIGN_TTL``: seconds a part URL lives."""
MAX_PARTS = 10_000
SERVICES = ("downloadable", "product_media", "organization_avatar", "support_case_attachment")
_IMAGES = r"^image\/(jpeg|png|gif|webp|svg\+xml)$"
_SUPPORT = (
    r"^(image\/(jpeg|png|gif|webp)|video\/(mp4|quicktime|webm)|application\/pdf"
    r"|text\/(csv|plain)|application\/msword"
    r"|application\/vnd\.openxmlformats-officedocument\.wordprocessingml\.document"
    r"|application\/vnd\.ms-excel"
    r"|application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet)$"
)
SERVICE_RULES: dict[str, tuple[str, int]] = {
    "product_media": (_IMAGES, 10 * 1024 * 1024),
    "organization_avatar": (_IMAGES, 1 * 1024 * 1024),
    "support_case_attachment": (_SUPPORT, 250 * 1024 * 1024),
}
"""Service -> (mime pattern, largest size); ``downloadable`` takes anything."""
PUBLIC_SERVICES = ("product_media", "organization_avatar")
WRITE_SCOPE = "files:write"
DEFAULT_SCOPES = ("files:read", WRITE_SCOPE)


@dataclass
class FileRecord:
    """One row of Polar's ``files`` table, with the S3 upload behind it."""

    id: str
    organization_id: str
    name: str
    path: str
    mime_type: str
    size: int
    service: str
    version: str | None
    upload_id: str
    created_at: float
    part_checksums: dict[int, str | None] = field(default_factory=dict)
    """The per-part SHA-256 (base64) given at create, signed into each part URL."""
    checksum_sha256_base64: str | None = None
    checksum_sha256_hex: str | None = None
    is_uploaded: bool = False
    checksum_etag: str | None = None
    last_modified_at: float | None = None
    deleted: bool = False
    swept: bool = False
    """The lifecycle rule has aborted its multipart upload."""


class Invalid(Exception):
    """Request validation failed: pydantic-style error entries for a 422."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


def iso(timestamp: float) -> str:
    """A UTC timestamp as Polar's API writes datetimes."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def human_readable_size(size: float) -> str:
    """Polar's ``size_readable``: ``12.0 MB`` (binary steps)."""
    for unit in ("", "K", "M", "G", "T", "P", "E", "Z"):
        if abs(size) < 1024.0:
            return f"{size:3.1f} {unit}B"
        size /= 1024.0
    return f"{size:.1f} YB"


def multipart_checksum(checksums: list[str]) -> str:
    """The composite checksum Polar sends S3: base64 of SHA-256 over the raw part digests."""
    digests = b"".join(base64.b64decode(c) for c in checksums)
    return base64.b64encode(hashlib.sha256(digests).digest()).decode()


# -- responses ------------------------------------------------------------------------------


def polar_error(status: int, kind: str, detail: str) -> JSONResponse:
    """One of Polar's own errors: ``{"type": <class name>, "detail": <message>}``."""
    return JSONResponse({"type": kind, "detail": detail}, status_code=status)


def validation_error(errors: list[dict[str, Any]]) -> JSONResponse:
    """FastAPI's 422 for a request that fails validation."""
    return JSONResponse({"detail": errors}, status_code=422)


def internal_error() -> Response:
    """What an uncaught exception (an S3 ClientError) gives: Starlette's bare 500."""
    return PlainTextResponse("Internal Server Error", status_code=500)


def _entry(kind: str, loc: list[Any], msg: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


# -- validation (the pydantic schemas, by hand: only what the emulator reads) ---------------


def _get(
    data: dict[str, Any],
    name: str,
    kind: type,
    loc: list[Any],
    errors: list[dict[str, Any]],
    *,
    required: bool = True,
) -> Any:
    """``data[name]`` if it is of ``kind`` (None allowed when not required), else an error."""
    where = [*loc, name]
    if name not in data:
        if required:
            errors.append(_entry("missing", where, "Field required", data))
        return None
    value = data[name]
    if value is None and not required:
        return None
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        errors.append(_entry("int_type", where, "Input should be a valid integer", value))
        return None
    if kind is str and not isinstance(value, str):
        errors.append(_entry("string_type", where, "Input should be a valid string", value))
        return None
    if kind is list and not isinstance(value, list):
        errors.append(_entry("list_type", where, "Input should be a valid list", value))
        return None
    if kind is dict and not isinstance(value, dict):
        errors.append(_not_object(where, value))
        return None
    return value


def _not_object(loc: list[Any], value: Any) -> dict[str, Any]:
    return _entry(
        "model_attributes_type",
        loc,
        "Input should be a valid dictionary or object to extract fields from",
        value,
    )


def _object(body: Any, loc: list[Any]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid([_not_object(loc, body)])
    return body


def parse_create(body: Any) -> dict[str, Any]:
    """A FileCreate body, checked as Polar's discriminated schema checks it."""
    data = _object(body, ["body"])
    service = data.get("service")
    if "service" not in data:
        raise Invalid(
            [
                _entry(
                    "union_tag_not_found",
                    ["body"],
                    "Unable to extract tag using discriminator 'service'",
                    data,
                )
            ]
        )
    if service not in SERVICES:
        tags = ", ".join(f"'{s}'" for s in SERVICES)
        raise Invalid(
            [
                _entry(
                    "union_tag_invalid",
                    ["body"],
                    f"Input tag '{service}' found using 'service' does not match any of the "
                    f"expected tags: {tags}",
                    data,
                )
            ]
        )
    loc: list[Any] = ["body", service]
    errors: list[dict[str, Any]] = []
    out: dict[str, Any] = {"service": service}
    out["organization_id"] = _get(data, "organization_id", str, loc, errors, required=False)
    out["name"] = _get(data, "name", str, loc, errors)
    out["mime_type"] = _get(data, "mime_type", str, loc, errors)
    out["size"] = _get(data, "size", int, loc, errors)
    out["checksum_sha256_base64"] = _get(
        data, "checksum_sha256_base64", str, loc, errors, required=False
    )
    out["version"] = _get(data, "version", str, loc, errors, required=False)
    _check_service_rules(service, out, loc, errors)
    upload = _get(data, "upload", dict, loc, errors)
    out["parts"] = _parse_create_parts(upload, [*loc, "upload"], errors) if upload else []
    if errors:
        raise Invalid(errors)
    return out


def _check_service_rules(
    service: str, out: dict[str, Any], loc: list[Any], errors: list[dict[str, Any]]
) -> None:
    rule = SERVICE_RULES.get(service)
    if rule is None:
        return
    pattern, largest = rule
    mime, size = out.get("mime_type"), out.get("size")
    if isinstance(mime, str) and not re.match(pattern, mime):
        errors.append(
            _entry(
                "string_pattern_mismatch",
                [*loc, "mime_type"],
                f"String should match pattern '{pattern}'",
                mime,
            )
        )
    if isinstance(size, int) and size > largest:
        errors.append(
            _entry(
                "less_than_equal",
                [*loc, "size"],
                f"Input should be less than or equal to {largest}",
                size,
            )
        )


def _parse_create_parts(
    upload: dict[str, Any], loc: list[Any], errors: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    raw = _get(upload, "parts", list, loc, errors)
    if raw is None:
        return []
    if len(raw) > MAX_PARTS:
        errors.append(
            _entry(
                "too_long",
                [*loc, "parts"],
                f"List should have at most {MAX_PARTS} items after validation, not {len(raw)}",
                raw,
            )
        )
        return []
    parts = []
    for index, item in enumerate(raw):
        where = [*loc, "parts", index]
        if not isinstance(item, dict):
            errors.append(_not_object(where, item))
            continue
        parts.append(
            {
                "number": _get(item, "number", int, where, errors),
                "chunk_start": _get(item, "chunk_start", int, where, errors),
                "chunk_end": _get(item, "chunk_end", int, where, errors),
                "checksum_sha256_base64": _get(
                    item, "checksum_sha256_base64", str, where, errors, required=False
                ),
            }
        )
    return parts


def parse_uploaded(body: Any) -> dict[str, Any]:
    """A FileUploadCompleted body: ``id``, ``path`` and every part's ETag and checksum."""
    data = _object(body, ["body"])
    errors: list[dict[str, Any]] = []
    out: dict[str, Any] = {
        "id": _get(data, "id", str, ["body"], errors),
        "path": _get(data, "path", str, ["body"], errors),
    }
    raw = _get(data, "parts", list, ["body"], errors) or []
    parts = []
    for index, item in enumerate(raw):
        where: list[Any] = ["body", "parts", index]
        if not isinstance(item, dict):
            errors.append(_not_object(where, item))
            continue
        etag = _get(item, "checksum_etag", str, where, errors)
        # ``checksum_sha256_base64: str | None`` has no default: the key is required.
        if "checksum_sha256_base64" not in item:
            errors.append(
                _entry("missing", [*where, "checksum_sha256_base64"], "Field required", item)
            )
        parts.append(
            {
                "number": _get(item, "number", int, where, errors),
                "checksum_etag": etag.strip() if isinstance(etag, str) else etag,
                "checksum_sha256_base64": _get(
                    item, "checksum_sha256_base64", str, where, errors, required=False
                ),
            }
        )
    out["parts"] = parts
    if errors:
        raise Invalid(errors)
    return out


def parse_uuid(value: str, loc: list[Any]) -> str:
    """A UUID path or query value, or the 422 FastAPI gives for it."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Invalid(
            [
                _entry(
                    "uuid_parsing",
                    loc,
                    "Input should be a valid UUID, invalid character: expected an optional "
                    "prefix of `urn:uuid:` followed by [0-9a-fA-F-], found something else",
                    value,
                )
            ]
        ) from None


def _query_int(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    loc = ["query", name]
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(
            [_entry("int_parsing", loc, "Input should be a valid integer", raw)]
        ) from None
    if value < low:
        raise Invalid([_entry("greater_than", loc, f"Input should be greater than {low - 1}", raw)])
    if high is not None and value > high:
        raise Invalid(
            [_entry("less_than_equal", loc, f"Input should be less than or equal to {high}", raw)]
        )
    return value


# -- the app ---------------------------------------------------------------------------------


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
        refused = self._auth(request)
        if refused is None:
            await self._sweep()
        return refused

    def _auth(self, request: Request) -> Response | None:
        """None when the token is the sandbox's and has files:write; else Polar's refusal."""
        header = request.headers.get("authorization", "")
        if not header:
            return polar_error(401, "Unauthorized", "Unauthorized")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.ctx.token:
            # authlib's InvalidTokenError, as Polar's OAuth2 layer raises it.
            return JSONResponse(
                {
                    "error": "invalid_token",
                    "error_description": "The access token provided is expired, revoked, "
                    "malformed, or invalid for other reasons.",
                },
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="polar", error="invalid_token"'},
            )
        scopes = self.ctx.options.get("scopes", DEFAULT_SCOPES)
        if isinstance(scopes, str):
            scopes = scopes.split()
        if WRITE_SCOPE not in scopes:
            return JSONResponse(
                {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than "
                    "provided by the access token.",
                },
                status_code=403,
                headers={
                    "WWW-Authenticate": f'Bearer realm="polar", error="insufficient_scope", '
                    f'scope="{WRITE_SCOPE}"'
                },
            )
        return None

    def _organization(self, given: str | None, loc: list[Any]) -> str:
        """The organization a create is for (Polar's ``get_payload_organization``)."""
        if self.ctx.options.get("token_kind", "organization") == "organization":
            if given is not None:
                raise Invalid(
                    [
                        _entry(
                            "organization_token",
                            loc,
                            "Setting organization_id is disallowed when using an organization "
                            "token.",
                            given,
                        )
                    ]
                )
            return self.organization_id
        if given is None:
            raise Invalid([_entry("missing", loc, "organization_id is required.", None)])
        if given != self.organization_id:
            raise Invalid([_entry("value_error", loc, "Organization not found.", given)])
        return given

    async def _sweep(self) -> None:
        """The bucket's lifecycle rule: abort multipart uploads older than the option says."""
        after = self.ctx.options.get("abort_incomplete_after")
        if after is None:
            return
        now = self.ctx.clock()
        backend = self.ctx.require_backend()
        for record in list(self.files.values()):
            if record.is_uploaded or record.swept or now - record.created_at <= float(after):
                continue
            try:
                await backend.abort(record.path, record.upload_id)
            except BackendError as exc:
                if exc.code != "NoSuchUpload":
                    raise
            record.swept = True

    def _live(self, file_id: str) -> FileRecord | None:
        record = self.files.get(file_id)
        return None if record is None or record.deleted else record

    def file_read(self, record: FileRecord) -> dict[str, Any]:
        """FileRead: the record as ``GET``, ``/uploaded`` and the list show it."""
        out: dict[str, Any] = {
            "id": record.id,
            "organization_id": record.organization_id,
            "name": record.name,
            "path": record.path,
            "mime_type": record.mime_type,
            "size": record.size,
            "storage_version": None,
            "checksum_etag": record.checksum_etag,
            "checksum_sha256_base64": record.checksum_sha256_base64,
            "checksum_sha256_hex": record.checksum_sha256_hex,
            "last_modified_at": iso(record.last_modified_at) if record.last_modified_at else None,
            "version": record.version,
            "service": record.service,
            "is_uploaded": record.is_uploaded,
            "created_at": iso(record.created_at),
            "size_readable": human_readable_size(record.size),
        }
        if record.service in PUBLIC_SERVICES:
            backend = self.ctx.require_backend()
            out["public_url"] = f"{backend.public_url}/{backend.bucket}/{record.path}"
        return out

    # -- handlers ----------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        """POST /v1/files/: a file record, an S3 multipart upload and a URL per part."""
        refused = await self._enter(request, "create")
        if refused is not None:
            return refused
        try:
            data = parse_create(await _json(request))
            organization_id = self._organization(
                data["organization_id"], ["body", "organization_id"]
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
        parts = [self._presign(record, p) for p in data["parts"]]
        body = self.file_read(record)
        del body["created_at"]  # FileUpload has no created_at
        body["upload"] = {"id": upload_id, "path": path, "parts": parts}
        return JSONResponse(body)

    def _presign(self, record: FileRecord, part: dict[str, Any]) -> dict[str, Any]:
        checksum = part["checksum_sha256_base64"]
        url = self.ctx.require_backend().presign_part(
            record.path,
            record.upload_id,
            part["number"],
            PRESIGN_TTL,
            checksum_sha256=checksum or None,
        )
        headers = (
            {"x-amz-checksum-sha256": checksum, "x-amz-sdk-checksum-algorithm": "SHA256"}
            if checksum
            else {}
        )
        return {
            **part,
            "url": url,
            "expires_at": iso(self.ctx.clock() + PRESIGN_TTL),
            "headers": headers,
        }

    async def uploaded(self, request: Request) -> Response:
        """POST /v1/files/{id}/uploaded: complete the S3 upload and mark the file uploaded."""
        refused = await self._enter(request, "uploaded")
        if refused is not None:
            return refused
        try:
            file_id = parse_uuid(request.path_params["id"], ["path", "id"])
            data = parse_uploaded(await _json(request))
        except Invalid as exc:
            return validation_error(exc.errors)
        record = self._live(file_id)
        if record is None:
            return polar_error(404, "FileNotFound", f"No file exists with ID: {file_id}")
        repeat = self.ctx.options.get("repeat_complete")
        if record.is_uploaded and repeat == "succeed":
            return JSONResponse(self.file_read(record))  # AWS repeats a complete happily
        if record.is_uploaded and repeat == "nosuchupload":
            return internal_error()  # MinIO: NoSuchUpload, which Polar does not catch
        try:
            etag = await self._complete_s3(record, data)
        except (BackendError, binascii.Error):
            # S3's InvalidPart / NoSuchUpload / EntityTooSmall, or a checksum that is not
            # base64: Polar lets the exception escape, so the client sees a bare 500.
            return internal_error()
        record.is_uploaded = True
        record.checksum_etag = etag
        record.last_modified_at = self.ctx.clock()
        if self.ctx.faults.take("complete_lost", file_id):
            return internal_error()
        return JSONResponse(self.file_read(record))

    async def _complete_s3(self, record: FileRecord, data: dict[str, Any]) -> str:
        """CompleteMultipartUpload as Polar calls it: with the client's ``id`` and ``path``."""
        parts: list[dict[str, Any]] = []
        checksums: list[str] = []
        for part in data["parts"]:
            entry: dict[str, Any] = {"PartNumber": part["number"], "ETag": part["checksum_etag"]}
            given = part["checksum_sha256_base64"]
            # S3 holds each part's checksum from its (signed) PUT: any other value is
            # InvalidPart, as is a checksum for a part sent without one.
            if given != record.part_checksums.get(part["number"]):
                raise BackendError(
                    400,
                    "InvalidPart",
                    f"part {part['number']}: ChecksumSHA256 differs from the part's checksum",
                )
            if given:
                entry["ChecksumSHA256"] = given
                checksums.append(given)
            parts.append(entry)
        composite = multipart_checksum(checksums) if checksums else None
        return await self.ctx.require_backend().complete(
            data["path"], data["id"], parts, checksum_sha256=composite
        )

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
            page = _query_int(request, "page", 1, 1, None)
            limit = _query_int(request, "limit", 10, 1, 100)
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
                "items": [self.file_read(r) for r in items],
                "pagination": {
                    "total_count": len(found),
                    "max_page": math.ceil(len(found) / limit),
                },
            }
        )


async def _json(request: Request) -> Any:
    """The request's JSON body, or FastAPI's 422 for one that is not JSON."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Invalid(
            [_entry("json_invalid", ["body", 0], "JSON decode error", {"error": str(exc)})]
        ) from None


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
