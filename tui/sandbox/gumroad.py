"""The Gumroad emulator: the v2 files API (presign, complete, abort) and GET /user.

It behaves as Gumroad's files controller does: presign starts an S3 multipart upload
under ``attachments/<user>/<32 hex>/original/<sanitized name>`` and signs every part
link for 900 s at once; complete and abort check the key belongs to the caller; S3
failures come back as 400 with S3's text; abort maps NoSuchUpload to ``already_gone``.
Counted faults: ``abort_accepted`` answers ``accepted`` without aborting, and
``complete_lost`` completes for real, then answers 500; ``abort_lost`` aborts for real,
then answers 500; ``abort_stall`` aborts for real, then holds the answer and cuts it.

``ctx.options["scopes"]`` (a list) stands in for the token's OAuth scopes; without
``edit_products`` the files API answers 403. ``GET /_sandbox/calls`` reports how often
each endpoint was called, per upload id.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.sandbox.backend import BackendError, S3Backend
from tui.sandbox.context import EmulatorContext
from tui.sandbox.faults import CutResponse

PRESIGNED_URL_EXPIRY_SECONDS = 900
PART_SIZE = 100 * 1024 * 1024
MAX_FILE_SIZE_GB = 20
MAX_FILE_SIZE = MAX_FILE_SIZE_GB * 1024**3
"""Rails' ``20.gigabytes``: binary gigabytes."""
DEFAULT_SCOPES = ("edit_products", "view_profile")

_UNSAFE = str.maketrans({c: "-" for c in "\u202e%$|:;/\t\r\n\\"})
_LEADING_INT = re.compile(r"\s*[+-]?\d+")
_PART_FIELD = re.compile(r"^parts\[(\d*)\]\[(part_number|etag)\]$")


def sanitize_filename(name: str) -> str:
    """ActiveStorage's ``Filename#sanitized``: strip, then unsafe characters become ``-``."""
    return name.strip().translate(_UNSAFE)


def ruby_to_i(value: Any) -> int:
    """Ruby's ``to_s.to_i``: the leading integer of the text, else 0."""
    match = _LEADING_INT.match(str(value)) if value is not None else None
    return int(match.group()) if match else 0


def _error_400(message: str) -> JSONResponse:
    return JSONResponse({"status": 400, "error": message}, status_code=400)


def _error_500() -> JSONResponse:
    return JSONResponse({"status": 500, "error": "Internal Server Error"}, status_code=500)


async def _params(request: Request) -> dict[str, Any]:
    """Rails' params: the query string merged with a form or JSON body; ``parts`` as a list."""
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {}
        if isinstance(data, dict):
            params.update(data)
        return params
    indexed: dict[str, dict[str, str]] = {}
    appended: list[dict[str, str]] = []
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        match = _PART_FIELD.match(name)
        if match is None:
            params[name] = value
            continue
        index, field = match.groups()
        if index:
            indexed.setdefault(index, {})[field] = value
        elif not appended or field in appended[-1]:
            # Rack starts a new element of ``parts[][...]`` when a field repeats.
            appended.append({field: value})
        else:
            appended[-1][field] = value
    if indexed or appended:
        params["parts"] = [indexed[i] for i in sorted(indexed, key=int)] + appended
    return params


