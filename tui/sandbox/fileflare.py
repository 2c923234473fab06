"""The Fileflare / Digital Downloads emulator: the API under ``/api/v1``, parts on S3.

Faithful to providers.md section 5: ``POST /assets/signed`` starts an S3 multipart
upload and presigns every part for 12 hours (host-signed, for the provider's S3
gateway), cut at ``chunk_size``; ``POST`` (or ``PUT``) ``/assets/{id}/uploaded``
completes it, quoted or bare ETags alike, 201; ``POST /assets/{id}/cancel`` aborts it.
Laravel-style JSON errors (401 ``Unauthenticated.``, 402 plan storage, 404, 422 with
``errors``, 429 with ``Retry-After``) and the 60-requests-a-minute limit with its
``X-RateLimit-*`` headers.

``ctx.options`` switches: ``chunk_size`` (bytes, default 100,000,000), ``quota_bytes``
(plan storage; None for unlimited), ``rate_limit`` (requests per window, default 60; 0
turns it off), ``rate_window`` (seconds, default 60), ``repeat_complete`` (``"succeed"``
answers a repeated complete 201 as AWS would; by default it fails 500, as the app does
when MinIO answers NoSuchUpload), ``store`` (the key prefix, like
``my-store.myshopify.com``). Counted faults: ``complete_lost`` (the upload completes,
the answer is 500), ``abort_lost`` (the upload is cancelled, the answer is 500) and
``view_500`` (``GET /assets/{id}`` answers 500).

Sandbox-only: ``GET /_sandbox/stats`` (calls by route, 429s sent) and ``GET
/_sandbox/assets`` (every asset with its S3 key), for tests; ``GET /assets/{id}`` is the
``file_url`` page, showing the asset as JSON.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.sandbox.backend import BackendError
from tui.sandbox.context import EmulatorContext

API = "/api/v1"
CHUNK_SIZE = 100_000_000
"""The chunk size of the reference example."""
LINK_LIFETIME = 43_200
"""X-Amz-Expires of every part URL: 12 hours."""
RATE_LIMIT = 60
RATE_WINDOW = 60.0
MAX_BODY = 8 * 1024 * 1024
"""Request bodies above this are refused (a complete of 10,000 parts is ~600 KB)."""
SERVER_ERROR = "Server Error"
"""Laravel's body message for an unhandled exception in production."""

Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """An error answer in Laravel's JSON shape."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> Response:
        """The JSON answer."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def invalid(errors: dict[str, list[str]]) -> ApiError:
    """A 422 with Laravel's summary message: the first problem and how many more."""
    first = next(iter(errors.values()))[0]
    more = sum(len(v) for v in errors.values()) - 1
    if more:
        first += f" (and {more} more error{'s' if more > 1 else ''})"
    return ApiError(422, first, errors)


def _whole(value: Any) -> int | None:
    """A JSON integer (not a bool), or a string of digits as Laravel's rule accepts."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


class Rules:
    """Collects Laravel validation messages for one request body."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, field: str, text: str) -> None:
        """Record one problem with ``field``."""
        self.errors.setdefault(field, []).append(text)

    def string(self, field: str, value: Any, max_length: int = 255) -> str | None:
        """required|string|max."""
        if value is None or value == "":
            self.fail(field, f"The {field} field is required.")
        elif not isinstance(value, str):
            self.fail(field, f"The {field} field must be a string.")
        elif len(value) > max_length:
            self.fail(field, f"The {field} field must not be greater than {max_length} characters.")
        else:
            return value
        return None

    def integer(self, field: str, value: Any, minimum: int) -> int | None:
        """required|integer|min."""
        number = _whole(value)
        if value is None or value == "":
            self.fail(field, f"The {field} field is required.")
        elif number is None:
            self.fail(field, f"The {field} field must be an integer.")
        elif number < minimum:
            self.fail(field, f"The {field} field must be at least {minimum}.")
        else:
            return number
        return None

    def check(self) -> None:
        """Raise the 422 if anything failed."""
        if self.errors:
            raise invalid(self.errors)


