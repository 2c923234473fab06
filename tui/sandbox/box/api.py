"""``/api/2.0``: the signed-in user, folders and committed files."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui.sandbox.box.auth import BoxAuth
from tui.sandbox.box.checks import LIST_DEFAULT_LIMIT
from tui.sandbox.box.errors import box_error, internal_error, not_found
from tui.sandbox.box.store import BoxStore
from tui.sandbox.context import EmulatorContext


class ContentApi:
    """The handlers under ``/api/2.0``."""

    def __init__(self, ctx: EmulatorContext, store: BoxStore, auth: BoxAuth) -> None:
        self.ctx = ctx
        self.store = store
        self.auth = auth

    async def users_me(self, request: Request) -> Response:
        """GET /users/me: the sandbox user and its storage (``storage_quota`` if set)."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        quota = self.ctx.options.get("storage_quota")
        return JSONResponse(
            {
                "type": "user",
                "id": "11446498",
                "name": "Sandbox User",
                "login": "sandbox@example.com",
                "space_amount": quota if isinstance(quota, int) else 10**15,
                "space_used": self.store.used(),
            }
        )

    async def folder(self, request: Request) -> Response:
        """GET /folders/{folder_id}."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        folder_id = request.path_params["folder_id"]
        if folder_id not in self.store.folders:
            return not_found()
        return JSONResponse(
            {"type": "folder", "id": folder_id, "name": self.store.folders[folder_id]}
        )

    async def folder_items(self, request: Request) -> Response:
        """GET /folders/{folder_id}/items: its files by name, paged, ``fields`` honoured."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        folder_id = request.path_params["folder_id"]
        if folder_id not in self.store.folders:
            return not_found()
        if self.ctx.faults.take("view_500", folder_id):
            return internal_error()
        try:
            offset = int(request.query_params.get("offset", "0"))
            limit = min(int(request.query_params.get("limit", str(LIST_DEFAULT_LIMIT))), 1000)
        except ValueError:
            return box_error(400, "bad_request", "offset and limit must be numbers")
        fields_param = request.query_params.get("fields")
        fields = set(fields_param.split(",")) if fields_param else None
        items = sorted(
            (f for f in self.store.files.values() if f.folder_id == folder_id),
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

    async def file_info(self, request: Request) -> Response:
        """GET /files/{file_id}."""
        if (denied := self.auth.refusal(request)) is not None:
            return denied
        f = self.store.files.get(request.path_params["file_id"])
        return JSONResponse(f.as_json()) if f is not None else not_found()