def _blank(value: Any) -> bool:
    """Rails' ``blank?`` for the shapes params can take."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


def create_app(ctx: EmulatorContext) -> Starlette:
    """The emulator app; its routes live under ``/v2`` as Gumroad's do."""
    user_id = secrets.token_hex(8)
    prefix = f"attachments/{user_id}/"
    calls: Counter[tuple[str, str]] = Counter()

    def backend() -> S3Backend:
        return ctx.require_backend()

    def base_url() -> str:
        """S3_BASE_URL: where objects are served from, key appended."""
        store = backend()
        return f"{store.public_url}/{store.bucket}/"

    def refuse(request: Request, params: Mapping[str, Any]) -> Response | None:
        """Doorkeeper: 401 without the token, 403 without the ``edit_products`` scope."""
        header = request.headers.get("authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else None
        token = token or params.get("access_token")
        if token != ctx.token:
            return Response(
                status_code=401,
                headers={
                    "WWW-Authenticate": 'Bearer realm="Doorkeeper", error="invalid_token", '
                    'error_description="The access token is invalid"'
                },
            )
        scopes = ctx.options.get("scopes", DEFAULT_SCOPES)
        if request.url.path.startswith("/v2/files/") and "edit_products" not in scopes:
            return Response(
                status_code=403,
                headers={
                    "WWW-Authenticate": 'Bearer realm="Doorkeeper", error="insufficient_scope", '
                    'error_description="The request requires higher privileges than provided '
                    'by the access token."'
                },
            )
        return None

    async def presign(request: Request) -> Response:
        params = await _params(request)
        calls[("presign", "")] += 1
        refused = refuse(request, params)
        if refused is not None:
            return refused
        filename = sanitize_filename(str(params.get("filename") or ""))
        if not filename:
            return _error_400("filename is required")
        file_size = ruby_to_i(params.get("file_size"))
        if file_size <= 0:
            return _error_400("file_size is required")
        if file_size > MAX_FILE_SIZE:
            return _error_400(f"file_size exceeds the {MAX_FILE_SIZE_GB} GB maximum")
        key = f"{prefix}{secrets.token_hex(16)}/original/{filename}"
        store = backend()
        try:
            upload_id = await store.create(key, "binary/octet-stream")
        except BackendError as exc:
            return _error_500() if exc.code == "ServiceUnavailable" else _error_400(exc.message)
        count = -(-file_size // PART_SIZE)

        def sign_all() -> list[dict[str, Any]]:
            return [
                {
                    "part_number": n,
                    "presigned_url": store.presign_part(
                        key, upload_id, n, PRESIGNED_URL_EXPIRY_SECONDS
                    ),
                }
                for n in range(1, count + 1)
            ]

        parts = await asyncio.to_thread(sign_all)
        return JSONResponse(
            {
                "success": True,
                "upload_id": upload_id,
                "key": key,
                "file_url": f"{base_url()}{key}",
                "parts": parts,
            }
        )

    def check_ids(params: Mapping[str, Any], *, need_parts: bool) -> Response | None:
        """The controller's checks, in its order."""
        if _blank(params.get("upload_id")):
            return _error_400("upload_id is required")
        if _blank(params.get("key")):
            return _error_400("key is required")
        if need_parts and _blank(params.get("parts")):
            return _error_400("parts is required")
        if not str(params["key"]).startswith(prefix):
            return _error_400("invalid key")
        return None

    async def complete(request: Request) -> Response:
        params = await _params(request)
        upload_id = str(params.get("upload_id") or "")
        calls[("complete", upload_id)] += 1
        refused = refuse(request, params) or check_ids(params, need_parts=True)
        if refused is not None:
            return refused
        raw = params["parts"]
        items = raw if isinstance(raw, list) else [raw]
        parts = [
            {
                "PartNumber": ruby_to_i(p.get("part_number")) if isinstance(p, dict) else 0,
                "ETag": str(p.get("etag") or "") if isinstance(p, dict) else "",
            }
            for p in items
        ]
        key = str(params["key"])
        try:
            await backend().complete(key, upload_id, parts)
        except BackendError as exc:
            return _error_500() if exc.code == "ServiceUnavailable" else _error_400(exc.message)
        if ctx.faults.take("complete_lost", upload_id):
            return _error_500()
        return JSONResponse({"success": True, "file_url": f"{base_url()}{key}"})

    async def abort(request: Request) -> Response:
        params = await _params(request)
        upload_id = str(params.get("upload_id") or "")
        calls[("abort", upload_id)] += 1
        refused = refuse(request, params) or check_ids(params, need_parts=False)
        if refused is not None:
            return refused
        if ctx.faults.take("abort_accepted", upload_id):
            return JSONResponse({"success": True, "status": "accepted"})
        try:
            await backend().abort(str(params["key"]), upload_id)
        except BackendError as exc:
            if exc.code == "NoSuchUpload":
                return JSONResponse({"success": True, "status": "already_gone"})
            return _error_500() if exc.code == "ServiceUnavailable" else _error_400(exc.message)
        if ctx.faults.take("abort_lost", upload_id):
            return _error_500()
        if ctx.faults.take("abort_stall", upload_id):
            await asyncio.sleep(ctx.faults.spec.stall_seconds)
            return CutResponse()
        return JSONResponse({"success": True, "status": "accepted"})

    async def user(request: Request) -> Response:
        refused = refuse(request, dict(request.query_params))
        if refused is not None:
            return refused
        return JSONResponse(
            {
                "success": True,
                "user": {
                    "bio": None,
                    "name": "Sandbox Seller",
                    "twitter_handle": None,
                    "user_id": user_id,
                    "email": "seller@sandbox.invalid",
                    "url": "https://sandbox-seller.gumroad.invalid",
                },
            }
        )

    async def call_counts(request: Request) -> Response:
        """Sandbox only: calls per endpoint and upload id, for tests and people."""
        out: dict[str, dict[str, int]] = {}
        for (endpoint, upload_id), n in calls.items():
            out.setdefault(endpoint, {})[upload_id] = n
        return JSONResponse(out)

    return Starlette(
        routes=[
            Route("/v2/files/presign", presign, methods=["POST"]),
            Route("/v2/files/complete", complete, methods=["POST"]),
            Route("/v2/files/abort", abort, methods=["POST"]),
            Route("/v2/user", user, methods=["GET"]),
            Route("/_sandbox/calls", call_counts, methods=["GET"]),
        ]
    )