@dataclass
class Asset:
    """One file asset and its S3 multipart upload."""

    id: str
    name: str
    size: int
    mime: str
    key: str
    upload_id: str
    file_url: str
    state: str = "signed"
    """``signed``, ``uploaded`` or ``cancelled`` (cancelled ones answer 404)."""
    completes: int = 0
    """``/uploaded`` calls received."""

    def listed(self) -> dict[str, Any]:
        """The asset as ``GET /assets`` and ``GET /assets/{asset}`` show it."""
        return {
            "id": self.id,
            "filename": self.name,
            "size": self.size,
            "is_file": True,
            "is_link": False,
            "url": None,
        }

    def public(self) -> dict[str, Any]:
        """The asset as the API shows it."""
        return {
            "id": self.id,
            "type": "file",
            "name": self.name,
            "size": self.size,
            "mime": self.mime,
            "file_url": self.file_url,
            "status": self.state,
        }


class RateLimiter:
    """Laravel's fixed-window throttle: ``limit`` hits per ``window`` seconds per key."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.windows: dict[str, tuple[float, int]] = {}
        self.refused = 0

    def hit(self, key: str) -> dict[str, str]:
        """Count one request; its rate headers, or ApiError 429 when over the limit."""
        limit = int(self.ctx.options.get("rate_limit", RATE_LIMIT) or 0)
        if limit <= 0:
            return {}
        window = float(self.ctx.options.get("rate_window", RATE_WINDOW))
        now = self.ctx.clock()
        start, count = self.windows.get(key, (now, 0))
        if not start <= now < start + window:
            start, count = now, 0
        reset = start + window
        if count >= limit:
            self.refused += 1
            raise ApiError(
                429,
                "Too Many Attempts.",
                headers={
                    "Retry-After": str(max(1, math.ceil(reset - now))),
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(math.ceil(reset)),
                },
            )
        self.windows[key] = (start, count + 1)
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - count - 1)}


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; anything else counts as empty input, as in Laravel."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "Request Entity Too Large")
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


class Fileflare:
    """The emulator's state (assets, stored bytes, throttle) and its handlers."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.assets: dict[str, Asset] = {}
        self.limiter = RateLimiter(ctx)
        self.calls: Counter[str] = Counter()

    # -- plumbing --------------------------------------------------------------------------

    def api(self, name: str, handler: Handler) -> Handler:
        """Throttle, then authenticate, then run ``handler``; errors become JSON."""

        async def endpoint(request: Request) -> Response:
            self.calls[name] += 1
            auth = request.headers.get("authorization", "")
            rate_headers: dict[str, str] = {}
            try:
                client = request.client.host if request.client else "unknown"
                rate_headers = self.limiter.hit(auth or client)
                scheme, _, token = auth.partition(" ")
                if scheme.lower() != "bearer" or not secrets.compare_digest(
                    token.strip().encode(), self.ctx.token.encode()
                ):
                    raise ApiError(401, "Unauthenticated.")
                response = await handler(request)
            except ApiError as exc:
                response = exc.response()
            response.headers.update(rate_headers)
            return response

        return endpoint

    def asset(self, request: Request) -> Asset:
        """The live asset the path names, or 404 as Laravel's model binding says it."""
        found = self.assets.get(request.path_params["asset_id"])
        if found is None or found.state == "cancelled":
            raise ApiError(404, "No query results for model [App\\Models\\Asset].")
        return found

    # -- the API ---------------------------------------------------------------------------

    async def list_assets(self, request: Request) -> Response:
        """``GET /assets``: uploaded assets, paginated (a cheap authenticated call)."""
        rules = Rules()
        per_page = rules.integer("per_page", request.query_params.get("per_page", "25"), 1)
        page = rules.integer("page", request.query_params.get("page", "1"), 1)
        rules.check()
        assert per_page is not None and page is not None
        done = [a.listed() for a in self.assets.values() if a.state == "uploaded"]
        shown = done[(page - 1) * per_page : page * per_page]
        meta = {"current_page": page, "per_page": per_page, "total": len(done)}
        return JSONResponse({"data": shown, "meta": meta})

    async def show_asset(self, request: Request) -> Response:
        """``GET /assets/{asset}``: one asset as the API lists it; 404 unless uploaded
        (the list shows uploaded assets only, and so does this)."""
        found = self.assets.get(request.path_params["asset_id"])
        if found is not None and self.ctx.faults.take("view_500", found.upload_id):
            raise ApiError(500, SERVER_ERROR)
        if found is None or found.state != "uploaded":
            raise ApiError(404, "No query results for model [App\\Models\\Asset].")
        return JSONResponse({"data": found.listed()})

    async def signed(self, request: Request) -> Response:
        """``POST /assets/signed``: a new asset, an S3 upload and every part's URL."""
        body = await json_body(request)
        rules = Rules()
        name = rules.string("name", body.get("name"))
        size = rules.integer("size", body.get("size"), 1)
        mime = rules.string("mime", body.get("mime"))
        rules.check()
        assert name is not None and size is not None and mime is not None
        quota = self.ctx.options.get("quota_bytes")
        stored = sum(a.size for a in self.assets.values() if a.state == "uploaded")
        if quota is not None and stored + size > int(quota):
            raise ApiError(
                402,
                "You have reached your plan's storage limit. Delete files or upgrade your plan "
                "for more storage.",
            )
        backend = self.ctx.require_backend()
        store = str(self.ctx.options.get("store", "sandbox-store.myshopify.com"))
        key = f"{store}/{uuid.uuid4()}"
        try:
            upload_id = await backend.create(key, mime)
        except BackendError:
            raise ApiError(500, SERVER_ERROR) from None
        chunk = int(self.ctx.options.get("chunk_size", CHUNK_SIZE))
        ranges = [(start, min(start + chunk, size)) for start in range(0, size, chunk)]

        def presign() -> list[str]:
            return [
                backend.presign_part(key, upload_id, n, LINK_LIFETIME)
                for n in range(1, len(ranges) + 1)
            ]

        # Thousands of signatures are real CPU work: keep them off the loop.
        urls = await asyncio.to_thread(presign)
        asset_id = str(uuid.uuid4())
        asset = Asset(
            id=asset_id,
            name=name,
            size=size,
            mime=mime,
            key=key,
            upload_id=upload_id,
            file_url=f"{self.ctx.public_url}/assets/{asset_id}",
        )
        self.assets[asset_id] = asset
        parts = [
            {"start": a, "end": b, "part": n, "url": url}
            for n, ((a, b), url) in enumerate(zip(ranges, urls, strict=True), start=1)
        ]
        return JSONResponse(
            {
                "chunk_size": chunk,
                "upload_id": upload_id,
                "urls": parts,
                "id": asset_id,
                "file_url": asset.file_url,
            }
        )

    def _upload_id(self, rules: Rules, body: dict[str, Any], asset: Asset) -> None:
        upload_id = rules.string("upload_id", body.get("upload_id"))
        if upload_id is not None and upload_id != asset.upload_id:
            rules.fail("upload_id", "The selected upload id is invalid.")

    async def uploaded(self, request: Request) -> Response:
        """``POST|PUT /assets/{id}/uploaded``: complete the S3 upload, 201."""
        asset = self.asset(request)
        asset.completes += 1
        body = await json_body(request)
        rules = Rules()
        parts = _parts(rules, body.get("parts"))
        self._upload_id(rules, body, asset)
        rules.check()
        if asset.state == "uploaded":
            if self.ctx.options.get("repeat_complete") == "succeed":
                return JSONResponse(asset.public(), status_code=201)
            # MinIO (Fileflare's store) no longer knows a completed upload id: NoSuchUpload,
            # which the app does not handle (moto would accept the repeat, like AWS).
            raise ApiError(500, SERVER_ERROR)
        try:
            await self.ctx.require_backend().complete(asset.key, asset.upload_id, parts)
        except BackendError as exc:
            if exc.status == 400:
                raise invalid({"parts": [f"{exc.code}: {exc.message}"]}) from None
            # NoSuchUpload (a repeat, as on MinIO) and the rest: an unhandled S3 exception.
            raise ApiError(500, SERVER_ERROR) from None
        asset.state = "uploaded"
        if self.ctx.faults.take("complete_lost", asset.upload_id):
            raise ApiError(500, SERVER_ERROR)
        return JSONResponse(asset.public(), status_code=201)

    async def cancel(self, request: Request) -> Response:
        """``POST /assets/{id}/cancel``: abort the S3 upload; the asset is gone after."""
        asset = self.asset(request)
        body = await json_body(request)
        rules = Rules()
        self._upload_id(rules, body, asset)
        if asset.state == "uploaded":
            rules.fail("upload_id", "The upload has already been completed.")
        rules.check()
        try:
            await self.ctx.require_backend().abort(asset.key, asset.upload_id)
        except BackendError as exc:
            if exc.code != "NoSuchUpload":
                raise ApiError(500, SERVER_ERROR) from None
        asset.state = "cancelled"
        if self.ctx.faults.take("abort_lost", asset.upload_id):
            raise ApiError(500, SERVER_ERROR)
        return JSONResponse({"message": "Upload cancelled."})

    # -- pages and sandbox views -----------------------------------------------------------

    async def page(self, request: Request) -> Response:
        """The ``file_url`` page: the asset, for people checking an unknown complete."""
        found = self.assets.get(request.path_params["asset_id"])
        if found is None or found.state == "cancelled":
            return JSONResponse({"message": "Not Found"}, status_code=404)
        return JSONResponse(found.public())

    async def stats(self, request: Request) -> Response:
        """Calls by route and 429s sent (sandbox only)."""
        return JSONResponse({"calls": dict(self.calls), "rate_limited": self.limiter.refused})

    async def all_assets(self, request: Request) -> Response:
        """Every asset with its S3 key and state (sandbox only)."""
        return JSONResponse([asdict(a) for a in self.assets.values()])


