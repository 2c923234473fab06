"""The Fileflare API's handlers over the emulated assets, and the Starlette app."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.sandbox.backend import BackendError
from tui.sandbox.context import EmulatorContext
from tui.sandbox.fileflare.assets import CHUNK_SIZE, Asset, chunk_ranges, presign_parts
from tui.sandbox.fileflare.errors import NO_ASSET, SERVER_ERROR, ApiError, invalid
from tui.sandbox.fileflare.gate import Gate
from tui.sandbox.fileflare.validation import Rules, check_upload_id, json_body, parse_parts

API = "/api/v1"


class Fileflare:
    """The emulator's state (assets, stored bytes, throttle) and its handlers."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.assets: dict[str, Asset] = {}
        self.gate = Gate(ctx)

    def asset(self, request: Request) -> Asset:
        """The live asset the path names, or 404 as Laravel's model binding says it."""
        found = self.assets.get(request.path_params["asset_id"])
        if found is None or found.state == "cancelled":
            raise ApiError(404, NO_ASSET)
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
            raise ApiError(404, NO_ASSET)
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
        ranges = chunk_ranges(size, chunk)
        urls = await presign_parts(backend, key, upload_id, len(ranges))
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

    async def uploaded(self, request: Request) -> Response:
        """``POST|PUT /assets/{id}/uploaded``: complete the S3 upload, 201."""
        asset = self.asset(request)
        asset.completes += 1
        body = await json_body(request)
        rules = Rules()
        parts = parse_parts(rules, body.get("parts"))
        check_upload_id(rules, body, asset)
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
        check_upload_id(rules, body, asset)
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
        return JSONResponse(
            {"calls": dict(self.gate.calls), "rate_limited": self.gate.limiter.refused}
        )

    async def all_assets(self, request: Request) -> Response:
        """Every asset with its S3 key and state (sandbox only)."""
        return JSONResponse([asdict(a) for a in self.assets.values()])


def create_app(ctx: EmulatorContext) -> Starlette:
    """The Fileflare emulator for ``ctx``."""
    app = Fileflare(ctx)
    guard = app.gate.guard
    return Starlette(
        routes=[
            Route(f"{API}/assets", guard("assets", app.list_assets), methods=["GET"]),
            Route(f"{API}/assets/signed", guard("signed", app.signed), methods=["POST"]),
            Route(f"{API}/assets/{{asset_id}}", guard("asset", app.show_asset), methods=["GET"]),
            Route(
                f"{API}/assets/{{asset_id}}/uploaded",
                guard("uploaded", app.uploaded),
                methods=["POST", "PUT"],
            ),
            Route(
                f"{API}/assets/{{asset_id}}/cancel", guard("cancel", app.cancel), methods=["POST"]
            ),
            Route("/assets/{asset_id}", app.page, methods=["GET"]),
            Route("/_sandbox/stats", app.stats, methods=["GET"]),
            Route("/_sandbox/assets", app.all_assets, methods=["GET"]),
        ]
    )