def _parts(rules: Rules, raw: Any) -> list[dict[str, Any]]:
    """``parts``: required array of {ETag, PartNumber}; ETags quoted for S3 either way."""
    if not isinstance(raw, list) or not raw:
        rules.fail("parts", "The parts field is required.")
        return []
    parts: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        entry = item if isinstance(item, dict) else {}
        etag = rules.string(f"parts.{i}.ETag", entry.get("ETag"), 1024)
        number = rules.integer(f"parts.{i}.PartNumber", entry.get("PartNumber"), 1)
        if etag is not None and number is not None:
            parts.append({"PartNumber": number, "ETag": f'"{etag.strip().strip(chr(34))}"'})
    return parts


def create_app(ctx: EmulatorContext) -> Starlette:
    """The Fileflare emulator for ``ctx``."""
    app = Fileflare(ctx)
    return Starlette(
        routes=[
            Route(f"{API}/assets", app.api("assets", app.list_assets), methods=["GET"]),
            Route(f"{API}/assets/signed", app.api("signed", app.signed), methods=["POST"]),
            Route(f"{API}/assets/{{asset_id}}", app.api("asset", app.show_asset), methods=["GET"]),
            Route(
                f"{API}/assets/{{asset_id}}/uploaded",
                app.api("uploaded", app.uploaded),
                methods=["POST", "PUT"],
            ),
            Route(
                f"{API}/assets/{{asset_id}}/cancel", app.api("cancel", app.cancel), methods=["POST"]
            ),
            Route("/assets/{asset_id}", app.page, methods=["GET"]),
            Route("/_sandbox/stats", app.stats, methods=["GET"]),
            Route("/_sandbox/assets", app.all_assets, methods=["GET"]),
        ]
    )
